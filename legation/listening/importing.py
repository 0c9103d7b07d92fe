"""Reading posts from a CSV or JSONL file, line by line; a malformed line is reported by number, not fatal."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext_noop as noop

from legation.listening.ingest import Post
from legation.listening.models import FILE_PLATFORM
from legation.listening.reasons import Reason

# No social network post is older than the first tweet; a date before it is a mistake in the file.
EARLIEST_POST = datetime(2006, 3, 21, tzinfo=UTC)
# A post dated ahead would sort first in every search for ever; a day allows for clocks and time zones.
FUTURE_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


def file_format(path: Path) -> str:
    return "csv" if path.suffix.lower() in {".csv", ".tsv"} else "jsonl"


def read_posts(path: Path, *, skip: int = 0, hold_unfinished: bool = False) -> Iterator[Post | BadLine]:
    """Yield each record of the file after the first ``skip`` as a Post (or a BadLine), in file order.

    Columns or fields: ``text`` (required), ``platform``, ``id`` (or ``external_id``), ``author``,
    ``created_at`` (ISO 8601 or Unix seconds, from 2006-03-21 to a day from now), ``url``. Without an id, one
    is made from the post's platform, author, time and text (``content_id``): the same post read again from
    any file is the same post, and two different posts never share an id. ``skip`` counts every record,
    the bad ones too, as callers count them when they resume. A CSV file's column names are read in any case,
    and a header line with semicolons (or tabs) and no comma is read as separated by them, as spreadsheets in
    many languages save "CSV".

    ``hold_unfinished``: the file may still be being written (a log a program appends to): a last line without
    its line end is left for a later read, not read (nor counted) half-written.
    """
    with path.open("rb") as raw:
        # Spreadsheets and Windows tools save "Unicode text" as UTF-16 (with a byte-order mark): read it so
        utf16 = raw.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        raw.seek(0)
        if file_format(path) == "csv":
            yield from _csv_posts(raw, skip, "\t" if path.suffix.lower() == ".tsv" else ",",
                                  "utf-16" if utf16 else "utf-8-sig", hold_unfinished=hold_unfinished)
        elif utf16:
            yield from _jsonl_posts(codecs.EncodedFile(raw, "utf-8", "utf-16", errors="replace"), skip,
                                    hold_unfinished)
        else:
            yield from _jsonl_posts(raw, skip, hold_unfinished)


def content_id(platform: str, author: str, created_at: datetime | None, text: object) -> str:
    """The id of a post that came without one: a hash of what makes it that post, not of where it was read."""
    moment = created_at.astimezone(UTC).isoformat() if created_at else ""
    body = text.strip() if isinstance(text, str) else text
    key = json.dumps([platform, author, moment, body], sort_keys=True, default=str)  # ASCII: lone surrogates too
    return "content:" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _jsonl_posts(raw: Any, skip: int, hold_unfinished: bool = False) -> Iterator[Post | BadLine]:
    count = 0
    for number, line in enumerate(raw, start=1):
        if hold_unfinished and not line.endswith(b"\n"):
            return  # being written: read it whole next time
        if not line.strip():
            continue
        count += 1
        if count <= skip:
            continue
        try:
            record = json.loads(line.rstrip(b"\r\n").decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            yield BadLine(number, Reason(noop("not UTF-8 text")))
            continue
        except json.JSONDecodeError as exc:
            yield BadLine(number, Reason(noop("not valid JSON (%(error)s: character %(column)s)"), error=exc.msg,
                                         column=exc.colno))
            continue
        except ValueError:  # an integer of more than 4,300 digits (Python's limit)
            yield BadLine(number, Reason(noop("not valid JSON here (a number with too many digits)")))
            continue
        except RecursionError:
            yield BadLine(number, Reason(noop("not valid JSON here (nested too deeply)")))
            continue
        if not isinstance(record, dict):
            yield BadLine(number, Reason(noop("not a JSON object")))
            continue
        yield _post(record, number)


class _Lines:
    """The lines of a CSV file, numbered, for the reader; the lines of a record that failed are read again.

    A quote left open makes the reader take the lines after it as one field: the record is reported by the
    line it began on, and each line after that one is read again, so no well-formed line is lost with it.
    """

    def __init__(self, text: Iterator[str], hold_unfinished: bool = False) -> None:
        self._text = text
        self._read = 0  # lines taken from the file
        self._again: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []  # the lines of the record being read
        self._hold = hold_unfinished
        self.held = False  # a last line without its line end was left for a later read

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            number, line = self._again.popleft()
        else:
            line = next(self._text)
            if self._hold and not line.endswith(("\n", "\r")):
                self.held = True
                raise StopIteration
            self._read += 1
            number = self._read
        self.taken.append((number, line))
        return line

    def peek(self) -> str:
        """The next line, which will be read again."""
        line = next(self, "")
        if self.taken:
            self._again.appendleft(self.taken.pop())
        return line

    def next_record(self) -> tuple[int, int]:
        """(first line, last line) of the record just read, which are forgotten."""
        first, last = self.taken[0][0], self.taken[-1][0]
        self.taken.clear()
        return first, last

    def read_again_after_first(self) -> tuple[int, int]:
        """(first line, last line) of a record that failed; its lines after the first will be read again."""
        failed = self.taken[1:]
        span = self.next_record()
        self._again.extendleft(reversed(failed))
        return span


def _csv_rows(lines: _Lines, delimiter: str) -> Iterator[tuple[int, list[str]] | BadLine]:
    """(line, fields) of each record, or the BadLine of one the reader cannot parse; blank lines are skipped."""
    # strict: a quote left open runs to the end of the file (or to a quote out of place), which is an error.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if lines.held:  # a record still being written: read it whole next time
                return
            first, last = lines.read_again_after_first()
            if "unexpected end of data" in str(exc):
                yield BadLine(first, Reason(noop("a quote opened here is never closed")))
            elif last > first:
                yield BadLine(first, Reason(noop("a quote opened here runs on to line %(line)s, where the CSV is "
                                                 "unreadable (%(error)s)"), line=last, error=str(exc)))
            else:
                yield BadLine(first, Reason(noop("unreadable CSV (%(error)s)"), error=str(exc)))
            continue
        first, _last = lines.next_record()
        if fields:
            yield first, fields


def _csv_posts(raw: Any, skip: int, delimiter: str, encoding: str = "utf-8-sig", *,
               hold_unfinished: bool = False) -> Iterator[Post | BadLine]:
    csv.field_size_limit(16 * 1024 * 1024)  # a huge post is refused by the ingest check, with its reason
    # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which is not part of the first name.
    text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape" if encoding != "utf-16" else "replace",
                            newline="")
    lines = _Lines(text, hold_unfinished)
    if delimiter == ",":
        first = lines.peek()
        if "," not in first:  # "text;id": a spreadsheet's CSV where the comma is the decimal mark
            delimiter = next((mark for mark in (";", "\t") if mark in first), ",")
    rows = _csv_rows(lines, delimiter)
    header = next(rows, None)
    if header is None:
        return
    if isinstance(header, BadLine):
        if skip < 1:  # the one record of such a file
            yield BadLine(header.line, Reason(noop("the header line is unreadable, so the file is not read: "
                                                    "%(reason)s"), reason=header.reason))
        return
    names = [name.strip().lower() for name in header[1]]
    if "text" not in names:  # said once for the file, not for each of its lines
        if skip < 1:
            shown = ", ".join(repr(name) for name in names[:12]) + (" ..." if len(names) > 12 else "")
            yield BadLine(header[0], Reason(noop("the header line names no text column, so the file is not read "
                                                 "(it names %(names)s); the columns are text, id, author, "
                                                 "created_at, url, platform"), names=shown))
        return
    count = 0
    for row in rows:
        count += 1
        if count <= skip:
            continue
        if isinstance(row, BadLine):
            yield row
            continue
        number, fields = row
        if len(fields) > len(names):
            yield BadLine(number, Reason(noop("more fields than the header names")))
        elif any("\udc80" <= ch <= "\udcff" for value in fields for ch in value):
            yield BadLine(number, Reason(noop("not UTF-8 text")))
        else:  # a short record leaves its last columns empty (None), as a missing field
            yield _post(dict(zip(names, fields, strict=False)) | dict.fromkeys(names[len(fields):]), number)


def _post(record: dict[str, Any], number: int) -> Post | BadLine:
    if "text" not in record:
        return BadLine(number, Reason(noop("no text field")))
    created = record.get("created_at")
    created_at = None
    if created not in (None, ""):
        created_at = _moment(created)
        shown = repr(created[:40]) if isinstance(created, str) else json.dumps(created)[:40]
        if created_at is None:
            return BadLine(number, Reason(noop("created_at %(value)s is not a date and time"), value=shown))
        if _is_seconds(created):  # say which day they are
            shown += f" ({created_at:%Y-%m-%d %H:%M} UTC)"
        if created_at < EARLIEST_POST:
            return BadLine(number, Reason(noop("created_at %(value)s is before 2006-03-21, the day of the first tweet"),
                                          value=shown))
        if created_at > datetime.now(UTC) + FUTURE_MARGIN:
            return BadLine(number, Reason(noop("created_at %(value)s is more than a day in the future"), value=shown))
    platform = str(record.get("platform") or FILE_PLATFORM)
    author = str(record.get("author") or "")
    text = record.get("text")
    external_id = record.get("id") or record.get("external_id") or content_id(platform, author, created_at, text)
    return Post(
        text=text,
        platform=platform,
        external_id=str(external_id),
        author=author,
        created_at=created_at,
        url=str(record.get("url") or ""),
        position=number,
    )


def _moment(value: Any) -> datetime | None:
    """The aware time a ``created_at`` value names, or None (``true`` is neither a time nor seconds)."""
    if _is_seconds(value):
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


def _is_seconds(value: Any) -> bool:
    """Whether a ``created_at`` value is Unix seconds (a number, or digits in a CSV cell)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.replace(".", "", 1).isdigit())
