"""Search results exported as CSV (spreadsheet-safe, with a byte-order mark) or JSONL, streamed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import StreamingHttpResponse

from legation.listening.models import ListeningSource, country_list
from legation.listening.search import readers_sources, readers_stories
from legation.network.models import Person, Unit
from legation.network.permissions import Action, paths_where

EXPORT_LIMIT = 100_000
EXPORT_FIELDS = ("id", "created_at", "platform", "external_id", "author", "url", "language", "sentiment",
                 "crisis_category", "countries", "places", "head_count", "phones", "needs", "story_id", "unit_id",
                 "unit", "source_id", "source", "text")
_STORED = ("id", "created_at", "platform", "external_id", "author", "url", "language", "sentiment",
           "crisis_category", "countries", "places", "head_count", "phones", "needs", "story_id", "unit_id",
           "source_id", "text", "unit_path", "heard_sources", "heard_by")
FORMATS = ("csv", "jsonl")


def _export_rows(rows: list[dict[str, Any]], paths: list[str] | None) -> Iterator[dict[str, Any]]:
    """Stored rows as the API shows them (``search.as_seen_by``): countries as a list, times in ISO 8601, the unit
    and source that heard the post by id and name, and, for a post first stored for a unit the reader may not
    view, the reader's own unit, source and story of it, not that unit's. Three queries for the rows at most."""

    def visible(path: str) -> bool:
        return paths is None or any(path.startswith(p) for p in paths)

    hidden = [row for row in rows if not visible(row["unit_path"])]
    stories = {item_id: story.pk for item_id, story in readers_stories([row["id"] for row in hidden],
                                                                       visible).items()}
    theirs = readers_sources([(row["id"], row["heard_sources"], row["heard_by"]) for row in hidden], visible)
    names = dict(ListeningSource.objects.filter(
        pk__in={row["source_id"] for row in rows if visible(row["unit_path"])}).values_list("id", "name"))
    units = dict(Unit.objects.filter(pk__in={row["unit_id"] for row in rows}).values_list("id", "name"))
    for row in rows:
        row["countries"] = country_list(row["countries"])
        row["created_at"] = row["created_at"].isoformat()
        if visible(row["unit_path"]):
            row["unit"], row["source"] = units.get(row["unit_id"], ""), names.get(row["source_id"], "")
        else:
            source, unit = theirs[row["id"]]
            row["story_id"] = stories.get(row["id"])
            row["source_id"], row["source"] = (source.pk, source.name) if source is not None else (None, "")
            row["unit_id"], row["unit"] = (unit.pk, unit.name) if unit is not None else (None, "")
        yield {field: row[field] for field in EXPORT_FIELDS}


def _in_batches(rows: Iterator[dict[str, Any]], paths: list[str] | None, size: int = 2000
                ) -> Iterator[dict[str, Any]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield from _export_rows(batch, paths)
            batch = []
    yield from _export_rows(batch, paths)


def response(items: Any, kind: str, person: Person | AnonymousUser) -> StreamingHttpResponse:
    """The search's posts as a file, newest first, at most EXPORT_LIMIT of them. A file that holds only the first
    EXPORT_LIMIT says so in its name ("listening-first-100000.csv") and in an ``X-Export-Truncated`` header, so
    nobody takes it for the whole search: narrow the search (by dates) for the rest."""
    paths = paths_where(person, Action.LISTENING_VIEW)
    truncated = items.values("id")[EXPORT_LIMIT : EXPORT_LIMIT + 1].exists()
    rows = _in_batches(items.values(*_STORED)[:EXPORT_LIMIT].iterator(chunk_size=2000), paths)
    if kind == "jsonl":
        lines: Iterator[str] = (json.dumps(row, default=str, ensure_ascii=False) + "\n" for row in rows)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
    else:
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    name = f"listening-first-{EXPORT_LIMIT}" if truncated else "listening"
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    if truncated:
        response["X-Export-Truncated"] = str(EXPORT_LIMIT)
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_safe(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ as formulas; a quote keeps them text."""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark first: spreadsheets then read the file as UTF-8 (Excel shows Arabic as mojibake without).
    yield "\ufeff" + writer.writerow(EXPORT_FIELDS)  # type: ignore[func-returns-value, operator]
    for row in rows:
        yield writer.writerow([_csv_safe(row[f]) for f in EXPORT_FIELDS])  # type: ignore[func-returns-value]
