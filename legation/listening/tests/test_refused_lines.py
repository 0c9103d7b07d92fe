"""A scheduled file source's bad lines are kept on the source, with why, and shown where the source is shown."""

from __future__ import annotations

import pytest

from legation.listening import services, tasks
from legation.listening.models import REFUSED_KEPT, ListenedItem, SourceKind


def _file_source(tree, settings, tmp_path, body, batch_size):
    settings.LISTENING_FILES_DIR = tmp_path
    settings.LISTENING_ENRICH_PROCESSES = 0
    (tmp_path / "posts.csv").write_text(body, encoding="utf-8")
    return services.create_source(None, unit=tree.paris, name="Nightly export", kind=SourceKind.FILE,
                                  platform="file", query="posts.csv", batch_size=batch_size)


def test_bad_lines_of_a_scheduled_file_pull_are_kept_and_shown(client, alice, bob, tree, settings, tmp_path):
    body = ("id,text,created_at\n"
            "a1,Queues at the consulate,\n"
            "a2,,\n"  # line 3: no text
            "a3,Visa office closed,not a date\n"  # line 4
            "a4,Flights resume,\n"
            "a5,Embassy open day,1999-01-01T00:00:00Z\n")  # line 6: before the first tweet
    source = _file_source(tree, settings, tmp_path, body, batch_size=2)
    for _pull in range(3):  # as the worker does, a batch per pull
        tasks.pull_source.call(source.pk)
    source.refresh_from_db()
    assert sorted(ListenedItem.objects.values_list("external_id", flat=True)) == ["a1", "a4"]
    assert source.refused_count == 3
    assert [r["position"] for r in source.refused] == [3, 4, 6]
    assert "not a date" in source.refused[1]["reason"] and "2006-03-21" in source.refused[2]["reason"]

    client.force_login(bob)
    page = client.get("/listening/sources/").content.decode()
    assert "3 lines refused" in page
    assert "line 4: created_at" in page
    from legation.network import services as network_services

    omar = network_services.create_person(alice, unit=tree.paris, username="omar", role="viewer",
                                          password="omar-secret-pw-1", language="ar")
    client.force_login(omar)  # reads the interface in Arabic, the reasons too
    arabic = client.get("/listening/sources/").content.decode()
    assert "السطر 4: created_at &#x27;not a date&#x27; ليس تاريخًا ووقتًا" in arabic
    assert "السطر 3: نص فارغ" in arabic
    assert "السطر 6: created_at &#x27;1999-01-01T00:00:00Z&#x27; قبل 2006-03-21" in arabic
    # A reason kept before reasons were kept with their template is shown as it was written.
    type(source).objects.filter(pk=source.pk).update(refused=[*source.refused, {"position": 9, "reason": "old"}])
    assert "السطر 9: old" in client.get("/listening/sources/").content.decode()
    type(source).objects.filter(pk=source.pk).update(refused=source.refused)
    assert "الاتجاهات عبر الزمن" in client.get("/listening/").content.decode()
    client.force_login(bob)
    api = client.get(f"/api/v1/listening/sources/{source.pk}").json()
    assert api["refused_count"] == 3 and [r["position"] for r in api["refused"]] == [3, 4, 6]
    assert api["refused"][0]["reason"] == "empty text"  # the API says it in English, as the CLI does

    # Pulled again from its end, nothing is refused twice; a new file starts the count again.
    tasks.pull_source.call(source.pk)
    source.refresh_from_db()
    assert source.refused_count == 3
    (tmp_path / "other.csv").write_text("id,text\nb1,fine\n", encoding="utf-8")
    services.update_source(None, source, query="other.csv")
    source.refresh_from_db()
    assert (source.refused_count, source.refused) == (0, [])


