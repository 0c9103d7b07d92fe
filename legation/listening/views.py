"""Listening pages: the unit's dashboard, search with filters and exports, sources, alerts."""

from __future__ import annotations

from typing import Any

from django.conf.locale import LANG_INFO
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages.storage.base import BaseStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from legation.listening import exports, services, trends
from legation.listening.forms import (
    EDITABLE_FIELDS,
    SaveSearchForm,
    SourceEditForm,
    SourceForm,
    add_service_errors,
)
from legation.listening.highlight import snippet
from legation.listening.models import (
    Alert,
    CrisisCategory,
    HeardCount,
    ListeningSource,
    SavedSearch,
    Sentiment,
    Story,
    language_name,
)
from legation.listening.search import (
    MAX_QUERY,
    Filters,
    as_seen_by,
    capped_count,
    clip_query,
    search,
    search_params,
    viewable,
    visible_items,
)
from legation.network.models import PLATFORM_CHOICES, OfficialAccount, Unit
from legation.network.permissions import Action, may, path_filter, require
from legation.web.context import current_unit
from legation.web.params import posted_id, whole_number

PAGE_SIZE = 50
MAX_PAGE = 20_000  # a million posts in; a larger page number (a typed URL) shows the last page's neighbours: none


def _unit(request: HttpRequest) -> Unit:
    unit = current_unit(request)
    if unit is None:
        raise PermissionDenied(_("You hold no role on any unit."))
    require(request.user, Action.LISTENING_VIEW, unit)  # type: ignore[arg-type]
    return unit


def _sources(request: HttpRequest, unit: Unit) -> Any:
    return ListeningSource.objects.filter(unit__path__startswith=unit.path).select_related("unit", "account")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    hours = whole_number(request.GET.get("hours"), 48, 1, 24 * 30)
    alerts = list(trends.open_alerts(unit))
    response = render(request, "listening/dashboard.html", {
        "unit": unit,
        "hours": hours,
        "figures": trends.overview(unit, hours=hours),
        "stories": trends.stories(unit),
        "alerts": alerts,
        "alerts_more": max(0, trends.open_alerts(unit, limit=None).count() - len(alerts)),
        "sources": _sources(request, unit),
        "words": {"posts": _("posts"), "zoom_in": _("Zoom in"), "zoom_out": _("Zoom out")},
        "can_manage": may(request.user, Action.LISTENING_MANAGE, unit),  # type: ignore[arg-type]
    })
    pending = messages.get_messages(request)
    if request.GET.get("refresh") and isinstance(pending, BaseStorage):  # the page's own minute refresh: the
        pending.used = False  # messages wait for the next page shown
    return response


def _search_context(request: HttpRequest, unit: Unit) -> tuple[str, Filters]:
    typed_query = request.GET.get("q", "").strip()
    query = clip_query(typed_query)
    if len(query) < len(typed_query):
        messages.warning(request, _("Only the first %(count)s characters of the search are read (up to “%(end)s”).")
                         % {"count": MAX_QUERY, "end": query[-30:]})
    filters = Filters.from_params(request.GET)
    filters.unit = unit.pk  # the working unit (and below): switch units to look elsewhere
    for name, label in (("since", _("From (date)")), ("until", _("Until (date)"))):
        typed = request.GET.get(name, "").strip()
        if typed and getattr(filters, name) is None:
            messages.warning(request, _("“%(typed)s” is not a date (%(field)s): the search is not limited by it.")
                             % {"typed": typed[:40], "field": label})
    return query, filters


@login_required
def search_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    unit = _unit(request)
    query, filters = _search_context(request, unit)
    items = search(request.user, query, filters).select_related("source")
    export = request.GET.get("export")
    if export in exports.FORMATS:
        return exports.response(items, export, request.user)
    number = whole_number(request.GET.get("page"), 1, 1, MAX_PAGE)
    rows = list(items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1])
    total, more = capped_count(items)
    params = search_params(query, filters)
    if request.method == "POST":
        form = SaveSearchForm(request.POST)
        if form.is_valid():
            try:
                saved = services.save_search(request.user, unit=unit,  # type: ignore[arg-type]
                                             name=form.cleaned_data["name"], params=params)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Saved search “%(name)s” replaced.")
                                 % {"name": saved.name} if saved.replaced else _("Search saved."))
            return redirect(reverse("listening:search") + "?" + urlencode(params))
        if request.POST.get("name", "").strip():  # too long: the form says how long a name may be
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        else:
            messages.error(request, _("Give the search a name to save it."))
        return redirect(reverse("listening:search") + "?" + urlencode(params))
    shown = as_seen_by(request.user, rows[:PAGE_SIZE])
    for item in shown:
        item.snippet = snippet(item.text, query)  # type: ignore[attr-defined]
    story = viewable(request.user, Story.objects.select_related("unit").filter(  # type: ignore[arg-type]
        pk=filters.story)).first() if filters.story else None
    return render(request, "listening/search.html", {
        "unit": unit, "q": query, "filters": filters, "items": shown, "story": story,
        "without_story": urlencode({key: value for key, value in params.items() if key != "story"}),
        "page": number, "has_next": len(rows) > PAGE_SIZE, "total": total, "more": more,
        "params": urlencode(params), "export_limit": exports.EXPORT_LIMIT,
        "saved": SavedSearch.objects.filter(owner=request.user, unit=unit),  # type: ignore[misc]
        "sources": _sources(request, unit),
        "languages": language_choices(unit, filters.language),
        "platforms": platform_choices(filters.platform),
        "categories": CrisisCategory.choices,
        "sentiments": Sentiment.choices,
        "save_form": SaveSearchForm(),
    })


