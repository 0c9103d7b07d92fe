from __future__ import annotations

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "legation.inbox"
    label = "inbox"
    verbose_name = "Inbox"
