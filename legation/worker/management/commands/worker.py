"""``legation worker``: runs background tasks and the scheduler loop for periodic jobs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from legation.worker.periodic import SCHEDULES, SchedulerLoop


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
                call_command("db_worker", queue_name=options["queue"], batch=options["batch"], reload=False,
                             interval=0.5, verbosity=options["verbosity"])
        finally:
            if scheduler is not None:
                scheduler.stop()
