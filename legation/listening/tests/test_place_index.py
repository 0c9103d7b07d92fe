"""The index of place names the database keeps beside the posts, and the place filter that reads it: stored,
changed and deleted posts alike. SQLite: the ``PlaceName`` table (migration 0018's triggers); PostgreSQL: the
lexemes of the generated column ``place_vector``, in the full-text index (migration 0019)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from legation.listening import search as search_module
from legation.listening import services
from legation.listening.models import ListenedItem, PlaceName
from legation.listening.search import Filters, search
from legation.listening.tests.conftest import make_posts


def _ids(items):
    return sorted(items.values_list("external_id", flat=True))


def _names():
    """(post, name) for each place name the database holds for the place filter."""
    by_id = dict(ListenedItem.objects.values_list("pk", "external_id"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, unnest(tsvector_to_array(place_vector)) FROM listening_listeneditem")
            return sorted((by_id[item_id], name) for item_id, name in cursor.fetchall())
    return sorted((by_id.get(item_id, f"gone {item_id}"), key) for item_id, key in
                  PlaceName.objects.values_list("item_id", "name_key"))


def test_ingestion_indexes_the_places_posts_name_and_the_filter_finds_them_by_prefix(paris_source, alice):
    services.ingest_posts(paris_source, make_posts([
        "Families stranded at the port of Misratah, and more in Benghazi",
        "Flooding in Tripoli tonight",
        "A concert at the embassy",
    ]))
    names = _names()
    assert ("p0", "misratah") in names and ("p0", "benghazi") in names and ("p1", "tripoli") in names
    assert [n for n in names if n[0] == "p2"] == []
    assert _ids(search(alice, "", Filters(place="misr"))) == ["p0"]  # a prefix, whatever the case
    assert _ids(search(alice, "", Filters(place="TRIPOLI"))) == ["p1"]
    assert _ids(search(alice, "", Filters(place="طرابلس"))) == ["p1"]  # typed in Arabic: the gazetteer's name
    assert _ids(search(alice, "stranded", Filters(place="Benghazi"))) == ["p0"]
    # Nothing typed is a wildcard, and the stored keys are not names.
    for typed in ("%", "_isratah", "M%ratah", "lat", "country", "port"):
        assert _ids(search(alice, "", Filters(place=typed))) == [], typed


def test_changed_and_deleted_posts_leave_no_stale_name(paris_source, alice):
    services.ingest_posts(paris_source, make_posts(["Families stranded at the port of Misratah",
                                                    "Flooding in Tripoli tonight"]))
    # Another reading of the post (the accurate tier, an operator) names another place: the old name goes.
    ListenedItem.objects.filter(external_id="p0").update(
        places=[{"name": "Sirte", "country": "LY", "lat": 31.2, "lon": 16.6}], countries=",LY,")
    assert _ids(search(alice, "", Filters(place="Misratah"))) == []
    assert _ids(search(alice, "", Filters(place="sirte"))) == ["p0"]
    ListenedItem.objects.filter(external_id="p0").update(places=[], countries="")
    assert _ids(search(alice, "", Filters(place="sirte"))) == []
    ListenedItem.objects.filter(external_id="p1").delete()
    assert _names() == []


def test_names_of_several_words_quotes_and_backslashes_are_matched_as_typed(paris_source, alice):
    services.ingest_posts(paris_source, make_posts(["Flooding in Tripoli tonight", "A quiet day"]))
    odd = [{"name": "New Valley", "country": "EG", "lat": 25.4, "lon": 30.5},
           {"name": "O'Hare \\ Gate", "country": "US", "lat": 41.9, "lon": -87.9}]
    ListenedItem.objects.filter(external_id="p1").update(places=odd, countries=",EG,US,")
    assert ("p1", "new valley") in _names() and ("p1", "o'hare \\ gate") in _names()
    assert _ids(search(alice, "", Filters(place="new v"))) == ["p1"]  # a name of two words is one name
    assert _ids(search(alice, "", Filters(place="valley"))) == []
    assert _ids(search(alice, "", Filters(place="O'HARE \\"))) == ["p1"]
    assert _ids(search(alice, "quiet", Filters(place="o'h"))) == ["p1"]
    for typed in ("'", "\\", "o'hare' | 'x", "new & valley", "valley:*"):  # tsquery syntax is not read
        assert _ids(search(alice, "", Filters(place=typed))) == [], typed


@pytest.mark.parametrize("cap", [1, 2, 1000])
def test_the_place_filter_gives_the_same_page_however_many_posts_match(paris_source, alice, monkeypatch, cap):
    """PostgreSQL reads the page of a place with few matches by their ids, SQLite browses a place many posts name
    through the time index (``search``): the same posts, in the same order and count, either way."""
    monkeypatch.setattr(search_module, "COUNT_CAP", cap)
    monkeypatch.setattr(search_module, "COMMON_PLACE", cap)
    services.ingest_posts(paris_source, make_posts([
        "Families stranded at the port of Misratah", "Flooding in Tripoli tonight",
        "More families wait at Misratah port", "Water is short in Misratah",
    ]))
    assert _ids(search(alice, "", Filters(place="misratah"))) == ["p0", "p2", "p3"]
    assert list(search(alice, "", Filters(place="misratah")).values_list("external_id", flat=True)) == [
        "p3", "p2", "p0"]  # newest first
    assert list(search(alice, "families", Filters(place="misratah")).values_list("external_id", flat=True)) == [
        "p2", "p0"]
    assert search_module.capped_count(search(alice, "", Filters(place="misratah"))) == (
        min(3, cap), cap < 3)


def test_the_place_filter_through_the_api_the_page_and_the_export(client, bob, charlie, paris_source, berlin_source):
    services.ingest_posts(paris_source, make_posts([
        "Families stranded at the port of Misratah", "Flooding in Tripoli tonight", "Misratah port is calm",
    ]))
    services.ingest_posts(berlin_source, make_posts(["Stranded near Misratah, Berlin heard this"], prefix="b"))
    client.force_login(bob)  # Paris: its own posts only
    found = client.get("/api/v1/listening/search", {"place": "misr", "q": "stranded"}).json()["items"]
    assert [item["external_id"] for item in found] == ["p0"]
    found = client.get("/api/v1/listening/search", {"place": "مصراتة"}).json()["items"]
    assert sorted(item["external_id"] for item in found) == ["p0", "p2"]
    page = client.get("/listening/search/", {"place": "Misratah"}).content.decode()
    assert "Families stranded" in page and "Misratah port is calm" in page and "Flooding in Tripoli" not in page
    assert "Berlin heard this" not in page
    exported = client.get("/api/v1/listening/export", {"format": "jsonl", "place": "tripoli"})
    lines = b"".join(exported.streaming_content).decode().splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["p1"]
    client.force_login(charlie)  # Berlin
    found = client.get("/api/v1/listening/search", {"place": "Misratah"}).json()["items"]
    assert [item["external_id"] for item in found] == ["b0"]
