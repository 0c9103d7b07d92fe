"""The Guidance page: the rules that apply on the current unit, a form per kind, and a "try it" box."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from legation.guidance import services
from legation.guidance.engine import DraftText, Finding, PostDraft, verdict
from legation.guidance.explain import explained_all
from legation.guidance.kinds import DEFAULT_SEVERITY, RuleKind
from legation.guidance.models import KIND_CHOICES, SEVERITY_CHOICES, GuidanceRule
from legation.network.models import RoleName, Unit
from legation.network.permissions import Action, may, require
from legation.web.context import current_unit
from legation.web.params import posted_id


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Promise
    widget: str  # "lines", "text", "check", "select", "time", "weekdays"
    help: Promise | str = ""
    choices: tuple[tuple[str, Promise], ...] = ()
    default: str = ""


_TERMS = FieldSpec("terms", gettext_lazy("Terms, one per line"), "lines",
                   gettext_lazy('A term ending in * matches any word beginning with it, e.g. "explos*".'))
_WHOLE = FieldSpec("whole_words", gettext_lazy("Whole words only"), "check", default="on")

KIND_FIELDS: dict[RuleKind, tuple[FieldSpec, ...]] = {
    RuleKind.BLOCKED_TERMS: (_TERMS, _WHOLE),
    RuleKind.SENSITIVE_TOPIC: (_TERMS, _WHOLE),
    RuleKind.PERSONAL_DATA: (
        FieldSpec("phones", gettext_lazy("Phone numbers"), "check", default="on"),
        FieldSpec("emails", gettext_lazy("E-mail addresses"), "check", default="on"),
        FieldSpec("passports", gettext_lazy("Passport-like numbers"), "check", default="on"),
        FieldSpec("allow", gettext_lazy("Allowed anyway, one per line"), "lines",
                  gettext_lazy("The mission's own published numbers and addresses; @example.org allows a domain.")),
    ),
    RuleKind.CLASSIFICATION: (
        FieldSpec("terms", gettext_lazy("Markings, one per line"), "lines"),
        FieldSpec("patterns", gettext_lazy("Patterns (regular expressions), one per line"), "lines"),
    ),
    RuleKind.LINK_DOMAINS: (
        FieldSpec("mode", gettext_lazy("Mode"), "select", choices=(
            ("refuse", gettext_lazy("Refuse these domains")), ("allow", gettext_lazy("Allow only these domains")))),
        FieldSpec("domains", gettext_lazy("Domains, one per line"), "lines",
                  gettext_lazy("Subdomains are included.")),
    ),
    RuleKind.LANGUAGES: (
        FieldSpec("languages", gettext_lazy("Languages allowed on every account, one per line"), "lines"),
        FieldSpec("accounts", gettext_lazy("Per account, one per line"), "lines",
                  gettext_lazy("platform:handle = fr, en")),
        FieldSpec("check_script", gettext_lazy("Check that each text is written in its language's script"), "check",
                  default="on"),
    ),
    RuleKind.QUIET_HOURS: (
        FieldSpec("start", gettext_lazy("From"), "time", default="22:00"),
        FieldSpec("end", gettext_lazy("Until"), "time", default="07:00"),
        FieldSpec("time_zone", gettext_lazy("Time zone (empty: the mission's)"), "text"),
    ),
    RuleKind.EMBARGO: (
        FieldSpec("until", gettext_lazy("Embargoed until"), "text",
                  gettext_lazy("With its offset, e.g. 2025-09-01T09:00:00+02:00")),
        FieldSpec("terms", gettext_lazy("Only posts naming, one per line (empty: every post)"), "lines"),
        FieldSpec("note", gettext_lazy("Note"), "text"),
    ),
}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def config_from_post(kind: RuleKind, data: QueryDict) -> dict[str, Any]:
    """The config a kind's form describes, as the kind's pydantic model expects it (it validates)."""
    config: dict[str, Any] = {}
    for spec in KIND_FIELDS[kind]:
        raw = data.get(spec.name, "")
        if spec.widget == "check":
            config[spec.name] = raw == "on"
        elif spec.name == "accounts":
            accounts: dict[str, list[str]] = {}
            for line in _lines(raw):
                key, _sep, langs = line.partition("=")
                accounts[key.strip()] = [code.strip() for code in langs.split(",") if code.strip()]
            config["accounts"] = accounts
        elif spec.widget == "lines":
            config[spec.name] = _lines(raw)
        elif raw.strip() or spec.name not in ("time_zone", "note"):
            config[spec.name] = raw.strip()
    return config


def _kinds() -> list[dict[str, Any]]:
    return [{"value": value, "label": label, "fields": KIND_FIELDS[RuleKind(value)],
             "severity": DEFAULT_SEVERITY[RuleKind(value)].value} for value, label in KIND_CHOICES]


@login_required
def guidance(request: HttpRequest) -> HttpResponse:
    unit = current_unit(request)
    if unit is None:
        raise PermissionDenied(_("You hold no role on any unit."))
    can_manage = may(request.user, Action.GUIDANCE_MANAGE, unit)  # type: ignore[arg-type]
    errors: list[str] = []
    open_kind = ""
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        open_kind = kind
        try:
            if kind not in RuleKind.__members__.values():
                raise ValidationError({"kind": _("Choose a kind of rule.")})
            clearance_unit = None
            if request.POST.get("clearance_unit"):
                clearance_unit = get_object_or_404(Unit, pk=posted_id(request.POST["clearance_unit"]))
            rule = services.create_rule(
                request.user, unit=unit, kind=kind, name=request.POST.get("name", ""),  # type: ignore[arg-type]
                config=config_from_post(RuleKind(kind), request.POST), severity=request.POST.get("severity", ""),
                clearance_role=request.POST.get("clearance_role", ""), clearance_unit=clearance_unit,
            )
        except ValidationError as exc:
            errors = [f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
                      for field, msgs in exc.message_dict.items()] if hasattr(exc, "error_dict") else exc.messages
        else:
            messages.success(request, _("Rule %(name)s added.") % {"name": rule.name})
            return redirect("guidance:rules")
    rules = services.applicable_rules(unit, include_inactive=True)
    rows = [{"rule": r, "inherited": r.unit_id != unit.pk,
             "editable": may(request.user, Action.GUIDANCE_MANAGE, r.unit)}  # type: ignore[arg-type]
            for r in rules if r.active or r.unit_id == unit.pk]
    return render(request, "guidance/rules.html", {
        "unit": unit, "rows": rows, "can_manage": can_manage, "kinds": _kinds(), "errors": errors,
        "open_kind": open_kind, "posted": request.POST if request.method == "POST" else None,
        "severities": SEVERITY_CHOICES, "roles": RoleName.choices, "clearance_units": unit.ancestors(),
    })


@login_required
@require_POST
def set_active(request: HttpRequest, rule_id: int, active: bool) -> HttpResponse:
    rule = get_object_or_404(GuidanceRule.objects.select_related("unit"), pk=rule_id)
    require(request.user, Action.UNIT_VIEW, rule.unit)  # type: ignore[arg-type]
    if active:
        services.reactivate_rule(request.user, rule)  # type: ignore[arg-type]
        messages.success(request, _("Rule %(name)s applies again.") % {"name": rule.name})
    else:
        services.deactivate_rule(request.user, rule)  # type: ignore[arg-type]
        messages.success(request, _("Rule %(name)s no longer applies.") % {"name": rule.name})
    return redirect("guidance:rules")


def _highlight(text: str, findings: list[Finding], index: int) -> list[tuple[str, Finding | None]]:
    """The text cut into plain pieces and the pieces a finding points at."""
    spans = sorted((f.start, f.end, f) for f in findings
                   if f.text_index == index and f.start is not None and f.end is not None)
    pieces: list[tuple[str, Finding | None]] = []
    at = 0
    for start, end, finding in spans:
        if start < at:
            continue
        pieces += [(text[at:start], None), (text[start:end], finding)]
        at = end
    pieces.append((text[at:], None))
    return [(piece, f) for piece, f in pieces if piece]


@login_required
@require_POST
def try_text(request: HttpRequest) -> HttpResponse:
    """Run the guidance of the current unit on a pasted text (htmx: returns the findings fragment)."""
    unit = current_unit(request)
    if unit is None:
        raise PermissionDenied(_("You hold no role on any unit."))
    text = request.POST.get("text", "")[:20000]
    draft = PostDraft(source=DraftText(text, request.POST.get("language", "").strip()),
                      links=tuple(_lines(request.POST.get("links", ""))))
    findings = explained_all(services.check_for(request.user, unit, draft))
    context = {"findings": findings, "verdict": verdict(findings), "pieces": _highlight(text, findings, 0),
               "unit": unit}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "guidance/_findings.html", context)
    return render(request, "guidance/try.html", context)
