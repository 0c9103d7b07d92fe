"""The API enforces the same permissions as the UI, names bad fields, and leaves nothing half-written."""

from __future__ import annotations

import json

from legation.network import services
from legation.network.models import OfficialAccount, Unit
from legation.records.models import Record


def _post(client, url, body, headers, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)


def test_no_token_no_access(client, tree):
    assert client.get("/api/v1/units").status_code == 401
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION="Bearer lgn_wrong").status_code == 401


def test_a_revoked_token_stops_working(client, tree, alice):
    token, plain = services.create_api_token(alice, "laptop")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200
    services.revoke_api_token(alice, token)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401


def test_tokens_are_stored_hashed(tree, alice):
    token, plain = services.create_api_token(alice, "laptop")
    assert plain not in token.digest and token.prefix == plain[:12]


def test_units_are_listed_as_far_as_the_role_reaches(client, tree, bob, token_for):
    response = client.get("/api/v1/units", **token_for(bob))
    assert response.status_code == 200
    assert [u["name"] for u in response.json()] == ["Embassy in Paris"]
    assert client.get(f"/api/v1/units/{tree.berlin.pk}", **token_for(bob)).status_code == 403
    assert client.get("/api/v1/units/999999", **token_for(bob)).status_code == 404


def test_create_unit_and_see_it_on_the_ledger(client, tree, alice, token_for):
    headers = token_for(alice)
    response = _post(client, "/api/v1/units", {"parent_id": tree.paris.pk, "name": "Consulate in Lyon",
                                                "kind": "consulate", "country": "fr", "languages": ["fr"],
                                                "time_zone": "Europe/Paris"}, headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["country"] == "FR" and body["path"].startswith(tree.paris.path)
    ledger = client.get(f"/api/v1/ledger?unit_id={body['id']}", **headers).json()
    assert [r["action"] for r in ledger] == ["unit.created"]


def test_a_malformed_request_names_the_field_and_writes_nothing(client, tree, alice, token_for):
    headers = token_for(alice)
    units, records = Unit.objects.count(), Record.objects.count()
    missing = _post(client, "/api/v1/units", {"parent_id": tree.paris.pk, "kind": "consulate"}, headers)
    assert missing.status_code == 422
    assert any(d["loc"][-1] == "name" for d in missing.json()["detail"])
    bad_tz = _post(client, "/api/v1/units", {"parent_id": tree.paris.pk, "name": "X", "kind": "consulate",
                                             "time_zone": "Mars/Olympus"}, headers)
    assert bad_tz.status_code == 422
    assert bad_tz.json()["detail"][0]["loc"] == ["body", "time_zone"]
    bad_kind = _post(client, "/api/v1/units", {"parent_id": tree.paris.pk, "name": "X", "kind": "palace"}, headers)
    assert bad_kind.status_code == 422 and bad_kind.json()["detail"][0]["loc"] == ["body", "kind"]
    not_json = client.post("/api/v1/units", data="{", content_type="application/json", **headers)
    assert 400 <= not_json.status_code < 500
    assert (Unit.objects.count(), Record.objects.count()) == (units, records)


def test_forbidden_writes_are_403_and_leave_nothing(client, tree, bob, token_for):
    headers = token_for(bob)
    records = Record.objects.count()
    response = _post(client, "/api/v1/units", {"parent_id": tree.paris.pk, "name": "X", "kind": "consulate"},
                     headers)
    assert response.status_code == 403
    response = _post(client, "/api/v1/accounts", {"unit_id": tree.paris.pk, "platform": "sandbox",
                                                  "handle": "@bob"}, headers)
    assert response.status_code == 403
    assert not OfficialAccount.objects.filter(handle="@bob").exists()
    assert Record.objects.count() == records


def test_account_lifecycle_through_the_api(client, tree, alice, charlie, token_for):
    headers = token_for(alice)
    created = _post(client, "/api/v1/accounts", {"unit_id": tree.berlin.pk, "platform": "sandbox",
                                                 "handle": "@VeridiaDE", "position": "Ambassador"}, headers)
    assert created.status_code == 201, created.content
    account = created.json()
    assert account["status"] == "pending" and account["created_by_id"] == alice.pk
    assert _post(client, f"/api/v1/accounts/{account['id']}/approve", {}, headers).status_code == 403
    approved = _post(client, f"/api/v1/accounts/{account['id']}/approve", {}, token_for(charlie))
    assert approved.json()["status"] == "active" and approved.json()["approved_by_id"] == charlie.pk
    secret = "tok-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    stored = _post(client, f"/api/v1/accounts/{account['id']}/credentials", {"secrets": {"access_token": secret}},
                   headers, method="put")
    assert stored.status_code == 200
    assert secret not in stored.content.decode()
    assert stored.json()["credentials"][0]["hint"] == "…WXYZ"
    locked = _post(client, f"/api/v1/accounts/{account['id']}/lock", {"reason": "phished"}, headers)
    assert locked.json()["status"] == "locked" and locked.json()["credentials"] == []
    ledger = client.get(f"/api/v1/ledger?unit_id={tree.berlin.pk}&action=account", **headers).json()
    assert [r["action"] for r in ledger] == ["account.locked", "account.credentials_set", "account.approved",
                                             "account.registered"]
    assert all(secret not in r["payload"] for r in ledger)


