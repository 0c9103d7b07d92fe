"""Demo guidance for the Ministry of Foreign Affairs of Veridia, seeded through the services (idempotent).

Norland is Veridia's fictional neighbour: naming it needs an approver at headquarters.
"""

from __future__ import annotations

from typing import Any

from legation.guidance import services
from legation.guidance.models import GuidanceRule
from legation.network.models import Person, Unit

# (unit name or "hq", who defines it, name, kind, config, extra)
RULES: list[tuple[str, str, str, str, dict[str, Any], dict[str, Any]]] = [
    ("hq", "hq-admin", "Language we never use", "blocked_terms", {
        "terms": ["puppet regime", "terrorist state", "régime fantoche", "État terroriste", "نظام دمية",
                  "دولة إرهابية", "رژیم دست‌نشانده", "марионеточный режим"],
    }, {}),
    ("hq", "hq-admin", "Naming Norland", "sensitive_topic", {
        "terms": ["Norland*", "Norlande*", "نورلاند", "نورلند", "Норланд*", "诺兰"],
    }, {"clearance_role": "approver"}),
    ("hq", "hq-admin", "Personal data", "personal_data", {"allow": ["@veridia.example"]}, {}),
    ("hq", "hq-admin", "Classification markings", "classification", {
        "terms": ["RESTRICTED", "VERIDIA CONFIDENTIAL", "CONFIDENTIEL", "DIFFUSION RESTREINTE", "محرمانه"],
        "patterns": [r"(?-i:\bTOP SECRET\b|\bSECRET\b)", r"\bسري(?:\s+للغاية)?\b", r"\bСЕКРЕТНО\b"],
    }, {}),
    ("hq", "hq-admin", "Disinformation sites", "link_domains", {
        "mode": "refuse", "domains": ["norland-truth.example", "veridia-leaks.example"],
    }, {}),
    ("Middle East and North Africa", "mena-admin", "Texts in their language's script", "languages",
     {"check_script": True}, {}),
    ("Embassy in Paris", "paris-admin", "Quiet night in Paris", "quiet_hours", {"start": "23:00", "end": "06:30"},
     {}),
]


def seed() -> int:
    """Create the demo rules that are missing; return how many guidance rules exist."""
    ministry = Unit.objects.filter(parent__isnull=True).first()
    if ministry is None:
        return 0
    for where, username, name, kind, config, extra in RULES:
        unit = ministry if where == "hq" else Unit.objects.filter(name=where).first()
        actor = Person.objects.filter(username=username).first()
        if unit is None or actor is None or GuidanceRule.objects.filter(unit=unit, name=name).exists():
            continue
        services.create_rule(actor, unit=unit, kind=kind, name=name, config=config, **extra)
    return GuidanceRule.objects.count()
