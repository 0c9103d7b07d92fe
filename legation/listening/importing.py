"""Reading posts from a CSV or JSONL file, line by line; a malformed line is reported by number, not fatal."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from legation.listening.ingest import Post
from legation.listening.models import FILE_PLATFORM


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


def file_format(path: Path) -> str:
    return "csv" if path.suffix.lower() in {".csv", ".tsv"} else "jsonl"


def read_posts(path: Path, *, skip: int = 0) -> Iterator[Post | BadLine]:
    """Yield each record of the file after the first ``skip`` as a Post (or a BadLine), in file order.

    Columns or fields: ``text`` (required), ``platform``, ``id`` (or ``external_id``), ``author``,
    ``created_at`` (ISO 8601 or Unix seconds), ``url``. Without an id, the file name and line number make one.
    """
    origin = hashlib.sha256(path.name.encode()).hexdigest()[:8]
    with path.open("rb") as raw:
        if file_format(path) == "csv":
            yield from _csv_posts(raw, origin, skip, "\t" if path.suffix.lower() == ".tsv" else ",")
        else:
            yield from _jsonl_posts(raw, origin, skip)


def _jsonl_posts(raw: Any, origin: str, skip: int) -> Iterator[Post | BadLine]:
    count = 0
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        count += 1
        if count <= skip:
            continue
        try:
            record = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            yield BadLine(number, "not UTF-8 text")
            continue
        except json.JSONDecodeError as exc:
            yield BadLine(number, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            yield BadLine(number, "not a JSON object")
            continue
        yield _post(record, number, origin)


def _csv_posts(raw: Any, origin: str, skip: int, delimiter: str) -> Iterator[Post | BadLine]:
    csv.field_size_limit(16 * 1024 * 1024)  # a huge post is refused by the ingest check, with its reason
    # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which is not part of the first name.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    # strict: a quote left open runs to the end of the file, which is reported instead of swallowing the lines.
    reader = csv.DictReader(text, delimiter=delimiter, strict=True)
    count = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader does not count the line it failed on.
            reason = ("a quote opened here is never closed" if "unexpected end of data" in str(exc)
                      else f"unreadable CSV ({exc})")
            yield BadLine(reader.line_num + 1, reason)
            continue
        count += 1
        if count <= skip:
            continue
        if None in row:
            yield BadLine(reader.line_num, "more fields than the header names")
            continue
        if any("\udc80" <= ch <= "\udcff" for value in row.values() if value for ch in value):
            yield BadLine(reader.line_num, "not UTF-8 text")
            continue
        yield _post(row, reader.line_num, origin)


def _post(record: dict[str, Any], number: int, origin: str) -> Post | BadLine:
    if "text" not in record:
        return BadLine(number, "no text field")
    created = record.get("created_at")
    created_at = None
    if created not in (None, ""):
        created_at = _moment(created)
        if created_at is None:
            return BadLine(number, f"created_at {str(created)[:40]!r} is not a date and time")
    external_id = record.get("id") or record.get("external_id") or f"{origin}:{number}"
    return Post(
        text=record.get("text"),
        platform=str(record.get("platform") or FILE_PLATFORM)[:20],
        external_id=str(external_id),
        author=str(record.get("author") or ""),
        created_at=created_at,
        url=str(record.get("url") or ""),
        position=number,
    )


def _moment(value: Any) -> datetime | None:
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        moment = parse_datetime(str(value))
    except ValueError:
        return None
    if moment is None:
        return None
    return make_aware(moment, UTC) if is_naive(moment) else moment
