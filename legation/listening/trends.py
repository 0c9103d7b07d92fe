"""What the dashboard and the API show: volumes over time, sentiment by language, categories, places, terms."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from legation.listening.models import Alert, CrisisCategory, ListenedItem, Sentiment, Story
from legation.network.models import Unit

PLACE_SAMPLE = 5000  # the map plots the places of the latest posts, not of all history


def unit_items(unit: Unit) -> QuerySet[ListenedItem]:
    """Items heard by the unit or a unit below it."""
    return ListenedItem.objects.filter(heard_by__contains="|" + unit.path)


def overview(unit: Unit, *, hours: int = 48, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of a unit's listening dashboard, as plain JSON-ready data."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    items = unit_items(unit).filter(created_at__gte=since, created_at__lte=now)
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
        "terms": terms(unit),
    }


def category_label(code: str) -> str:
    """A crisis category's name as the search page shows it; a ministry's own label as it is."""
    if code in CrisisCategory.values:
        return str(CrisisCategory(code).label)
    return code or "unknown"


def volume(items: QuerySet[ListenedItem], since: datetime, hours: int) -> dict[str, list[Any]]:
    start = since.replace(minute=0, second=0, microsecond=0)
    buckets = [start + timedelta(hours=i) for i in range(hours + 1)]
    counts = {row["hour"]: row["n"] for row in
              items.annotate(hour=TruncHour("created_at")).values("hour").annotate(n=Count("id")).order_by()}
    return {"labels": [b.strftime("%d %H:00") for b in buckets], "counts": [counts.get(b, 0) for b in buckets]}


def sentiment_by_language(items: QuerySet[ListenedItem], top: int = 8) -> dict[str, Any]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for row in items.values("language", "sentiment").annotate(n=Count("id")).order_by():
        table[row["language"] or "?"][row["sentiment"] or "neutral"] += row["n"]
    languages = sorted(table, key=lambda lang: -sum(table[lang].values()))[:top]
    # labels: each sentiment's name in the reader's language, for the chart's legend.
    return {"languages": languages, "labels": dict(Sentiment.choices),
            "series": {s: [table[lang][s] for lang in languages] for s in Sentiment.values}}


def places(items: QuerySet[ListenedItem], top: int = 200) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str, float, float]] = Counter()
    for found in items.exclude(countries="").order_by("-id").values_list("places", flat=True)[:PLACE_SAMPLE]:
        for place in found or []:
            if place.get("lat") is not None and place.get("lon") is not None:
                counts[(place.get("name", ""), place.get("country", ""), place["lat"], place["lon"])] += 1
    return [{"name": n, "country": c, "lat": lat, "lon": lon, "count": k}
            for (n, c, lat, lon), k in counts.most_common(top)]


def countries(items: QuerySet[ListenedItem], top: int = 15) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for row in items.exclude(countries="").values("countries").annotate(n=Count("id")).order_by():
        for code in filter(None, row["countries"].split(",")):
            counts[code] += row["n"]
    return [{"country": code, "count": n} for code, n in counts.most_common(top)]


def terms(unit: Unit, top: int = 15) -> list[dict[str, Any]]:
    """Volume by term: the words that name the unit's stories, weighted by their size."""
    counts: Counter[str] = Counter()
    for story_terms, size in Story.objects.filter(unit_path__startswith=unit.path).values_list("terms", "size"):
        for term in story_terms or []:
            counts[term] += size
    return [{"term": t, "count": n} for t, n in counts.most_common(top)]


def stories(unit: Unit, limit: int = 15) -> QuerySet[Story]:
    return Story.objects.filter(unit_path__startswith=unit.path).order_by("-last_seen")[:limit]


def open_alerts(unit: Unit, limit: int = 20) -> QuerySet[Alert]:
    return Alert.objects.filter(unit_path__startswith=unit.path, acknowledged_at__isnull=True).select_related(
        "story", "unit")[:limit]
