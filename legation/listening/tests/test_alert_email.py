"""An alert's e-mail survives a mail server that is down: tried again by the worker, later and later, and a
failure that lasts is recorded on the ledger."""

from __future__ import annotations

import contextlib
import json
import socket
from datetime import timedelta

from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from legation.listening import services, tasks
from legation.records.models import Record


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: a connection to it is refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_alert_mail_the_server_refused_is_sent_again_by_the_worker(tree, alice, bob, settings):
    bob.email = "bob@veridia.example"
    bob.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    before = timezone.now()
    alert = services.raise_alert(unit=tree.paris, kind="spike", key="all", message="Spike: 40 posts", count=40)
    assert alert is not None and alert.emailed_to == 0
    [retry] = DBTaskResult.objects.filter(task_path="legation.listening.tasks.email_alert")
    assert retry.args_kwargs["args"] == [alert.pk, ["bob@veridia.example"], 2]
    assert before + timedelta(minutes=5) <= retry.run_after <= timezone.now() + timedelta(minutes=5)

    # The server is back when the worker tries again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.email_alert.call(*retry.args_kwargs["args"]) == 1
    assert mail.outbox[0].to == ["bob@veridia.example"] and "Spike" in mail.outbox[0].subject
    alert.refresh_from_db()
    assert alert.emailed_to == 1
    assert DBTaskResult.objects.filter(task_path="legation.listening.tasks.email_alert").count() == 1  # no more


def test_a_mail_server_down_for_good_is_recorded_on_the_ledger(tree, alice, bob, settings):
    bob.email = "bob@veridia.example"
    bob.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    alert = services.raise_alert(unit=tree.paris, kind="spike", key="all", message="Spike: 40 posts", count=40)
    waits = []
    for _try in range(services.ALERT_EMAIL_TRIES - 1):
        retry = DBTaskResult.objects.filter(task_path="legation.listening.tasks.email_alert").latest("enqueued_at")
        waits.append(round((retry.run_after - retry.enqueued_at).total_seconds() / 60))
        tasks.email_alert.call(*retry.args_kwargs["args"])
    assert waits == [5, 10, 20, 40, 80]
    assert DBTaskResult.objects.filter(task_path="legation.listening.tasks.email_alert").count() == 5  # no 6th
    record = Record.objects.get(action="listening.alert_email_failed", object_id=str(alert.pk))
    payload = json.loads(record.payload)
    assert payload["to"] == ["bob@veridia.example"] and payload["tries"] == 6
    assert "ConnectionRefusedError" in payload["error"]


def test_an_alert_whose_raiser_died_before_its_first_mail_is_sent_by_the_worker(tree, alice, bob, settings,
                                                                                monkeypatch):
    bob.email = "bob@veridia.example"
    bob.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def killed(*_args, **_kwargs):  # the process is killed while the mail server hangs
        raise KeyboardInterrupt

    monkeypatch.setattr(services, "email_alert", killed)
    before = timezone.now()
    with contextlib.suppress(KeyboardInterrupt):
        services.raise_alert(unit=tree.paris, kind="spike", key="all@x", message="Spike: 40 posts", count=40)
    monkeypatch.undo()
    alert = services.Alert.objects.get()  # committed with its guard, never e-mailed
    assert (alert.emailed_to, alert.email_tried_at, len(mail.outbox)) == (0, None, 0)
    [guard] = DBTaskResult.objects.filter(task_path="legation.listening.tasks.email_alert_guard")
    assert guard.args_kwargs["args"] == [alert.pk] and guard.run_after >= before + services.ALERT_EMAIL_GUARD
    assert tasks.email_alert_guard.call(alert.pk) == 1
    assert mail.outbox[0].to == ["bob@veridia.example"]
    alert.refresh_from_db()
    assert alert.emailed_to == 1 and alert.email_tried_at is not None
    assert tasks.email_alert_guard.call(alert.pk) == 0 and len(mail.outbox) == 1  # once


def test_the_guard_of_an_alert_mailed_as_it_was_raised_sends_nothing(tree, alice, bob, settings):
    bob.email = "bob@veridia.example"
    bob.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    alert = services.raise_alert(unit=tree.paris, kind="spike", key="all@y", message="Spike: 40 posts", count=40)
    assert len(mail.outbox) == 1 and alert.email_tried_at is None  # the object as raised; the row is stamped
    alert.refresh_from_db()
    assert alert.email_tried_at is not None
    assert tasks.email_alert_guard.call(alert.pk) == 0 and len(mail.outbox) == 1