def test_a_source_keeps_the_latest_refused_lines_and_counts_them_all(tree, settings, tmp_path):
    body = "id,text\n" + "".join(f"x{n},\n" for n in range(30)) + "ok,Fine\n"
    source = _file_source(tree, settings, tmp_path, body, batch_size=1000)
    tasks.pull_source.call(source.pk)
    source.refresh_from_db()
    assert source.refused_count == 30
    assert [r["position"] for r in source.refused] == list(range(32 - REFUSED_KEPT, 32))
    assert ListenedItem.objects.filter(external_id="ok").exists()


def test_a_pull_that_fails_on_our_side_is_shown_on_the_source_and_tried_again(tree, settings, tmp_path,
                                                                               monkeypatch):
    source = _file_source(tree, settings, tmp_path, "id,text\nz1,Queues at the consulate\n", batch_size=10)

    def broken(_source):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tasks, "pull_one", broken)
    with pytest.raises(RuntimeError):
        tasks.pull_source.call(source.pk)
    source.refresh_from_db()
    assert source.last_error.startswith("the pull failed on our side (RuntimeError); it is tried again within")
    assert source.active and source.last_pulled_at is None and source.pull_started_at is None
    assert tasks.pull_due_sources.call() == [source.pk]  # the scheduler's next round, not the next interval
    monkeypatch.undo()
    tasks.pull_source.call(source.pk)
    assert ListenedItem.objects.filter(external_id="z1").exists()
    source.refresh_from_db()
    assert source.last_error == ""


def test_a_file_gone_and_a_failure_on_our_side_are_said_in_the_readers_language(client, bob, tree, settings,
                                                                                  tmp_path, monkeypatch):
    source = _file_source(tree, settings, tmp_path, "id,text\nz1,Queues at the consulate\n", batch_size=10)
    (tmp_path / "posts.csv").unlink()
    tasks.pull_source.call(source.pk)
    source.refresh_from_db()
    assert source.last_error == "no file named 'posts.csv' in LEGATION_DATA_DIR/listening/" + str(tree.paris.pk)
    assert not source.active
    bob.language = "fr"
    bob.save()
    client.force_login(bob)
    page = client.get("/listening/sources/").content.decode()
    assert "aucun fichier nommé" in page and "{&#x27;query&#x27;" not in page and "{'query'" not in page

    services.update_source(None, source, active=True)
    (tmp_path / "posts.csv").write_text("id,text\nz1,Queues at the consulate\n", encoding="utf-8")

    def broken(_source):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tasks, "pull_one", broken)
    with pytest.raises(RuntimeError):
        tasks.pull_source.call(source.pk)
    page = client.get("/listening/sources/").content.decode()
    assert "la récupération a échoué de notre côté (RuntimeError)" in page


