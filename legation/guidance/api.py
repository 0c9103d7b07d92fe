"""API endpoints for guidance rules and the check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from legation.guidance import services
from legation.guidance.engine import DraftText, PostDraft, TargetAccount
from legation.guidance.explain import explained_all
from legation.guidance.models import GuidanceRule
from legation.network.models import Unit
from legation.network.permissions import Action, may, require

router = Router(tags=["guidance"])


class RuleOut(Schema):
    id: int
    unit_id: int
    unit: str
    kind: str
    name: str
    config: dict[str, Any]
    severity: str
    clearance_role: str
    clearance_unit_id: int | None
    active: bool
    inherited: bool = False  # defined above the unit asked about
    editable: bool = False  # the caller may change it
    created_at: datetime


class RuleIn(Schema):
    unit_id: int
    kind: str
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any]
    severity: str = ""
    clearance_role: str = ""
    clearance_unit_id: int | None = None


class RulePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    severity: str | None = None
    clearance_role: str | None = None
    clearance_unit_id: int | None = None


class VariantIn(Schema):
    text: str = Field(max_length=20000)
    language: str = ""


class AccountIn(Schema):
    platform: str
    handle: str
    account_id: int | None = None
    allowed_languages: list[str] = []


class CheckIn(Schema):
    unit_id: int
    text: str = Field(max_length=20000)
    language: str = ""
    variants: list[VariantIn] = Field(default_factory=list, max_length=50)
    links: list[str] = Field(default_factory=list, max_length=100)
    accounts: list[AccountIn] = Field(default_factory=list, max_length=500)
    scheduled_at: datetime | None = None


class FindingOut(Schema):
    rule_id: int | None
    rule_name: str
    rule_kind: str
    unit_id: int | None
    unit_name: str
    severity: str
    explanation: str
    location: str
    text_index: int | None
    start: int | None
    end: int | None
    matched: str
    clearance_role: str | None
    clearance_unit_id: int | None
    clearance_unit_name: str
    crisis_id: int | None


class ClearanceOut(Schema):
    role: str
    unit_id: int | None
    unit_name: str


class CheckOut(Schema):
    blocked: bool
    clearances: list[ClearanceOut]
    warnings: int
    findings: list[FindingOut]


def _unit(request: HttpRequest, unit_id: int, action: Action = Action.UNIT_VIEW) -> Unit:
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, action, unit)
    return unit


def _rule(request: HttpRequest, rule_id: int) -> GuidanceRule:
    rule = get_object_or_404(GuidanceRule.objects.select_related("unit", "clearance_unit"), pk=rule_id)
    require(request.user, Action.UNIT_VIEW, rule.unit)
    return rule


def _out(request: HttpRequest, rule: GuidanceRule, unit: Unit | None = None) -> dict[str, Any]:
    return {
        "id": rule.pk, "unit_id": rule.unit_id, "unit": rule.unit.name, "kind": rule.kind, "name": rule.name,
        "config": rule.config, "severity": rule.severity, "clearance_role": rule.clearance_role,
        "clearance_unit_id": rule.clearance_unit_id, "active": rule.active, "created_at": rule.created_at,
        "inherited": unit is not None and rule.unit_id != unit.pk,
        "editable": may(request.user, Action.GUIDANCE_MANAGE, rule.unit),  # type: ignore[arg-type]
    }


@router.get("/rules", response=list[RuleOut])
def list_rules(request: HttpRequest, unit_id: int, include_inactive: bool = False) -> list[dict[str, Any]]:
    """The rules that apply on a unit: its own and those inherited from the units above it."""
    unit = _unit(request, unit_id)
    return [_out(request, r, unit) for r in services.applicable_rules(unit, include_inactive=include_inactive)]


@router.get("/rules/{rule_id}", response=RuleOut)
def get_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return _out(request, _rule(request, rule_id))


@router.post("/rules", response={201: RuleOut})
def create_rule(request: HttpRequest, payload: RuleIn) -> Status:
    unit = _unit(request, payload.unit_id)
    clearance_unit = _unit(request, payload.clearance_unit_id) if payload.clearance_unit_id else None
    rule = services.create_rule(
        request.user, unit=unit, kind=payload.kind, name=payload.name, config=payload.config,  # type: ignore[arg-type]
        severity=payload.severity, clearance_role=payload.clearance_role, clearance_unit=clearance_unit,
    )
    return Status(201, _out(request, rule))


@router.patch("/rules/{rule_id}", response=RuleOut)
def update_rule(request: HttpRequest, rule_id: int, payload: RulePatch) -> dict[str, Any]:
    rule = _rule(request, rule_id)
    changes = payload.dict(exclude_unset=True)
    if "clearance_unit_id" in changes:
        unit_id = changes.pop("clearance_unit_id")
        changes["clearance_unit"] = _unit(request, unit_id) if unit_id else None
    rule = services.update_rule(request.user, rule, **changes)  # type: ignore[arg-type]
    return _out(request, rule)


@router.post("/rules/{rule_id}/deactivate", response=RuleOut)
def deactivate_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return _out(request, services.deactivate_rule(request.user, _rule(request, rule_id)))  # type: ignore[arg-type]


@router.post("/rules/{rule_id}/reactivate", response=RuleOut)
def reactivate_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return _out(request, services.reactivate_rule(request.user, _rule(request, rule_id)))  # type: ignore[arg-type]


@router.post("/check", response=CheckOut)
def check(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    """Run the guidance that applies on a unit over a text, its variants, links and target accounts."""
    from legation.guidance.engine import verdict

    unit = _unit(request, payload.unit_id)
    draft = PostDraft(
        source=DraftText(payload.text, payload.language),
        variants=tuple(DraftText(v.text, v.language) for v in payload.variants),
        links=tuple(payload.links),
        accounts=tuple(TargetAccount(a.platform, a.handle, a.account_id, tuple(a.allowed_languages))
                       for a in payload.accounts),
        scheduled_at=payload.scheduled_at,
    )
    findings = explained_all(services.check_for(request.user, unit, draft))  # worded in the reader's language
    result = verdict(findings)
    return {"blocked": result.blocked, "warnings": result.warnings,
            "clearances": [c.__dict__ for c in result.clearances],
            "findings": [f.as_dict() for f in findings]}
