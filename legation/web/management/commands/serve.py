"""``legation serve``: the web application on a production-grade WSGI server (waitress)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


def run_server(host: str, port: int, *, insecure_cookies: bool, threads: int = 8) -> None:
    from waitress import serve

    from legation.wsgi import application

    if insecure_cookies:
        # Plain HTTP on a laptop: browsers drop Secure cookies there, so sign-in would never stick.
        settings.SESSION_COOKIE_SECURE = False
        settings.CSRF_COOKIE_SECURE = False
    if host not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append(host)
    serve(application, host=host, port=port, threads=threads, ident="legation")


class Command(BaseCommand):
    help = "Serve the web application (behind a TLS proxy in production)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--insecure-cookies", action="store_true",
                            help="allow session cookies over plain HTTP (local use only)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Legation listening on http://{options['host']}:{options['port']}/")
        run_server(options["host"], options["port"], insecure_cookies=options["insecure_cookies"],
                   threads=options["threads"])
