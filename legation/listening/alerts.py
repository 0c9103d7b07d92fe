"""Watching volumes and stories: spikes per language, country and category, and new stories, per unit."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncMinute
from django.utils import timezone

from legation.listening import services
from legation.listening.enrichment import spikes
from legation.listening.ingest import hashtags, listened_words, minute_of, place_names_of, series_keys, words_in
from legation.listening.models import (
    NEW_GROWTH,
    Alert,
    AlertKind,
    HeardCount,
    ListenedItem,
    ListeningSource,
    Story,
    StoryMember,
    heard_mark,
)
from legation.network.models import Unit

logger = logging.getLogger(__name__)

WINDOWS = 12  # hourly buckets compared: the last one against the eleven before


def thresholds(unit: Unit) -> tuple[float, int, int]:
    """(spike ratio to the usual volume, spike minimum posts, story size): the unit's most sensitive active
    sources'; a unit with none active (one that only replays files: a replay's source is never pulled, so it is
    kept paused) goes by its paused ones, whose settings someone chose, before the defaults."""
    sources = ListeningSource.objects.filter(unit=unit)
    if sources.filter(active=True).exists():
        sources = sources.filter(active=True)
    values = sources.aggregate(z=Min("spike_threshold"), n=Min("spike_min_count"), s=Min("story_min_size"))
    return (values["z"] if values["z"] is not None else 3.0, values["n"] if values["n"] is not None else 10,
            values["s"] if values["s"] is not None else 8)


def hourly_series(unit: Unit, now: datetime) -> dict[str, list[int]]:
    """Posts per hour over the last WINDOWS hours ending now, in total and per language, country and category.

    Hours are counted back from ``now`` (not clock hours), so a burst is never split across two buckets. Read
    from the per-minute counters ingestion keeps (``HeardCount``): at most WINDOWS x 60 minutes x keys rows,
    summed by the database, whatever the number of posts. A post falls in the hour of the minute it was made
    in, as it did when the posts themselves were grouped by minute (``series_from_items``, same figures).
    """
    now_minute = minute_of(now)
    now_second = int((now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp() // 1)
    series: dict[str, list[int]] = defaultdict(lambda: [0] * WINDOWS)
    table = HeardCount._meta.db_table
    with connection.cursor() as cursor:
        # The minutes whose start is less than WINDOWS hours before now; each one's hour back from now.
        cursor.execute(
            f"SELECT key, (%s - minute * 60) / 3600 AS age, SUM(n) FROM {table} "  # noqa: S608 - our table
            "WHERE unit_path = %s AND minute > %s AND minute <= %s GROUP BY key, age",
            [now_second, unit.path, now_minute - WINDOWS * 60, now_minute])
        for key, age, n in cursor.fetchall():
            i = WINDOWS - 1 - int(age)
            if 0 <= i < WINDOWS and n:
                series[key][i] += int(n)
    # The counters hold whole minutes: posts made later in now's own minute are not counted yet (an index
    # range on created_at that is empty unless ``now`` is in the past or posts are dated ahead).
    words = listened_words(unit)
    ahead = ListenedItem.objects.filter(heard_by__contains=heard_mark(unit.path), created_at__gt=now,
                                        created_at__lt=datetime.fromtimestamp((now_minute + 1) * 60, tz=UTC))
    for language, category, countries, places, text in ahead.values_list("language", "crisis_category", "countries",
                                                                         "places", "text"):
        for key in series_keys(language, category, countries, place_names_of(places), text, words):
            series[key][WINDOWS - 1] -= 1
    return {key: counts for key, counts in series.items() if any(counts)}


def series_from_items(unit: Unit, now: datetime) -> dict[str, list[int]]:
    """``hourly_series`` computed from the posts themselves (GROUP BY minute): the reference the counters must
    match, and the way it was done before (seconds with 100,000 recent posts)."""
    start = now - timedelta(hours=WINDOWS)
    words = listened_words(unit)
    series: dict[str, list[int]] = defaultdict(lambda: [0] * WINDOWS)
    items = ListenedItem.objects.filter(heard_by__contains=heard_mark(unit.path), created_at__gt=start,
                                        created_at__lte=now)
    rows = items.annotate(minute=TruncMinute("created_at")).values("minute", "language", "crisis_category",
                                                                  "countries", "places", "text")
    for row in rows.annotate(n=Count("id")).order_by():
        age = (now - row["minute"]).total_seconds() // 3600
        i = WINDOWS - 1 - int(max(age, 0))
        if i < 0:
            continue
        series["all"][i] += row["n"]
        if row["language"]:
            series[f"language:{row['language']}"][i] += row["n"]
        if row["crisis_category"] and row["crisis_category"] != "not_humanitarian":
            series[f"category:{row['crisis_category']}"][i] += row["n"]
        for country in filter(None, row["countries"].split(",")):
            series[f"country:{country}"][i] += row["n"]
        for place in set(place_names_of(row["places"])):
            series[f"place:{place[:200]}"][i] += row["n"]
        for tag in hashtags(row["text"]):
            series[f"term:{tag}"][i] += row["n"]
        for word in words_in(row["text"], words):
            series[f"term:{word}"][i] += row["n"]
    return dict(series)


SPIKE_STAMP = "%Y-%m-%dT%H:%M"  # the minute (UTC) a spike alert was raised at, after its series in its key


def spike_key(series: str, now: datetime) -> str:
    """A spike alert's key: its series and the minute it was raised at ("language:fr@2026-12-05T08:50"), within
    the 200 characters of the key (a long place name is cut, the minute kept)."""
    stamp = "@" + _utc(now).strftime(SPIKE_STAMP)
    return series[:200 - len(stamp)] + stamp


def _utc(when: datetime) -> datetime:
    """A time in UTC (a naive time is UTC, as the database stores it)."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def recently_alerted(unit: Unit, now: datetime) -> set[str]:
    """The series (as ``spike_key`` wrote them) of the unit's spike alerts raised less than an hour before ``now``:
    one query. The time is read from the key (the ``now`` they were raised for: a replay or a test gives its own),
    among the alerts recorded since an hour before the earlier of ``now`` and the clock. A key of the clock hour
    (alerts before the minute was kept, "...@2026-12-05T08") reads as that hour's start."""
    now = _utc(now)
    oldest = min(now, timezone.now()) - timedelta(hours=1)
    found: set[str] = set()
    for key in Alert.objects.filter(unit=unit, kind=AlertKind.SPIKE, created_at__gte=oldest).values_list(
            "key", flat=True):
        series, _sep, stamp = key.rpartition("@")
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if now - timedelta(hours=1) < when <= now:
            found.add(series)
    return found


