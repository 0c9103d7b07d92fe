"""Guidance through the API and the browser pages: same permissions, bad config named, findings explained."""

from __future__ import annotations

import json

import pytest

from legation.guidance import services
from legation.guidance.models import GuidanceRule
from legation.network import services as network


def _send(client, url, body, headers, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def hq_rules(tree, alice):
    services.create_rule(alice, unit=tree.ministry, kind="sensitive_topic", name="Naming Norland",
                         config={"terms": ["Norland", "نورلاند"]}, clearance_role="approver")
    return services.create_rule(alice, unit=tree.europe, kind="blocked_terms", name="Europe words",
                                config={"terms": ["propaganda"]})


def test_list_rules_marks_inherited_ones_and_who_may_edit(client, tree, bob, hq_rules, token_for):
    response = client.get(f"/api/v1/guidance/rules?unit_id={tree.paris.pk}", **token_for(bob))
    assert response.status_code == 200
    rules = response.json()
    assert [(r["name"], r["inherited"], r["editable"]) for r in rules] == [
        ("Naming Norland", True, False), ("Europe words", True, False)]
    jakarta = client.get(f"/api/v1/guidance/rules?unit_id={tree.jakarta.pk}", **token_for(bob))
    assert jakarta.status_code == 403


def test_create_update_and_deactivate_through_the_api(client, tree, alice, token_for):
    headers = token_for(alice)
    created = _send(client, "/api/v1/guidance/rules", {
        "unit_id": tree.europe.pk, "kind": "link_domains", "name": "No fake news",
        "config": {"mode": "refuse", "domains": ["FakeNews.example", "bücher.example"]}}, headers)
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["config"]["domains"] == ["fakenews.example", "xn--bcher-kva.example"]
    assert rule["severity"] == "block"
    patched = _send(client, f"/api/v1/guidance/rules/{rule['id']}", {"severity": "warn"}, headers, "patch")
    assert patched.status_code == 200 and patched.json()["severity"] == "warn"
    gone = client.post(f"/api/v1/guidance/rules/{rule['id']}/deactivate", **headers)
    assert gone.status_code == 200 and gone.json()["active"] is False


def test_bad_config_is_a_422_naming_the_field(client, tree, alice, token_for):
    response = _send(client, "/api/v1/guidance/rules", {
        "unit_id": tree.europe.pk, "kind": "quiet_hours", "name": "Night",
        "config": {"start": "22:00", "end": "07:00", "time_zone": "Mars/Olympus"}}, token_for(alice))
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "config.time_zone"] and "Mars/Olympus" in detail["msg"]
    assert not GuidanceRule.objects.exists()


def test_paris_admin_cannot_deactivate_europes_rule_through_the_api(client, tree, alice, hq_rules, token_for):
    paris_admin = network.create_person(alice, unit=tree.paris, username="pam", role="admin",
                                        password="pam-secret-pw-12")
    response = client.post(f"/api/v1/guidance/rules/{hq_rules.pk}/deactivate", **token_for(paris_admin))
    assert response.status_code == 403
    hq_rules.refresh_from_db()
    assert hq_rules.active


def test_a_publisher_cannot_create_rules(client, tree, bob, token_for):
    response = _send(client, "/api/v1/guidance/rules", {"unit_id": tree.paris.pk, "kind": "blocked_terms",
                                                         "name": "x", "config": {"terms": ["y"]}}, token_for(bob))
    assert response.status_code == 403


def test_check_endpoint_returns_findings_and_the_clearances_needed(client, tree, bob, hq_rules, token_for):
    response = _send(client, "/api/v1/guidance/check", {
        "unit_id": tree.paris.pk, "text": "Our envoy met Norland's minister", "language": "en",
        "variants": [{"language": "ar", "text": "التقى مبعوثنا بوزير نورلاند"},
                     {"language": "fr", "text": "De la p.r.o.p.a.g.a.n.d.a"}],
        "links": [], "accounts": [{"platform": "mastodon", "handle": "@ambparis", "allowed_languages": ["fr"]}],
    }, token_for(bob))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["blocked"] is True
    assert body["clearances"] == [{"role": "approver", "unit_id": tree.ministry.pk, "unit_name": "Ministry"}]
    kinds = [(f["rule_name"], f["location"]) for f in body["findings"]]
    assert kinds == [("Europe words", "variant 2 (fr)"), ("Naming Norland", "source (en)"),
                     ("Naming Norland", "variant 1 (ar)")]


def test_the_guidance_page_lists_inherited_rules_read_only(client, tree, bob, hq_rules):
    client.force_login(bob)
    page = client.get("/guidance/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Naming Norland" in html and "Europe words" in html and "inherited" in html
    assert "Deactivate" not in html and "Add a rule" not in html


def test_an_admin_adds_a_rule_with_the_form(client, tree, alice):
    client.force_login(alice)
    response = client.post("/guidance/", {"kind": "blocked_terms", "name": "HQ words",
                                          "terms": "propaganda\nmensonge", "whole_words": "on",
                                          "severity": "block"})
    assert response.status_code == 302
    rule = GuidanceRule.objects.get(name="HQ words")
    assert rule.config == {"terms": ["propaganda", "mensonge"], "whole_words": True}
    bad = client.post("/guidance/", {"kind": "link_domains", "name": "Links", "mode": "refuse", "domains": "",
                                     "severity": "block"})
    assert bad.status_code == 200 and "config.domains" in bad.content.decode()


def test_the_try_box_shows_each_finding_with_its_rule_and_why(client, tree, bob, hq_rules):
    client.force_login(bob)
    session = client.session
    session["unit_id"] = tree.paris.pk
    session.save()
    response = client.post("/guidance/try/", {"text": "Pure prоpaganda about Norland", "language": "en"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Europe words" in html and "Naming Norland" in html
    assert "disguised" in html and "<mark" in html and "approver at Ministry" in html
