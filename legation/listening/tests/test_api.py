"""The listening API: same permissions as the UI."""

from __future__ import annotations

import json

from legation.listening import services
from legation.listening.tests.conftest import make_posts


def _json(response):
    return json.loads(response.content)


def test_sources_crud_through_the_api(client, alice, bob, charlie, tree):
    from legation.network import services as network

    client.force_login(bob)
    fields = {"unit_id": tree.paris.pk, "name": "Keywords", "kind": "keyword", "platform": "x", "query": "veridia"}
    refused = client.post("/api/v1/listening/sources", json.dumps(fields), content_type="application/json")
    assert refused.status_code == 422
    [problem] = _json(refused)["detail"]
    assert problem["loc"] == ["body", "account"] and problem["msg"].startswith("X is heard through one of our")
    account = network.register_account(alice, unit=tree.paris, platform="x", handle="@VeridiaFR")
    tokenless = client.post("/api/v1/listening/sources", json.dumps({**fields, "account_id": account.pk}),
                            content_type="application/json")
    assert tokenless.status_code == 422  # refused now, not paused at its first pull
    [problem] = _json(tokenless)["detail"]
    assert problem["loc"] == ["body", "account"] and problem["msg"] == (
        "@VeridiaFR has no access_token stored: an admin sets it under Accounts before it can be listened through")
    network.set_credentials(alice, account, {"access_token": "x-token"})
    created = client.post("/api/v1/listening/sources", json.dumps({**fields, "account_id": account.pk}),
                          content_type="application/json")
    assert created.status_code == 201, created.content
    assert _json(created)["account_id"] == account.pk
    source_id = _json(created)["id"]
    patched = client.patch(f"/api/v1/listening/sources/{source_id}", json.dumps({"active": False}),
                           content_type="application/json")
    assert _json(patched)["active"] is False
    assert [s["id"] for s in _json(client.get("/api/v1/listening/sources"))] == [source_id]
    client.force_login(charlie)
    assert _json(client.get("/api/v1/listening/sources")) == []
    assert client.get(f"/api/v1/listening/sources/{source_id}").status_code == 404
    forbidden = client.post("/api/v1/listening/sources", json.dumps({
        "unit_id": tree.paris.pk, "name": "Mine", "kind": "keyword", "platform": "x", "query": "a"}),
        content_type="application/json")
    assert forbidden.status_code == 403
    client.force_login(bob)
    assert client.delete(f"/api/v1/listening/sources/{source_id}").status_code == 204


def test_search_and_items_respect_units(client, bob, charlie, paris_source, berlin_source):
    services.ingest_posts(paris_source, make_posts(["Veridia flood news"], prefix="paris"))
    services.ingest_posts(berlin_source, make_posts(["Veridia flood news too"], prefix="berlin"))
    client.force_login(bob)
    found = _json(client.get("/api/v1/listening/search", {"q": "flood"}))
    assert [i["external_id"] for i in found["items"]] == ["paris0"] and found["next_offset"] is None
    client.force_login(charlie)
    assert client.get(f"/api/v1/listening/items/{found['items'][0]['id']}").status_code == 404
    assert _json(client.get("/api/v1/listening/stories")) == []
    assert _json(client.get("/api/v1/listening/alerts")) == []


def test_api_search_reads_filters_as_the_web_page_does(client, bob, paris_source):
    from django.utils import timezone

    from legation.listening.ingest import Post
    from legation.listening.models import ListenedItem

    now = timezone.now().replace(hour=15, minute=0, second=0, microsecond=0)
    services.ingest_posts(paris_source, [Post(text="Veridia news", platform="mastodon", external_id="n1",
                                              created_at=now)])
    ListenedItem.objects.update(language="fr", sentiment="negative", countries=",LY,")
    client.force_login(bob)
    day = now.date().isoformat()
    found = _json(client.get("/api/v1/listening/search", {"since": day, "until": day}))
    assert [i["external_id"] for i in found["items"]] == ["n1"]  # "until" a day includes that day
    upper = _json(client.get("/api/v1/listening/search", {"language": "FR", "sentiment": "NEGATIVE"}))
    assert len(upper["items"]) == 1
    assert _json(client.get("/api/v1/listening/search", {"country": "LYB"}))["items"] == []
    assert client.get("/api/v1/listening/search", {"since": "2026-02-30"}).status_code == 422
    assert client.get("/api/v1/listening/search", {"offset": "99999999999999999999"}).status_code == 422
    assert client.get("/api/v1/listening/search", {"source": "-1"}).status_code == 422  # not "every source"
    assert client.get("/api/v1/listening/export", {"story": "0"}).status_code == 422


def test_renaming_a_source_to_a_name_in_use_is_refused(client, bob, paris_source):
    other = services.create_source(bob, unit=paris_source.unit, name="Other", kind="keyword", platform="mastodon",
                                   query="a", account=paris_source.account)
    client.force_login(bob)
    response = client.patch(f"/api/v1/listening/sources/{other.pk}", json.dumps({"name": paris_source.name}),
                            content_type="application/json")
    assert response.status_code == 422
    assert "already has a source with that name" in response.content.decode()


def test_a_source_field_set_to_null_is_refused_and_the_source_kept(client, bob, paris_source):
    client.force_login(bob)
    for field in ("query", "name", "active", "pull_every", "batch_size"):
        response = client.patch(f"/api/v1/listening/sources/{paris_source.pk}", json.dumps({field: None}),
                                content_type="application/json")
        assert response.status_code == 422, (field, response.content)
        assert "cannot be null" in response.content.decode()
    paris_source.refresh_from_db()
    assert paris_source.query and paris_source.name == "Paris keywords" and paris_source.active


def test_api_docs_load_nothing_from_a_cdn(client, bob):
    client.force_login(bob)
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html and "cdn." not in html and "https://" not in html
