"""Periodic jobs: registered by decorator, enqueued by the one scheduler loop in ``legation worker``."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from legation.worker.models import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    name: str
    task: Any  # a django_tasks Task
    every: timedelta


SCHEDULES: dict[str, Schedule] = {}


def periodic(every: timedelta) -> Any:
    """Register a task (decorated with @task) to be enqueued every ``every``."""

    def register(task: Any) -> Any:
        name = task.module_path
        SCHEDULES[name] = Schedule(name=name, task=task, every=every)
        return task

    return register


def enqueue_due() -> list[str]:
    """Enqueue every job whose time has come; return their names. Safe to run in several processes at once."""
    now = timezone.now()
    enqueued = []
    for schedule in SCHEDULES.values():
        PeriodicJob.objects.get_or_create(name=schedule.name, defaults={"next_run_at": now})
        claimed = PeriodicJob.objects.filter(name=schedule.name, next_run_at__lte=now).update(
            next_run_at=now + schedule.every, last_enqueued_at=now
        )
        if claimed:
            schedule.task.enqueue()
            enqueued.append(schedule.name)
    return enqueued


class SchedulerLoop(threading.Thread):
    """Wakes every ``tick`` seconds and enqueues what is due, until stopped."""

    def __init__(self, tick: float = 5.0) -> None:
        super().__init__(name="legation-scheduler", daemon=True)
        self.tick = tick
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                for name in enqueue_due():
                    logger.info("enqueued periodic job %s", name)
            except Exception:  # a database restart must not kill the scheduler; it retries next tick
                logger.exception("scheduler tick failed")
            self.stopping.wait(self.tick)

    def stop(self) -> None:
        self.stopping.set()
