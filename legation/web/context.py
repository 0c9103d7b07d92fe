from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from legation.network.models import Unit
from legation.network.permissions import Action, units_where


def current_unit(request: HttpRequest) -> Unit | None:
    """The unit the person is working in (chosen with the unit switcher), if they may still view it."""
    if not request.user.is_authenticated:
        return None
    cached = getattr(request, "_legation_unit", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return,return-value]
    visible = units_where(request.user, Action.UNIT_VIEW)
    unit_id = request.session.get("unit_id")
    unit = visible.filter(pk=unit_id).first() if unit_id else None
    if unit is None:
        unit = visible.order_by("path").first()
    request._legation_unit = unit  # type: ignore[attr-defined]
    return unit


def shell(request: HttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {}
    return {
        "current_unit": current_unit(request),
        "switchable_units": units_where(request.user, Action.UNIT_VIEW).order_by("path"),
    }
