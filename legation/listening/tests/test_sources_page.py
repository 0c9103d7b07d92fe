"""The sources page as its users see it: editing a source, removing one, and the page in Arabic."""

from __future__ import annotations

import json

import pytest

from legation.listening import services
from legation.listening.models import ListenedItem, ListeningSource
from legation.listening.tests.conftest import make_posts
from legation.records.models import Record


def _login(client, person):
    client.force_login(person)


def _settings(source, **changes):
    """The edit form's fields as the page prefills them, with some changed."""
    return {"name": source.name, "query": source.query, "active": "on" if source.active else "",
            "pull_every": source.pull_every, "batch_size": source.batch_size,
            "spike_threshold": source.spike_threshold, "spike_min_count": source.spike_min_count,
            "story_min_size": source.story_min_size, **changes}


def _field_errors(html, field):
    """The error list the form shows next to one field (empty when it has none)."""
    marker = f'<ul class="errorlist" id="id_{field}_error">'
    return html.split(marker)[1].split("</ul>")[0] if marker in html else ""


@pytest.fixture
def viewer(tree, alice):
    from legation.network import services as network_services

    return network_services.create_person(alice, unit=tree.paris, username="val", role="viewer",
                                          password="viewer-secret-pw")


@pytest.fixture
def omar(tree, alice):
    """An editor at Paris who reads the interface in Arabic (as the demo's cairo-editor)."""
    from legation.network import services as network_services

    return network_services.create_person(alice, unit=tree.paris, username="omar", role="editor",
                                          password="omar-secret-pw-1", language="ar")


def test_the_edit_page_is_prefilled_with_the_source_settings(client, bob, paris_source):
    _login(client, bob)
    html = client.get("/listening/sources/").content.decode()
    assert f'href="/listening/sources/{paris_source.pk}/edit/"' in html
    form = client.get(f"/listening/sources/{paris_source.pk}/edit/").content.decode()
    assert 'name="name" value="Paris keywords"' in form and 'name="query" value="veridia"' in form
    assert 'name="batch_size" value="100"' in form


def test_editing_a_source_changes_it_and_the_page_shows_it(client, bob, paris_source):
    _login(client, bob)
    response = client.post(f"/listening/sources/{paris_source.pk}/edit/",
                           _settings(paris_source, name="Paris floods", query="flood OR inondation",
                                     story_min_size=5), follow=True)
    html = response.content.decode()
    assert "Source updated." in html
    assert "Paris floods" in html and "flood OR inondation" in html
    source = ListeningSource.objects.get(pk=paris_source.pk)
    assert (source.name, source.query, source.story_min_size) == ("Paris floods", "flood OR inondation", 5)
    entry = Record.objects.filter(action="listening.source_updated", object_id=str(source.pk)).latest("id")
    assert json.loads(entry.payload)["after"] == {"name": "Paris floods", "query": "flood OR inondation",
                                                  "story_min_size": 5}


def test_a_refused_value_shows_next_to_its_field_and_changes_nothing(client, bob, paris_source):
    _login(client, bob)
    response = client.post(f"/listening/sources/{paris_source.pk}/edit/",
                           _settings(paris_source, query="typed with care", batch_size=0))
    html = response.content.decode()
    assert response.status_code == 200
    assert "greater than or equal to 1" in _field_errors(html, "batch_size")
    assert 'aria-invalid="true" aria-describedby="id_batch_size_error"' in html
    assert 'name="query" value="typed with care"' in html  # what was typed is still there
    assert ListeningSource.objects.get(pk=paris_source.pk).query == "veridia"


def test_a_name_taken_on_the_unit_is_refused_by_the_service_next_to_the_name(client, bob, tree, alice,
                                                                             paris_source):
    services.create_source(alice, unit=tree.paris, name="Paris hashtag", kind="hashtag", platform="mastodon",
                           query="#veridia", account=paris_source.account)
    _login(client, bob)
    response = client.post(f"/listening/sources/{paris_source.pk}/edit/",
                           _settings(paris_source, name="Paris hashtag", pull_every=30))
    html = response.content.decode()
    assert "this unit already has a source with that name" in _field_errors(html, "name")
    assert 'name="pull_every" value="30"' in html and 'name="name" value="Paris hashtag"' in html
    source = ListeningSource.objects.get(pk=paris_source.pk)
    assert (source.name, source.pull_every) == ("Paris keywords", 5)


def test_a_viewer_sees_no_edit_control_and_cannot_edit(client, viewer, paris_source):
    _login(client, viewer)
    html = client.get("/listening/sources/").content.decode()
    assert "/edit/" not in html and "data-confirm" not in html
    url = f"/listening/sources/{paris_source.pk}/edit/"
    assert client.get(url).status_code == 403
    assert client.post(url, _settings(paris_source, name="Hijacked")).status_code == 403
    assert ListeningSource.objects.get(pk=paris_source.pk).name == "Paris keywords"


def test_a_source_of_another_mission_is_not_found(client, bob, berlin_source):
    _login(client, bob)
    assert client.get(f"/listening/sources/{berlin_source.pk}/edit/").status_code == 404


