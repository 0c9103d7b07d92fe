"""Every write to guidance goes through here; ``check_post`` is the one call publishing makes.

Rules defined on a unit apply to it and everything below it. A lower unit may add rules but never edit or
deactivate an inherited one: only admins of the defining unit (or above it) may.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

import pydantic
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from legation.guidance.engine import CheckContext, Finding, PostDraft, RuleSpec, check
from legation.guidance.kinds import DEFAULT_SEVERITY, ConfigRefusal, RuleKind, Severity, parse_config
from legation.guidance.models import GuidanceRule
from legation.network.models import Person, RoleName, Unit
from legation.network.permissions import Action, require
from legation.records import ledger

log = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "config", "severity", "clearance_role", "clearance_unit")


def config_errors(exc: pydantic.ValidationError) -> ValidationError:
    """Pydantic's errors as a Django ValidationError keyed "config.<field>", so forms and the API name the field."""
    by_field: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"])
        key = f"config.{loc}" if loc else "config"
        refusal = (error.get("ctx") or {}).get("error")
        if isinstance(refusal, ConfigRefusal):  # our own reasons are translated; pydantic's stay as it words them
            message = refusal.message.render(_)
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        by_field.setdefault(key, []).append(f"{loc or 'config'}: {message}")
    return ValidationError(by_field)


def _validated(kind: str, config: Any) -> dict[str, Any]:
    if kind not in RuleKind.__members__.values():
        raise ValidationError({"kind": _("unknown kind '%(kind)s'; one of %(kinds)s")
                               % {"kind": kind, "kinds": ", ".join(RuleKind)}})
    if not isinstance(config, dict):
        raise ValidationError({"config": _("must be an object")})
    try:
        parsed = parse_config(kind, config)
    except pydantic.ValidationError as exc:
        raise config_errors(exc) from exc
    return parsed.model_dump(mode="json")


def _settle_clearance(rule: GuidanceRule) -> None:
    """Severity known, a clearing role and unit where one is needed; the clearing unit is the rule's or above it."""
    if rule.severity not in Severity.__members__.values():
        raise ValidationError({"severity": _("one of %(choices)s") % {"choices": ", ".join(Severity)}})
    if rule.severity != Severity.NEEDS_CLEARANCE:
        rule.clearance_role, rule.clearance_unit = "", None
        return
    rule.clearance_role = rule.clearance_role or RoleName.APPROVER
    if rule.clearance_role not in RoleName.values:
        raise ValidationError({"clearance_role": _("one of %(choices)s") % {"choices": ", ".join(RoleName.values)}})
    rule.clearance_unit = rule.clearance_unit or rule.unit
    if not rule.unit.is_within(rule.clearance_unit):
        raise ValidationError(
            {"clearance_unit": _("clearance can be asked only of the rule's unit or a unit above it")})


def _payload(rule: GuidanceRule) -> dict[str, Any]:
    return {"name": rule.name, "kind": rule.kind, "config": rule.config, "severity": rule.severity,
            "clearance_role": rule.clearance_role, "clearance_unit": rule.clearance_unit_id, "active": rule.active}


@transaction.atomic
def create_rule(actor: Person, *, unit: Unit, kind: str, name: str, config: dict[str, Any], severity: str = "",
                clearance_role: str = "", clearance_unit: Unit | None = None) -> GuidanceRule:
    """Add a rule on ``unit`` (it applies there and below); needs admin on the unit."""
    require(actor, Action.GUIDANCE_MANAGE, unit)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("give the rule a name")})
    rule = GuidanceRule(unit=unit, kind=kind, name=name[:200], config=_validated(kind, config),
                        severity=severity or DEFAULT_SEVERITY[RuleKind(kind)], clearance_role=clearance_role,
                        clearance_unit=clearance_unit, created_by=actor)
    _settle_clearance(rule)
    rule.save()
    ledger.append(actor, "guidance.rule_created", obj=rule, unit=unit, payload=_payload(rule))
    return rule


