"""Rules inherited down the tree, who may change them, and the one call publishing makes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from legation.guidance import services
from legation.guidance.engine import CheckContext, DraftText, PostDraft, Severity, verdict
from legation.guidance.models import GuidanceRule
from legation.network import services as network
from legation.records.models import Record

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def paris_admin(tree, alice):
    return network.create_person(alice, unit=tree.paris, username="pam", role="admin", password="pam-secret-pw-12")


@pytest.fixture
def europe_rule(tree, alice):
    return services.create_rule(alice, unit=tree.europe, kind="blocked_terms", name="Europe words",
                                config={"terms": ["propaganda"]})


def draft(text: str) -> PostDraft:
    return PostDraft(DraftText(text, "en"))


def test_a_rule_at_europe_applies_in_paris_and_not_in_jakarta(tree, europe_rule):
    assert [r.name for r in services.rules_for(tree.paris)] == ["Europe words"]
    assert [r.name for r in services.rules_for(tree.europe)] == ["Europe words"]
    assert services.rules_for(tree.jakarta) == []
    assert services.rules_for(tree.ministry) == []
    [finding] = services.check_post(tree.paris, draft("Such propaganda"), NOW)
    assert finding.unit_name == "Europe" and finding.rule_id == europe_rule.pk
    assert services.check_post(tree.jakarta, draft("Such propaganda"), NOW) == []


def test_a_lower_unit_adds_rules_on_top_of_inherited_ones(tree, alice, europe_rule, paris_admin):
    services.create_rule(paris_admin, unit=tree.paris, kind="blocked_terms", name="Paris words",
                         config={"terms": ["mensonge"]})
    assert [r.name for r in services.rules_for(tree.paris)] == ["Europe words", "Paris words"]
    assert [r.name for r in services.rules_for(tree.berlin)] == ["Europe words"]


def test_paris_admin_cannot_deactivate_or_weaken_europes_rule(tree, europe_rule, paris_admin):
    with pytest.raises(PermissionDenied):
        services.deactivate_rule(paris_admin, europe_rule)
    with pytest.raises(PermissionDenied):
        services.update_rule(paris_admin, europe_rule, severity="warn")
    europe_rule.refresh_from_db()
    assert europe_rule.active and europe_rule.severity == Severity.BLOCK
    assert [r.name for r in services.rules_for(tree.paris)] == ["Europe words"]


def test_paris_admin_cannot_define_rules_for_europe(tree, paris_admin):
    with pytest.raises(PermissionDenied):
        services.create_rule(paris_admin, unit=tree.europe, kind="blocked_terms", name="x", config={"terms": ["y"]})


def test_a_publisher_and_an_outsider_cannot_manage_guidance(tree, bob, charlie):
    with pytest.raises(PermissionDenied):
        services.create_rule(bob, unit=tree.paris, kind="blocked_terms", name="x", config={"terms": ["y"]})
    with pytest.raises(PermissionDenied):
        services.create_rule(charlie, unit=tree.paris, kind="blocked_terms", name="x", config={"terms": ["y"]})
    assert not GuidanceRule.objects.exists()


def test_the_defining_admin_deactivates_and_the_rule_stops_applying(tree, alice, europe_rule):
    services.deactivate_rule(alice, europe_rule)
    assert services.rules_for(tree.paris) == []
    services.reactivate_rule(alice, europe_rule)
    assert len(services.rules_for(tree.paris)) == 1


def test_every_change_is_on_the_ledger(tree, alice, europe_rule):
    services.update_rule(alice, europe_rule, config={"terms": ["propaganda", "lies"]})
    services.deactivate_rule(alice, europe_rule)
    records = Record.objects.filter(action__startswith="guidance.").order_by("pk")
    actions = list(records.values_list("action", flat=True))
    assert actions == ["guidance.rule_created", "guidance.rule_updated", "guidance.rule_deactivated"]


def test_bad_config_names_the_field_and_writes_nothing(tree, alice):
    with pytest.raises(ValidationError) as excinfo:
        services.create_rule(alice, unit=tree.europe, kind="link_domains", name="Links",
                             config={"mode": "refuse", "domains": []})
    assert "config.domains" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.create_rule(alice, unit=tree.europe, kind="no_such_kind", name="x", config={})
    assert "kind" in excinfo.value.message_dict
    assert not GuidanceRule.objects.exists()
    assert not Record.objects.filter(action__startswith="guidance.").exists()


def test_sensitive_topic_needs_an_approver_at_headquarters_from_paris(tree, alice):
    services.create_rule(alice, unit=tree.ministry, kind="sensitive_topic", name="Naming Norland",
                         config={"terms": ["Norland"]}, clearance_role="approver")
    found = services.check_post(tree.paris, draft("Our ambassador met Norland's envoy"), NOW)
    [need] = verdict(found).clearances
    assert (need.role, need.unit_id, need.unit_name) == ("approver", tree.ministry.pk, "Ministry")


def test_clearance_is_asked_only_of_the_rules_unit_or_above(tree, alice):
    with pytest.raises(ValidationError) as excinfo:
        services.create_rule(alice, unit=tree.europe, kind="sensitive_topic", name="x", config={"terms": ["y"]},
                             clearance_unit=tree.jakarta)
    assert "clearance_unit" in excinfo.value.message_dict
    rule = services.create_rule(alice, unit=tree.paris, kind="sensitive_topic", name="x", config={"terms": ["y"]},
                                clearance_role="admin", clearance_unit=tree.europe)
    assert (rule.clearance_role, rule.clearance_unit) == ("admin", tree.europe)


def test_check_post_reads_the_missions_time_zone_and_country(tree, alice):
    services.create_rule(alice, unit=tree.ministry, kind="quiet_hours", name="Night",
                         config={"start": "22:00", "end": "07:00"})
    services.create_rule(alice, unit=tree.ministry, kind="personal_data", name="PII", config={})
    late = datetime(2025, 6, 2, 21, 30, tzinfo=UTC)  # 23:30 in Paris, 04:30 next day in Jakarta
    paris = services.check_post(tree.paris, PostDraft(DraftText("Call 06 12 34 56 78"), scheduled_at=late), NOW)
    assert {f.rule_name for f in paris} == {"Night", "PII"}
    jakarta = services.check_post(tree.jakarta, PostDraft(DraftText("Halo"), scheduled_at=late), NOW,
                                  CheckContext())
    assert [f.rule_name for f in jakarta] == ["Night"] and "Asia/Jakarta" in jakarta[0].explanation