def language_choices(unit: Unit, selected: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """The search's language filter: the languages the unit heard in the last two days first (from the alerts'
    per-minute counters, a few thousand rows), then every other language by name.

    Not a DISTINCT over the unit's posts: that reads every post the unit ever heard on each page load.
    """
    keys = HeardCount.objects.filter(unit_path__startswith=unit.path, key__startswith="language:").values_list(
        "key", flat=True).distinct()
    recent = {key.split(":", 1)[1] for key in keys} | ({selected} if selected else set())
    others = [code for code, info in LANG_INFO.items() if len(code) == 2 and "name" in info and code not in recent]
    return [(str(_("Heard lately")), _named(recent)), (str(_("Other languages")), _named(others))]


def _named(codes: Any) -> list[tuple[str, str]]:
    named = [(code, name if (name := language_name(code)) == code else f"{name} ({code})") for code in codes]
    return sorted(named, key=lambda pair: pair[1].casefold())


def platform_choices(selected: str = "") -> list[tuple[str, str]]:
    """The platforms posts are heard on, by name (and one a saved search or link names, kept selectable)."""
    choices = [(str(key), str(label)) for key, label in PLATFORM_CHOICES]
    if selected and selected not in dict(choices):
        choices.append((selected, selected))
    return choices


@login_required
@require_POST
def delete_saved_search(request: HttpRequest, saved_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedSearch, pk=saved_id, owner=request.user)  # type: ignore[misc]
    services.delete_saved_search(request.user, saved)  # type: ignore[arg-type]
    messages.success(request, _("Saved search deleted."))
    return redirect("listening:search")


@login_required
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    items = visible_items(request.user).select_related("source", "story", "unit")
    [item] = as_seen_by(request.user, [get_object_or_404(items, pk=item_id)])
    # opened from search results: the whole post, its matches marked, line breaks kept
    query = clip_query(request.GET.get("q", ""))
    marked = snippet(item.text, query, limit=len(item.text), line_breaks=True) if query else None
    return render(request, "listening/item.html", {"item": item, "q": query, "marked": marked})


@login_required
@require_POST
def read_item_accurately(request: HttpRequest, item_id: int) -> HttpResponse:
    """Ask the accurate tier to read a post again (in the worker); anyone who may see the post may ask."""
    item = get_object_or_404(visible_items(request.user).select_related("unit"), pk=item_id)
    if services.request_accurate_reading(request.user, item):  # type: ignore[arg-type]
        messages.info(request, _("The accurate models will read this post in a moment; reload the page to see it."))
    else:  # asked already, and not read yet: nothing is queued twice
        messages.info(request, _("The accurate models were asked to read this post already; reload the page in a "
                                 "moment to see it."))
    return redirect("listening:item", item_id=item.pk)


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    can_manage = may(request.user, Action.LISTENING_MANAGE, unit)  # type: ignore[arg-type]
    accounts = OfficialAccount.objects.filter(unit__path__in=[u.path for u in unit.ancestors()]) | \
        OfficialAccount.objects.filter(unit__path__startswith=unit.path)
    form = SourceForm(request.POST or None, accounts=accounts)
    if request.method == "POST":
        if "toggle" in request.POST:
            source = get_object_or_404(_sources(request, unit), pk=posted_id(request.POST["toggle"]))
            try:
                services.update_source(request.user, source, active=not source.active)  # type: ignore[arg-type]
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Source updated."))
            return redirect("listening:sources")
        if "delete" in request.POST:
            source = get_object_or_404(_sources(request, unit), pk=posted_id(request.POST["delete"]))
            services.delete_source(request.user, source)  # type: ignore[arg-type]
            messages.success(request, _("Source removed; what it heard stays searchable."))
            return redirect("listening:sources")
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.create_source(request.user, unit=unit, **data)  # type: ignore[arg-type]
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Listening to %(name)s.") % {"name": data["name"]})
                return redirect("listening:sources")
    return render(request, "listening/sources.html", {
        "unit": unit, "sources": _sources(request, unit), "form": form, "can_manage": can_manage,
    })


@login_required
def edit_source(request: HttpRequest, source_id: int) -> HttpResponse:
    """A source's settings, prefilled; saved through the service as the API's PATCH is."""
    query = path_filter(request.user, Action.LISTENING_VIEW, "unit__path")
    visible = ListeningSource.objects.select_related("unit")
    source = get_object_or_404(visible.filter(query) if query is not None else visible, pk=source_id)
    require(request.user, Action.LISTENING_MANAGE, source.unit)  # type: ignore[arg-type]
    form = SourceEditForm(request.POST or None, initial=model_to_dict(source, fields=EDITABLE_FIELDS))
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing changed."))
            return redirect("listening:sources")
        try:
            services.update_source(request.user, source, **changes)  # type: ignore[arg-type]
        except ValidationError as exc:
            add_service_errors(form, exc)
            source.refresh_from_db()  # the service set the refused values on this copy before it refused them
        else:
            messages.success(request, _("Source updated."))
            return redirect("listening:sources")
    return render(request, "listening/source_edit.html", {"source": source, "form": form})


@login_required
@require_POST
def acknowledge_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    query = path_filter(request.user, Action.LISTENING_VIEW, "unit_path")
    alerts = Alert.objects.select_related("unit")
    alert = get_object_or_404(alerts.filter(query) if query is not None else alerts, pk=alert_id)
    services.acknowledge_alert(request.user, alert)  # type: ignore[arg-type]
    messages.success(request, _("Alert acknowledged."))
    return redirect("listening:dashboard")