@transaction.atomic
def update_rule(actor: Person, rule: GuidanceRule, **changes: Any) -> GuidanceRule:
    """Change a rule's name, config, severity or clearance; only admins of the unit that defines it."""
    require(actor, Action.GUIDANCE_MANAGE, rule.unit)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("cannot be changed here") for name in sorted(unknown)})
    before = _payload(rule)
    if "config" in changes:
        changes["config"] = _validated(rule.kind, changes["config"])
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()[:200]
        if not changes["name"]:
            raise ValidationError({"name": _("give the rule a name")})
    for field, value in changes.items():
        setattr(rule, field, value)
    _settle_clearance(rule)
    rule.save()
    ledger.append(actor, "guidance.rule_updated", obj=rule, unit=rule.unit,
                  payload={"before": before, "after": _payload(rule)})
    return rule


@transaction.atomic
def deactivate_rule(actor: Person, rule: GuidanceRule) -> GuidanceRule:
    """Stop applying a rule; only admins of the unit that defines it (a unit below cannot opt out)."""
    require(actor, Action.GUIDANCE_MANAGE, rule.unit)
    if not rule.active:
        return rule
    rule.active = False
    rule.save(update_fields=["active", "updated_at"])
    ledger.append(actor, "guidance.rule_deactivated", obj=rule, unit=rule.unit, payload={"name": rule.name})
    return rule


@transaction.atomic
def reactivate_rule(actor: Person, rule: GuidanceRule) -> GuidanceRule:
    require(actor, Action.GUIDANCE_MANAGE, rule.unit)
    if rule.active:
        return rule
    rule.active = True
    rule.save(update_fields=["active", "updated_at"])
    ledger.append(actor, "guidance.rule_reactivated", obj=rule, unit=rule.unit, payload={"name": rule.name})
    return rule


def may_edit(person: Any, rule: GuidanceRule) -> bool:
    from legation.network.permissions import may

    return may(person, Action.GUIDANCE_MANAGE, rule.unit)


# Reading and checking


def applicable_rules(unit: Unit, *, include_inactive: bool = False) -> list[GuidanceRule]:
    """The rules of this unit and of every unit above it, top of the tree first."""
    rules = GuidanceRule.objects.filter(unit_id__in=unit.ancestor_ids()).select_related("unit", "clearance_unit")
    if not include_inactive:
        rules = rules.filter(active=True)
    return list(rules.order_by("unit__path", "kind", "name", "id"))


def spec_of(rule: GuidanceRule) -> RuleSpec:
    return RuleSpec(
        id=rule.pk, name=rule.name, kind=RuleKind(rule.kind), config=parse_config(rule.kind, rule.config),
        severity=Severity(rule.severity), unit_id=rule.unit_id, unit_name=rule.unit.name,
        clearance_role=rule.clearance_role, clearance_unit_id=rule.clearance_unit_id,
        clearance_unit_name=rule.clearance_unit.name if rule.clearance_unit else "",
    )


def rules_for(unit: Unit) -> list[RuleSpec]:
    """The active rules that apply on this unit (its own and its ancestors'), ready for the engine."""
    specs = []
    for rule in applicable_rules(unit):
        try:
            specs.append(spec_of(rule))
        except (pydantic.ValidationError, ValueError):
            # A stored config that no longer validates must not stop publishing everywhere; it is logged loudly.
            log.exception("guidance rule %s on unit %s has an invalid config and is skipped", rule.pk, rule.unit_id)
    return specs


def check_post(unit: Unit, draft: PostDraft, now: datetime | None = None,
               context: CheckContext | None = None) -> list[Finding]:
    """Check a draft against every rule that applies on ``unit``: the one function publishing calls.

    The draft is read in the unit's time zone, and phone numbers in its country, unless the context says
    otherwise; crises come from the context (``CheckContext.crises``).
    """
    context = context or CheckContext()
    if not context.country and unit.country:
        context = dataclasses.replace(context, country=unit.country)
    draft = dataclasses.replace(draft, time_zone=unit.time_zone or draft.time_zone)
    return check(draft, rules_for(unit), now or timezone.now(), context)


def check_for(actor: Any, unit: Unit, draft: PostDraft, now: datetime | None = None,
              context: CheckContext | None = None) -> list[Finding]:
    """``check_post`` for a person trying a text (the "try it" box, the API): they must see the unit."""
    require(actor, Action.UNIT_VIEW, unit)
    return check_post(unit, draft, now, context)


__all__ = [
    "PermissionDenied", "applicable_rules", "check_for", "check_post", "create_rule", "deactivate_rule",
    "reactivate_rule", "rules_for", "update_rule",
]
