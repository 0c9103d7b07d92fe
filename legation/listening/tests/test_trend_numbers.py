"""The figures of the dashboard and the alerts say what they mean: trending terms count the posts of the window,
the first hour of a term's line starts when the window does, a burst is alerted once, and "new" or "usually none"
where the hour before had nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from legation.listening import alerts, trends
from legation.listening.ingest import Post, ingest, roll_up_counts
from legation.listening.models import NEW_GROWTH, Alert, AlertKind, Story
from legation.listening.tests.test_alerts import _fake_enrich


def _posts(prefix: str, text: str, times: list[datetime]) -> list[Post]:
    return [Post(text=f"{text} {prefix}{i}", platform="x", external_id=f"{prefix}{i}", created_at=when)
            for i, when in enumerate(times)]


def _terms_table(page: str) -> list[tuple[str, int]]:
    """The dashboard's "Trending terms" table, as a reader sees it: (term, figure) rows."""
    section = page[page.index('id="terms"'):]
    section = section[:section.index("</section>")]
    return [(term, int(n)) for term, n in re.findall(r">([^<]+)</a></td><td>(\d+)</td>", section)]


@pytest.fixture
def mailed(settings, bob):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    bob.email = "bob@veridia.example"
    bob.save()
    return bob


def test_trending_terms_are_the_posts_of_the_window_in_the_units_stories(client, bob, alice, tree, paris_source,
                                                                          berlin_source):
    now = timezone.now()
    # Jakarta: a story of 40 posts five hours ago and 2 in the last hour; Misratah: 3 posts in the last hour.
    jakarta = _posts("j", "en|requests_or_urgent_needs|ID|enjoyed jakarta",
                     [now - timedelta(hours=5, minutes=i) for i in range(40)]
                     + [now - timedelta(minutes=20 + i) for i in range(2)])
    misratah = _posts("m", "en|caution_and_advice|LY|flood misratah",
                      [now - timedelta(minutes=10 + i) for i in range(3)])
    ingest(paris_source, jakarta + misratah, enrich=_fake_enrich)
    # Berlin hears two of Paris's Misratah posts (they join Berlin's story of it) and one of its own.
    ingest(berlin_source, misratah[:2] + _posts("b", "en|caution_and_advice|LY|flood misratah",
                                                 [now - timedelta(minutes=5)]), enrich=_fake_enrich)
    Story.objects.filter(label__startswith="requests").update(terms=["enjoyed", "jakarta"])
    Story.objects.filter(label__startswith="caution").update(terms=["flood", "misratah"])

    client.force_login(bob)
    hour = client.get(f"/api/v1/listening/units/{tree.paris.pk}/overview", {"hours": 1}).json()
    assert hour["total"] == 5
    assert [(t["term"], t["count"]) for t in hour["terms"]] == [
        ("flood", 3), ("misratah", 3), ("enjoyed", 2), ("jakarta", 2)]  # not the 42 posts of all time
    day = client.get(f"/api/v1/listening/units/{tree.paris.pk}/overview", {"hours": 24}).json()
    assert [(t["term"], t["count"]) for t in day["terms"]][:2] == [("enjoyed", 42), ("jakarta", 42)]
    # The dashboard shows the same figures for its window.
    assert _terms_table(client.get("/listening/?hours=1").content.decode()) == [
        ("flood", 3), ("misratah", 3), ("enjoyed", 2), ("jakarta", 2)]
    # Trends over time pick the window's terms, the most heard first.
    since, items = trends.window(tree.paris, 1, now)
    lines = trends.over_time(tree.paris, items, since, 1, by=("term",), top=2)["term"]
    assert [(line["key"], sum(line["counts"])) for line in lines] == [("flood", 3), ("misratah", 3)]

    # Berlin's story: its own post and the two it heard after Paris (StoryMember).
    client.force_login(alice)
    berlin = client.get(f"/api/v1/listening/units/{tree.berlin.pk}/overview", {"hours": 1}).json()
    assert [(t["term"], t["count"]) for t in berlin["terms"]] == [("flood", 3), ("misratah", 3)]
    # The region above both: each post once (Paris's three, Berlin's own), Jakarta's two.
    europe = client.get(f"/api/v1/listening/units/{tree.europe.pk}/overview", {"hours": 1}).json()
    assert [(t["term"], t["count"]) for t in europe["terms"]] == [
        ("flood", 4), ("misratah", 4), ("enjoyed", 2), ("jakarta", 2)]


def test_a_terms_first_hour_starts_at_the_window_as_the_other_lines_do(tree, paris_source):
    now = datetime(2026, 3, 4, 15, 37, 23, tzinfo=UTC)
    since = now - timedelta(hours=3)  # 12:37:23
    first_hour = since.replace(minute=0, second=0)
    posts = (_posts("a", "en||FR|rain today #weather", [first_hour + timedelta(minutes=10)] * 8)  # before the window
             + _posts("b", "en||FR|rain today #weather", [first_hour + timedelta(minutes=50)] * 4)
             + _posts("c", "en||FR|rain today #weather", [first_hour + timedelta(hours=2, minutes=5)] * 5))
    ingest(paris_source, posts, enrich=_fake_enrich)
    figures = trends.overview(tree.paris, hours=3, now=now)
    weather = next(line for line in figures["over_time"]["term"] if line["key"] == "#weather")
    assert figures["volume"]["counts"] == [4, 0, 5, 0]
    assert weather["counts"] == [4, 0, 5, 0]  # not 12: the 8 posts of 12:10 are before the window


