"""The demo ministry comes with guidance that works: Norland needs headquarters, markings block."""

from __future__ import annotations

from datetime import UTC, datetime

from legation.guidance import services
from legation.guidance.engine import DraftText, PostDraft, verdict
from legation.guidance.models import GuidanceRule
from legation.network.models import Unit


def test_demo_guidance_is_seeded_once_and_applies_down_the_tree(db):
    from legation import demo

    demo.seed()
    count = GuidanceRule.objects.count()
    demo.seed()
    assert GuidanceRule.objects.count() == count >= 7
    cairo = Unit.objects.get(name="Embassy in Cairo")
    now = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    result = verdict(services.check_post(cairo, PostDraft(DraftText("التقى السفير بنظيره من نورلاند", "ar")), now))
    assert not result.blocked and [c.unit_id for c in result.clearances] == [Unit.objects.get(parent=None).pk]
    marked = services.check_post(cairo, PostDraft(DraftText("وثيقة سري للغاية", "ar")), now)
    assert verdict(marked).blocked
    paris = Unit.objects.get(name="Embassy in Paris")
    assert "Quiet night in Paris" in [r.name for r in services.rules_for(paris)]
    assert "Quiet night in Paris" not in [r.name for r in services.rules_for(cairo)]
