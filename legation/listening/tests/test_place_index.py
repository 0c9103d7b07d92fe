"""The index of place names the database keeps beside the posts (``PlaceName``, migration 0018's triggers), and
the place filter that reads it: stored, changed and deleted posts alike, on SQLite and PostgreSQL."""

from __future__ import annotations

from legation.listening import services
from legation.listening.models import ListenedItem, PlaceName
from legation.listening.search import Filters, search
from legation.listening.tests.conftest import make_posts


def _ids(items):
    return sorted(items.values_list("external_id", flat=True))


def _names():
    by_id = dict(ListenedItem.objects.values_list("pk", "external_id"))
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