_EVALUATION_LOCK = 0x4C41  # "LA": listening alerts' advisory lock (the second key is the unit's id)


@contextmanager
def _one_evaluation_at_a_time(unit: Unit) -> Iterator[None]:
    """Two workers evaluating one unit (pulls of two of its sources) take turns, so the second sees the first's
    alerts and does not raise them again in another minute. Not a transaction's lock: each alert commits, and is
    e-mailed, as it is raised. PostgreSQL: a session advisory lock. SQLite (one machine): an exclusive lock on a
    file beside the data, one per database and unit, let go by the system if the process dies."""
    if connection.vendor == "sqlite":
        with _file_lock(unit):
            yield
        return
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_EVALUATION_LOCK, unit.pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_EVALUATION_LOCK, unit.pk])


@contextmanager
def _file_lock(unit: Unit) -> Iterator[None]:
    """An exclusive ``flock`` on DATA_DIR/locks/alerts-<database>-<unit id>.lock (waits for the holder). Where the
    system has no ``fcntl`` (Windows: a laptop's demo, one worker), or the lock file cannot be opened (a data
    directory that is not writable), the evaluation goes on without it, as it did before there was one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        yield
        return
    name = str(connection.settings_dict["NAME"])
    database = hashlib.sha256((name if name.startswith("file:") or name == ":memory:" else os.path.realpath(name))
                              .encode()).hexdigest()[:12]
    folder = Path(settings.DATA_DIR) / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"alerts-{database}-{unit.pk}.lock", "a+b")  # noqa: SIM115 - closed below
    except OSError as exc:
        logger.warning("alerts of unit %s evaluated without the lock that makes workers take turns: %s", unit.pk,
                       exc)
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def evaluate(unit: Unit, now: datetime | None = None) -> list[Alert]:
    """Raise the alerts the unit's latest hour calls for (one evaluation of a unit at a time)."""
    with _one_evaluation_at_a_time(unit):
        return _evaluate(unit, now)


