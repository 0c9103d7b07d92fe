"""Exporting the ledger as JSON lines or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from legation.records.models import Record

COLUMNS = ["id", "at", "actor_id", "actor_label", "unit_id", "unit_label", "action", "object_type", "object_id",
           "payload", "prev_hash", "hash"]


def rows(records: Iterable[Record]) -> Iterator[dict[str, Any]]:
    for record in records:
        yield {
            "id": record.pk,
            "at": record.at.isoformat(),
            "actor_id": record.actor_id,
            "actor_label": record.actor_label,
            "unit_id": record.unit_id,
            "unit_label": record.unit_label,
            "action": record.action,
            "object_type": record.object_type,
            "object_id": record.object_id,
            "payload": record.payload,
            "prev_hash": record.prev_hash,
            "hash": record.hash,
        }


def select(since: datetime | None = None) -> Iterator[Record]:
    queryset = Record.objects.order_by("id")
    if since is not None:
        queryset = queryset.filter(at__gte=since)
    return queryset.iterator(chunk_size=2000)


def write(records: Iterable[Record], out: IO[str], fmt: str) -> int:
    """Write records to ``out`` as ``jsonl`` or ``csv``; return how many were written."""
    count = 0
    if fmt == "jsonl":
        for row in rows(records):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows(records):
            writer.writerow(row)
            count += 1
    else:
        raise ValueError(f"unknown format '{fmt}': use jsonl or csv")
    return count
