"""API endpoints for listening: sources (through the services), search and exports, saved searches, items,
stories, alerts and a unit's overview (the dashboard's figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import ValidationInfo, field_validator

from legation.listening import exports, services, trends
from legation.listening.models import (
    SOURCE_BOUNDS,
    Alert,
    ListenedItem,
    ListeningSource,
    SavedSearch,
    Story,
    country_list,
)
from legation.listening.search import (
    FILTER_NAMES,
    Filters,
    as_seen_by,
    parse_moment,
    search,
    search_params,
    viewable,
    visible_items,
)
from legation.network.models import OfficialAccount, Unit
from legation.network.permissions import Action, require

router = Router(tags=["listening"])


B = SOURCE_BOUNDS


class RefusedOut(Schema):
    position: int = Field(description="the line of the file (or the post of the page) refused")
    reason: str


class SourceOut(Schema):
    id: int
    unit_id: int
    name: str
    kind: str
    platform: str
    query: str
    account_id: int | None
    active: bool
    pull_every: int
    batch_size: int
    spike_threshold: float
    spike_min_count: int
    story_min_size: int
    last_pulled_at: datetime | None
    last_error: str = Field(description="the last pull's error, in English")
    last_error_said: str = Field(description="the same in the language of the request (Accept-Language)")
    refused_count: int = Field(description="lines (or posts) refused since the query last changed")
    refused: list[RefusedOut] = Field(description="the latest of them, with why")


class SourceIn(Schema):
    unit_id: int
    name: str = Field(min_length=1, max_length=200)
    kind: str
    platform: str
    query: str = ""
    account_id: int | None = None
    active: bool = True
    pull_every: int = Field(5, ge=B["pull_every"][0], le=B["pull_every"][1])
    batch_size: int = Field(100, ge=B["batch_size"][0], le=B["batch_size"][1])
    spike_threshold: float = Field(3.0, ge=B["spike_threshold"][0], le=B["spike_threshold"][1], allow_inf_nan=False)
    spike_min_count: int = Field(10, ge=B["spike_min_count"][0], le=B["spike_min_count"][1])
    story_min_size: int = Field(8, ge=B["story_min_size"][0], le=B["story_min_size"][1])


class SourcePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    query: str | None = None
    active: bool | None = None
    pull_every: int | None = Field(None, ge=B["pull_every"][0], le=B["pull_every"][1])
    batch_size: int | None = Field(None, ge=B["batch_size"][0], le=B["batch_size"][1])
    spike_threshold: float | None = Field(None, ge=B["spike_threshold"][0], le=B["spike_threshold"][1],
                                          allow_inf_nan=False)
    spike_min_count: int | None = Field(None, ge=B["spike_min_count"][0], le=B["spike_min_count"][1])
    story_min_size: int | None = Field(None, ge=B["story_min_size"][0], le=B["story_min_size"][1])


class ItemOut(Schema):
    id: int
    unit_id: int
    source_id: int | None
    platform: str
    external_id: str
    kind: str
    text: str
    author: str
    url: str
    created_at: datetime
    language: str
    sentiment: str
    crisis_category: str
    places: list[dict[str, Any]]
    countries: list[str]
    head_count: int | None
    phones: list[str]
    needs: list[str]
    story_id: int | None
    read_accurately_at: datetime | None  # None: the fast tier's reading, from ingestion

    @staticmethod
    def resolve_countries(obj: ListenedItem) -> list[str]:
        return country_list(obj.countries)


class FiltersIn(Schema):
    """The words and filters of a search, read as the web page reads them (``Filters.from_params``)."""

    q: str = Field("", description="words or \"a phrase\"; the first 500 characters are read, up to a whole word")
    language: str = ""
    sentiment: str = ""
    category: str = ""
    country: str = Field("", description="an ISO 3166 code, or a country's name in English or an interface "
                                          "language ('Libya', 'ليبيا', 'Libye')")
    place: str = ""
    source: int | None = Field(None, ge=1, description="a source's id")
    platform: str = ""
    story: int | None = Field(None, ge=1, description="a story's id: its posts (as the dashboard's stories link them)")
    since: str = Field("", description="YYYY-MM-DD (from its start) or an ISO 8601 date and time")
    until: str = Field("", description="YYYY-MM-DD (to its end, included) or an ISO 8601 date and time")

    @field_validator("since", "until")
    @classmethod
    def _moment(cls, value: str, info: ValidationInfo) -> str:
        parse_moment(value.strip(), end_of_day=info.field_name == "until")  # ValueError: 422 naming the field
        return value.strip()

    def filters(self) -> Filters:
        return Filters.from_params(self.dict(include=set(FILTER_NAMES)))  # "unit" where the schema has one


class SearchIn(FiltersIn):
    unit: int | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class ExportIn(FiltersIn):
    unit: int | None = None
    format: str = Field("csv", description="csv (UTF-8 with a byte-order mark) or jsonl",
                        json_schema_extra={"enum": list(exports.FORMATS)})

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in exports.FORMATS:
            raise ValueError(f"the format is one of {', '.join(exports.FORMATS)}")
        return value


class SearchOut(Schema):
    items: list[ItemOut]
    next_offset: int | None


class StoryOut(Schema):
    id: int
    unit_id: int
    label: str
    title: str  # the label in the caller's language (Accept-Language or their interface language)
    terms: list[str]
    size: int
    growth: float = Field(description="posts in the last hour against the hour before (1.0 flat, 2.0 doubled); 0: "
                                      "none in the last hour; -1: new (none the hour before, no ratio)")
    new: bool = Field(description="posts in the last hour and none the hour before (growth -1)")
    first_seen: datetime
    last_seen: datetime

    @staticmethod
    def resolve_new(obj: Story) -> bool:
        return obj.is_new


class AlertOut(Schema):
    id: int
    unit_id: int
    kind: str
    key: str
    message: str  # as recorded on the ledger, in English
    text: str  # in the caller's language
    count: int
    score: float | None = Field(description="a spike's times the usual volume; null for a spike over hours with "
                                            "no posts of its series (usually none)")
    story_id: int | None
    created_at: datetime
    acknowledged_at: datetime | None


class OverviewIn(Schema):
    hours: int = Field(48, ge=1, le=720, description="the window, in hours up to now (as the dashboard: 1 to 720)")


class VolumeOut(Schema):
    labels: list[str] = Field(description="each hour of the window (UTC), as the chart labels it")
    counts: list[int]


class SentimentSeriesOut(Schema):
    negative: list[int]
    neutral: list[int]
    positive: list[int]


class SentimentByLanguageOut(Schema):
    languages: list[str] = Field(description="the most heard languages, most first; '?' for undetected")
    language_labels: list[str] = Field(description="the languages' names in the reader's language, in that order")
    labels: dict[str, str] = Field(description="each sentiment's name in the reader's language")
    series: SentimentSeriesOut = Field(description="posts per sentiment, one number per language")


class CategoryCountOut(Schema):
    category: str
    label: str
    count: int


class PlaceCountOut(Schema):
    name: str = Field(description="as the gazetteer names it, and as the place filter takes it")
    label: str = Field(description="as the reader names it: a country in the reader's language")
    country: str
    lat: float
    lon: float
    count: int


class CountryCountOut(Schema):
    country: str
    name: str = Field(description="in the reader's language")
    count: int


class TermCountOut(Schema):
    term: str
    count: int


class SeriesOut(Schema):
    key: str = Field(description="the language code, sentiment, place name, ISO country code or term")
    label: str = Field(description="its name in the reader's language")
    counts: list[int] = Field(description="posts in each hour of the window (the volume's labels)")


class OverTimeOut(Schema):
    language: list[SeriesOut] = Field(description="the most heard languages, most first ('?' for undetected)")
    sentiment: list[SeriesOut] = Field(description="negative, neutral and positive")
    place: list[SeriesOut] = Field(description="the places most mentioned, by the gazetteer's name")
    country: list[SeriesOut] = Field(description="the countries most mentioned (places resolved to a country)")
    term: list[SeriesOut] = Field(description="the unit's trending terms of the window, each counted by full-text "
                                              "search, and its most heard hashtags and listened-for words")


class TrendsIn(OverviewIn):
    by: Literal["language", "sentiment", "place", "country", "term"] = Field(
        "language", description="what the volume is broken down by")


class TrendsOut(Schema):
    unit_id: int
    hours: int
    by: str
    labels: list[str] = Field(description="each hour of the window (UTC)")
    series: list[SeriesOut]


class OverviewOut(Schema):
    unit_id: int
    hours: int
    since: datetime
    total: int
    volume: VolumeOut
    sentiment_by_language: SentimentByLanguageOut
    categories: list[CategoryCountOut]
    places: list[PlaceCountOut] = Field(description="for the map: the places of the latest posts")
    countries: list[CountryCountOut]
    terms: list[TermCountOut] = Field(description="the words naming the unit's stories (and the stories of the units "
                                                  "under it), each with the posts of those stories in the window")
    over_time: OverTimeOut = Field(description="posts per hour by language, sentiment, country and term")
    stories: list[StoryOut]
    open_alerts: list[AlertOut]


class SavedSearchIn(Schema):
    unit_id: int
    name: str = Field(max_length=200)
    params: FiltersIn = FiltersIn.model_validate({})


class SavedSearchOut(Schema):
    id: int
    unit_id: int
    name: str
    params: dict[str, str]
    created_at: datetime


def _visible(request: HttpRequest, queryset: QuerySet[Any], field: str = "unit_path") -> QuerySet[Any]:
    return viewable(request.user, queryset, field)  # type: ignore[arg-type]


def _source(request: HttpRequest, source_id: int) -> ListeningSource:
    return get_object_or_404(_visible(request, ListeningSource.objects.select_related("unit"), "unit__path"),
                             pk=source_id)


@router.get("/sources", response=list[SourceOut])
def list_sources(request: HttpRequest, unit_id: int | None = None) -> Any:
    sources = _visible(request, ListeningSource.objects.all(), "unit__path")
    if unit_id is not None:
        unit = get_object_or_404(Unit, pk=unit_id)
        sources = sources.filter(unit__path__startswith=unit.path)
    return sources


@router.post("/sources", response={201: SourceOut})
def create_source(request: HttpRequest, payload: SourceIn) -> Any:
    unit = get_object_or_404(Unit, pk=payload.unit_id)
    require(request.user, Action.LISTENING_VIEW, unit)  # 403 before any check of the payload, as /units answers
    data = payload.dict(exclude={"unit_id", "account_id"})
    account = get_object_or_404(OfficialAccount, pk=payload.account_id) if payload.account_id else None
    source = services.create_source(request.user, unit=unit, account=account, **data)  # type: ignore[arg-type]
    return Status(201, source)


@router.get("/sources/{source_id}", response=SourceOut)
def get_source(request: HttpRequest, source_id: int) -> Any:
    return _source(request, source_id)


@router.patch("/sources/{source_id}", response=SourceOut)
def update_source(request: HttpRequest, source_id: int, payload: SourcePatch) -> Any:
    source = _source(request, source_id)
    changes = payload.dict(exclude_unset=True)
    return services.update_source(request.user, source, **changes)  # type: ignore[arg-type]


@router.delete("/sources/{source_id}", response={204: None})
def delete_source(request: HttpRequest, source_id: int) -> Any:
    services.delete_source(request.user, _source(request, source_id))  # type: ignore[arg-type]
    return Status(204, None)


def _unit_filter(request: HttpRequest, unit_id: int | None) -> None:
    """A ``unit`` filter names a unit that exists (404) and that the caller may view listening in (403)."""
    if unit_id is not None:
        require(request.user, Action.LISTENING_VIEW, get_object_or_404(Unit, pk=unit_id))


@router.get("/search", response=SearchOut)
def search_items(request: HttpRequest, params: Query[SearchIn]) -> Any:
    # The web page's reading of the same parameters (case, a day's end for "until").
    _unit_filter(request, params.unit)
    items = search(request.user, params.q, params.filters())
    rows = list(items[params.offset : params.offset + params.limit + 1])
    more = len(rows) > params.limit
    return {"items": as_seen_by(request.user, rows[: params.limit]),
            "next_offset": params.offset + params.limit if more else None}


@router.get("/export", response={200: None}, openapi_extra={"responses": {200: {
    "description": "the matches as a file, newest first (at most 100,000)",
    "content": {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}},
}}})
def export_items(request: HttpRequest, params: Query[ExportIn]) -> StreamingHttpResponse:
    """The search's matches as the web page's export: CSV (with a byte-order mark) or JSON lines, streamed."""
    _unit_filter(request, params.unit)
    return exports.response(search(request.user, params.q, params.filters()), params.format, request.user)


@router.get("/saved-searches", response=list[SavedSearchOut])
def list_saved_searches(request: HttpRequest, unit_id: int | None = None) -> Any:
    saved = _visible(request, SavedSearch.objects.filter(owner=request.user), "unit__path")  # type: ignore[misc]
    return saved.filter(unit=get_object_or_404(Unit, pk=unit_id)) if unit_id is not None else saved


@router.post("/saved-searches", response={201: SavedSearchOut})
def create_saved_search(request: HttpRequest, payload: SavedSearchIn) -> Any:
    """Save a search for oneself on a unit; one of the same name is replaced."""
    unit = get_object_or_404(Unit, pk=payload.unit_id)
    saved = services.save_search(request.user, unit=unit, name=payload.name,  # type: ignore[arg-type]
                                 params=search_params(payload.params.q, payload.params.filters()))
    return Status(201, saved)


@router.delete("/saved-searches/{saved_id}", response={204: None})
def delete_saved_search(request: HttpRequest, saved_id: int) -> Any:
    saved = get_object_or_404(SavedSearch, pk=saved_id, owner=request.user)  # type: ignore[misc]
    services.delete_saved_search(request.user, saved)  # type: ignore[arg-type]
    return Status(204, None)


@router.get("/items/{item_id}", response=ItemOut)
def get_item(request: HttpRequest, item_id: int) -> Any:
    return as_seen_by(request.user, [get_object_or_404(visible_items(request.user), pk=item_id)])[0]


@router.post("/items/{item_id}/read-accurately", response={202: dict[str, bool]})
def read_item_accurately(request: HttpRequest, item_id: int) -> Any:
    """Ask the accurate tier to read the post again, in the worker; GET the item later to see its new reading."""
    item = get_object_or_404(visible_items(request.user).select_related("unit"), pk=item_id)
    # queued: False when an earlier request is still waiting for the worker (nothing is queued twice)
    return Status(202, {"queued": services.request_accurate_reading(request.user, item)})  # type: ignore[arg-type]


@router.get("/stories", response=list[StoryOut])
def list_stories(request: HttpRequest, unit_id: int | None = None, limit: int = 50) -> Any:
    stories = _visible(request, Story.objects.all())
    if unit_id is not None:
        unit = get_object_or_404(Unit, pk=unit_id)
        stories = stories.filter(unit_path__startswith=unit.path)
    return stories.order_by("-last_seen")[: min(max(limit, 1), 500)]


@router.get("/alerts", response=list[AlertOut])
def list_alerts(request: HttpRequest, unit_id: int | None = None, open_only: bool = False) -> Any:
    alerts = _visible(request, Alert.objects.select_related("story"))
    if unit_id is not None:
        unit = get_object_or_404(Unit, pk=unit_id)
        alerts = alerts.filter(unit_path__startswith=unit.path)
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return alerts[:200]


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut)
def acknowledge_alert(request: HttpRequest, alert_id: int) -> Any:
    alert = get_object_or_404(_visible(request, Alert.objects.select_related("unit", "story")), pk=alert_id)
    return services.acknowledge_alert(request.user, alert)  # type: ignore[arg-type]


@router.get("/units/{unit_id}/overview", response=OverviewOut)
def unit_overview(request: HttpRequest, unit_id: int, params: Query[OverviewIn]) -> Any:
    """The figures of the unit's listening dashboard over the last ``hours``, with its stories and open alerts."""
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, Action.LISTENING_VIEW, unit)
    return {**trends.overview(unit, hours=params.hours), "unit_id": unit.pk, "hours": params.hours,
            "stories": trends.stories(unit), "open_alerts": trends.open_alerts(unit)}


@router.get("/units/{unit_id}/trends", response=TrendsOut)
def unit_trends(request: HttpRequest, unit_id: int, params: Query[TrendsIn]) -> Any:
    """Posts per hour over the last ``hours``, one series per language, sentiment, country or trending term."""
    unit = get_object_or_404(Unit, pk=unit_id)
    require(request.user, Action.LISTENING_VIEW, unit)
    since, items = trends.window(unit, params.hours)
    return {"unit_id": unit.pk, "hours": params.hours, "by": params.by,
            "labels": trends.volume(items, since, params.hours)["labels"],
            "series": trends.over_time(unit, items, since, params.hours, by=(params.by,))[params.by]}
