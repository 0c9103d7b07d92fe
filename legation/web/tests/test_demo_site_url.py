"""The demo's e-mails link to the server it runs, on whichever port it was asked for."""

from __future__ import annotations

import django.conf
from django.core import mail
from django.core.management import call_command


def test_the_demo_links_its_emails_to_the_port_it_serves(db, monkeypatch):
    monkeypatch.setenv("LEGATION_SITE_URL", "")  # unset, as on a newcomer's machine (restored afterwards)
    monkeypatch.setattr(django.conf.settings, "SITE_URL", "http://localhost:8000")
    call_command("demo", "--seed-only", "--port", "8765", stdout=None)
    assert django.conf.settings.SITE_URL == "http://127.0.0.1:8765"
    alerts = [m for m in mail.outbox if "/listening/" in m.body]
    assert alerts and all("http://127.0.0.1:8765/listening/" in m.body for m in alerts)
