"""``legation listen``: listening from the command line (``replay`` a file of posts through the pipeline)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from legation.listening import services
from legation.listening.ingest import IngestResult
from legation.listening.models import FILE_PLATFORM, ListeningSource, SourceKind
from legation.listening.replay import replay
from legation.network.models import Unit

READ_AS = (".csv", ".tsv", ".jsonl", ".json", ".ndjson")


def _rate(value: str) -> float:
    """A --rate: posts a second, or 0 for no limit; not NaN, infinite or negative, which would mean nothing."""
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not math.isfinite(rate) or rate < 0:
        raise argparse.ArgumentTypeError(f"{value} is not a number of posts per second above 0 (or 0: no limit)")
    return rate


def _batch(value: str) -> int:
    """A --batch: posts per ingest batch, 1 to 10,000 (a source's batch size takes the same)."""
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= size <= 10_000:
        raise argparse.ArgumentTypeError(f"{value} is not a number of posts from 1 to 10000")
    return size


class Command(BaseCommand):
    help = "Listening tools: replay a CSV or JSONL file of posts through ingestion, enrichment and alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rep = sub.add_parser("replay", help="push a file of posts through the whole pipeline",
                             description="Columns/fields: text (required), platform, id, author, created_at, url. "
                                         "A post without an id is known by its platform, author, time and text, "
                                         "so replaying it again stores nothing new. A created_at before "
                                         "2006-03-21 or more than a day ahead refuses its line.")
        rep.add_argument("file", type=Path)
        rep.add_argument("--rate", type=_rate, default=0, help="posts per second (0: as fast as possible)")
        rep.add_argument("--unit", type=int, help="unit id (default: the top of the tree)")
        rep.add_argument("--source", help="source name in that unit (created if missing; default: replay)")
        rep.add_argument("--batch", type=_batch, default=1000, help="posts per ingest batch")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if path.is_dir():
            raise CommandError(f"{path}: is a folder; give a CSV, TSV or JSONL file of posts")
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.suffix.lower() not in READ_AS:
            self.stderr.write(f"{path.name}: read as JSON lines, one post a line (a CSV or TSV file must be named "
                              ".csv or .tsv)")
        unit = (Unit.objects.filter(pk=options["unit"]).first() if options["unit"]
                else Unit.objects.filter(parent__isnull=True).first())
        if unit is None:
            raise CommandError("no such unit" if options["unit"] else "the unit tree is empty: run bootstrap first")
        name = "replay" if options["source"] is None else options["source"].strip()
        if not name:
            raise CommandError("--source: give the source's name (or leave --source out for 'replay')")
        source = ListeningSource.objects.filter(unit=unit, name=name).first()
        if source is None:
            try:
                source = services.create_source(None, unit=unit, name=name, kind=SourceKind.FILE,
                                                platform=FILE_PLATFORM, query=str(path.resolve()), active=False)
            except ValidationError as exc:
                raise CommandError(f"--source: {' '.join(exc.messages)}") from None
        elif source.query == str(path.resolve()):
            # The file read again from its first line: its refused lines are this reading's, not added again.
            services.forget_refused(source)
        verbosity = options["verbosity"]

        def progress(result: IngestResult) -> None:
            if verbosity > 1:
                self.stdout.write(f"  {result.received} read, {result.stored} stored")

        report = replay(path, source, rate=options["rate"], batch=options["batch"], progress=progress)
        result = report.result
        for rejected in result.rejected:
            self.stderr.write(f"line {rejected.position}: {rejected.reason}")
        self.stdout.write(
            f"{path.name} → {unit.name} / {source.name}: {result.received} read, {result.stored} stored, "
            f"{result.duplicates} duplicates, {len(result.rejected)} refused, {report.alerts} alerts, "
            f"in {report.seconds:.1f} s ({report.rate:.0f} posts/s)"
        )
