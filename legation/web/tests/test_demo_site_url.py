"""The demo's e-mails link to the server it runs, on whichever port it was asked for, and with no mail server
configured they are written as files to read."""

from __future__ import annotations

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
