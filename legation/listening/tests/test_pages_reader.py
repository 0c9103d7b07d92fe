"""What a reader of the listening pages sees: their language, a phone, a screen reader, many alerts."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from legation.listening import services
from legation.listening.models import ListenedItem
from legation.listening.tests.conftest import make_posts


def _figures(html, name="listening-figures"):
    return json.loads(html.split(f'id="{name}" type="application/json">')[1].split("</script>")[0])


def test_a_french_reader_sees_languages_named_in_french_on_the_dashboard_results_and_post(client, alice, bob,
                                                                                          paris_source):
    services.ingest_posts(paris_source, make_posts(["Inondations à Paris", "Flooding in Paris"], prefix="p"))
    ListenedItem.objects.filter(external_id="p0").update(language="fr")
    ListenedItem.objects.filter(external_id="p1").update(language="en")
    bob.language = "fr"
    bob.save()
    client.force_login(bob)
    html = client.get("/listening/").content.decode()
    sbl = _figures(html)["sentiment_by_language"]
    assert dict(zip(sbl["languages"], sbl["language_labels"], strict=True)) == {"fr": "Français", "en": "Anglais"}
    assert sbl["labels"]["negative"] != "negative"  # the legend's words, in French
    words = _figures(html, "listening-words")
    assert words["posts"] != "posts" and words["zoom_in"] != "Zoom in"
    assert 'id="stats"' in html and 'id="countries"' in html and 'role="img"' in html
    results = client.get("/listening/search/", {"q": "Paris"}).content.decode()
    assert '<td title="fr">Français</td>' in results and '<div class="table-scroll">' in results
    item = ListenedItem.objects.get(external_id="p0")
    page = client.get(f"/listening/items/{item.pk}/").content.decode()
    assert '<dd title="fr">Français</dd>' in page and "UTC" in page


def test_more_open_alerts_than_the_dashboard_lists_are_counted(client, alice, tree):
    for n in range(22):
        services.raise_alert(unit=tree.paris, kind="spike", key=f"all@{n}", message=f"Spike {n}", count=40)
    client.force_login(alice)
    session = client.session
    session["unit_id"] = tree.paris.pk
    session.save()
    html = client.get("/listening/").content.decode()
    assert html.count("data-alert=") == 20
    assert "and 2 more open alerts" in html
    assert 'aria-label="Acknowledge: ' in html  # each button says which alert it acknowledges


def test_the_unit_switcher_answers_a_value_that_is_not_a_unit_with_404(client, bob):
    client.force_login(bob)
    for value in ("abc", "", "1e3"):
        assert client.post("/switch-unit/", {"unit": value}).status_code == 404


def test_a_feed_address_on_a_platform_that_reads_an_accounts_timeline_is_refused_at_setup(tree, alice):
    from legation.network import services as network

    account = network.register_account(alice, unit=tree.paris, platform="sandbox", handle="@VeridiaFR")
    with pytest.raises(ValidationError) as refused:
        services.create_source(alice, unit=tree.paris, name="Feed", kind="feed", platform="sandbox",
                               query="https://example.org/x", account=account)
    assert refused.value.message_dict["query"] == [
        "Sandbox reads the timeline of the account chosen, not a feed's address: a feed is read on the platform "
        "RSS / Atom feed"]


def test_an_urdu_reader_reads_how_long_ago_in_urdu():
    """Django's own Urdu catalogue leaves "2 minutes ago" empty: the dashboard's stories and alerts said it in
    English."""
    from datetime import timedelta

    from django.contrib.humanize.templatetags.humanize import naturaltime
    from django.utils import timezone, translation

    with translation.override("ur"):
        assert naturaltime(timezone.now() - timedelta(minutes=2, seconds=5)) == "2 منٹ پہلے"
        assert naturaltime(timezone.now() - timedelta(hours=3, minutes=1)) == "3 گھنٹے پہلے"


def test_a_sources_number_field_names_one_least_value():
    from legation.listening.forms import SourceEditForm

    fields = {"name": "x", "query": "q", "batch_size": "10", "spike_threshold": "3", "spike_min_count": "5",
              "story_min_size": "3"}
    for typed in ("-1", "0"):
        form = SourceEditForm(data={**fields, "pull_every": typed})
        assert not form.is_valid()
        assert form.errors["pull_every"] == ["Ensure this value is greater than or equal to 1."]
    assert 'min="1" max="43200"' in str(form["pull_every"])


def test_the_dashboards_own_refresh_leaves_the_messages_for_the_next_page(client, bob, paris_source):
    services.ingest_posts(paris_source, make_posts(["Flooding in Paris"], prefix="m"))
    item = ListenedItem.objects.get()
    client.force_login(bob)
    client.post(f"/listening/items/{item.pk}/read-accurately/")  # a message for the page it goes back to
    assert client.get("/listening/", {"refresh": "1"}).status_code == 200  # the open dashboard's minute
    page = client.get(f"/listening/items/{item.pk}/").content.decode()
    assert "will read this post in a moment" in page
    client.post(f"/listening/items/{item.pk}/read-accurately/")
    assert "were asked to read this post already" in client.get(f"/listening/items/{item.pk}/").content.decode()