def test_unknown_platform_is_a_422_naming_platform(client, tree, alice, token_for):
    response = _post(client, "/api/v1/accounts", {"unit_id": tree.paris.pk, "platform": "myspace",
                                                  "handle": "@x"}, token_for(alice))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "platform"]


def test_roles_and_people(client, tree, alice, bob, charlie, token_for):
    headers = token_for(alice)
    granted = _post(client, "/api/v1/roles", {"person_id": bob.pk, "unit_id": tree.berlin.pk, "role": "editor"},
                    headers)
    assert granted.status_code == 201 and granted.json()["role"] == "editor"
    # charlie (admin in Berlin) sees the people of Berlin but not Paris-only people
    people = {p["username"] for p in client.get("/api/v1/people", **token_for(charlie)).json()}
    assert people == {"bob", "charlie"}
    # charlie may not grant in Paris
    refused = _post(client, "/api/v1/roles", {"person_id": charlie.pk, "unit_id": tree.paris.pk,
                                              "role": "admin"}, token_for(charlie))
    assert refused.status_code == 403
    revoked = client.delete(f"/api/v1/roles/{granted.json()['id']}", **token_for(charlie))
    assert revoked.status_code == 204
    bad_role = _post(client, "/api/v1/roles", {"person_id": bob.pk, "unit_id": tree.berlin.pk, "role": "king"},
                     headers)
    assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"] == ["body", "role"]


def test_ledger_api_hides_other_units(client, tree, alice, bob, charlie, token_for):
    services.create_unit(charlie, parent=tree.berlin, name="Consulate in Munich", kind="consulate")
    visible = client.get("/api/v1/ledger?limit=1000", **token_for(bob)).json()
    assert all(r["unit_label"] in ("Embassy in Paris", "") for r in visible)
    assert client.get(f"/api/v1/ledger?unit_id={tree.berlin.pk}", **token_for(bob)).status_code == 403


def test_openapi_document_is_served(client, tree, alice):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/units" in paths and "/api/v1/ledger" in paths and "/api/v1/accounts/{account_id}/lock" in paths


def test_session_writes_need_csrf(tree, alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/api/v1/units", data=json.dumps({"parent_id": tree.paris.pk, "name": "X",
                                                              "kind": "consulate"}),
                           content_type="application/json")
    assert response.status_code == 403
    assert not Unit.objects.filter(name="X").exists()


def test_refusals_are_in_the_persons_language(client, tree, alice, token_for):
    services.set_language(alice, "fr")
    headers = token_for(alice)
    first = _post(client, "/api/v1/accounts", {"unit_id": tree.paris.pk, "platform": "sandbox",
                                               "handle": "@VeridiaFR"}, headers)
    assert first.status_code == 201
    again = _post(client, "/api/v1/accounts", {"unit_id": tree.paris.pk, "platform": "sandbox",
                                               "handle": "@VeridiaFR"}, headers)
    assert again.status_code == 422
    assert again.json()["detail"][0]["msg"] == "@VeridiaFR sur sandbox figure déjà au registre"
