"""``legation sandbox replay FILE --rate N``: stream posts into the sandbox network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from legation.sandbox.replay import replay


class Command(BaseCommand):
    help = "Tools for the sandbox network."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rep = sub.add_parser("replay", help="post each line of a CSV (column 'text') or JSONL file")
        rep.add_argument("file")
        rep.add_argument("--rate", type=float, default=10.0, help="posts per second (0: as fast as possible)")
        rep.add_argument("--author", default="@public", help="handle for rows without an 'author' column")
        rep.add_argument("--limit", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        report = replay(path, options["rate"], options["author"], options["limit"])
        for number, problem in report.bad_lines:
            self.stderr.write(f"line {number}: {problem}")
        self.stdout.write(f"posted {report.posted}, skipped {len(report.bad_lines)} bad lines")
