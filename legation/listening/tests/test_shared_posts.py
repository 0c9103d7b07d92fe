"""A post heard by two missions is stored once, with the first one's source and story; the other mission sees it
as heard through its own source, with nothing of the first one's set-up."""

from __future__ import annotations

import csv
import io
import json

from django.utils import timezone

from legation.listening import services
from legation.listening.models import ListenedItem, Story
from legation.listening.tests.conftest import make_posts


def test_a_post_two_missions_heard_shows_each_its_own_source(client, bob, charlie, paris_source, berlin_source):
    services.ingest_posts(paris_source, make_posts(["Roads flooded near the river in Veridia"]))
    services.ingest_posts(berlin_source, make_posts(["Roads flooded near the river in Veridia"]))
    item = ListenedItem.objects.get()
    now = timezone.now()
    story = Story.objects.create(unit=paris_source.unit, unit_path=paris_source.unit.path, key="k", size=9,
                                 label="Paris's own story", first_seen=now, last_seen=now)
    ListenedItem.objects.filter(pk=item.pk).update(story=story)

    client.force_login(charlie)  # Berlin
    page = client.get(f"/listening/items/{item.pk}/").content.decode()
    assert "Berlin keywords" in page and "Embassy in Berlin" in page
    assert "Paris keywords" not in page and "Embassy in Paris" not in page and "Paris&#x27;s own story" not in page
    assert "Paris keywords" not in client.get("/listening/search/", {"q": "flooded"}).content.decode()
    # Berlin's own story of the post, if the post is in one (a crisis post: Berlin heard it after Paris), or none.
    berlins = Story.objects.filter(unit=berlin_source.unit).values_list("pk", flat=True).first()
    seen = json.loads(client.get(f"/api/v1/listening/items/{item.pk}").content)
    assert (seen["unit_id"], seen["source_id"], seen["story_id"]) == (berlin_source.unit.pk, berlin_source.pk,
                                                                      berlins)
    found = json.loads(client.get("/api/v1/listening/search", {"q": "flooded"}).content)["items"]
    assert found[0]["source_id"] == berlin_source.pk
    exported = client.get("/api/v1/listening/export", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["story_id"] == str(berlins or "") != str(story.pk)
    assert (rows[0]["unit"], rows[0]["source"]) == ("Embassy in Berlin", "Berlin keywords")
    assert (rows[0]["unit_id"], rows[0]["source_id"]) == (str(berlin_source.unit.pk), str(berlin_source.pk))

    client.force_login(bob)  # Paris heard it first: its own source and story
    seen = json.loads(client.get(f"/api/v1/listening/items/{item.pk}").content)
    assert (seen["source_id"], seen["story_id"]) == (paris_source.pk, story.pk)
    assert "Paris&#x27;s own story" in client.get(f"/listening/items/{item.pk}/").content.decode()
    exported = client.get("/api/v1/listening/export", {"format": "jsonl"})
    [row] = [json.loads(line) for line in b"".join(exported.streaming_content).decode().splitlines()]
    assert (row["unit"], row["source"], row["source_id"], row["story_id"]) == (
        "Embassy in Paris", "Paris keywords", paris_source.pk, story.pk)

    berlin_source.delete()  # heard through a source since removed: Berlin's unit, no source
    client.force_login(charlie)
    exported = client.get("/api/v1/listening/export", {"format": "jsonl"})
    [row] = [json.loads(line) for line in b"".join(exported.streaming_content).decode().splitlines()]
    assert (row["unit"], row["unit_id"], row["source"], row["source_id"]) == (
        "Embassy in Berlin", berlin_source.unit.pk, "", None)


def test_another_mission_source_cannot_be_used_to_learn_what_it_heard(client, charlie, paris_source, berlin_source):
    services.ingest_posts(paris_source, make_posts(["Roads flooded near the river in Veridia"]))
    services.ingest_posts(berlin_source, make_posts(["Roads flooded near the river in Veridia",
                                                     "Only Berlin heard this"], prefix="b"))
    client.force_login(charlie)  # Berlin: sees both posts, but not Paris's source
    assert len(json.loads(client.get("/api/v1/listening/search", {"q": ""}).content)["items"]) == 2
    by_paris = json.loads(client.get("/api/v1/listening/search", {"source": paris_source.pk}).content)
    assert by_paris["items"] == []
    mine = json.loads(client.get("/api/v1/listening/search", {"source": berlin_source.pk}).content)
    assert len(mine["items"]) == 2


def test_another_mission_unit_cannot_be_used_to_learn_what_it_heard(client, charlie, tree, paris_source,
                                                                   berlin_source):
    from legation.listening.search import Filters, search

    services.ingest_posts(paris_source, make_posts(["Roads flooded near the river in Veridia"]))
    services.ingest_posts(berlin_source, make_posts(["Roads flooded near the river in Veridia"]))
    client.force_login(charlie)  # Berlin sees the post, but may not ask whether Paris heard it too
    for path in ("/api/v1/listening/search", "/api/v1/listening/export"):
        assert client.get(path, {"unit": tree.paris.pk}).status_code == 403
        assert client.get(path, {"unit": 999_999}).status_code == 404
    mine = json.loads(client.get("/api/v1/listening/search", {"unit": tree.berlin.pk}).content)["items"]
    assert len(mine) == 1
    assert not search(charlie, "", Filters(unit=tree.paris.pk)).exists()  # the service refuses it too
    assert search(charlie, "", Filters(unit=tree.berlin.pk)).count() == 1


def test_a_post_another_mission_stored_shows_the_readers_own_story_of_it(client, bob, charlie, tree, paris_source,
                                                                        berlin_source):
    from legation.listening.ingest import Post, ingest
    from legation.listening.tests.test_alerts import _fake_enrich

    posts = [Post(text=f"en|requests_or_urgent_needs|LY|we need water {i}", platform="x", external_id=f"w{i}")
             for i in range(3)]
    ingest(paris_source, posts, enrich=_fake_enrich)
    ingest(berlin_source, posts, enrich=_fake_enrich)
    item = ListenedItem.objects.get(external_id="w0")
    paris, berlin = Story.objects.get(unit=tree.paris), Story.objects.get(unit=tree.berlin)
    Story.objects.filter(pk=berlin.pk).update(label="Berlin's own story")
    client.force_login(charlie)  # Berlin
    assert json.loads(client.get(f"/api/v1/listening/items/{item.pk}").content)["story_id"] == berlin.pk
    assert "Berlin&#x27;s own story" in client.get(f"/listening/items/{item.pk}/").content.decode()
    exported = client.get("/api/v1/listening/export", {"format": "jsonl", "q": "water"})
    lines = [json.loads(line) for line in b"".join(exported.streaming_content).decode().splitlines()]
    assert [line["story_id"] for line in lines] == [berlin.pk] * 3
    client.force_login(bob)  # Paris
    assert json.loads(client.get(f"/api/v1/listening/items/{item.pk}").content)["story_id"] == paris.pk


def test_copies_heard_by_a_mission_form_its_story_even_when_another_mission_stored_the_first(
        tree, paris_source, berlin_source):
    """A copy-paste campaign: Paris stores one copy (alone, no story), Berlin hears that copy and then another
    one. Berlin has heard two copies: its story of them forms, with Paris's copy as a member."""
    from legation.listening.models import StoryMember

    text = "Concert tonight at the opera in Veridia, tickets still available for everyone, come along"
    services.ingest_posts(paris_source, make_posts([text], prefix="a"))
    assert not Story.objects.exists()  # one copy is no story
    services.ingest_posts(berlin_source, make_posts([text], prefix="a"))  # the same post, heard again
    services.ingest_posts(berlin_source, make_posts([text], prefix="b"))  # a second copy, stored for Berlin
    story = Story.objects.get()
    assert (story.unit, story.size, story.key.startswith("dup:")) == (tree.berlin, 2, True)
    assert ListenedItem.objects.get(external_id="b0").story == story
    assert [m.item.external_id for m in StoryMember.objects.filter(story=story)] == ["a0"]
    assert ListenedItem.objects.get(external_id="a0").story is None  # Paris's post keeps no story of Paris's


def test_a_story_on_the_dashboard_links_to_its_posts_and_another_mission_story_shows_nothing(
        client, bob, charlie, tree, paris_source, berlin_source):
    from legation.listening.ingest import Post, ingest
    from legation.listening.tests.test_alerts import _fake_enrich

    needs = [Post(text=f"en|requests_or_urgent_needs|LY|we need water {i}", platform="x", external_id=f"w{i}")
             for i in range(3)]
    ingest(paris_source, needs, enrich=_fake_enrich)
    ingest(berlin_source, needs, enrich=_fake_enrich)  # Paris stored them; Berlin's story holds them as members
    ingest(paris_source, [Post(text="en|caution_and_advice|FR|stay home", platform="x", external_id="c0"),
                          Post(text="en|caution_and_advice|FR|stay home too", platform="x", external_id="c1")],
           enrich=_fake_enrich)
    paris = Story.objects.get(unit=tree.paris, items__external_id="w0")
    berlin = Story.objects.get(unit=tree.berlin)
    client.force_login(charlie)  # Berlin
    dashboard = client.get("/listening/").content.decode()
    assert f'href="/listening/search/?story={berlin.pk}"' in dashboard
    page = client.get("/listening/search/", {"story": berlin.pk}).content.decode()
    assert "id=\"story-filter\"" in page and page.count("we need water") == 3 and "stay home" not in page
    found = json.loads(client.get("/api/v1/listening/search", {"story": berlin.pk}).content)["items"]
    assert sorted(item["external_id"] for item in found) == ["w0", "w1", "w2"]
    # Paris's story of the same posts is not Berlin's to open: nothing, and not its name.
    assert json.loads(client.get("/api/v1/listening/search", {"story": paris.pk}).content)["items"] == []
    page = client.get("/listening/search/", {"story": paris.pk}).content.decode()
    assert "id=\"story-filter\"" not in page and "we need water" not in page
    client.force_login(bob)  # Paris: its own story, and its other one apart
    found = json.loads(client.get("/api/v1/listening/search", {"story": paris.pk}).content)["items"]
    assert sorted(item["external_id"] for item in found) == ["w0", "w1", "w2"]


def _story_sizes_add_up(unit):
    from legation.listening.models import StoryMember

    for story in Story.objects.filter(unit=unit):
        posts = ListenedItem.objects.filter(story=story).count() + StoryMember.objects.filter(story=story).count()
        assert story.size == posts, (story.label, story.size, posts)


def test_two_pulls_meeting_over_the_same_posts_count_each_post_once(tree, paris_source, berlin_source):
    """Two pulls read the same posts before either stores them (two workers, two missions' sources): the second
    finds them stored by the first. Stories and volumes count each post once per unit."""
    from legation.listening.alerts import hourly_series
    from legation.listening.enrichment import enrich_batch
    from legation.listening.ingest import prepare, write

    texts = [f"Forty of us stranded at the port of Misrata, we need water and food, copy {n}" for n in range(6)]
    texts += ["The embassy concert in Veridia was lovely tonight"] * 3
    posts = make_posts(texts)
    records = enrich_batch(texts)
    for first, second in ((paris_source, paris_source), (paris_source, berlin_source)):
        ListenedItem.objects.all().delete()
        Story.objects.all().delete()
        from legation.listening.models import HeardCount

        HeardCount.objects.all().delete()
        one, two = prepare(first, posts), prepare(second, posts)  # both before either writes
        assert len(one.fresh) == len(two.fresh) == 9
        assert write(first, one, records).stored == 9
        again = write(second, two, records)
        assert (again.stored, again.duplicates) == (0, 9)
        assert again.heard_again == (0 if second == first else 9)
        assert ListenedItem.objects.count() == 9
        for unit in {first.unit, second.unit}:
            _story_sizes_add_up(unit)
            assert sum(hourly_series(unit, timezone.now())["all"]) == 9, unit
            assert not Story.objects.filter(unit=unit, size=0).exists()  # no empty story left listed
        assert Story.objects.filter(unit=first.unit).exists()
