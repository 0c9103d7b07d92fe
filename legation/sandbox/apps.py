from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "legation.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox network"
