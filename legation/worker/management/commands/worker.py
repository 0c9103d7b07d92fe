"""``legation worker``: runs background tasks and the scheduler loop for periodic jobs."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import time
from pathlib import Path
from traceback import format_exception
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone

from legation.worker.periodic import SCHEDULES, SchedulerLoop
from legation.worker.recovery import before_requeue

logger = logging.getLogger(__name__)

# Seconds between tries while the database is away (a restart, a failover, a dropped connection).
RECONNECT_WAITS = (1, 2, 5, 10, 30)
# A task whose worker lost the database while running it is queued again, unless it already ran this often
# (a task that itself breaks the connection must not loop for ever).
RUNS_BEFORE_GIVING_UP = 3


class Command(BaseCommand):
    help = "Run background tasks (and, unless --no-scheduler, the scheduler loop that enqueues periodic jobs)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-scheduler", action="store_true", help="only run tasks; another process schedules")
        parser.add_argument("--batch", action="store_true",
                            help="enqueue every periodic job once, run the queue until it is empty, then exit")
        parser.add_argument("--tick", type=float, default=5.0, help="scheduler wake-up interval in seconds")
        parser.add_argument("--queue", default="*", help="queues to serve, comma-separated ('*' for all)")

    def handle(self, *args: Any, **options: Any) -> None:
        scheduler = None
        if options["batch"]:
            for schedule in SCHEDULES.values():
                schedule.task.enqueue()
        if not options["no_scheduler"] and not options["batch"]:
            scheduler = SchedulerLoop(tick=options["tick"])
            scheduler.start()
        try:
            if settings.TASK_BACKEND == "rq":
                call_command("rqworker", "default", job_class="django_tasks_rq.Job", with_scheduler=False,
                             burst=options["batch"])
            else:
                requeue_tasks_of_dead_workers()
                serve_database_queue(options)
        finally:
            if scheduler is not None:
                scheduler.stop()


def _boot() -> str:
    """This boot of the machine (Linux's boot id, 8 characters; "" elsewhere): a process id of an earlier boot
    names no process of this one, even if a process has that number now."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:8]
    except OSError:
        return ""


def worker_name(attempt: int) -> str:
    """``host-boot-pid-attempt`` (at most 64 characters, as django-tasks takes it)."""
    return f"{socket.gethostname()[:40]}-{_boot() or 'noboot'}-{os.getpid()}-{attempt}"


def requeue_tasks_of_dead_workers() -> int:
    """At start: tasks left running by a worker of this machine that is gone (killed with SIGKILL, or of an
    earlier boot) go back to the queue, as ``requeue_orphans`` does for one that lost the database; returns how
    many. A worker on another machine is left to that machine's next start."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    host, boot = socket.gethostname()[:40], _boot() or "noboot"
    gone = set()
    for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        parts = (row.worker_ids[-1] if row.worker_ids else "").rsplit("-", 3)
        if len(parts) != 4 or parts[0] != host or not parts[2].isdecimal():
            continue
        if parts[1] == boot:
            if int(parts[2]) == os.getpid():
                continue
            try:
                os.kill(int(parts[2]), 0)
                continue  # still running
            except ProcessLookupError:
                pass
            except PermissionError:  # alive, another user's
                continue
        gone.add(row.worker_ids[-1])
    return sum(requeue_orphans(worker_id) for worker_id in gone)


def serve_database_queue(options: dict[str, Any]) -> None:
    """Run django-tasks' database worker; when the database goes away under it (its connection dropped, the
    server restarted), wait, reconnect and go on, instead of the process exiting and every background job
    (pulls, alerts, e-mail retries, publishing) stopping until someone restarts it. The task that was running
    is queued again (``requeue_orphans``): the tasks are written to be run again safely."""
    attempt = 0
    while True:
        worker_id = worker_name(attempt)
        try:
            call_command("db_worker", queue_name=options["queue"], batch=options["batch"], reload=False,
                         interval=0.5, verbosity=options["verbosity"], worker_id=worker_id)
            return
        except (InterfaceError, OperationalError) as exc:
            logger.warning("worker %s: the database went away (%s); reconnecting", worker_id, exc)
        for wait in itertools.chain(RECONNECT_WAITS, itertools.repeat(RECONNECT_WAITS[-1])):
            connections.close_all()
            time.sleep(wait)
            try:
                requeue_orphans(worker_id)
                break
            except (InterfaceError, OperationalError) as exc:
                logger.warning("worker %s: the database is still away (%s); trying again in %ss", worker_id, exc,
                               wait)
        attempt += 1


def requeue_orphans(worker_id: str) -> int:
    """Tasks this worker was running when it lost the database go back to the queue (or, after
    RUNS_BEFORE_GIVING_UP runs, are marked failed); returns how many were queued again."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    again = 0
    for row in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):  # few rows: one per busy worker
        if not row.worker_ids or row.worker_ids[-1] != worker_id:
            continue
        # Only if no one else moved it meanwhile (another worker starting, or claiming it once queued again).
        same = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at)
        if len(row.worker_ids) >= RUNS_BEFORE_GIVING_UP:
            error = RuntimeError(f"its worker lost the database, or died, while running it, {len(row.worker_ids)} "
                                 f"times")
            same.update(status=TaskResultStatus.FAILED, finished_at=timezone.now(), return_value=None,
                        exception_class_path="builtins.RuntimeError", traceback="".join(format_exception(error)))
            continue
        before_requeue(row.task_path, row.args_kwargs)  # e.g. a listening pull's hold on its source
        if same.update(status=TaskResultStatus.READY):
            again += 1
            logger.warning("task %s (%s) queued again: its worker lost the database, or died, while running it",
                           row.pk, row.task_path)
    return again
