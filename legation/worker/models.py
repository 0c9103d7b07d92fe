from __future__ import annotations

from django.db import models


class PeriodicJob(models.Model):
    """When a periodic job is next due; claimed with a conditional UPDATE so several schedulers never double-enqueue."""

    name = models.CharField(max_length=200, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
