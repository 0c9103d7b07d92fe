"""Ingesting batches: de-duplication, enrichment stored, bad input refused with reasons, stories."""

from __future__ import annotations

from legation.listening import services
from legation.listening.ingest import Post
from legation.listening.models import ListenedItem, Story
from legation.listening.tests.conftest import make_posts


def test_the_same_post_heard_twice_is_stored_once(paris_source):
    posts = make_posts(["Bonjour la France", "Veridia embassy opens a new office"])
    first = services.ingest_posts(paris_source, posts)
    again = services.ingest_posts(paris_source, posts + posts)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (0, 4)
    assert ListenedItem.objects.count() == 2


def test_items_carry_their_enrichment_and_unit_path(paris_source, tree):
    services.ingest_posts(paris_source, make_posts(["The embassy of Veridia in Paris is open today"]))
    item = ListenedItem.objects.get()
    assert item.unit_path == tree.paris.path
    assert item.language  # whatever the model says, something is stored
    assert item.dup_signature


def test_bad_input_is_refused_with_reasons_and_the_rest_kept(paris_source):
    texts = [
        "",  # empty
        "x" * 1_000_001,  # huge
        b"\x00\x01\x02binary\xff",  # binary
        "Mixed scripts: Paris Париж باريس 巴黎 are fine",
        "lone surrogate \ud800 in the middle",
        "   ",  # blank
        "a normal post about Veridia",
    ]
    result = services.ingest_posts(paris_source, make_posts(texts))
    reasons = {r.position: r.reason for r in result.rejected}
    assert set(reasons) == {1, 2, 3, 6}
    assert "empty" in reasons[1] and "too large" in reasons[2] and "binary" in reasons[3]
    assert result.stored == 3
    stored = set(ListenedItem.objects.values_list("text", flat=True))
    assert "lone surrogate \ufffd in the middle" in stored


def test_a_large_post_of_many_distinct_words_is_stored_and_found_with_its_batch(paris_source, alice):
    # Under the 1 MB a post may have, but too many distinct words (or hashtags) for a PostgreSQL tsvector (1 MB):
    # the batch's insert failed there, losing its other posts with it.
    from legation.listening.search import search

    ids = "first " + " ".join(f"w{i:06d}" for i in range(140_000))[:990_000]
    tags = "#second " + " ".join(f"#t{i:05d}" for i in range(40_000))  # 320 kB of distinct hashtags
    result = services.ingest_posts(paris_source, make_posts(["fine one", ids, tags, "fine two"]))
    assert (result.stored, result.rejected) == (4, [])
    assert [item.external_id for item in search(alice, "first")] == ["p1"]
    assert [item.external_id for item in search(alice, "#second")] == ["p2"]
    assert [item.external_id for item in search(alice, "w000017")] == ["p1"]
    assert {item.external_id for item in search(alice, "fine")} == {"p0", "p3"}


def test_near_duplicates_form_a_story(paris_source):
    text = "Share this: the bridge at the border crossing is closed, travellers must wait"
    services.ingest_posts(paris_source, make_posts([text, text + "!", text], prefix="a"))
    story = Story.objects.get()
    assert story.size == 3
    assert story.items.count() == 3
    services.ingest_posts(paris_source, [Post(text=text, platform="mastodon", external_id="later")])
    story.refresh_from_db()
    assert story.size == 4


def test_a_templated_campaign_is_one_story_though_each_copy_differs(paris_source):
    """A copy-paste campaign whose copies each differ a little (a number, a name): their short signatures differ,
    their MinHash bands do not. The first batch forms one story; later copies join it one by one."""
    from legation.listening.models import StoryBand

    def campaign(numbers, prefix):  # type: ignore[no-untyped-def]
        return make_posts([f"bulkpost number {i} about the Veridia embassy in Jakarta" for i in numbers],
                          prefix=prefix)

    services.ingest_posts(paris_source, campaign(range(200), "c"))
    assert len({item.dup_signature for item in ListenedItem.objects.all()}) > 20  # the signatures differ
    story = Story.objects.get()
    assert story.items.count() == story.size >= 195  # a copy or two may differ too much to tell
    assert StoryBand.objects.filter(story=story).count() == 16
    first = story.size
    for i in range(200, 230):  # one copy a pull
        services.ingest_posts(paris_source, campaign([i], f"late{i}-"))
    story.refresh_from_db()
    assert story.items.count() == story.size >= first + 28
    # Other posts that share a few words are not drawn in; another campaign is its own story.
    services.ingest_posts(paris_source, make_posts(
        [f"Visa queue {i} is long today at the consulate, bring your papers and two photos" for i in range(40)]
        + [f"Heavy traffic near the Veridia embassy in Jakarta this {when}" for when in ("morning", "noon", "night")],
        prefix="o"))
    size = story.size
    story.refresh_from_db()
    assert story.size == size
    assert not story.items.filter(external_id__startswith="o").exists()
    queue = Story.objects.get(items__external_id="o0")
    assert queue.size >= 38 and queue.pk != story.pk and queue.label != story.label
    assert not queue.items.filter(external_id__in=["o40", "o41", "o42"]).exists()  # the traffic posts


def test_a_post_heard_by_two_units_is_stored_once_and_found_by_both(paris_source, berlin_source, alice, bob,
                                                                    charlie):
    from legation.listening.search import Filters, search

    posts = make_posts(["Veridia border crossing closed"], prefix="shared")
    first = services.ingest_posts(paris_source, posts)
    second = services.ingest_posts(berlin_source, posts)
    again = services.ingest_posts(berlin_source, posts)
    assert (first.stored, second.stored, second.duplicates, second.heard_again) == (1, 0, 1, 1)
    assert (again.stored, again.heard_again) == (0, 0)
    item = ListenedItem.objects.get()
    assert item.heard_by == f"|{paris_source.unit.path}|{berlin_source.unit.path}|"
    assert item.heard_sources == f"|{paris_source.pk}|{berlin_source.pk}|"
    # each unit's people find it; each unit's own search and source filter find it
    for person in (alice, bob, charlie):
        assert list(search(person, "border").values_list("external_id", flat=True)) == ["shared0"]
    assert search(bob, "", Filters(unit=paris_source.unit.pk)).count() == 1
    assert search(charlie, "", Filters(unit=berlin_source.unit.pk, source=berlin_source.pk)).count() == 1


def test_a_post_heard_by_one_unit_stays_hidden_from_the_other(paris_source, berlin_source, charlie):
    from legation.listening.search import search

    services.ingest_posts(paris_source, make_posts(["Veridia border crossing closed"], prefix="only"))
    assert search(charlie, "border").count() == 0
    assert search(charlie, "").count() == 0


def test_spike_threshold_reads_as_times_the_usual_volume():
    from legation.listening.models import ListeningSource

    label = str(ListeningSource._meta.get_field("spike_threshold").verbose_name)
    assert "times the usual volume" in label
