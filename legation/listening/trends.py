"""What the dashboard and the API show: volumes over time, sentiment by language, categories, places, terms."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from legation.listening import search
from legation.listening.ingest import minute_of
from legation.listening.models import (
    COUNTS_KEPT,
    Alert,
    CrisisCategory,
    HeardCount,
    ListenedItem,
    Sentiment,
    Story,
    StoryMember,
    country_name,
    language_name,
    place_label,
)
from legation.network.models import Unit

# The counters stay per minute this long back (the alerts' 12 hours and an hour's margin); older ones are per clock
# hour (``tasks.purge_old_counts``).
MINUTE_COUNTERS_KEPT = timedelta(hours=13)
PLACE_SAMPLE = 5000  # the map plots the places of the latest posts, not of all history


HOUR_LABEL = "%Y-%m-%d %H:00"  # an hour of the charts and the API, in UTC: the date whole, never ambiguous

def unit_items(unit: Unit) -> QuerySet[ListenedItem]:
    """Items heard by the unit or a unit below it."""
    return ListenedItem.objects.filter(heard_by__contains="|" + unit.path)


def window(unit: Unit, hours: int, now: datetime | None = None) -> tuple[datetime, QuerySet[ListenedItem]]:
    """The start of the last ``hours`` and the unit's posts made since then."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    return since, unit_items(unit).filter(created_at__gte=since, created_at__lte=now)