def _evaluate(unit: Unit, now: datetime | None = None) -> list[Alert]:
    """Raise the alerts the unit's latest hour calls for.

    The hour is counted back from now, not by the clock: a series alerted less than an hour ago is not alerted
    again (the same burst, still in the last hour); a burst that goes on into a second full hour may be. A spike
    over hours that had no posts at all of the series has no ratio: it is recorded without a score (``Alert.text``
    says "usually none"), where the detector's score is the count itself.
    """
    now = now or timezone.now()
    z, min_count, story_size = thresholds(unit)
    raised: list[Alert] = []
    series = hourly_series(unit, now)
    found = spikes(series, threshold=z, min_count=min_count)
    recent = recently_alerted(unit, now) if found else set()
    for key, score in sorted(found.items()):
        alert_key = spike_key(key, now)
        if alert_key.rpartition("@")[0] in recent:
            continue
        what = "all posts" if key == "all" else key.replace(":", " ", 1).replace("_", " ")
        last = series[key][-1]
        usually_none = not any(series[key][:-1])
        alert = services.raise_alert(
            unit=unit, kind=AlertKind.SPIKE, key=alert_key, count=last, score=None if usually_none else score,
            message=f"Spike in {what}: {last} posts in the last hour "
                    + ("(usually none)" if usually_none else f"({score:.1f}× the usual)"))
        if alert:
            raised.append(alert)
    _update_growth(unit, now)
    for story in Story.objects.filter(unit=unit, alerted=False, size__gte=story_size):
        alert = services.raise_alert(unit=unit, kind=AlertKind.NEW_STORY, key=f"story:{story.pk}",
                                     message=f"New story: {story.label} ({story.size} posts)", count=story.size,
                                     story=story)
        Story.objects.filter(pk=story.pk).update(alerted=True)
        if alert:
            raised.append(alert)
    return raised


def _update_growth(unit: Unit, now: datetime) -> None:
    """Growth of each active story: posts in the last hour against the hour before; NEW_GROWTH (-1) for a story
    with posts in the last hour and none the hour before (no ratio: the dashboard says "new"), 0 for none in the
    last hour."""
    recent = now - timedelta(hours=1)
    before = now - timedelta(hours=2)
    active = list(Story.objects.filter(unit=unit, last_seen__gte=before).only("pk", "growth"))
    counts: dict[int, tuple[int, int]] = {}
    rows = (ListenedItem.objects.filter(story_id__in=[story.pk for story in active], created_at__gte=before,
                                        created_at__lte=now)
            .values("story_id").annotate(last=Count("id", filter=Q(created_at__gte=recent)),
                                         previous=Count("id", filter=Q(created_at__lt=recent))).order_by())
    for row in rows:  # counted by the database, not row by row here
        counts[row["story_id"]] = (row["last"], row["previous"])
    # Posts stored for another unit that this unit heard afterwards (``StoryMember``).
    joined = (StoryMember.objects.filter(story_id__in=[story.pk for story in active], item__created_at__gte=before,
                                         item__created_at__lte=now)
              .values("story_id").annotate(last=Count("id", filter=Q(item__created_at__gte=recent)),
                                           previous=Count("id", filter=Q(item__created_at__lt=recent))).order_by())
    for row in joined:
        last, previous = counts.get(row["story_id"], (0, 0))
        counts[row["story_id"]] = (last + row["last"], previous + row["previous"])
    changed = []
    for story in active:
        last, previous = counts.get(story.pk, (0, 0))
        growth = round(last / previous, 2) if previous else (NEW_GROWTH if last else 0.0)
        if story.growth != growth:
            story.growth = growth
            changed.append(story)
    Story.objects.bulk_update(changed, ["growth"], batch_size=500)
    # A story that went quiet has no posts in the last hour: it does not keep the growth it had when it was active.
    Story.objects.filter(unit=unit, last_seen__lt=before).exclude(growth=0).update(growth=0)
