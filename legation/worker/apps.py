from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class WorkerConfig(AppConfig):
    name = "legation.worker"
    label = "worker"
    verbose_name = "Background work"

    def ready(self) -> None:
        # Each app's tasks.py registers its periodic jobs with @periodic.
        autodiscover_modules("tasks")
