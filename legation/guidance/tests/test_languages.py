"""Guidance refusals and the check's explanations reach a person in their language, through the API and pages."""

from __future__ import annotations

import html
import json

import pytest

from legation.guidance import services
from legation.guidance.models import GuidanceRule
from legation.network import services as network


@pytest.fixture
def hq_rules(tree, alice):
    services.create_rule(alice, unit=tree.ministry, kind="sensitive_topic", name="Naming Norland",
                         config={"terms": ["Norland"]}, clearance_role="approver")
    services.create_rule(alice, unit=tree.europe, kind="blocked_terms", name="Europe words",
                         config={"terms": ["propaganda"]})


def _send(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_a_french_admin_is_refused_in_french_through_the_api(client, tree, alice, token_for):
    network.set_language(alice, "fr")
    response = _send(client, "/api/v1/guidance/rules", {"unit_id": tree.europe.pk, "kind": "blocked_terms",
                                                        "name": "  ", "config": {"terms": ["x"]}}, token_for(alice))
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body", "name"], "msg": "donnez un nom à la règle"}]
    bad_zone = _send(client, "/api/v1/guidance/rules", {
        "unit_id": tree.europe.pk, "kind": "quiet_hours", "name": "Nuit",
        "config": {"start": "22:00", "end": "07:00", "time_zone": "Mars/Olympus"}}, token_for(alice))
    assert bad_zone.status_code == 422
    assert bad_zone.json()["detail"] == [{"loc": ["body", "config.time_zone"],
                                          "msg": "time_zone: fuseau horaire inconnu « Mars/Olympus »"}]
    assert not GuidanceRule.objects.exists()


def test_the_check_explains_itself_in_the_token_owners_language(client, tree, bob, hq_rules, token_for):
    network.set_language(bob, "fr")
    response = _send(client, "/api/v1/guidance/check", {
        "unit_id": tree.paris.pk, "text": "Our envoy met Norland's minister", "language": "en",
        "variants": [{"language": "fr", "text": "De la p.r.o.p.a.g.a.n.d.a"}]}, token_for(bob))
    assert response.status_code == 200, response.content
    findings = [(f["location"], f["explanation"]) for f in response.json()["findings"]]
    assert findings == [
        ("variante 1 (fr)", "Terme interdit « propaganda » trouvé sous la forme « p.r.o.p.a.g.a.n.d.a » (déguisé : "
                            "lettres espacées, caractères sosies ou invisibles)"),
        ("source (en)", "Sujet sensible « Norland » trouvé sous la forme « Norland » ; validation requise d'un "
                        "approbateur de Ministry"),
    ]
    network.set_language(bob, "ar")
    again = _send(client, "/api/v1/guidance/check", {"unit_id": tree.paris.pk, "text": "Visit to Norland",
                                                     "language": "en"}, token_for(bob))
    [finding] = again.json()["findings"]
    assert finding["location"] == "المصدر (en)"
    assert finding["explanation"] == "موضوع حساس «Norland» وُجد بصيغة «Norland»؛ يتطلب موافقة مُعتمِد في Ministry"


def _on_paris(client, tree):
    session = client.session
    session["unit_id"] = tree.paris.pk
    session.save()


def test_the_try_box_explains_in_arabic_for_an_arabic_reader(client, tree, bob, hq_rules):
    network.set_language(bob, "ar")
    client.force_login(bob)
    _on_paris(client, tree)
    response = client.post("/guidance/try/", {"text": "Pure prоpaganda about Norland", "language": "en"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "عبارة محظورة «propaganda» وُجدت بصيغة «prоpaganda» (مموّه: حروف متباعدة أو محارف مشابهة أو غير مرئية)" in page
    assert "موضوع حساس «Norland» وُجد بصيغة «Norland»؛ يتطلب موافقة مُعتمِد في Ministry" in page
    assert "Blocked term" not in page and "needs clearance by" not in page


def test_the_rules_page_refuses_in_french(client, tree, alice):
    network.set_language(alice, "fr")
    client.force_login(alice)
    response = client.post("/guidance/", {"kind": "blocked_terms", "name": "", "terms": "propaganda",
                                          "severity": "block"})
    assert response.status_code == 200
    assert "donnez un nom à la règle" in html.unescape(response.content.decode())
    assert not GuidanceRule.objects.exists()