def test_remove_asks_first_and_pause_does_not(client, bob, paris_source):
    _login(client, bob)
    html = client.get("/listening/sources/").content.decode()
    remove = html.split('class="inline remove-source"')[1].split("</form>")[0]
    assert 'data-confirm="Remove the source “Paris keywords”? What it heard stays searchable."' in remove
    assert f'name="delete" value="{paris_source.pk}"' in remove
    toggle = html.split(f'name="toggle" value="{paris_source.pk}"')[0].rsplit("<form", 1)[1]
    assert "data-confirm" not in toggle
    assert "onclick" not in html and "<script>" not in html.split("<main id=\"main\" tabindex=\"-1\">")[1]
    client.post("/listening/sources/", {"delete": paris_source.pk})  # the server removes on POST
    assert not ListeningSource.objects.exists()


def test_the_arabic_reader_sees_the_sources_page_in_arabic(client, omar, paris_source, tree, alice):
    services.create_source(alice, unit=tree.paris, name="Paris hashtag", kind="hashtag", platform="mastodon",
                           query="#veridia", account=paris_source.account)
    _login(client, omar)
    html = client.get("/listening/sources/").content.decode()
    assert "الحساب الرسمي" in html and ">Account" not in html  # the form's label
    assert "تعديل" in html  # the edit link
    assert 'data-confirm="إزالة المصدر' in html
    # The platform menu names the platforms in Arabic where they have a name there (brand names stay).
    assert '<option value="facebook">صفحة فيسبوك</option>' in html
    assert '<option value="rss">موجز RSS / Atom</option>' in html and "RSS / Atom feed" not in html
    assert '<option value="mastodon">Mastodon</option>' in html
    response = client.post(f"/listening/sources/{paris_source.pk}/edit/",
                           _settings(paris_source, name="Paris hashtag"))
    assert "لدى هذه الوحدة مصدر بهذا الاسم" in _field_errors(response.content.decode(), "name")


def test_the_arabic_reader_sees_sentiments_and_categories_in_arabic(client, omar, paris_source):
    services.ingest_posts(paris_source, make_posts(["Roads flooded near the river"]))
    ListenedItem.objects.update(sentiment="negative", crisis_category="caution_and_advice")
    _login(client, omar)
    search = client.get("/listening/search/").content.decode()
    assert '<option value="negative">سلبي</option>' in search and ">neutral<" not in search
    results = search.split('id="results"')[1]
    assert "سلبي" in results and "تحذيرات ونصائح" in results and "Caution and advice" not in results
    dashboard = client.get("/listening/").content.decode()
    figures = json.loads(dashboard.split('id="listening-figures" type="application/json">')[1]
                         .split("</script>")[0])
    assert figures["sentiment_by_language"]["labels"] == {"negative": "سلبي", "neutral": "محايد",
                                                          "positive": "إيجابي"}
    assert figures["categories"][0]["label"] == "تحذيرات ونصائح"


def test_the_dashboard_says_one_hour_not_one_hours(client, bob, omar, paris_source):
    _login(client, bob)
    one = client.get("/listening/", {"hours": "1"}).content.decode()
    assert "in the last hour" in one and "1 hours" not in one
    assert "in the last 48 hours" in client.get("/listening/").content.decode()
    _login(client, omar)
    assert "خلال الساعة الأخيرة" in client.get("/listening/", {"hours": "1"}).content.decode()
    assert "خلال آخر ساعتين" in client.get("/listening/", {"hours": "2"}).content.decode()
    assert "خلال آخر 5 ساعات" in client.get("/listening/", {"hours": "5"}).content.decode()
    trend_by = client.get("/listening/").content.decode().split('id="trend-by"')[1].split("</select>")[0]
    assert '<option value="language">اللغة</option>' in trend_by


def test_a_search_without_an_account_is_refused_next_to_the_account_and_keeps_what_was_typed(client, bob,
                                                                                           paris_source):
    _login(client, bob)
    typed = {"name": "Protests", "kind": "hashtag", "platform": "mastodon", "query": "#veridia", "account": "",
             "pull_every": 15, "batch_size": 100, "spike_threshold": 3, "spike_min_count": 20,
             "story_min_size": 5}
    html = client.post("/listening/sources/", typed).content.decode()
    assert "Mastodon is heard through one of our accounts there" in _field_errors(html, "account")
    assert 'value="Protests"' in html and 'value="#veridia"' in html
    assert not ListeningSource.objects.filter(name="Protests").exists()
    response = client.post("/listening/sources/", {**typed, "account": paris_source.account.pk})
    assert response.status_code == 302
    assert ListeningSource.objects.get(name="Protests").account == paris_source.account


def test_a_button_value_that_is_no_id_is_not_found_and_changes_nothing(client, bob, paris_source):
    _login(client, bob)
    for name in ("toggle", "delete"):
        for value in ("abc", "", "1.5", "-1", "9" * 5000, "١"):
            assert client.post("/listening/sources/", {name: value}).status_code == 404, (name, value)
    paris_source.refresh_from_db()
    assert paris_source.active


def test_numbers_typed_into_page_addresses_are_kept_in_range(client, bob, paris_source):
    _login(client, bob)
    for params in ({"page": "9" * 5000}, {"page": "0"}, {"page": "x"}):
        assert client.get("/listening/search/", params).status_code == 200, params
    dashboard = client.get("/listening/", {"hours": "9" * 5000})
    assert dashboard.status_code == 200 and dashboard.context["hours"] == 24 * 30
    assert client.get("/listening/", {"hours": "abc"}).context["hours"] == 48
