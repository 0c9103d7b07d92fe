"""The listening API: same permissions as the UI."""

from __future__ import annotations

import json

from legation.listening import services
from legation.listening.tests.conftest import make_posts


def _json(response):
    return json.loads(response.content)


def test_sources_crud_through_the_api(client, bob, charlie, tree):
    client.force_login(bob)
    created = client.post("/api/v1/listening/sources", json.dumps({
        "unit_id": tree.paris.pk, "name": "Keywords", "kind": "keyword", "platform": "x", "query": "veridia"}),
        content_type="application/json")
    assert created.status_code == 201, created.content
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
