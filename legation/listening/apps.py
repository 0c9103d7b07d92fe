from __future__ import annotations

from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "legation.listening"
    label = "listening"
    verbose_name = "Listening"
