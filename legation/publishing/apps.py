from __future__ import annotations

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "legation.publishing"
    label = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        from legation.publishing import reconcile  # noqa: F401 - connects the timeline receiver