def test_a_long_windows_first_hour_folded_by_the_purge_counts_its_share_after_the_window_starts(tree, paris_source):
    now = datetime(2026, 3, 4, 15, 37, 23, tzinfo=UTC)
    since = now - timedelta(hours=24)  # 15:37:23 the day before
    first_hour = since.replace(minute=0, second=0)
    posts = (_posts("a", "en||FR|rain #weather", [first_hour + timedelta(minutes=10)] * 6)
             + _posts("b", "en||FR|rain #weather", [first_hour + timedelta(minutes=50)] * 6)
             + _posts("c", "en||FR|rain #weather", [first_hour + timedelta(hours=3, minutes=5)] * 7))
    ingest(paris_source, posts, enrich=_fake_enrich)

    def weather() -> list[int]:
        lines = trends.overview(tree.paris, hours=24, now=now)["over_time"]["term"]
        return next(line["counts"] for line in lines if line["key"] == "#weather")

    assert weather()[:4] == [6, 0, 0, 7]  # minute by minute: only the posts from 15:37 on
    # The purge folds minutes older than 13 hours into their clock hour's first minute (15:00, before since):
    # the first hour then counts for its share after since (23 of 60 minutes: 12 x 23/60, 5), later hours exactly.
    cut = int((now - timedelta(hours=alerts.WINDOWS + 1)).timestamp() // 60)
    roll_up_counts(int((now - timedelta(hours=48)).timestamp() // 60), cut - cut % 60)
    assert weather()[:4] == [5, 0, 0, 7] and sum(weather()) == 12


def test_a_burst_is_alerted_once_not_again_when_the_clock_hour_turns(tree, paris_source, mailed):
    alerted_at = datetime(2026, 3, 4, 14, 50, tzinfo=UTC)
    quiet = _posts("q", "en||FR|quiet", [alerted_at - timedelta(hours=1 + i % 10, minutes=5) for i in range(20)])
    burst = _posts("l", "fr||FR|loud", [alerted_at - timedelta(minutes=1 + i % 30) for i in range(45)])
    ingest(paris_source, quiet + burst, enrich=_fake_enrich)
    first = alerts.evaluate(tree.paris, now=alerted_at)
    assert sorted(a.key.split("@")[0] for a in first) == ["all", "country:FR", "language:fr", "place:FR"]
    sent = len(mail.outbox)
    assert sent == 4
    # Past the clock hour, the same burst is still in the last hour: no new alert, no new e-mail.
    for later in (timedelta(minutes=12), timedelta(minutes=40), timedelta(minutes=59)):
        assert alerts.evaluate(tree.paris, now=alerted_at + later) == []
    assert Alert.objects.filter(kind=AlertKind.SPIKE).count() == 4 and len(mail.outbox) == sent
    # A burst that goes on, louder, into a second full hour after the alert may alert again.
    ingest(paris_source, _posts("m", "fr||FR|louder", [alerted_at + timedelta(minutes=15 + i % 50)
                                                         for i in range(200)]), enrich=_fake_enrich)
    again = alerts.evaluate(tree.paris, now=alerted_at + timedelta(hours=1, minutes=10))
    assert "language:fr" in [a.key.split("@")[0] for a in again]
    assert Alert.objects.get(key="language:fr@2026-03-04T16:00").count == 200


def test_a_story_with_nothing_the_hour_before_is_new_not_a_multiple(client, bob, tree, paris_source):
    now = timezone.now()
    fresh = _posts("w", "en|requests_or_urgent_needs|FR|need water", [now - timedelta(minutes=5 + i) for i in range(9)])
    ingest(paris_source, fresh, enrich=_fake_enrich)
    alerts.evaluate(tree.paris, now=now)
    story = Story.objects.get(unit=tree.paris)
    assert story.growth == NEW_GROWTH and story.is_new
    client.force_login(bob)
    row = next(line for line in client.get("/listening/").content.decode().splitlines() if "need" in line
               and "<tr>" in line)
    assert ">new</strong>" in row and "×" not in row
    listed = client.get(f"/api/v1/listening/units/{tree.paris.pk}/overview").json()["stories"]
    assert [(s["growth"], s["new"]) for s in listed] == [(-1.0, True)]
    # In French: "nouveau".
    bob.language = "fr"
    bob.save()
    client.force_login(bob)
    french = client.get("/listening/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert ">nouveau</strong>" in french


def test_a_spike_over_hours_with_no_posts_says_usually_none(client, bob, alice, tree, paris_source, mailed):
    from legation.network import services as network

    network.create_person(alice, unit=tree.paris, username="omar", role="editor", password="omar-secret-pw-1",
                          language="ar", email="omar@veridia.example")
    now = timezone.now()
    ingest(paris_source, _posts("l", "fr||FR|loud", [now - timedelta(minutes=i) for i in range(45)]),
           enrich=_fake_enrich)
    raised = {a.key.split("@")[0]: a for a in alerts.evaluate(tree.paris, now=now)}
    spike = raised["language:fr"]
    assert spike.score is None and spike.count == 45
    assert spike.text == "Spike in posts in French: 45 posts in the last hour (usually none)"
    assert spike.message == "Spike in language fr: 45 posts in the last hour (usually none)"
    by_reader: dict[str, list[str]] = {}
    for message in mail.outbox:
        by_reader.setdefault(message.to[0], []).append(message.subject)
    english = next(s for s in by_reader["bob@veridia.example"] if "French" in s)
    assert "45 posts in the last hour (usually none)" in english and "×" not in english
    arabic = " ".join(by_reader["omar@veridia.example"])
    assert "(لا شيء عادةً)" in arabic and "×" not in arabic
    client.force_login(bob)
    dashboard = client.get("/listening/").content.decode()
    assert "Spike in posts in French: 45 posts in the last hour (usually none)" in dashboard
    assert "the usual" not in dashboard