def _three_languages(tree, alice):
    from legation.network import services as network

    people = []
    for name, language in [("amira", "ar"), ("bruno", "fr"), ("carol", "en")]:
        person = network.create_person(alice, unit=tree.paris, username=name, role="viewer",
                                       password=f"{name}-secret-pw-12")
        person.email, person.language = f"{name}@veridia.example", language
        person.save()
        people.append(person.email)
    return people


def test_a_first_mail_try_that_hangs_is_taken_over_by_the_guard_without_sending_twice(tree, alice, settings,
                                                                                        monkeypatch):
    _three_languages(tree, alice)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    real = services._guard_took_over
    groups = []

    def slow_server(alert):
        groups.append(alert.pk)
        if len(groups) == 2:  # the first group took 10 minutes: the worker's guard ran meanwhile
            assert tasks.email_alert_guard.call(alert.pk) == 2
        return real(alert)

    monkeypatch.setattr(services, "_guard_took_over", slow_server)
    alert = services.raise_alert(unit=tree.paris, kind="spike", key="all@z", message="Spike: 40 posts", count=40)
    assert alert is not None
    # Arabic first, then the guard sent English and French; the first try stopped after Arabic.
    assert [m.to for m in mail.outbox] == [["amira@veridia.example"], ["carol@veridia.example"],
                                           ["bruno@veridia.example"]]
    assert "Spike" in mail.outbox[1].subject and "Spike" not in mail.outbox[2].subject  # each in their language
    alert.refresh_from_db()
    assert alert.emailed_to == 3 and alert.email_tried_at is not None
    assert tasks.email_alert_guard.call(alert.pk) == 0 and len(mail.outbox) == 3


def test_a_first_mail_try_killed_half_way_leaves_the_guard_only_the_rest(tree, alice, settings, monkeypatch):
    _three_languages(tree, alice)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    real = services.send_mail
    calls = []

    def killed_after_two(**kwargs):
        calls.append(kwargs["recipient_list"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is killed during the third group
        return real(**kwargs)

    monkeypatch.setattr(services, "send_mail", killed_after_two)
    with contextlib.suppress(KeyboardInterrupt):
        services.raise_alert(unit=tree.paris, kind="spike", key="all@w", message="Spike: 40 posts", count=40)
    monkeypatch.undo()
    alert = services.Alert.objects.get()
    assert (alert.emailed_to, alert.email_tried_at, len(mail.outbox)) == (2, None, 2)
    assert tasks.email_alert_guard.call(alert.pk) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["amira@veridia.example", "bruno@veridia.example",
                                                    "carol@veridia.example"]  # each once
    alert.refresh_from_db()
    assert alert.emailed_to == 3


def test_a_group_the_first_try_failed_is_retried_once_when_the_guard_took_over(tree, alice, settings,
                                                                               monkeypatch):
    _three_languages(tree, alice)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    real_send, real_check = services.send_mail, services._guard_took_over
    checks = []

    def arabic_server_down(**kwargs):
        if kwargs["recipient_list"] == ["amira@veridia.example"]:
            raise ConnectionRefusedError("down")
        return real_send(**kwargs)

    def guard_runs_before_the_third_group(alert):
        checks.append(alert.pk)
        if len(checks) == 3:
            tasks.email_alert_guard.call(alert.pk)
        return real_check(alert)

    monkeypatch.setattr(services, "send_mail", arabic_server_down)
    monkeypatch.setattr(services, "_guard_took_over", guard_runs_before_the_third_group)
    services.raise_alert(unit=tree.paris, kind="spike", key="all@v", message="Spike: 40 posts", count=40)
    retries = [r.args_kwargs["args"] for r in DBTaskResult.objects.filter(task_path=tasks.email_alert.module_path)]
    assert [args[1] for args in retries] == [["amira@veridia.example"]]  # one chain, the guard's
    assert sorted(m.to[0] for m in mail.outbox) == ["bruno@veridia.example", "carol@veridia.example"]
