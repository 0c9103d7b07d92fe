"""``legation records verify`` and ``legation records export``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from legation.records import export, ledger


def _parse_since(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since: '{value}' is not a date (YYYY-MM-DD) or a date-time (ISO 8601)")
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Verify the ledger's hash chain, or export it."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="check the whole chain; exit 1 naming the first broken record")
        exp = sub.add_parser("export", help="write the ledger to standard output or a file")
        exp.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        exp.add_argument("--since", help="only records from this date (YYYY-MM-DD) or date-time")
        exp.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            count, broken = ledger.verify()
            if broken:
                self.stderr.write(f"ledger broken at record #{broken.record_id}: {broken.reason}")
                sys.exit(1)
            self.stdout.write(f"ledger intact: {count} records verified")
            return
        since = _parse_since(options["since"]) if options["since"] else None
        records = export.select(since)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                count = export.write(records, handle, options["format"])
            self.stderr.write(f"exported {count} records to {options['output']}")
        else:
            export.write(records, self.stdout, options["format"])  # type: ignore[arg-type]