def test_one_pull_of_a_source_at_a_time_and_a_dead_pull_lets_go(tree, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    source = _file_source(tree, settings, tmp_path, "id,text\nk1,Queues at the consulate\n", batch_size=10)
    running = timezone.now()
    type(source).objects.filter(pk=source.pk).update(pull_started_at=running)  # another worker is pulling it
    assert tasks.pull_source.call(source.pk) == {"stored": 0, "busy": 1}
    assert tasks.pull_due_sources.call() == []  # and the scheduler queues no second pull meanwhile
    assert not ListenedItem.objects.exists()
    # That worker died mid-pull: after the lease the source is pulled again.
    type(source).objects.filter(pk=source.pk).update(pull_started_at=running - services.PULL_LEASE - timedelta(1))
    assert tasks.pull_due_sources.call() == [source.pk]
    assert tasks.pull_source.call(source.pk)["stored"] == 1
    source.refresh_from_db()
    assert source.pull_started_at is None


def test_a_source_due_every_minute_is_pulled_every_minute(tree, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    source = _file_source(tree, settings, tmp_path, "id,text\nm1,Queues at the consulate\n", batch_size=10)
    type(source).objects.filter(pk=source.pk).update(pull_every=1)
    # The scheduler woke a minute ago, queued the pull, and the pull ended a few seconds later.
    type(source).objects.filter(pk=source.pk).update(last_pulled_at=timezone.now() - timedelta(seconds=57))
    assert tasks.pull_due_sources.call() == [source.pk]
    type(source).objects.filter(pk=source.pk).update(last_pulled_at=timezone.now() - timedelta(seconds=20))
    assert tasks.pull_due_sources.call() == []


def test_a_pull_queued_again_after_its_worker_died_does_not_wait_for_its_own_hold(tree, settings, tmp_path):
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from legation.worker.management.commands.worker import requeue_orphans

    source = _file_source(tree, settings, tmp_path, "id,text\nd1,Queues at the consulate\n", batch_size=10)
    queued = tasks.pull_source.enqueue(source.pk)
    DBTaskResult.objects.get(pk=queued.id).claim("dead-worker")  # it started the pull, held the source, died
    type(source).objects.filter(pk=source.pk).update(pull_started_at=timezone.now())
    assert requeue_orphans("dead-worker") == 1
    source.refresh_from_db()
    assert source.pull_started_at is None
    assert DBTaskResult.objects.get(pk=queued.id).status == TaskResultStatus.READY
    assert tasks.pull_source.call(source.pk)["stored"] == 1  # run again, not "busy" for ten minutes


def test_a_long_pull_keeps_its_hold_and_one_that_lost_it_stops(tree, settings, tmp_path, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from legation.listening import pull

    monkeypatch.setattr(pull, "CHUNK", 2)  # five posts: three transactions
    body = "id,text\n" + "".join(f"h{n},Queues at the consulate number {n}\n" for n in range(5))
    source = _file_source(tree, settings, tmp_path, body, batch_size=5)
    # A pull that started nine minutes ago (a large file) holds the source; each batch it stores renews the
    # hold, so it does not lapse under it and let a second pull in.
    started = services.claim_pull(source.pk)
    assert started is not None
    old = started - timedelta(minutes=9)
    type(source).objects.filter(pk=source.pk).update(pull_started_at=old)
    source = type(source).objects.get(pk=source.pk)
    source.pull_hold = old
    assert pull.pull_source(source).stored == 5
    source.refresh_from_db()
    assert source.pull_started_at == source.pull_hold and source.pull_started_at > timezone.now() - timedelta(1 / 24)
    assert services.claim_pull(source.pk) is None  # held, not lapsed
    services.release_pull(source.pk, source.pull_started_at)

    # A pull whose hold lapsed and was taken by another stops before it writes, and leaves the other's hold.
    (tmp_path / "posts.csv").write_text(body + "h5,Flights resume\n", encoding="utf-8")
    lapsed = timezone.now() - services.PULL_LEASE - timedelta(minutes=1)
    source.pull_hold = lapsed
    other = services.claim_pull(source.pk)
    assert other is not None
    with pytest.raises(services.PullSuperseded):
        pull.pull_source(source)
    source.refresh_from_db()
    assert source.cursor == "5" and source.pull_started_at == other
    assert not ListenedItem.objects.filter(external_id="h5").exists()


def test_a_pull_that_lost_its_hold_reports_busy(tree, settings, tmp_path, monkeypatch):
    from django.utils import timezone

    source = _file_source(tree, settings, tmp_path, "id,text\nb1,Queues at the consulate\n", batch_size=10)
    taken = timezone.now()
    real = services.claim_pull

    def claim_then_lapse(source_id):
        held = real(source_id)
        # This pull's worker stalls past the lease; another pull takes the source before this one stores.
        type(source).objects.filter(pk=source_id).update(pull_started_at=taken)
        return held

    monkeypatch.setattr(services, "claim_pull", claim_then_lapse)
    assert tasks.pull_source.call(source.pk) == {"stored": 0, "busy": 1}
    source.refresh_from_db()
    assert source.pull_started_at == taken and source.cursor == ""  # the other's hold, and nothing stored
    assert not ListenedItem.objects.exists()