def overview(unit: Unit, *, hours: int = 48, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of a unit's listening dashboard, as plain JSON-ready data."""
    now = now or timezone.now()
    since, items = window(unit, hours, now)
    return {
        "since": since.isoformat(),
        "total": items.count(),
        "volume": volume(items, since, hours),
        "sentiment_by_language": sentiment_by_language(items),
        "categories": [
            {"category": row["crisis_category"] or "unknown", "label": category_label(row["crisis_category"]),
             "count": row["n"]}
            for row in items.values("crisis_category").annotate(n=Count("id")).order_by("-n")
        ],
        "places": places(items),
        "countries": countries(items),
        "terms": terms(unit, since=since, now=now),
        "over_time": over_time(unit, items, since, hours),
    }


def category_label(code: str) -> str:
    """A crisis category's name as the search page shows it; a ministry's own label as it is."""
    if code in CrisisCategory.values:
        return str(CrisisCategory(code).label)
    return code or "unknown"


def volume(items: QuerySet[ListenedItem], since: datetime, hours: int) -> dict[str, list[Any]]:
    buckets = _hours(since, hours)
    counts = {row["hour"]: row["n"] for row in
              items.annotate(hour=TruncHour("created_at")).values("hour").annotate(n=Count("id")).order_by()}
    return {"labels": [b.strftime(HOUR_LABEL) for b in buckets], "counts": [counts.get(b, 0) for b in buckets]}


BREAKDOWNS = ("language", "sentiment", "place", "country", "term")  # what volumes over time are broken down by
TOP_SERIES = 6  # lines per chart: the most heard languages, countries or terms of the window


def _hours(since: datetime, hours: int) -> list[datetime]:
    start = since.replace(minute=0, second=0, microsecond=0)
    return [start + timedelta(hours=i) for i in range(hours + 1)]


def over_time(unit: Unit, items: QuerySet[ListenedItem], since: datetime, hours: int,
              by: tuple[str, ...] = BREAKDOWNS, top: int = TOP_SERIES) -> dict[str, list[dict[str, Any]]]:
    """Posts per hour broken down by language, sentiment, place and country mentioned, and trending term.

    Each breakdown is a list of series ``{"key", "label", "counts"}`` over the hours of ``volume`` (same
    labels), the most heard first: one GROUP BY (hour, value) per breakdown, and one full-text count per term
    (the unit's trending terms of the window, as ``terms`` ranks them; the window ends ``since + hours``).
    """
    buckets = _hours(since, hours)
    until = since + timedelta(hours=hours)
    index = {bucket: i for i, bucket in enumerate(buckets)}
    by_hour = items.annotate(hour=TruncHour("created_at"))
    result: dict[str, list[dict[str, Any]]] = {}
    for breakdown in by:
        table: dict[str, list[int]] = defaultdict(lambda: [0] * len(buckets))
        named: dict[str, str] = {}  # a place's label: its name and country
        if breakdown == "term":
            for row in terms(unit, top=top, since=since, now=until):
                counts = table[row["term"]]
                matching = search._full_text(by_hour, row["term"], search.Filters())
                for hit in matching.order_by().values("hour").annotate(n=Count("id")).order_by():  # type: ignore[misc]
                    if hit["hour"] in index:
                        counts[index[hit["hour"]]] += hit["n"]
            for key, counts in counted_terms(unit, buckets, hours, top, since=since).items():
                table.setdefault(key, counts)
        elif breakdown == "place":
            # Grouped by the post's list of places: the same few places come up again and again.
            grouped = by_hour.exclude(countries="").values("hour", "places").annotate(n=Count("id")).order_by()
            for group in grouped:
                if group["hour"] not in index:
                    continue
                found = {(p.get("name", ""), p.get("country", "")) for p in group["places"] or [] if p.get("name")}
                for name, country in found:
                    table[name][index[group["hour"]]] += group["n"]
                    label = place_label(name, country)
                    named[name] = f"{label} ({country})" if country and label == name else label
        else:
            field = {"language": "language", "sentiment": "sentiment", "country": "countries"}[breakdown]
            for row in by_hour.values("hour", field).annotate(n=Count("id")).order_by():
                if row["hour"] not in index:
                    continue
                values = filter(None, row[field].split(",")) if breakdown == "country" else [row[field]]
                for value in values:
                    table[value or ("?" if breakdown == "language" else "neutral")][index[row["hour"]]] += row["n"]
        ranked = sorted(table.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        if breakdown == "sentiment":  # always the three, in their order
            ranked = [(value, table.get(value, [0] * len(buckets))) for value in Sentiment.values]
        result[breakdown] = [{"key": key, "label": named.get(key, key) if breakdown == "place"
                              else _series_label(breakdown, key), "counts": counts}
                             for key, counts in ranked[:top] if breakdown == "sentiment" or any(counts)]
    return result


def counted_terms(unit: Unit, buckets: list[datetime], hours: int, top: int,
                  since: datetime | None = None) -> dict[str, list[int]]:
    """The ``top`` hashtags and words the unit's sources listen for most heard in the window, per hour, read
    from the alert counters (``HeardCount``, "term:..." keys) of the unit and the units under it (a post heard
    by two of them counts twice). Empty for a window longer than the counters are kept (COUNTS_KEPT).

    The window runs from the minute of ``since`` (the first bucket's hour when not given) to the minute of
    ``since + hours``, as the other series run from ``since``: a post made in the first clock hour before
    ``since`` is not counted. The counters are per minute for the alerts' last WINDOWS hours (and an hour's
    margin, about 13 hours); older ones are folded by the hourly purge into one counter per clock hour, at the
    hour's first minute (``ingest.roll_up_counts``, ``tasks.purge_old_counts``). So in a longer window (24 or
    48 hours) the first hour is one counter, at a minute before ``since``, holding posts from before ``since``
    too: its bucket counts that counter for the share of the hour after ``since`` (an estimate, rounded; a late
    post's own minute counter is exact), where leaving it out would show a first hour with nothing, and counting
    it whole the posts made before ``since``. Every later hour is counted exactly.
    """
    if timedelta(hours=hours) > COUNTS_KEPT:
        return {}
    hour_start = int(buckets[0].timestamp() // 60)
    end = since + timedelta(hours=hours) if since is not None else buckets[-1] + timedelta(minutes=59)
    first, until = (minute_of(since) if since is not None else hour_start), minute_of(end)
    paths = list(Unit.objects.filter(path__startswith=unit.path).values_list("path", flat=True))
    marks = ", ".join(["%s"] * len(paths))
    # One pass over the window's counters: sums per term and hour, each term's total, the top terms' rows.
    sql = f"""SELECT key, hour, n FROM (
        SELECT key, hour, n, DENSE_RANK() OVER (ORDER BY total DESC, key) AS place FROM (
            SELECT key, (minute - %s) / 60 AS hour, SUM(n) AS n, SUM(SUM(n)) OVER (PARTITION BY key) AS total
            FROM {HeardCount._meta.db_table}
            WHERE unit_path IN ({marks}) AND minute >= %s AND minute <= %s AND key LIKE 'term:%%'
            GROUP BY key, (minute - %s) / 60) AS hourly) AS ranked
        WHERE place <= %s"""  # noqa: S608 - our table; the values are parameters
    series: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [hour_start, *paths, first, until, hour_start, top])
        for key, hour, n in cursor.fetchall():
            if 0 <= int(hour) < len(buckets):
                series.setdefault(key.removeprefix("term:"), [0] * len(buckets))[int(hour)] += int(n)
        # The first hour folded into its first minute (before ``since``): its share after ``since``.
        folded_before = minute_of(end - MINUTE_COUNTERS_KEPT)
        if series and hour_start < first and hour_start + 60 <= folded_before:
            cursor.execute(
                f"SELECT key, SUM(n) FROM {HeardCount._meta.db_table} "  # noqa: S608 - our table
                f"WHERE unit_path IN ({marks}) AND minute = %s AND key IN ({', '.join(['%s'] * len(series))}) "
                "GROUP BY key", [*paths, hour_start, *(f"term:{term}" for term in series)])
            share = (hour_start + 60 - first) / 60
            for key, n in cursor.fetchall():
                series[key.removeprefix("term:")][0] += round(int(n) * share)
    return series


def _series_label(breakdown: str, key: str) -> str:
    if breakdown == "language":
        return language_name(key)
    if breakdown == "sentiment":
        return str(capfirst(Sentiment(key).label)) if key in Sentiment.values else key
    if breakdown == "country":
        return country_name(key)
    return key


def sentiment_by_language(items: QuerySet[ListenedItem], top: int = 8) -> dict[str, Any]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for row in items.values("language", "sentiment").annotate(n=Count("id")).order_by():
        table[row["language"] or "?"][row["sentiment"] or "neutral"] += row["n"]
    languages = sorted(table, key=lambda lang: -sum(table[lang].values()))[:top]
    # labels: each sentiment's name in the reader's language, for the chart's legend.
    return {"languages": languages, "labels": {value: str(label) for value, label in Sentiment.choices},
            # each language's name in the reader's language, for the chart's axis
            "language_labels": [language_name(lang) if lang not in ("?", "und") else str(_("undetermined"))
                                for lang in languages],
            "series": {s: [table[lang][s] for lang in languages] for s in Sentiment.values}}


def places(items: QuerySet[ListenedItem], top: int = 200) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str, float, float]] = Counter()
    for found in items.exclude(countries="").order_by("-id").values_list("places", flat=True)[:PLACE_SAMPLE]:
        for place in found or []:
            if place.get("lat") is not None and place.get("lon") is not None:
                counts[(place.get("name", ""), place.get("country", ""), place["lat"], place["lon"])] += 1
    return [{"name": n, "label": place_label(n, c), "country": c, "lat": lat, "lon": lon, "count": k}
            for (n, c, lat, lon), k in counts.most_common(top)]


