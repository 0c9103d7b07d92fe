"""Streaming a file of posts into the sandbox at a chosen rate (demo and load tests)."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError

from legation.sandbox import services
from legation.sandbox.models import Member


@dataclass
class ReplayReport:
    posted: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str] | None, str]]:
    """(line number, row or None, problem) for each line of a CSV (header with ``text``) or JSONL file."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, None, f"not JSON ({exc.msg})"
                    continue
                if not isinstance(row, dict):
                    yield number, None, "not a JSON object"
                    continue
                yield number, {k: str(v) for k, v in row.items() if v is not None}, ""
        return
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            yield 1, None, "the CSV header has no 'text' column"
            return
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k and v is not None}, ""


def replay(path: Path, rate: float, default_author: str = "@public", limit: int | None = None,
           sleep: object = time.sleep) -> ReplayReport:
    """Post each row as its author (column ``author`` or ``handle``), ``rate`` posts per second (0 = no wait)."""
    report = ReplayReport()
    members: dict[str, Member] = {}
    interval = 1.0 / rate if rate > 0 else 0.0
    started = time.monotonic()
    for number, row, problem in read_rows(path):
        if limit is not None and report.posted >= limit:
            break
        if row is None:
            report.bad_lines.append((number, problem))
            continue
        text = (row.get("text") or "").strip()
        author = (row.get("author") or row.get("handle") or default_author).strip()
        try:
            member = members.get(author) or services.join(author)
            members[author] = member
            services.post(member, text)
        except ValidationError as exc:
            report.bad_lines.append((number, "; ".join(exc.messages)))
            continue
        report.posted += 1
        if interval:
            delay = started + report.posted * interval - time.monotonic()
            if delay > 0:
                sleep(delay)  # type: ignore[operator]
    return report
