"""Alerts and story names in each reader's language: on the dashboard, in the API and in the e-mail."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.utils import timezone

from legation.listening import services
from legation.listening.models import Story


@pytest.fixture
def readers(tree, alice, bob, settings):
    """Bob reads English; Omar, an editor at the same embassy, reads Arabic; both get alerts by e-mail."""
    from legation.network import services as network

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    bob.email = "bob@veridia.example"
    bob.save()
    omar = network.create_person(alice, unit=tree.paris, username="omar", role="editor", password="omar-secret-pw-1",
                                 language="ar", email="omar@veridia.example")
    return bob, omar


def test_a_spike_is_written_to_each_person_in_their_language(tree, readers, client):
    bob, omar = readers
    alert = services.raise_alert(unit=tree.paris, kind="spike", key="language:fr@2026-12-05T08",
                                 message="Spike in language fr: 13 posts in the last hour (8.4× the usual)", count=13,
                                 score=8.4)
    assert alert is not None and alert.emailed_to == 2
    by_reader = {m.to[0]: m for m in mail.outbox}
    english, arabic = by_reader["bob@veridia.example"], by_reader["omar@veridia.example"]
    assert "Spike in posts in French: 13 posts in the last hour (8.4× the usual)" in english.subject
    assert "ارتفاع مفاجئ في المنشورات بـ" in arabic.subject and "13 منشورًا" in arabic.body
    assert "الوحدة: Embassy in Paris" in arabic.body
    client.force_login(omar)
    dashboard = client.get("/listening/").content.decode()
    assert "ارتفاع مفاجئ في المنشورات بـ" in dashboard and "Spike in" not in dashboard
    client.force_login(bob)
    listed = json.loads(client.get("/api/v1/listening/alerts").content)
    assert listed[0]["text"].startswith("Spike in posts in French") and listed[0]["score"] == 8.4
    assert listed[0]["message"] == alert.message  # the ledger's English wording stays as recorded


def test_a_new_story_is_named_by_its_category_in_the_reader_language(tree, readers, client):
    _bob, omar = readers
    now = timezone.now()
    story = Story.objects.create(unit=tree.paris, unit_path=tree.paris.path, key="k1", size=30,
                                 label="requests or urgent needs — Benghazi", first_seen=now, last_seen=now)
    services.raise_alert(unit=tree.paris, kind="new_story", key=f"story:{story.pk}",
                         message=f"New story: {story.label} (30 posts)", count=30, story=story)
    arabic = next(m for m in mail.outbox if m.to == ["omar@veridia.example"])
    assert "قصة جديدة: طلبات أو احتياجات عاجلة — Benghazi (30 منشورًا)" in arabic.subject
    client.force_login(omar)
    dashboard = client.get("/listening/").content.decode()
    assert "طلبات أو احتياجات عاجلة — Benghazi" in dashboard and "requests or urgent needs" not in dashboard


def test_a_country_spike_names_the_country_in_the_reader_language(tree, readers, client):
    _bob, omar = readers
    services.raise_alert(unit=tree.paris, kind="spike", key="country:LY@2026-12-05T08",
                         message="Spike in country LY: 30 posts in the last hour (30.0× the usual)", count=30,
                         score=30.0)
    by_reader = {m.to[0]: m for m in mail.outbox}
    assert "Spike in posts about Libya: 30 posts" in by_reader["bob@veridia.example"].subject
    assert "المنشورات عن ليبيا" in by_reader["omar@veridia.example"].subject
    client.force_login(omar)
    assert "المنشورات عن ليبيا" in client.get("/listening/").content.decode()


def test_languages_django_does_not_name_are_named_from_iso_639_in_the_reader_language():
    from django.utils import translation

    from legation.listening.models import language_name

    with translation.override("en"):
        assert [language_name(code) for code in ("zh", "so", "ceb", "fr", "qq")] == [
            "Chinese", "Somali", "Cebuano", "French", "qq"]
    with translation.override("fr"):
        assert language_name("zh") == "Chinois"
    with translation.override("ar"):
        assert language_name("zh") == "الصينية"
        assert language_name("ug") == "الاغورية"  # Django's catalogue leaves "Uyghur" in English
        assert language_name("ms") == "Malay"  # neither catalogue has it in Arabic: Django's English name
    with translation.override("fr"):
        assert (language_name("no"), language_name("nb"), language_name("ms")) == (
            "Norvégien", "Norvégien bokmål", "Malais")
    with translation.override("en"):
        assert (language_name("nb"), language_name("ms")) == ("Norwegian Bokmal", "Malay")


def test_countries_among_places_are_named_in_the_reader_language_and_cities_as_the_gazetteer_spells_them(
        client, readers, paris_source):
    from django.utils import timezone
    from django.utils.translation import override

    from legation.listening.ingest import Post
    from legation.listening.models import ListenedItem, place_label, series_name
    from legation.listening.trends import overview

    with override("ar"):
        assert place_label("Libya") == "ليبيا" and place_label("Libya", "LY") == "ليبيا"
        assert place_label("Benghazi", "LY") == "Benghazi"
        assert series_name("place:Libya") == "المنشورات التي تذكر ليبيا"
    with override("fr"):
        assert place_label("Libya") == "Libye"
        assert series_name("place:Benghazi") == "les publications qui nomment Benghazi"
    now = timezone.now()
    services.ingest_posts(paris_source, [Post(text=f"Floods in Libya {i}", platform="x", external_id=f"l{i}",
                                              created_at=now) for i in range(2)])
    ListenedItem.objects.update(countries=",LY,", places=[
        {"name": "Libya", "country": "LY", "lat": 32.9, "lon": 13.2},
        {"name": "Benghazi", "country": "LY", "lat": 32.1, "lon": 20.1}])
    with override("ar"):
        figures = overview(paris_source.unit, hours=24)
        assert figures["countries"] == [{"country": "LY", "name": "ليبيا", "count": 2}]
        assert {p["name"]: p["label"] for p in figures["places"]} == {"Libya": "ليبيا", "Benghazi": "Benghazi"}
        labels = {row["key"]: row["label"] for row in figures["over_time"]["place"]}
        assert labels == {"Libya": "ليبيا", "Benghazi": "Benghazi (LY)"}
    client.force_login(readers[1])  # omar
    page = client.get("/listening/").content.decode()
    assert 'title="LY">ليبيا</a> 2' in page
