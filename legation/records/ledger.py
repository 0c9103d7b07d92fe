"""Appending to and verifying the ledger."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from legation.records.models import GENESIS_HASH, Record

# Any constant works: it names the one PostgreSQL advisory lock that serialises appends.
_LEDGER_LOCK_ID = 0x4C4547  # "LEG"


def canonical_json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_digest(
    *,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    unit_id: int | None,
    unit_path: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: str,
) -> str:
    """SHA-256 over the previous hash and every field of the record, in a fixed order."""
    body = canonical_json(
        {
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor_label,
            "unit_id": unit_id,
            "unit_path": unit_path,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "payload": payload,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _digest_of(record: Record) -> str:
    return record_digest(
        prev_hash=record.prev_hash,
        at=record.at,
        actor_id=record.actor_id,
        actor_label=record.actor_label,
        unit_id=record.unit_id,
        unit_path=record.unit_path,
        action=record.action,
        object_type=record.object_type,
        object_id=record.object_id,
        payload=record.payload,
    )


def append(
    actor: Any,
    action: str,
    *,
    obj: Model | None = None,
    unit: Any = None,
    payload: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> Record:
    """Append one record; call it inside the service's transaction so the change and its record commit together."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LEDGER_LOCK_ID])
        last = Record.objects.order_by("-id").values_list("hash", flat=True).first()
        prev_hash = last or GENESIS_HASH
        if obj is not None:
            object_type = object_type or obj._meta.label_lower
            object_id = object_id or str(obj.pk)
        authenticated = actor is not None and getattr(actor, "is_authenticated", False)
        fields: dict[str, Any] = {
            "prev_hash": prev_hash,
            "at": datetime.now(UTC),
            "actor_id": actor.pk if authenticated else None,
            "actor_label": (actor.get_username() if authenticated else (str(actor) if actor else "system")),
            "unit_id": unit.pk if unit is not None else None,
            "unit_path": unit.path if unit is not None else "",
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "payload": canonical_json(payload or {}),
        }
        record = Record(unit_label=str(unit) if unit is not None else "", hash=record_digest(**fields), **fields)
        record.save(force_insert=True)
        return record


@dataclass(frozen=True)
class Broken:
    """The first record at which the chain does not hold."""

    record_id: int
    reason: str


def iter_chain() -> Iterator[Record]:
    yield from Record.objects.order_by("id").iterator(chunk_size=2000)


def verify() -> tuple[int, Broken | None]:
    """Walk the whole chain; return how many records were checked and the first broken one, if any."""
    expected_prev = GENESIS_HASH
    count = 0
    for record in iter_chain():
        count += 1
        if record.prev_hash != expected_prev:
            return count, Broken(record.pk, "does not follow the record before it (a record was removed or inserted)")
        if _digest_of(record) != record.hash:
            return count, Broken(record.pk, "its content does not match its hash (the record was altered)")
        expected_prev = record.hash
    return count, None
