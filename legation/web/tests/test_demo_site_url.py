"""The demo's e-mails link to the server it runs, on whichever port it was asked for, and with no mail server
configured they are written as files to read."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import django.conf
from django.core.management import call_command


def test_the_demo_writes_its_emails_to_files_linking_to_the_port_it_serves(db, monkeypatch, tmp_path):
    # Unset, as on a newcomer's machine (restored afterwards, with the settings the command changes).
    monkeypatch.setenv("LEGATION_SITE_URL", "")
    monkeypatch.setenv("LEGATION_EMAIL_BACKEND", "")
    monkeypatch.setattr(django.conf.settings, "SITE_URL", "http://localhost:8000")
    monkeypatch.setattr(django.conf.settings, "EMAIL_BACKEND", django.conf.settings.EMAIL_BACKEND)
    monkeypatch.setattr(django.conf.settings, "EMAIL_FILE_PATH", str(tmp_path / "mail"))
    call_command("demo", "--seed-only", "--port", "8765", stdout=None)
    assert django.conf.settings.SITE_URL == "http://127.0.0.1:8765"
    written = [path.read_text(encoding="utf-8") for path in sorted((tmp_path / "mail").glob("*.log"))]
    alerts = [message for message in written if "/listening/" in message]
    assert alerts and all("http://127.0.0.1:8765/listening/" in message for message in alerts)
    assert "Subject: " in alerts[0] and "To: " in alerts[0]
    # Other commands run on the demo's data folder (a replay beside it) write their e-mails to files too.
    assert (django.conf.settings.DATA_DIR / django.conf.settings.DEMO_MAIL_MARK).exists()
    env = {key: value for key, value in os.environ.items() if key != "LEGATION_EMAIL_BACKEND"}
    env["LEGATION_DATA_DIR"] = str(django.conf.settings.DATA_DIR)
    read = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"
    shown = subprocess.run([sys.executable, "-c", read], env={**env, "DJANGO_SETTINGS_MODULE": "legation.settings"},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "django.core.mail.backends.filebased.EmailBackend"
    fresh = {**env, "DJANGO_SETTINGS_MODULE": "legation.settings", "LEGATION_DATA_DIR": str(tmp_path / "other")}
    shown = subprocess.run([sys.executable, "-c", read], env=fresh, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert shown == "django.core.mail.backends.smtp.EmailBackend"  # any other folder: the mail server


def test_stopping_the_demo_with_a_signal_stops_its_worker(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "LEGATION_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "legation.settings"}
    env.pop("DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "legation.cli", "demo", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            time.sleep(0.5)
            workers = _children(demo.pid)
        assert workers, "the demo started no worker"
        while time.monotonic() < deadline:  # the server is up
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) is not None
        for pid in workers:
            for _ in range(60):
                if not Path(f"/proc/{pid}").exists() or "Z" in _state(pid):
                    break
                time.sleep(0.5)
            assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), "the worker outlived the demo"
    finally:
        if demo.poll() is None:
            demo.kill()


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
