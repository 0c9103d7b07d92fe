from __future__ import annotations

from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "legation.listening"
    label = "listening"
    verbose_name = "Listening"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from legation.listening.fulltext import on_connection

        # SQLite's full-text triggers call a Python function (migration 0015): every connection gets it.
        connection_created.connect(on_connection, dispatch_uid="legation.listening.fulltext")
