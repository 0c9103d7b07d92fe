"""An alert's e-mail survives a mail server that is down: tried again by the worker, later and later, and a
failure that lasts is recorded on the ledger."""

from __future__ import annotations

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