def countries(items: QuerySet[ListenedItem], top: int = 15) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for row in items.exclude(countries="").values("countries").annotate(n=Count("id")).order_by():
        for code in filter(None, row["countries"].split(",")):
            counts[code] += row["n"]
    return [{"country": code, "name": country_name(code), "count": n} for code, n in counts.most_common(top)]


def terms(unit: Unit, top: int = 15, *, since: datetime | None = None,
          now: datetime | None = None) -> list[dict[str, Any]]:
    """Trending terms: the words naming the unit's stories (and those of the units under it), each counted as
    the posts of those stories made in the window [since, now] (by default the last 48 hours).

    A story's posts are those stored in it and those another unit stored first that joined it (``StoryMember``);
    a post counts once for a term, unless two units under this one each have a story of it (its first unit's
    story and a later unit's have the same terms: the membership is not counted again when the first unit is
    under this one too). Two GROUP BY story_id and one read of the stories' terms, whatever the number of posts.
    """
    now = now or timezone.now()
    since = since or now - timedelta(hours=48)
    inside = unit.path
    posts: Counter[int] = Counter()
    stored = (ListenedItem.objects.filter(story__unit_path__startswith=inside, created_at__gte=since,
                                          created_at__lte=now)
              .values("story_id").annotate(n=Count("id")).order_by())
    for row in stored:
        posts[row["story_id"]] += row["n"]
    joined = (StoryMember.objects.filter(story__unit_path__startswith=inside, item__created_at__gte=since,
                                         item__created_at__lte=now)
              .exclude(item__story__unit_path__startswith=inside)
              .values("story_id").annotate(n=Count("id")).order_by())
    for row in joined:
        posts[row["story_id"]] += row["n"]
    counts: Counter[str] = Counter()
    for story_id, story_terms in Story.objects.filter(pk__in=list(posts)).values_list("pk", "terms"):
        for term in dict.fromkeys(story_terms or []):
            counts[term] += posts[story_id]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"term": t, "count": n} for t, n in ranked[:top] if n]


def stories(unit: Unit, limit: int = 15) -> QuerySet[Story]:
    return Story.objects.filter(unit_path__startswith=unit.path).select_related("unit").order_by("-last_seen")[:limit]


def open_alerts(unit: Unit, limit: int | None = 20) -> QuerySet[Alert]:
    """The unit's (and the units' below it) alerts no one has acknowledged, newest first; ``limit`` of them."""
    found = Alert.objects.filter(unit_path__startswith=unit.path, acknowledged_at__isnull=True).select_related(
        "story", "unit")
    return found if limit is None else found[:limit]
