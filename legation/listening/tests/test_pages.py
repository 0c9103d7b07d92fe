"""The listening pages: dashboard, search with filters and exports, saved searches, sources, alerts."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from legation.listening import alerts, services
from legation.listening.models import Alert, ListenedItem, SavedSearch
from legation.listening.tests.conftest import make_posts


@pytest.fixture
def heard(paris_source, berlin_source):
    services.ingest_posts(paris_source, make_posts(["Flooding in Paris, roads closed", "Concert at the embassy"],
                                                   prefix="paris"))
    services.ingest_posts(berlin_source, make_posts(["Flooding in Berlin too"], prefix="berlin"))
    ListenedItem.objects.filter(external_id="paris0").update(language="fr", countries=",FR,",
                                                             places=[{"name": "Paris", "country": "FR",
                                                                      "lat": 48.85, "lon": 2.35}])


def _login(client, person, unit=None):
    client.force_login(person)
    if unit is not None:
        session = client.session
        session["unit_id"] = unit.pk
        session.save()


def test_the_dashboard_shows_charts_and_the_map_data(client, bob, tree, heard):
    _login(client, bob)
    page = client.get("/listening/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="chart-volume"' in html and 'id="map"' in html and "vendor/chartjs/chart.umd.min.js" in html
    main = html.split('<main id="main" tabindex="-1">')[1]
    assert "http://" not in main.replace("http://testserver", "")  # nothing from elsewhere
    figures = json.loads(html.split('id="listening-figures" type="application/json">')[1].split("</script>")[0])
    assert figures["total"] == 2  # Paris only: Berlin is not bob's
    assert figures["places"][0]["name"] == "Paris"


def test_search_filters_and_exports(client, bob, tree, heard):
    _login(client, bob)
    page = client.get("/listening/search/", {"q": "flooding"})
    html = page.content.decode()
    assert "<mark>Flooding</mark> in Paris" in html and "Berlin" not in html.split('id="results"')[1]
    assert "Concert" not in client.get("/listening/search/", {"language": "fr"}).content.decode()
    assert "Flooding in Paris" in client.get("/listening/search/", {"country": "fr"}).content.decode()
    csv_lines = b"".join(client.get("/listening/search/", {"q": "flooding", "export": "csv"}).streaming_content)
    assert csv_lines.decode("utf-8-sig").splitlines()[0].startswith("id,created_at,platform")
    assert len(csv_lines.decode().strip().splitlines()) == 2
    jsonl = b"".join(client.get("/listening/search/", {"export": "jsonl"}).streaming_content).decode()
    assert {json.loads(line)["external_id"] for line in jsonl.splitlines()} == {"paris0", "paris1"}


def test_a_post_opened_from_search_results_shows_its_matches(client, bob, tree, heard):
    _login(client, bob)
    item = ListenedItem.objects.get(external_id="paris0")
    ListenedItem.objects.filter(pk=item.pk).update(text="Flooding in Paris,\nroads <closed>")
    results = client.get("/listening/search/", {"q": "roads flooding"}).content.decode()
    assert f'href="/listening/items/{item.pk}/?q=roads%20flooding"' in results
    page = client.get(f"/listening/items/{item.pk}/", {"q": "roads flooding"}).content.decode()
    assert ('id="post-text"><mark>Flooding</mark> in Paris,<br><mark>roads</mark> &lt;closed&gt;</blockquote>'
            in page)
    plain = client.get(f"/listening/items/{item.pk}/").content.decode()
    assert "<mark>" not in plain and "Flooding in Paris,<br>roads &lt;closed&gt;" in plain


def test_a_search_is_saved_and_reopened(client, bob, tree, heard):
    _login(client, bob)
    response = client.post("/listening/search/?q=flooding&language=fr", {"name": "French floods"})
    assert response.status_code == 302
    saved = SavedSearch.objects.get(owner=bob)
    assert saved.params == {"q": "flooding", "language": "fr"}
    page = client.get("/listening/search/").content.decode()
    assert "French floods" in page and "Search saved." in page
    # the same name again: the search is replaced, and the page says so
    client.post("/listening/search/?q=concert", {"name": "French floods"})
    assert SavedSearch.objects.get(owner=bob).params == {"q": "concert"}
    assert "Saved search “French floods” replaced." in client.get("/listening/search/").content.decode()


def test_sources_page_lets_an_editor_add_and_a_viewer_only_look(client, bob, charlie, tree, alice,
                                                                europe_mastodon):
    _login(client, bob)
    response = client.post("/listening/sources/", {"name": "Hashtag", "kind": "hashtag", "platform": "mastodon",
                                                   "account": europe_mastodon.pk,
                                                   "query": "#veridia", "pull_every": 5, "batch_size": 100,
                                                   "spike_threshold": 3, "spike_min_count": 10,
                                                   "story_min_size": 8})
    assert response.status_code == 302
    assert "Hashtag" in client.get("/listening/sources/").content.decode()
    from legation.network import services as network_services

    viewer = network_services.create_person(alice, unit=tree.paris, username="val", role="viewer",
                                            password="viewer-secret-pw")
    _login(client, viewer)
    assert "Add source" not in client.get("/listening/sources/").content.decode()


def test_a_new_story_alert_is_shown_emailed_and_acknowledged(client, bob, tree, alice, paris_source,
                                                             settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    bob.email = "bob@veridia.example"
    bob.save()
    services.update_source(alice, paris_source, story_min_size=3)
    text = "Copy and share: the northern border crossing is closed until further notice"
    services.ingest_posts(paris_source, make_posts([text] * 4))
    raised = alerts.evaluate(tree.paris)
    assert [a.kind for a in raised] == ["new_story"]
    assert alerts.evaluate(tree.paris) == []  # once only
    assert mail.outbox and mail.outbox[0].to == ["bob@veridia.example"]
    assert "New story" in mail.outbox[0].subject
    from legation.network import services as network_services

    viewer = network_services.create_person(alice, unit=tree.paris, username="val", role="viewer",
                                            password="viewer-secret-pw")
    _login(client, viewer)  # may read alerts, not acknowledge them: told why, on a page of the site
    refused = client.post(f"/listening/alerts/{raised[0].pk}/acknowledge/")
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "This needs the Editor role or above on Embassy in Paris." in page and 'id="refused"' in page
    missing = client.get("/listening/items/999999/")
    assert missing.status_code == 404 and 'id="not-found"' in missing.content.decode()
    _login(client, bob)
    assert "New story" in client.get("/listening/").content.decode()
    client.post(f"/listening/alerts/{raised[0].pk}/acknowledge/")
    assert Alert.objects.get().acknowledged_by == bob


def test_a_spike_raises_an_alert(tree, alice, paris_source):
    from datetime import timedelta

    from django.utils import timezone

    from legation.listening.ingest import Post

    now = timezone.now()
    posts = [Post(text=f"quiet day {i}", platform="x", external_id=f"q{i}", created_at=now - timedelta(hours=h))
             for i, h in enumerate(range(1, 11))]
    posts += [Post(text=f"everyone talks about the storm {i}", platform="x", external_id=f"s{i}", created_at=now)
              for i in range(40)]
    services.ingest_posts(paris_source, posts)
    raised = alerts.evaluate(tree.paris, now=now)
    assert any(a.kind == "spike" and a.key.startswith("all@") for a in raised)


def test_exports_read_as_the_api_shows_items(client, bob, tree, heard):
    _login(client, bob)
    raw = b"".join(client.get("/listening/search/", {"q": "flooding", "export": "csv"}).streaming_content)
    assert raw.startswith(b"\xef\xbb\xbfid,created_at,")  # UTF-8 byte-order mark: spreadsheets read Arabic right
    jsonl = b"".join(client.get("/listening/search/", {"q": "flooding", "export": "jsonl"}).streaming_content)
    row = json.loads(jsonl.decode().splitlines()[0])
    assert row["countries"] == ["FR"]
    assert "T" in row["created_at"] and row["created_at"].endswith("+00:00")


def test_odd_search_parameters_never_fail_the_page(client, bob, tree, heard):
    _login(client, bob)
    for params in ({"since": "2026-13-45"}, {"until": "2026-02-30"}, {"since": "2026-11-23T99:00"},
                   {"page": "99999999999999999999"}, {"q": "flooding", "page": "99999999999999999999"},
                   {"since": "2026-02-30", "export": "csv"}):
        response = client.get("/listening/search/", params)
        assert response.status_code == 200, params


def test_a_date_that_cannot_be_read_is_named_not_silently_dropped(client, bob, tree, heard):
    _login(client, bob)
    page = client.get("/listening/search/", {"q": "flooding", "since": "last tuesday"}).content.decode()
    assert "“last tuesday” is not a date (From (date)): the search is not limited by it." in page
    assert "<mark>Flooding</mark> in Paris" in page
    assert "is not a date" not in client.get("/listening/search/", {"since": "2026-01-31"}).content.decode()


def test_saving_a_search_without_a_name_says_so(client, bob, tree, heard):
    _login(client, bob)
    response = client.post("/listening/search/?q=flooding", {"name": "   "}, follow=True)
    assert "Give the search a name to save it." in response.content.decode()
    assert not SavedSearch.objects.exists()
    response = client.post("/listening/search/?q=flooding", {"name": "x" * 300}, follow=True)
    assert "Ensure this value has at most 200 characters (it has 300)." in response.content.decode()
    assert not SavedSearch.objects.exists()


def test_a_post_link_that_is_not_a_web_address_is_not_a_link(client, bob, tree, paris_source):
    from legation.listening.ingest import Post

    services.ingest_posts(paris_source, [
        Post(text="click me", platform="mastodon", external_id="js", url="javascript:alert(document.domain)"),
        Post(text="fine link", platform="mastodon", external_id="ok", url="https://mastodon.example/@a/1"),
    ])
    _login(client, bob)
    bad = ListenedItem.objects.get(external_id="js")
    html = client.get(f"/listening/items/{bad.pk}/").content.decode()
    assert "click me" in html and "javascript:" not in html
    good = ListenedItem.objects.get(external_id="ok")
    assert 'href="https://mastodon.example/@a/1"' in client.get(f"/listening/items/{good.pk}/").content.decode()


def test_the_web_form_refuses_the_settings_the_api_refuses(client, bob, tree):
    _login(client, bob)
    base = {"name": "Hashtag", "kind": "hashtag", "platform": "mastodon", "query": "#veridia", "pull_every": 5,
            "batch_size": 100, "spike_threshold": 3, "spike_min_count": 10, "story_min_size": 8}
    for field, value in (("pull_every", 0), ("batch_size", 0), ("batch_size", 1_000_000_000),
                         ("spike_threshold", -1), ("story_min_size", 0)):
        response = client.post("/listening/sources/", {**base, field: value})
        assert response.status_code == 200, (field, value)  # the form again, with its error
        assert "errorlist" in response.content.decode(), (field, value)
    assert not services.ListeningSource.objects.exists()
    feed = client.post("/listening/sources/", {**base, "kind": "feed", "platform": "rss", "query": "not a url"})
    assert "errorlist" in feed.content.decode() and not services.ListeningSource.objects.exists()


def test_an_alert_of_a_unit_where_nobody_holds_a_role_is_mailed_to_the_nearest_unit_above(tree, alice):
    # Europe (a region) has no people of its own; the ministry's admin sees its alerts and gets the e-mail.
    alice.email = "alice@veridia.example"
    alice.save()
    alert = services.raise_alert(unit=tree.europe, kind="spike", key="flood", message="Spike: flood", count=40)
    assert alert is not None and alert.emailed_to == 1
    assert mail.outbox[-1].to == [alice.email] and "Europe" in mail.outbox[-1].subject


def test_search_filters_offer_languages_heard_lately_first_by_name_without_reading_every_post(
        client, bob, tree, paris_source, berlin_source):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.ingest_posts(paris_source, make_posts([
        "Les rendez-vous de visa à Paris sont complets jusqu'en mars, c'est décevant",
        "Veridia and France sign a cultural agreement in Paris today",
    ], prefix="lately"))
    services.ingest_posts(berlin_source, make_posts([
        "Die Delegation in Brüssel veröffentlicht heute einen neuen Bericht über die Lage"], prefix="berlin"))
    _login(client, bob)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/listening/search/", {"language": "sw"}).content.decode()
    select = html.split('id="f-language"')[1].split("</select>")[0]
    lately, others = select.split("<optgroup")[1:3]
    assert 'label="Heard lately"' in lately and 'label="Other languages"' in others
    # Paris heard French and English (Berlin's German is Berlin's), and the language asked for stays offered.
    assert '<option value="fr">French (fr)</option>' in lately and '<option value="en">English (en)</option>' in lately
    assert '<option value="sw" selected>Swahili (sw)</option>' in lately
    assert 'value="de"' not in lately and '<option value="de">German (de)</option>' in others
    platforms = html.split('id="f-platform"')[1].split("</select>")[0]
    assert '<option value="mastodon">Mastodon</option>' in platforms and ">Bluesky<" in platforms
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()
                and "listening_listeneditem" in q["sql"]]


def test_the_search_page_says_how_much_an_export_holds_when_the_search_is_large(client, bob, tree, heard,
                                                                                 monkeypatch):
    from legation.listening import search as search_module

    _login(client, bob)
    assert 'id="export-limit"' not in client.get("/listening/search/").content.decode()  # 2 posts: all exported
    monkeypatch.setattr(search_module, "COUNT_CAP", 1)  # "1+": more than the page counts
    html = client.get("/listening/search/").content.decode()
    assert "a file holds the newest 100,000 posts" in html
