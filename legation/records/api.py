from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from legation.network.models import Unit
from legation.network.permissions import Action, require
from legation.records.queries import filter_records, visible_records

router = Router(tags=["ledger"])


class RecordOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor_label: str
    unit_id: int | None
    unit_label: str
    action: str
    object_type: str
    object_id: str
    payload: str
    prev_hash: str
    hash: str


class LedgerQuery(Schema):
    unit_id: int | None = None
    person_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 100
    offset: int = 0


@router.get("", response=list[RecordOut])
def list_records(request: HttpRequest, filters: Query[LedgerQuery]) -> Any:
    unit_path = None
    if filters.unit_id is not None:
        unit = get_object_or_404(Unit, pk=filters.unit_id)
        require(request.user, Action.LEDGER_VIEW, unit)
        unit_path = unit.path
    records = filter_records(visible_records(request.user), unit_path=unit_path, actor_id=filters.person_id,
                             action=filters.action, since=filters.since, until=filters.until)
    limit = max(1, min(filters.limit, 1000))
    return records.order_by("-id")[filters.offset: filters.offset + limit]
