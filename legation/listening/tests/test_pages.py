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
    assert "http://" not in html.split("<main>")[1].replace("http://testserver", "")  # nothing from elsewhere
    figures = json.loads(html.split('id="listening-figures" type="application/json">')[1].split("</script>")[0])
    assert figures["total"] == 2  # Paris only: Berlin is not bob's
    assert figures["places"][0]["name"] == "Paris"


def test_search_filters_and_exports(client, bob, tree, heard):
    _login(client, bob)
    page = client.get("/listening/search/", {"q": "flooding"})
    html = page.content.decode()
    assert "Flooding in Paris" in html and "Berlin" not in html.split('id="results"')[1]
    assert "Concert" not in client.get("/listening/search/", {"language": "fr"}).content.decode()
    assert "Flooding in Paris" in client.get("/listening/search/", {"country": "fr"}).content.decode()
    csv_lines = b"".join(client.get("/listening/search/", {"q": "flooding", "export": "csv"}).streaming_content)
    assert csv_lines.decode().splitlines()[0].startswith("id,created_at,platform")
    assert len(csv_lines.decode().strip().splitlines()) == 2
    jsonl = b"".join(client.get("/listening/search/", {"export": "jsonl"}).streaming_content).decode()
    assert {json.loads(line)["external_id"] for line in jsonl.splitlines()} == {"paris0", "paris1"}


def test_a_search_is_saved_and_reopened(client, bob, tree, heard):
    _login(client, bob)
    response = client.post("/listening/search/?q=flooding&language=fr", {"name": "French floods"})
    assert response.status_code == 302
    saved = SavedSearch.objects.get(owner=bob)
    assert saved.params == {"q": "flooding", "language": "fr"}
    assert "French floods" in client.get("/listening/search/").content.decode()


def test_sources_page_lets_an_editor_add_and_a_viewer_only_look(client, bob, charlie, tree, alice):
    _login(client, bob)
    response = client.post("/listening/sources/", {"name": "Hashtag", "kind": "hashtag", "platform": "mastodon",
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
