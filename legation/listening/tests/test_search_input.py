"""Search reads what people type the same way on SQLite and PostgreSQL: odd characters, prefixes, accents and
countries named rather than coded."""

from __future__ import annotations

import json

from legation.listening import services
from legation.listening.models import ListenedItem, SavedSearch
from legation.listening.search import Filters, search
from legation.listening.tests.conftest import make_posts


def _ids(items):
    return sorted(items.values_list("external_id", flat=True))


def test_nul_in_words_or_filters_is_no_server_error(client, bob, paris_source):
    """PostgreSQL takes no NUL in a string: a query, a filter or a name holding one answered 500."""
    services.ingest_posts(paris_source, make_posts(["Flood in Lyon", "Concert tonight"]))
    client.force_login(bob)
    for field in ("q", "language", "sentiment", "category", "country", "place", "platform"):
        page = client.get("/listening/search/", {field: "flood\x00x"})
        assert page.status_code == 200, field
        api = client.get("/api/v1/listening/search", {field: "flood\x00x"})
        assert api.status_code == 200, field
        export = client.get("/api/v1/listening/export", {field: "flood\x00x", "format": "jsonl"})
        assert export.status_code == 200 and b"".join(export.streaming_content) is not None, field
    assert [i["external_id"] for i in json.loads(client.get(
        "/api/v1/listening/search", {"q": "flood\x00"}).content)["items"]] == ["p0"]
    saved = client.post("/api/v1/listening/saved-searches", json.dumps(
        {"unit_id": bob.roles.get().unit_id, "name": "flo\x00ods", "params": {"q": "flood\x00", "place": "Ly\x00on"}}),
        content_type="application/json")
    assert saved.status_code == 201, saved.content
    stored = SavedSearch.objects.get()
    assert stored.name == "floods" and stored.params == {"q": "flood", "place": "Lyon"}
    refused = client.post("/api/v1/listening/sources", json.dumps({
        "unit_id": paris_source.unit_id, "name": "bad\x00name", "kind": "keyword", "platform": "mastodon",
        "query": "veridia", "account_id": paris_source.account_id}), content_type="application/json")
    assert refused.status_code == 422 and json.loads(refused.content)["detail"][0]["loc"] == ["body", "name"]
    patched = client.patch(f"/api/v1/listening/sources/{paris_source.pk}", json.dumps({"query": "a\x00b"}),
                           content_type="application/json")
    assert patched.status_code == 422 and json.loads(patched.content)["detail"][0]["loc"] == ["body", "query"]


def test_a_trailing_star_finds_words_by_their_start_on_both_databases(paris_source, alice):
    services.ingest_posts(paris_source, make_posts([
        "Protest in Cairo today", "Наводнение в Каире", "مظاهرات في القاهرة", "Concert tonight",
        "Cairo flooding",
    ]))
    assert _ids(search(alice, "Cair*")) == ["p0", "p4"]
    assert _ids(search(alice, "Каир*")) == ["p1"]
    assert _ids(search(alice, "مظاهر*")) == ["p2"]
    assert _ids(search(alice, "Cair* -flood*")) == ["p0"]
    assert _ids(search(alice, "concert OR Каир*")) == ["p1", "p3"]
    assert _ids(search(alice, "Cairo")) == ["p0", "p4"]  # without a star, whole words only
    assert _ids(search(alice, "Cair")) == []
    assert _ids(search(alice, "*")) == [] and _ids(search(alice, "OR")) == []


def test_words_are_found_with_or_without_their_accents_on_both_databases(paris_source, alice):
    services.ingest_posts(paris_source, make_posts([
        "Grève générale à Marseille", "Ünlü Kahire müzesi kapandı", "Crème brûlée festival", "Plain text",
        "Йошкар-Ола: сильный снег",
    ]))
    # Only Latin letters lose their marks: "й" is a letter of its own in Russian, on both databases.
    assert _ids(search(alice, "Йошкар")) == ["p4"] and _ids(search(alice, "иошкар")) == []
    assert _ids(search(alice, "greve")) == ["p0"]
    assert _ids(search(alice, "grève")) == ["p0"]
    assert _ids(search(alice, "GENERALE")) == ["p0"]
    assert _ids(search(alice, "unlu muzesi")) == ["p1"]
    assert _ids(search(alice, "creme")) == ["p2"]
    assert _ids(search(alice, "brul*")) == ["p2"]
    assert _ids(search(alice, '"creme brulee"')) == ["p2"]


def test_a_country_may_be_typed_as_its_name_in_english_or_another_language(paris_source, alice):
    services.ingest_posts(paris_source, make_posts(["post about Libya", "post about Russia", "post about Egypt"]))
    ListenedItem.objects.filter(external_id="p0").update(countries=",LY,")
    ListenedItem.objects.filter(external_id="p1").update(countries=",RU,")
    ListenedItem.objects.filter(external_id="p2").update(countries=",EG,")
    for typed in ("LY", "ly", "LBY", "Libya", "libya", "ليبيا", "Libye"):
        assert _ids(search(alice, "", Filters.from_params({"country": typed}))) == ["p0"], typed
    for typed in ("Russia", "روسيا", "Russie"):  # names ISO 3166 does not use, by the gazetteer
        assert _ids(search(alice, "", Filters.from_params({"country": typed}))) == ["p1"], typed
    assert _ids(search(alice, "", Filters.from_params({"country": "مصر"}))) == ["p2"]
    assert _ids(search(alice, "", Filters.from_params({"country": "Atlantis"}))) == []
    assert _ids(search(alice, "", Filters.from_params({"country": "Paris"}))) == []  # a city is no country
    assert Filters.from_params({"country": "ليبيا"}).as_params() == {"country": "LY"}


def test_the_search_page_takes_a_country_name(client, bob, paris_source):
    services.ingest_posts(paris_source, make_posts(["post about Libya", "post about Egypt"]))
    ListenedItem.objects.filter(external_id="p0").update(countries=",LY,")
    client.force_login(bob)
    page = client.get("/listening/search/", {"country": "ليبيا"}).content.decode()
    assert "post about Libya" in page and "post about Egypt" not in page
    assert 'maxlength="2"' not in page.split('id="f-country"')[1].split(">")[0]
