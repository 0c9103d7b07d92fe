"""The guidance check of a post, as publishing sees it: findings with the rule that raised each and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from legation.network.models import OfficialAccount, Unit


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # "block", "needs_clearance" or "warn"
    why: str  # in English, as the engine wrote it; explain() gives it in the reader's language
    rule_id: int | None = None
    defined_at: str = ""
    clearance_role: str = ""
    clearance_unit_id: int | None = None
    match: str = ""
    where: str = ""
    because: tuple[dict[str, Any], ...] = ()  # the engine's Message pieces of ``why``, kept to translate when shown

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain(finding: Finding | dict[str, Any]) -> str:
    """Why a finding was raised, in the active language (a stored finding from before the pieces were kept: as
    written)."""
    from legation.guidance.explain import explanation_from_data

    data = finding.as_dict() if isinstance(finding, Finding) else finding
    return explanation_from_data(data.get("because") or (), str(data.get("why", "")))


def clearance_reason(reason: str, findings: Sequence[dict[str, Any]]) -> str:
    """Why a clearance is asked, in the active language: the finding it came from (kept on the post), or one of
    the reasons publishing gives itself ("drafted by an editor")."""
    from django.utils.translation import gettext

    for finding in findings:
        if finding.get("why") == reason:
            return explain(finding)
    return gettext(reason) if reason else reason


def shown(findings: Sequence[Finding | dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings as a page or the API shows them: ``why`` in the reader's language."""
    return [{**(f.as_dict() if isinstance(f, Finding) else f), "why": explain(f)} for f in findings]


def _check(unit: Unit, texts: dict[str, str], source_language: str, links: Sequence[str],
           targets: Sequence[tuple[OfficialAccount, str]], scheduled_for: datetime | None,
           now: datetime) -> list[Finding]:
    from legation.guidance import engine
    from legation.guidance.services import rules_for

    ordered = sorted(texts.items(), key=lambda item: item[0] != source_language)
    if not ordered:
        return []
    account_ids = {lang: tuple(a.pk for a, target_lang in targets if target_lang == lang) for lang in texts}
    drafts = [engine.DraftText(body=text, language=lang, account_ids=account_ids[lang] or None)
              for lang, text in ordered]
    draft = engine.PostDraft(
        source=drafts[0], variants=tuple(drafts[1:]), links=tuple(link for link in links if link),
        accounts=tuple(engine.TargetAccount(platform=a.platform, handle=a.handle, account_id=a.pk,
                                            allowed_languages=tuple(a.config.get("languages", ())))
                       for a, _lang in targets),
        scheduled_at=scheduled_for, time_zone=unit.time_zone,
    )
    # Crises are declared in a later capability; until then no crisis overrides apply.
    found = engine.check(draft, rules_for(unit), now, engine.CheckContext(country=unit.country))
    return [
        Finding(rule=f.rule_name, severity=str(f.severity.value if hasattr(f.severity, "value") else f.severity),
                why=f.explanation, rule_id=f.rule_id, defined_at=f.unit_name, clearance_role=f.clearance_role or "",
                clearance_unit_id=f.clearance_unit_id, match=f.matched, where=f.location,
                because=tuple(message.as_data() for message in f.because))
        for f in found
    ]


def run(post: Any, now: datetime) -> list[Finding]:
    """Check every variant, link and target of the post against the guidance that applies to its unit."""
    source = post.source_variant()
    texts = {v.language: v.text for v in post.variants.all()}
    targets = [(t.account, t.language) for t in post.targets.select_related("account")]
    return _check(post.unit, texts, source.language if source else "", [post.link], targets, post.scheduled_for,
                  now)


def preview(unit: Unit, texts: dict[str, str], links: Sequence[str], targets: Sequence[tuple[OfficialAccount, Any]],
            scheduled_for: datetime | None, now: datetime) -> list[Finding]:
    """The same check on what the composer holds, before anything is saved."""
    source_language = next(iter(texts), "")
    return _check(unit, texts, source_language, links, [(a, str(lang)) for a, lang in targets], scheduled_for, now)
