"""The listening API offers what the pages do: a unit's dashboard figures, saved searches and exports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from legation.listening import services
from legation.listening.exports import EXPORT_FIELDS
from legation.listening.ingest import Post
from legation.listening.models import Alert, CrisisCategory, ListenedItem, SavedSearch, Story

PARIS = "Embassy in Paris"


def _post(external_id, text, hours_ago, now):
    return Post(text=text, platform="mastodon", external_id=external_id, author="someone",
                created_at=now - timedelta(hours=hours_ago))


def _enrich(external_id, **fields):
    ListenedItem.objects.filter(external_id=external_id).update(**fields)


@pytest.fixture
def heard(paris_source, berlin_source):
    """Four posts heard by Paris (one of them 100 hours old) and one by Berlin, with known enrichment."""
    now = timezone.now()
    services.ingest_posts(paris_source, [
        _post("p0", "Flooding in Paris, roads closed", 1, now),
        _post("p1", "Flooding near Lyon", 2, now),
        _post("p2", "Concert at the embassy", 3, now),
        _post("p3", "Old flooding report", 100, now),
    ])
    services.ingest_posts(berlin_source, [_post("b0", "Flooding in Berlin too", 1, now)])
    paris = {"name": "Paris", "country": "FR", "lat": 48.85, "lon": 2.35}
    lyon = {"name": "Lyon", "country": "FR", "lat": 45.76, "lon": 4.84}
    _enrich("p0", language="fr", sentiment="negative", crisis_category=CrisisCategory.REQUESTS,
            countries=",FR,", places=[paris])
    _enrich("p1", language="fr", sentiment="neutral", crisis_category=CrisisCategory.DAMAGE,
            countries=",FR,", places=[lyon])
    _enrich("p2", language="en", sentiment="positive", crisis_category="", countries="", places=[])
    _enrich("p3", language="fr", sentiment="negative", crisis_category=CrisisCategory.REQUESTS,
            countries=",FR,", places=[paris])
    _enrich("b0", language="de", sentiment="negative", crisis_category=CrisisCategory.DAMAGE,
            countries=",DE,", places=[{"name": "Berlin", "country": "DE", "lat": 52.52, "lon": 13.4}])
    return now


def _overview(client, unit, **params):
    return client.get(f"/api/v1/listening/units/{unit.pk}/overview", params)


def _export(client, **params):
    response = client.get("/api/v1/listening/export", params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content).decode("utf-8")


def _csv_ids(body):
    lines = body.removeprefix("\ufeff").splitlines()
    return sorted(line.split(",")[3] for line in lines[1:])


# Overview


def test_overview_shows_the_units_figures_in_the_window(client, bob, tree, heard):
    client.force_login(bob)
    response = _overview(client, tree.paris)
    assert response.status_code == 200, response.content
    figures = response.json()
    in_window = ListenedItem.objects.filter(heard_by__contains="|" + tree.paris.path,
                                            created_at__gte=heard - timedelta(hours=48))
    assert figures["unit_id"] == tree.paris.pk and figures["hours"] == 48
    assert figures["total"] == in_window.count() == 3  # the 100-hour-old post and Berlin's are not counted
    assert sum(figures["volume"]["counts"]) == 3 and len(figures["volume"]["labels"]) == 49
    assert figures["sentiment_by_language"] == {
        "languages": ["fr", "en"], "language_labels": ["French", "English"],
        "labels": {"negative": "negative", "neutral": "neutral", "positive": "positive"},
        "series": {"negative": [1, 0], "neutral": [1, 0], "positive": [0, 1]},
    }
    assert {c["category"]: c["count"] for c in figures["categories"]} == {
        CrisisCategory.REQUESTS: 1, CrisisCategory.DAMAGE: 1, "unknown": 1}
    assert {c["label"] for c in figures["categories"]} >= {"Requests or urgent needs"}
    assert figures["countries"] == [{"country": "FR", "name": "France", "count": 2}]
    assert sorted((p["name"], p["count"]) for p in figures["places"]) == [("Lyon", 1), ("Paris", 1)]
    assert _overview(client, tree.paris, hours=200).json()["total"] == 4


def test_overview_of_a_region_counts_every_unit_below(client, alice, tree, heard):
    client.force_login(alice)
    figures = _overview(client, tree.europe).json()
    assert figures["total"] == 4  # Paris's three in the window and Berlin's one
    assert {c["country"]: c["count"] for c in figures["countries"]} == {"FR": 2, "DE": 1}


def test_overview_lists_stories_terms_and_open_alerts(client, bob, tree, heard):
    now = timezone.now()
    Story.objects.filter(unit_path__startswith=tree.paris.path).delete()
    story = Story.objects.create(unit=tree.paris, unit_path=tree.paris.path, key="border", label="Border closed",
                                 terms=["border", "closed"], size=5, first_seen=now, last_seen=now)
    Alert.objects.create(unit=tree.paris, unit_path=tree.paris.path, kind="new_story", key="story:border",
                         message="New story: Border closed", count=5, story=story)
    Alert.objects.create(unit=tree.paris, unit_path=tree.paris.path, kind="spike", key="all@1",
                         message="Seen and handled", count=40, acknowledged_at=now)
    # Its terms count its posts of the window: two of the last 48 hours (not its size, not the old post).
    ListenedItem.objects.filter(external_id__in=["p0", "p1", "p3"]).update(story=story)
    client.force_login(bob)
    figures = _overview(client, tree.paris).json()
    assert figures["terms"] == [{"term": "border", "count": 2}, {"term": "closed", "count": 2}]
    assert [s["label"] for s in figures["stories"]] == ["Border closed"]
    assert [a["message"] for a in figures["open_alerts"]] == ["New story: Border closed"]


def test_overview_is_refused_outside_ones_units_and_windows(client, bob, charlie, tree, heard):
    client.force_login(charlie)
    refused = _overview(client, tree.paris)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This needs the Viewer role or above on Embassy in Paris."
    assert _overview(client, tree.berlin).json()["total"] == 1
    client.force_login(bob)
    assert _overview(client, tree.berlin).status_code == 403
    assert client.get("/api/v1/listening/units/999999/overview").status_code == 404
    for hours in (0, 721, -5, "a day"):
        assert _overview(client, tree.paris, hours=hours).status_code == 422, hours
    assert _overview(client, tree.paris, hours=720).status_code == 200
    assert _overview(client, tree.paris, hours=1).status_code == 200


def test_overview_answers_a_token(client, bob, tree, heard, token_for):
    response = client.get(f"/api/v1/listening/units/{tree.paris.pk}/overview", **token_for(bob))
    assert response.status_code == 200 and response.json()["total"] == 3
    assert client.get(f"/api/v1/listening/units/{tree.paris.pk}/overview").status_code == 401


# Saved searches


def _save(client, unit, name, **params):
    return client.post("/api/v1/listening/saved-searches",
                       json.dumps({"unit_id": unit.pk, "name": name, "params": params}),
                       content_type="application/json")


def test_a_saved_search_is_created_listed_and_deleted(client, bob, tree, heard):
    client.force_login(bob)
    created = _save(client, tree.paris, "French floods", q=" flooding ", language="FR", since="2026-11-23")
    assert created.status_code == 201, created.content
    saved = created.json()
    # Read as the web page reads (and saves) the same parameters.
    assert saved["params"] == {"q": "flooding", "language": "fr", "since": "2026-11-23T00:00:00+00:00"}
    assert saved["name"] == "French floods" and saved["unit_id"] == tree.paris.pk
    listed = client.get("/api/v1/listening/saved-searches", {"unit_id": tree.paris.pk}).json()
    assert [s["id"] for s in listed] == [saved["id"]]
    assert client.get("/api/v1/listening/saved-searches", {"unit_id": tree.berlin.pk}).json() == []
    assert "French floods" in client.get("/listening/search/").content.decode()  # the page lists it too
    again = _save(client, tree.paris, "French floods", q="flood")  # one of the same name is replaced
    assert again.status_code == 201 and again.json()["params"] == {"q": "flood"}
    assert SavedSearch.objects.filter(owner=bob).count() == 1
    deleted = client.delete(f"/api/v1/listening/saved-searches/{saved['id']}")
    assert deleted.status_code == 204
    assert client.get("/api/v1/listening/saved-searches").json() == []


def test_saved_searches_are_their_owners_alone(client, alice, bob, charlie, tree, heard):
    client.force_login(bob)
    saved_id = _save(client, tree.paris, "Mine").json()["id"]
    assert _save(client, tree.paris, "No filters").json()["params"] == {}
    client.force_login(alice)  # an admin above Paris sees Paris, but not bob's own searches
    assert client.get("/api/v1/listening/saved-searches").json() == []
    assert client.delete(f"/api/v1/listening/saved-searches/{saved_id}").status_code == 404
    client.force_login(charlie)
    assert client.delete(f"/api/v1/listening/saved-searches/{saved_id}").status_code == 404
    assert _save(client, tree.paris, "Theirs").status_code == 403
    assert SavedSearch.objects.filter(pk=saved_id).exists()


def test_saving_a_search_says_what_is_wrong(client, bob, tree, heard):
    client.force_login(bob)
    blank = _save(client, tree.paris, "   ", q="flooding")
    assert blank.status_code == 422
    assert blank.json()["detail"] == [{"loc": ["body", "name"], "msg": "give the search a name"}]
    impossible = _save(client, tree.paris, "Leap day", since="2026-02-30")
    assert impossible.status_code == 422 and "since" in impossible.content.decode()
    assert _save(client, tree.paris, "x" * 201).status_code == 422
    missing = client.post("/api/v1/listening/saved-searches", json.dumps({"unit_id": 999999, "name": "Lost"}),
                          content_type="application/json")
    assert missing.status_code == 404
    assert not SavedSearch.objects.exists()


# Exports


def test_csv_export_is_the_search_as_a_spreadsheet_file(client, bob, tree, heard):
    client.force_login(bob)
    response, body = _export(client, format="csv", q="flooding")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="listening.csv"'
    assert body.startswith("\ufeff")  # spreadsheets then read the file as UTF-8
    assert body.removeprefix("\ufeff").splitlines()[0] == ",".join(EXPORT_FIELDS)
    assert _csv_ids(body) == ["p0", "p1", "p3"]  # Berlin's flooding is not bob's to see


def test_an_export_cut_at_its_limit_says_so_in_its_name_and_headers(client, bob, tree, heard, monkeypatch):
    from legation.listening import exports

    client.force_login(bob)
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 2)
    response, body = _export(client, format="csv", q="flooding")  # three of bob's posts match
    assert response["Content-Disposition"] == 'attachment; filename="listening-first-2.csv"'
    assert response["X-Export-Truncated"] == "2"
    assert len(_csv_ids(body)) == 2
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 3)  # exactly the limit: the whole search, named as such
    response, body = _export(client, format="jsonl", q="flooding")
    assert response["Content-Disposition"] == 'attachment; filename="listening.jsonl"'
    assert "X-Export-Truncated" not in response and len(body.splitlines()) == 3


def test_export_reads_the_filters_of_the_search(client, bob, tree, heard):
    client.force_login(bob)
    assert _csv_ids(_export(client, q="flooding", sentiment="NEGATIVE")[1]) == ["p0", "p3"]
    since = (heard - timedelta(hours=10)).isoformat()
    assert _csv_ids(_export(client, q="flooding", since=since)[1]) == ["p0", "p1"]
    assert _csv_ids(_export(client, country="fr", category=CrisisCategory.DAMAGE)[1]) == ["p1"]
    assert _csv_ids(_export(client, language="en")[1]) == ["p2"]
    assert client.get("/api/v1/listening/export", {"unit": tree.berlin.pk}).status_code == 403  # another unit
    assert _csv_ids(_export(client)[1]) == ["p0", "p1", "p2", "p3"]


def test_export_shows_each_person_what_they_may_see(client, alice, charlie, tree, heard):
    client.force_login(charlie)
    assert _csv_ids(_export(client, q="flooding")[1]) == ["b0"]
    client.force_login(alice)
    assert _csv_ids(_export(client, q="flooding")[1]) == ["b0", "p0", "p1", "p3"]
    assert _csv_ids(_export(client, q="flooding", unit=tree.paris.pk)[1]) == ["p0", "p1", "p3"]


def test_jsonl_export_is_one_json_object_a_line(client, bob, tree, heard):
    client.force_login(bob)
    response, body = _export(client, format="jsonl", q="flooding", language="fr")
    assert response["Content-Type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in body.splitlines()]
    assert sorted(r["external_id"] for r in rows) == ["p0", "p1", "p3"]
    first = next(r for r in rows if r["external_id"] == "p0")
    assert set(first) == set(EXPORT_FIELDS)
    assert first["countries"] == ["FR"] and first["places"][0]["name"] == "Paris"
    assert first["created_at"].endswith("+00:00")


def test_export_refuses_unknown_formats_and_impossible_dates(client, bob, tree, heard, token_for):
    client.force_login(bob)
    assert client.get("/api/v1/listening/export", {"format": "xlsx"}).status_code == 422
    assert client.get("/api/v1/listening/export", {"until": "2026-02-30"}).status_code == 422
    client.logout()
    assert client.get("/api/v1/listening/export").status_code == 401
    with_token = client.get("/api/v1/listening/export", {"q": "flooding"}, **token_for(bob))
    assert _csv_ids(b"".join(with_token.streaming_content).decode()) == ["p0", "p1", "p3"]


def test_openapi_document_lists_the_new_endpoints(client, tree):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/listening/units/{unit_id}/overview", "/api/v1/listening/saved-searches",
                 "/api/v1/listening/saved-searches/{saved_id}", "/api/v1/listening/export"):
        assert path in paths, path


def test_volumes_over_time_by_language_sentiment_country_and_term(client, bob, tree, heard):
    now = timezone.now()
    Story.objects.create(unit=tree.paris, unit_path=tree.paris.path, key="flood", label="Flooding",
                         terms=["flooding"], size=3, first_seen=now, last_seen=now)
    client.force_login(bob)
    figures = _overview(client, tree.paris).json()
    labels = figures["volume"]["labels"]
    over_time = figures["over_time"]

    def lines(breakdown):
        found = {}
        for series in over_time[breakdown]:
            assert len(series["counts"]) == len(labels)
            found[series["key"]] = (series["label"], sum(series["counts"]))
        return found

    assert lines("language") == {"fr": ("French", 2), "en": ("English", 1)}
    assert lines("sentiment") == {"negative": ("Negative", 1), "neutral": ("Neutral", 1), "positive": ("Positive", 1)}
    assert lines("country") == {"FR": ("France", 2)}
    assert lines("place") == {"Paris": ("Paris (FR)", 1), "Lyon": ("Lyon (FR)", 1)}
    # "flooding" by full-text search: p0 and p1 in the window (p3 is 100 hours old, b0 is Berlin's).
    term_lines = lines("term")
    assert term_lines["flooding"] == ("flooding", 2)
    assert set(term_lines) <= {row["term"] for row in figures["terms"]}  # one line per trending term heard
    # Each post in the hour it was made: the French ones 1 and 2 hours ago, the English one 3 hours ago.
    french = next(s["counts"] for s in over_time["language"] if s["key"] == "fr")
    assert [labels[i] for i, n in enumerate(french) if n] == sorted(
        {(now - timedelta(hours=h)).strftime("%Y-%m-%d %H:00") for h in (1, 2)})

    one = client.get(f"/api/v1/listening/units/{tree.paris.pk}/trends", {"by": "term", "hours": 200}).json()
    assert one["labels"][-1] == now.strftime("%Y-%m-%d %H:00") and len(one["labels"]) == 201
    totals = [(s["key"], sum(s["counts"])) for s in one["series"]]
    assert totals[0] == ("flooding", 3)  # the old report too; the most heard term first
    assert all(n < 3 for _, n in totals[1:])
    assert client.get(f"/api/v1/listening/units/{tree.paris.pk}/trends", {"by": "colour"}).status_code == 422
    assert client.get(f"/api/v1/listening/units/{tree.berlin.pk}/trends").status_code == 403


def test_volumes_over_time_by_term_show_hashtags_and_the_words_sources_listen_for(client, bob, tree, paris_source,
                                                                                  alice, europe_mastodon):
    """Beside the words naming stories, the term lines show the hashtags and the words the unit's sources listen
    for, per hour, from the alert counters (of the unit and the units below it)."""
    services.create_source(alice, unit=tree.paris, name="Libya", kind="keyword", platform="mastodon",
                           query="evacuation OR Misratah", account=europe_mastodon)
    now = timezone.now()
    services.ingest_posts(paris_source, [
        _post("e0", "Evacuation from the port #Misratah", 1, now),
        _post("e1", "EVACUATION boats are late #misratah #libya", 1, now),
        _post("e2", "Evacuation again", 3, now),
        _post("e3", "Old evacuation notice", 60, now),  # older than the counters' 48 hours
    ])
    Story.objects.all().delete()  # the lines below come from the counters alone, not from stories' words
    client.force_login(bob)
    one = client.get(f"/api/v1/listening/units/{tree.paris.pk}/trends", {"by": "term", "hours": 48}).json()
    lines = {s["key"]: s["counts"] for s in one["series"]}
    assert {key: sum(counts) for key, counts in lines.items()} == {
        "evacuation": 3, "misratah": 2, "#misratah": 2, "#libya": 1}  # "#Misratah" names the word too
    hours = [one["labels"][i] for i, n in enumerate(lines["evacuation"]) if n]
    assert hours == sorted({(now - timedelta(hours=h)).strftime("%Y-%m-%d %H:00") for h in (1, 3)})
    # Over a window longer than the counters are kept, only the full-text lines of the stories' words remain.
    longer = client.get(f"/api/v1/listening/units/{tree.paris.pk}/trends", {"by": "term", "hours": 100}).json()
    assert longer["series"] == []
    # The region above Paris sees Paris's terms too (to its people), not Paris's staff.
    assert client.get(f"/api/v1/listening/units/{tree.paris.parent_id}/trends").status_code == 403
    client.force_login(alice)
    above = client.get(f"/api/v1/listening/units/{tree.paris.parent_id}/trends", {"by": "term"}).json()
    assert {"evacuation", "#misratah"} <= {s["key"] for s in above["series"]}


def test_a_search_longer_than_what_is_read_is_cut_at_a_whole_word(client, bob, tree, heard):
    client.force_login(bob)
    long = "flooding " * 300  # 2,700 characters: cut at 500 in the middle of a word, it would find nothing
    found = client.get("/api/v1/listening/search", {"q": long}).json()["items"]
    assert sorted(item["external_id"] for item in found) == ["p0", "p1", "p3"]
    page = client.get("/listening/search/", {"q": long}).content.decode()
    assert "Only the first 500 characters of the search are read" in page and "near Lyon" in page
