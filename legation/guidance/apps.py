from __future__ import annotations

from django.apps import AppConfig


class GuidanceConfig(AppConfig):
    name = "legation.guidance"
    label = "guidance"
    verbose_name = "Guidance"
