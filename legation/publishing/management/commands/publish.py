"""``legation publish``: draft and submit a post from a script, as a named person."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from legation.network.models import OfficialAccount, Person, Unit
from legation.publishing import delivery, services


class Command(BaseCommand):
    help = "Draft and submit a post: legation publish --as USER --unit ID --text 'Hello' --account ID[:lang] ..."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--as", dest="username", required=True, help="the person publishing")
        parser.add_argument("--unit", type=int, required=True, help="the unit the post belongs to")
        parser.add_argument("--text", required=True, help="the source text")
        parser.add_argument("--language", default="en", help="the source text's language")
        parser.add_argument("--variant", action="append", default=[], metavar="LANG=TEXT")
        parser.add_argument("--account", action="append", default=[], metavar="ID[:LANG]", required=True)
        parser.add_argument("--link", default="")
        parser.add_argument("--at", help="ISO date-time to publish at")
        parser.add_argument("--draft", action="store_true", help="save as a draft, do not submit")
        parser.add_argument("--deliver-now", action="store_true", help="send due deliveries before returning")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            actor = Person.objects.get(username=options["username"], is_active=True)
            unit = Unit.objects.get(pk=options["unit"])
        except (Person.DoesNotExist, Unit.DoesNotExist) as exc:
            raise CommandError(str(exc)) from exc
        variants = [services.VariantInput(options["language"], options["text"])]
        for item in options["variant"]:
            language, sep, text = item.partition("=")
            if not sep:
                raise CommandError(f"--variant {item!r}: write LANG=TEXT")
            variants.append(services.VariantInput(language.strip(), text))
        targets = []
        for item in options["account"]:
            account_id, _sep, language = item.partition(":")
            account = OfficialAccount.objects.filter(pk=int(account_id) if account_id.isdecimal() else -1).first()
            if account is None:
                raise CommandError(f"--account {item!r}: no such account")
            targets.append((account, language or options["language"]))
        scheduled: datetime | None = None
        if options["at"]:
            scheduled = parse_datetime(options["at"])
            if scheduled is None or scheduled.tzinfo is None:
                raise CommandError("--at: give an ISO date-time with its offset, e.g. 2026-12-01T09:00+01:00")
        try:
            post = services.create_post(actor, unit=unit, source_language=options["language"], variants=variants,
                                        targets=targets, link=options["link"], scheduled_for=scheduled)
            if not options["draft"]:
                post = services.submit(actor, post)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if options["deliver_now"]:
            delivery.run_due()
            post.refresh_from_db()
        self.stdout.write(json.dumps({
            "post": post.pk, "status": post.status,
            "clearances_needed": [{"role": c.role, "unit": c.unit_id, "why": c.reason}
                                  for c in services.pending_clearances(post)],
            "deliveries": [{"account": d.account_id, "status": d.status, "url": d.url}
                           for d in post.deliveries.all()],
        }, ensure_ascii=False))
