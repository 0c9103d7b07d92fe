"""Background work: the database queue run by `legation worker`, RQ on the real Redis, and the scheduler."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import task_backends
from django_tasks.base import TaskResultStatus

from legation.records.tasks import verify_ledger
from legation.worker import periodic
from legation.worker.models import PeriodicJob


def test_database_queue_runs_a_task_through_the_worker_command(tree, monkeypatch):
    # In-process, the worker loop's reconnect-between-tasks would close the test's own transaction.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    result = verify_ledger.enqueue()
    assert result.status == TaskResultStatus.READY
    call_command("worker", "--batch", verbosity=0)
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["broken_at"] is None and result.return_value["checked"] > 5


RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@pytest.fixture
def redis_queue(settings):
    client = redis.Redis.from_url(settings.RQ_QUEUES["default"]["URL"])
    client.ping()  # Redis at 127.0.0.1:6379 must be running: the test uses the real server
    yield client


def test_rq_backend_runs_a_task_through_real_redis(tree, redis_queue):
    from django_rq import get_queue, get_worker
    from django_tasks_rq import Job
    from rq import SimpleWorker

    with override_settings(TASKS=RQ_TASKS):
        backend = task_backends["default"]
        assert type(backend).__name__ == "RQBackend"
        queue = get_queue("default")
        queue.empty()
        result = verify_ledger.using(backend="default").enqueue()
        assert queue.count == 1  # it really is in Redis
        get_worker("default", worker_class=SimpleWorker, job_class=Job).work(burst=True)
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value["broken_at"] is None


def test_scheduler_enqueues_each_due_job_once_even_with_two_schedulers(db):
    assert "legation.records.tasks.verify_ledger" in periodic.SCHEDULES
    first = periodic.enqueue_due()
    second = periodic.enqueue_due()  # a second scheduler (or tick) right after: nothing is due any more
    assert "legation.records.tasks.verify_ledger" in first
    assert second == []
    job = PeriodicJob.objects.get(name="legation.records.tasks.verify_ledger")
    assert job.next_run_at > timezone.now() + timedelta(minutes=50)
    PeriodicJob.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert "legation.records.tasks.verify_ledger" in periodic.enqueue_due()


def test_the_worker_survives_losing_the_database_and_runs_the_interrupted_task_again(tree, monkeypatch):
    from django.db import InterfaceError
    from django_tasks_db.models import DBTaskResult

    from legation.worker.management.commands import worker

    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    monkeypatch.setattr(worker.connections, "close_all", lambda: None)  # would end the test's transaction
    waits: list[float] = []
    monkeypatch.setattr(worker.time, "sleep", waits.append)
    result = verify_ledger.enqueue()
    real = worker.call_command
    calls: list[str] = []

    def db_worker_losing_its_connection_once(name, **options):
        calls.append(options["worker_id"])
        if len(calls) == 1:  # it claims the task, then the database server drops its connection
            DBTaskResult.objects.get(pk=result.id).claim(options["worker_id"])
            raise InterfaceError("the connection is closed")
        return real(name, **options)

    monkeypatch.setattr(worker, "call_command", db_worker_losing_its_connection_once)
    call_command("worker", "--batch", verbosity=0)
    assert len(calls) == 2 and calls[0] != calls[1] and waits[0] == 1  # then db_worker's own start delay
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL  # run again by the reconnected worker
    assert DBTaskResult.objects.get(pk=result.id).worker_ids == calls


def test_a_task_that_keeps_losing_the_database_is_failed_not_run_for_ever(tree):
    from django_tasks_db.models import DBTaskResult

    from legation.worker.management.commands.worker import RUNS_BEFORE_GIVING_UP, requeue_orphans

    result = verify_ledger.enqueue()
    row = DBTaskResult.objects.get(pk=result.id)
    for n in range(RUNS_BEFORE_GIVING_UP):
        row.claim(f"w{n}")
        assert requeue_orphans(f"w{n}") == (1 if n < RUNS_BEFORE_GIVING_UP - 1 else 0)
        row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert requeue_orphans("someone-else") == 0


def test_tasks_left_running_by_a_killed_worker_are_queued_again_when_a_worker_starts(tree):
    import os
    import socket
    import subprocess

    from django_tasks_db.models import DBTaskResult

    from legation.worker.management.commands.worker import _boot, requeue_tasks_of_dead_workers

    dead = subprocess.Popen(["true"])
    dead.wait()  # a process id that no longer runs
    host, boot = socket.gethostname()[:40], _boot() or "noboot"
    killed, alive, elsewhere, rebooted = (verify_ledger.enqueue() for _ in range(4))
    DBTaskResult.objects.get(pk=killed.id).claim(f"{host}-{boot}-{dead.pid}-0")
    DBTaskResult.objects.get(pk=alive.id).claim(f"{host}-{boot}-{os.getppid()}-0")  # a worker still running
    DBTaskResult.objects.get(pk=elsewhere.id).claim(f"another-machine-{boot}-{dead.pid}-0")
    # A worker of an earlier boot, whose process number a process of this boot has now.
    DBTaskResult.objects.get(pk=rebooted.id).claim(f"{host}-0ldb00t0-{os.getppid()}-0")
    assert requeue_tasks_of_dead_workers() == 2
    statuses = {str(r.pk): r.status for r in DBTaskResult.objects.all()}
    assert statuses[killed.id] == statuses[rebooted.id] == TaskResultStatus.READY
    assert statuses[alive.id] == statuses[elsewhere.id] == TaskResultStatus.RUNNING
    assert requeue_tasks_of_dead_workers() == 0  # each once: a second worker starting finds nothing to move
