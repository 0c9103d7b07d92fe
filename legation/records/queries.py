"""Which ledger records a person may read, and the filters of the ledger page and API."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from legation.network.permissions import Action, path_filter
from legation.records.models import Record


def visible_records(person: Any) -> QuerySet[Record]:
    """Records of units the person may view, plus the person's own records that belong to no unit."""
    query = path_filter(person, Action.LEDGER_VIEW, "unit_path")
    if query is None:
        return Record.objects.all()
    own = Q(unit_path="", actor_id=person.pk) if person.is_authenticated else Q(pk__in=[])
    return Record.objects.filter((query & ~Q(unit_path="")) | own)


def filter_records(
    records: QuerySet[Record],
    *,
    unit_path: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Record]:
    if unit_path:
        records = records.filter(unit_path__startswith=unit_path)
    if actor_id:
        records = records.filter(actor_id=actor_id)
    if action:
        records = records.filter(action__startswith=action)
    if since:
        records = records.filter(at__date__gte=since)
    if until:
        records = records.filter(at__date__lte=until)
    return records
