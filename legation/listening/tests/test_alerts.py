"""Alert volumes read from the per-minute counters kept by ingestion: the same figures as grouping the posts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from legation.listening import alerts, services
from legation.listening.enrichment import Enriched, Place
from legation.listening.ingest import Post, ingest, prepare, write
from legation.listening.models import HeardCount, ListenedItem

LANGUAGES = ["en", "fr", "ar", "", "es"]
CATEGORIES = ["not_humanitarian", "caution_and_advice", "", "requests_or_urgent_needs"]
COUNTRIES = [(), ("FR",), ("DE", "FR"), ("ID",), ("KE", "LB", "FR")]
HASHTAGS = ["", "", " #flood", " #Flood #rescue #flood", " #救援", " C#"]
# The Paris and Berlin sources listen for "veridia": a word they listen for counts as a term, whatever its case
# or accents, as a whole word only ("veridian" is not it).
WORDS = ["", "", " in Veridia", " VÉRIDIA roads", " veridian"]


def _fake_enrich(texts, tier="fast"):  # type: ignore[no-untyped-def]
    """Each text says what it is about: "lang|category|FR,DE|anything"."""
    records = []
    for text in texts:
        language, category, countries, _rest = text.split("|", 3)
        records.append(Enriched(language=language, crisis_category=category,
                                places=tuple(Place(name=c, country=c) for c in countries.split(",") if c)))
    return records


def _posts(rng: random.Random, now: datetime, n: int, prefix: str) -> list[Post]:
    posts = []
    for i in range(n):
        # Mostly the last 13 hours, some on the edges: the minute of now, later in it, the next minutes.
        when = rng.choice([
            now - timedelta(seconds=rng.randint(0, 13 * 3600)),
            now - timedelta(seconds=rng.randint(0, 120)),
            now + timedelta(seconds=rng.randint(0, 90)),
            now - timedelta(hours=12, seconds=rng.randint(-90, 90)),
            now - timedelta(hours=rng.randint(1, 11), seconds=rng.randint(-90, 90)),
        ])
        text = "|".join([rng.choice(LANGUAGES), rng.choice(CATEGORIES), ",".join(rng.choice(COUNTRIES)),
                         f"post {prefix}{i}{rng.choice(HASHTAGS)}{rng.choice(WORDS)}"])
        posts.append(Post(text=text, platform=rng.choice(["x", "mastodon"]), external_id=f"{prefix}{i}",
                          created_at=when))
    return posts


def _assert_same_series(unit, now):  # type: ignore[no-untyped-def]
    assert alerts.hourly_series(unit, now) == alerts.series_from_items(unit, now)


def test_counters_give_the_same_series_as_grouping_the_posts(tree, alice, paris_source, berlin_source):
    rng = random.Random(7)
    # Seconds and microseconds in now, so minutes and hours back from now do not line up.
    now = datetime(2026, 3, 4, 15, 37, 23, 456789, tzinfo=UTC)
    second_paris = services.create_source(alice, unit=tree.paris, name="Paris hashtags", kind="hashtag",
                                          platform="mastodon", query="#veridia", account=paris_source.account)
    posts = _posts(rng, now, 900, "a")
    ingest(paris_source, posts[:600], enrich=_fake_enrich)
    # Berlin hears some of Paris's posts (counted once more, for Berlin) and new ones; the same unit hearing a
    # post through a second source, or again, does not count it again; duplicates inside a batch neither.
    ingest(berlin_source, posts[300:900] + posts[850:900], enrich=_fake_enrich)
    ingest(second_paris, posts[500:700], enrich=_fake_enrich)
    ingest(paris_source, posts[:100], enrich=_fake_enrich)
    # A batch that rolls back counts nothing.
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(paris_source, _posts(rng, now, 200, "rolled"), enrich=_fake_enrich)
        raise RuntimeError("the batch fails after it was written")
    assert not ListenedItem.objects.filter(external_id__startswith="rolled").exists()

    both = ListenedItem.objects.filter(heard_by__contains=f"|{tree.paris.path}|").filter(
        heard_by__contains=f"|{tree.berlin.path}|")
    assert both.count() == 400  # posts 300-699 were heard by both units
    for unit in (tree.paris, tree.berlin):
        series = alerts.hourly_series(unit, now)
        assert sum(series["all"]) > 300 and any(k.startswith("country:") for k in series)
        assert any(k.startswith("category:") for k in series) and any(k.startswith("language:") for k in series)
        assert any(k.startswith("place:") for k in series)
        assert {"term:#flood", "term:#rescue", "term:#救援", "term:veridia"} <= set(series)
        assert "term:#Flood" not in series and "term:veridian" not in series
        assert "category:not_humanitarian" not in series
        for at in (now, now.replace(second=0, microsecond=0), now + timedelta(seconds=50),
                   now - timedelta(minutes=30, seconds=11), now + timedelta(hours=2)):
            _assert_same_series(unit, at)
    assert alerts.hourly_series(tree.jakarta, now) == alerts.series_from_items(tree.jakarta, now) == {}


def test_a_post_stored_elsewhere_meanwhile_counts_once(tree, paris_source):
    now = datetime.now(tz=UTC)
    posts = _posts(random.Random(3), now, 50, "r")
    batch = prepare(paris_source, posts)  # read before another process stores the first posts
    ingest(paris_source, posts[:20], enrich=_fake_enrich)
    write(paris_source, batch, _fake_enrich(batch.texts))
    assert ListenedItem.objects.count() == 50
    assert sum(HeardCount.objects.filter(key="all").values_list("n", flat=True)) == 50
    _assert_same_series(tree.paris, now)


def test_a_spike_alert_reads_the_counters_and_raises_once(tree, paris_source):
    now = datetime.now(tz=UTC)
    quiet = [Post(text=f"en||FR|quiet {i}", platform="x", external_id=f"q{i}",
                  created_at=now - timedelta(hours=1 + i % 10, minutes=5)) for i in range(20)]
    loud = [Post(text=f"fr||FR|loud {i}", platform="x", external_id=f"l{i}", created_at=now - timedelta(minutes=i))
            for i in range(45)]
    ingest(paris_source, quiet + loud, enrich=_fake_enrich)
    keys = sorted(a.key.split("@")[0] for a in alerts.evaluate(tree.paris, now=now))
    assert keys == ["all", "country:FR", "language:fr", "place:FR"]
    assert alerts.evaluate(tree.paris, now=now) == []


def test_story_growth_compares_the_last_hour_with_the_hour_before(tree, paris_source):
    from legation.listening.models import NEW_GROWTH, Story

    now = datetime.now(tz=UTC)
    posts = [Post(text=f"en|requests_or_urgent_needs|FR|need water {i}", platform="x", external_id=f"w{i}",
                  created_at=now - timedelta(minutes=5 + i)) for i in range(6)]
    posts += [Post(text=f"en|requests_or_urgent_needs|FR|need water {i}", platform="x", external_id=f"v{i}",
                   created_at=now - timedelta(minutes=70 + i)) for i in range(3)]
    posts += [Post(text=f"en|caution_and_advice|KE|stay inside {i}", platform="x", external_id=f"k{i}",
                   created_at=now - timedelta(minutes=3 * i)) for i in range(4)]
    ingest(paris_source, posts, enrich=_fake_enrich)
    alerts.evaluate(tree.paris, now=now)
    growth = sorted(Story.objects.values_list("size", "growth"))
    assert growth == [(4, NEW_GROWTH), (9, 2.0)]  # "stay inside" had no posts the hour before: new, not ×4
    # three hours later, with nothing new, both stories have gone quiet: no growth is left from back then
    alerts.evaluate(tree.paris, now=now + timedelta(hours=3))
    assert sorted(Story.objects.values_list("size", "growth")) == [(4, 0.0), (9, 0.0)]


def test_the_hourly_purge_forgets_old_counters_and_keeps_the_window(tree, paris_source):
    from legation.listening.tasks import COUNTS_KEPT, purge_old_counts

    now = datetime.now(tz=UTC)
    old = [Post(text=f"en||FR|old {i}", platform="x", external_id=f"o{i}",
                created_at=now - COUNTS_KEPT - timedelta(hours=1, minutes=i)) for i in range(5)]
    recent = [Post(text=f"en||FR|new {i}", platform="x", external_id=f"n{i}",
                   created_at=now - timedelta(hours=2, minutes=i)) for i in range(5)]
    ingest(paris_source, old + recent, enrich=_fake_enrich)
    before = alerts.hourly_series(tree.paris, now)
    assert purge_old_counts.call() > 0
    cutoff = int((now - COUNTS_KEPT).timestamp() // 60)
    assert not HeardCount.objects.filter(minute__lt=cutoff).exists()
    assert alerts.hourly_series(tree.paris, now) == before
    assert ListenedItem.objects.count() == 10  # the posts themselves stay


def test_a_place_named_much_more_than_usual_raises_a_spike_in_that_place(tree, paris_source, settings):
    settings.LISTENING_ENRICH_PROCESSES = 0
    now = datetime.now(tz=UTC)
    quiet = [Post(text=f"Traffic is heavy in Tripoli this evening, number {i}", platform="x", external_id=f"q{i}",
                  created_at=now - timedelta(hours=1 + i % 10, minutes=5)) for i in range(20)]
    loud = [Post(text=f"Families stranded at the port of Misratah need water, call {i}", platform="x",
                 external_id=f"l{i}", created_at=now - timedelta(minutes=i)) for i in range(45)]
    services.ingest_posts(paris_source, quiet + loud)
    raised = {a.key.split("@")[0]: a for a in alerts.evaluate(tree.paris, now=now)}
    assert "place:Misratah" in raised and "place:Tripoli" not in raised
    assert raised["place:Misratah"].text.startswith("Spike in posts naming Misratah: 45 posts in the last hour")
    _assert_same_series(tree.paris, now)


def test_a_hashtag_used_much_more_than_usual_raises_a_spike_in_that_term(tree, paris_source, settings):
    settings.LISTENING_ENRICH_PROCESSES = 0
    now = datetime.now(tz=UTC)
    quiet = [Post(text=f"Concert tonight at the embassy #culture, number {i}", platform="x", external_id=f"q{i}",
                  created_at=now - timedelta(hours=1 + i % 10, minutes=5)) for i in range(20)]
    loud = [Post(text=f"Roads closed, stay home #StormEunice #culture {i}", platform="x", external_id=f"l{i}",
                 created_at=now - timedelta(minutes=i)) for i in range(30)]
    services.ingest_posts(paris_source, quiet + loud)
    raised = {a.key.split("@")[0]: a for a in alerts.evaluate(tree.paris, now=now)}
    assert "term:#stormeunice" in raised
    assert raised["term:#stormeunice"].text.startswith("Spike in posts with #stormeunice: 30 posts")
    _assert_same_series(tree.paris, now)


def test_a_story_another_unit_started_grows_and_alerts_for_a_unit_that_hears_its_posts(
        tree, paris_source, berlin_source):
    from legation.listening.models import AlertKind, Story, StoryMember

    now = datetime.now(tz=UTC)
    needs = [Post(text=f"en|requests_or_urgent_needs|LY|we need water {i}", platform="x", external_id=f"w{i}",
                  created_at=now - timedelta(minutes=5 + i)) for i in range(9)]
    needs += [Post(text=f"en|requests_or_urgent_needs|LY|still no water {i}", platform="x", external_id=f"o{i}",
                   created_at=now - timedelta(minutes=70 + i)) for i in range(2)]
    ingest(paris_source, needs[:6] + needs[9:], enrich=_fake_enrich)
    # Berlin hears Paris's eight posts and three of its own; hearing them again changes nothing.
    ingest(berlin_source, needs, enrich=_fake_enrich)
    ingest(berlin_source, needs[:4], enrich=_fake_enrich)
    paris, berlin = Story.objects.get(unit=tree.paris), Story.objects.get(unit=tree.berlin)
    assert (paris.size, berlin.size) == (8, 11)
    assert (berlin.key, berlin.label, berlin.terms) == (paris.key, paris.label, paris.terms)
    assert (berlin.first_seen, berlin.last_seen) == (needs[10].created_at, needs[0].created_at)
    assert StoryMember.objects.filter(story=berlin).count() == 8
    assert ListenedItem.objects.filter(story=berlin).count() == 3  # its own posts, stored for it
    # The new-story alert and the growth (9 posts in the last hour against 2 the hour before) are Berlin's own.
    raised = [a for a in alerts.evaluate(tree.berlin, now=now) if a.kind == AlertKind.NEW_STORY]
    assert [(a.story, a.count) for a in raised] == [(berlin, 11)]
    berlin.refresh_from_db()
    assert berlin.growth == 4.5
    paris_alerts = [a for a in alerts.evaluate(tree.paris, now=now) if a.kind == AlertKind.NEW_STORY]
    assert [(a.story, a.count) for a in paris_alerts] == [(paris, 8)]
    # A post deleted (a retention purge, an operator) leaves the membership with it.
    ListenedItem.objects.filter(external_id="w0").delete()
    assert StoryMember.objects.filter(story=berlin).count() == 7


def test_a_spike_in_posts_with_a_word_the_unit_listens_for_alerts(tree, alice, europe_mastodon):
    from legation.listening.ingest import listened_words, query_words
    from legation.listening.models import Alert

    assert query_words('Misratah OR évacuation -rumour lang:en "port closed" #flood مصراتة') == [
        "misratah", "evacuation", "port", "closed", "مصراته"]
    source = services.create_source(alice, unit=tree.paris, name="Libya", kind="keyword", platform="mastodon",
                                    query="Misratah OR evacuation -rumour", account=europe_mastodon)
    assert listened_words(tree.paris) == {"misratah", "evacuation"}
    now = datetime.now(tz=UTC)
    quiet = [Post(text=f"en||LY|ferry to Misratah {i}", platform="x", external_id=f"q{i}",
                  created_at=now - timedelta(hours=1 + i % 10, minutes=5)) for i in range(20)]
    loud = [Post(text=f"en||LY|ÉVACUATION of the port, Misratah, now {i}", platform="x", external_id=f"l{i}",
                 created_at=now - timedelta(minutes=i)) for i in range(30)]
    ingest(source, quiet + loud, enrich=_fake_enrich)
    raised = alerts.evaluate(tree.paris, now=now)
    assert "term:evacuation" in [a.key.split("@")[0] for a in raised]
    alert = Alert.objects.get(key__startswith="term:evacuation@")
    assert "Spike in posts with evacuation" in alert.text and alert.count == 30
    _assert_same_series(tree.paris, now)


def test_the_purge_folds_counters_older_than_the_alert_window_into_hours_and_the_figures_stay(tree, paris_source):
    from legation.listening import trends
    from legation.listening.tasks import purge_old_counts

    now = datetime.now(tz=UTC)
    rng = random.Random(7)
    # Posts spread over the last 47 hours: hashtags and a listened-for word, in many minutes of each hour.
    posts = [Post(text=f"en||FR|post {i} #tag{i % 7} #flood in Veridia", platform="x", external_id=f"p{i}",
                  created_at=now - timedelta(minutes=rng.randint(0, 47 * 60))) for i in range(600)]
    ingest(paris_source, posts, enrich=_fake_enrich)
    since = now - timedelta(hours=47)
    buckets = trends._hours(since, 47)
    terms_before = trends.counted_terms(tree.paris, buckets, 47, 10)
    series_before = alerts.hourly_series(tree.paris, now)
    rows_before = HeardCount.objects.count()

    purge_old_counts.call()

    cut = int((now - timedelta(hours=alerts.WINDOWS + 1)).timestamp() // 60)
    old = HeardCount.objects.filter(minute__lt=cut - cut % 60)

    def minutes_left() -> list[int]:
        return [minute for minute in old.values_list("minute", flat=True) if minute % 60]

    assert old.exists() and minutes_left() == []  # one counter per hour and key
    assert HeardCount.objects.count() < rows_before / 2
    assert trends.counted_terms(tree.paris, buckets, 47, 10) == terms_before  # the same lines, hour by hour
    assert sum(terms_before["#flood"]) == sum(terms_before["veridia"]) == 600
    assert alerts.hourly_series(tree.paris, now) == series_before  # the alert window is untouched

    # A late post for a folded minute counts again, and the next purge folds it into its hour.
    late = now - timedelta(hours=30, minutes=17)
    ingest(paris_source, [Post(text="en||FR|late #flood", platform="x", external_id="late", created_at=late)],
           enrich=_fake_enrich)
    purge_old_counts.call()
    assert minutes_left() == []
    after = trends.counted_terms(tree.paris, buckets, 47, 10)["#flood"]
    i = buckets.index(late.replace(minute=0, second=0, microsecond=0))
    assert after[i] == terms_before["#flood"][i] + 1 and sum(after) == 601


def test_two_workers_evaluating_one_unit_take_turns(tree):
    # PostgreSQL: an advisory lock; SQLite (several `legation worker` processes on one machine): a file lock.
    import threading
    import time

    from django.db import connections

    from legation.listening import alerts

    held, order = threading.Event(), []

    def other_worker() -> None:  # its own connection, evaluating the same unit
        with alerts._one_evaluation_at_a_time(tree.paris):
            held.set()
            time.sleep(0.5)
            order.append("other done")
        connections["default"].close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert held.wait(10)
    alerts.evaluate(tree.paris)
    order.append("this done")
    thread.join(10)
    assert order == ["other done", "this done"]
    alerts.evaluate(tree.berlin)  # another unit does not wait; and the lock was let go


def test_alerts_are_evaluated_when_the_lock_cannot_be_taken(tree, settings, tmp_path, caplog):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL takes an advisory lock, no file")
    (tmp_path / "not-a-folder").write_text("x")
    settings.DATA_DIR = tmp_path / "not-a-folder"  # a data directory that cannot hold the lock file
    assert alerts.evaluate(tree.paris) == []
    assert "evaluated without the lock that makes workers take turns" in caplog.text
