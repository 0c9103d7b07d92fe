"""``legation demo``: migrate, seed the fictional ministry, start the worker and the web server, print logins."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from legation import demo
from legation.web.management.commands.serve import run_server


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run a demonstration of Legation with a fictional ministry, on this machine."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")
        parser.add_argument("--seed-only", action="store_true", help="migrate and seed, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        url = f"http://{options['host']}:{options['port']}/"
        if not os.environ.get("LEGATION_SITE_URL"):
            # Links in e-mails (listening alerts, ...) lead to this server, seeding's and the worker's included.
            shown = "localhost" if options["host"] in ("0.0.0.0", "::", "") else options["host"]  # noqa: S104
            shown = f"[{shown}]" if ":" in shown else shown
            site = f"http://{shown}:{options['port']}"
            os.environ["LEGATION_SITE_URL"] = settings.SITE_URL = site
        mail_folder = ""
        if not os.environ.get("LEGATION_EMAIL_BACKEND"):
            # A laptop has no mail server: the e-mails (alerts, failed deliveries) are written to files to read,
            # by seeding, the web server and the worker alike, instead of failing and being retried.
            backend = "django.core.mail.backends.filebased.EmailBackend"
            os.environ["LEGATION_EMAIL_BACKEND"] = settings.EMAIL_BACKEND = backend
            mail_folder = settings.EMAIL_FILE_PATH
            # So do other commands run on this data folder (a `legation listen replay` beside the demo).
            Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
            (Path(settings.DATA_DIR) / settings.DEMO_MAIL_MARK).write_text(
                "The demo seeded this folder: with no LEGATION_EMAIL_BACKEND, e-mails are written to files.\n",
                encoding="utf-8")
        call_command("migrate", verbosity=0, interactive=False)
        counts = demo.seed()
        self.stdout.write(
            f"Demo ministry ready: {counts['units']} units, {counts['people']} people, {counts['accounts']} accounts."
        )
        if options["seed_only"]:
            return
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "legation.cli", "worker"], env=os.environ.copy())
        self.stdout.write(f"\nOpen {url}\nSign in with any of these (password: {demo.DEMO_PASSWORD}):")
        for username, what in demo.logins():
            self.stdout.write(f"  {username:<18} {what}")
        if mail_folder:
            self.stdout.write(f"\nE-mails are written to {mail_folder} (no mail server is used).")
        self.stdout.write("\nPress Ctrl+C to stop.\n")
        # Stopped by a signal (kill, a service manager) as by Ctrl+C: the worker is stopped with the server.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            run_server(options["host"], options["port"], insecure_cookies=True)
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=20)
