from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "legation.network"
    label = "network"
    verbose_name = "Network"
