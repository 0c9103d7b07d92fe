"""Composer with live per-account previews, post pages with their whole history, the clearance queue, calendar."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from legation.connectors.registry import provider_class
from legation.network.models import OfficialAccount, Person
from legation.network.permissions import Action, may, units_where
from legation.publishing import checks, services
from legation.publishing.forms import ComposerForm
from legation.publishing.models import Clearance, Post, PostStatus
from legation.records.models import Record
from legation.web.context import current_unit
from legation.web.params import posted_id


def _visible_post(request: HttpRequest, post_id: int) -> Post:
    post = get_object_or_404(Post.objects.select_related("unit", "author"), pk=post_id)
    if not may(request.user, Action.UNIT_VIEW, post.unit):  # type: ignore[arg-type]
        raise PermissionDenied
    return post


def _composer_input(form: ComposerForm) -> tuple[str, list[services.VariantInput],
                                                  list[tuple[OfficialAccount, str]]]:
    data = form.cleaned_data
    source = data["source_language"]
    variants = [services.VariantInput(source, data["source_text"])]
    for i in range(len(form.variant_fields())):
        language, text = data.get(f"variant_{i}_language"), (data.get(f"variant_{i}_text") or "").strip()
        if language and text and language != source:
            machine = bool(data.get(f"variant_{i}_machine"))
            variants.append(services.VariantInput(language, text, machine_translated=machine))
    targets = [(account, data[f"account_{account.pk}"]) for account in form.accounts
               if data.get(f"account_{account.pk}")]
    return source, variants, targets


def _form_error(form: ComposerForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def post_list(request: HttpRequest) -> HttpResponse:
    unit = current_unit(request)
    posts = services.visible_posts(request.user).prefetch_related("variants")
    if unit is not None:
        posts = posts.filter(unit__path__startswith=unit.path)
    status = request.GET.get("status", "")
    if status:
        posts = posts.filter(status=status)
    return render(request, "publishing/post_list.html", {"posts": posts[:200], "status": status,
                                                         "statuses": PostStatus.choices})


@login_required
def compose(request: HttpRequest, post_id: int | None = None) -> HttpResponse:
    post = _visible_post(request, post_id) if post_id else None
    unit = post.unit if post else current_unit(request)
    if unit is None or not may(request.user, Action.POST_DRAFT, unit):  # type: ignore[arg-type]
        raise PermissionDenied(_("You may not draft posts here."))
    initial: dict[str, Any] = {}
    if post is not None:
        source_variant = post.source_variant()
        initial = {"source_language": source_variant.language if source_variant else "",
                   "source_text": source_variant.text if source_variant else "", "link": post.link}
        if post.scheduled_for:
            initial["scheduled_for"] = post.scheduled_for.astimezone(zoneinfo.ZoneInfo(unit.time_zone)).replace(
                tzinfo=None)
        others = [v for v in post.variants.all() if not v.is_source]
        for i, variant in enumerate(others[:3]):
            initial[f"variant_{i}_language"], initial[f"variant_{i}_text"] = variant.language, variant.text
        for target in post.targets.all():
            initial[f"account_{target.account_id}"] = target.language
    form = ComposerForm(request.POST or None, request.FILES or None, unit=unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        source, variants, targets = _composer_input(form)
        actor: Person = request.user  # type: ignore[assignment]
        try:
            kwargs = {"source_language": source, "variants": variants, "targets": targets,
                      "link": form.cleaned_data["link"], "scheduled_for": form.cleaned_data["scheduled_for"]}
            if post is None:
                post = services.create_post(actor, unit=unit, **kwargs)
            else:
                post = services.update_post(actor, post, **kwargs)
            if form.cleaned_data.get("image"):
                post = services.attach_image(actor, post, form.cleaned_data["image"],
                                             alt_text=form.cleaned_data["image_alt"])
            if "submit" in request.POST:
                services.submit(actor, post)
                messages.success(request, _("Submitted."))
            else:
                messages.success(request, _("Draft saved."))
            return redirect("publishing:post", post_id=post.pk)
        except ValidationError as exc:
            _form_error(form, exc)
    from legation.publishing import translation

    return render(request, "publishing/compose.html", {"form": form, "post": post, "unit": unit,
                                                       "translation": translation.enabled()})


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """Live, as the person types: each chosen account's count under its platform's rules, and guidance findings."""
    unit = current_unit(request)
    if unit is None:
        raise Http404
    if not may(request.user, Action.POST_DRAFT, unit):  # type: ignore[arg-type]
        raise PermissionDenied
    form = ComposerForm(request.POST, unit=unit)
    form.is_valid()
    data = form.cleaned_data
    texts: dict[str, str] = {}
    if data.get("source_language") and data.get("source_text"):
        texts[data["source_language"]] = data["source_text"]
    for i in range(len(form.variant_fields())):
        if data.get(f"variant_{i}_language") and data.get(f"variant_{i}_text"):
            texts[data[f"variant_{i}_language"]] = data[f"variant_{i}_text"]
    rows = []
    for account in form.accounts:
        language = data.get(f"account_{account.pk}")
        if not language:
            continue
        text = texts.get(language, "")
        if data.get("link") and data["link"] not in text:
            text = f"{text}\n{data['link']}"
        try:
            count = provider_class(account.platform).count_text(text)
            rows.append({"account": account, "language": language, "count": count, "missing": language not in texts})
        except ImportError:
            rows.append({"account": account, "language": language, "count": None, "missing": language not in texts})
    findings = checks.preview(unit, texts, [data.get("link") or ""],
                              [(a, data.get(f"account_{a.pk}")) for a in form.accounts if data.get(f"account_{a.pk}")],
                              data.get("scheduled_for"), timezone.now())
    return render(request, "publishing/_preview.html", {"rows": rows, "findings": checks.shown(findings)})


@login_required
@require_POST
def translate_variant(request: HttpRequest, index: int) -> HttpResponse:
    """Fill one variant with a machine translation of the source text (htmx); marked as machine-translated."""
    from legation.publishing import translation

    source = request.POST.get("source_text", "")
    target = request.POST.get(f"variant_{index}_language", "")
    if not (source.strip() and target):
        return HttpResponse(_("Choose the variant's language and write the source text first."), status=422)
    try:
        text = translation.translate(source, request.POST.get("source_language", ""), target)
    except translation.TranslationUnavailable as exc:
        return HttpResponse(str(exc), status=503)
    return render(request, "publishing/_translated.html", {"index": index, "text": text})


@login_required
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _visible_post(request, post_id)
    actor: Person = request.user  # type: ignore[assignment]
    if request.method == "POST":
        try:
            if "clear" in request.POST:
                services.clear(actor, get_object_or_404(Clearance, pk=posted_id(request.POST["clear"]), post=post))
                messages.success(request, _("Cleared."))
            elif "submit" in request.POST:
                services.submit(actor, post)
                messages.success(request, _("Submitted."))
            elif "correct" in request.POST:
                texts = {key[len("text_"):]: str(value) for key, value in request.POST.items()
                         if key.startswith("text_") and str(value).strip()}
                services.correct(actor, post, texts=texts, mode=request.POST.get("mode", "edit"),
                                 note=request.POST.get("note", ""))
                messages.success(request, _("The correction is on its way to every account."))
            elif "retract" in request.POST:
                services.retract(actor, post, reason=request.POST.get("reason", ""))
                messages.warning(request, _("The post is being retracted everywhere."))
            return redirect("publishing:post", post_id=post.pk)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("Not allowed."))
    clearances = list(post.clearances.select_related("unit", "cleared_by"))
    for clearance in clearances:
        clearance.valid = clearance.revision_hash == post.revision_hash  # type: ignore[attr-defined]
        clearance.may_clear = (not clearance.valid and services.may_clear(actor, clearance))  # type: ignore[attr-defined]
        clearance.why = checks.clearance_reason(clearance.reason, post.findings or [])  # type: ignore[attr-defined]
    delivered_languages = sorted({d.language for d in post.deliveries.all() if d.status == "delivered"})
    return render(request, "publishing/post_detail.html", {
        "post": post,
        "variants": post.variants.all(),
        "targets": post.targets.select_related("account"),
        "clearances": clearances,
        "findings": checks.shown(post.findings or []),
        "deliveries": post.deliveries.select_related("account").order_by("id"),
        "history": Record.objects.filter(object_type="publishing.post", object_id=str(post.pk)).order_by("id"),
        "can_publish": may(actor, Action.POST_PUBLISH, post.unit),
        "can_draft": may(actor, Action.POST_DRAFT, post.unit),
        "delivered_languages": delivered_languages,
        "is_author": post.author_id == actor.pk,
    })


@login_required
def clearance_queue(request: HttpRequest) -> HttpResponse:
    """Clearances this person may give, oldest first, with how long each has waited."""
    actor: Person = request.user  # type: ignore[assignment]
    units = units_where(actor, Action.POST_DRAFT)
    waiting = (Clearance.objects.filter(cleared_at__isnull=True, post__status=PostStatus.AWAITING_CLEARANCE,
                                        unit__in=units_where(actor, Action.UNIT_VIEW))
               .select_related("post", "post__author", "post__unit", "unit").order_by("requested_at"))
    mine = [c for c in waiting if services.may_clear(actor, c)]
    now = timezone.now()
    for clearance in mine:
        clearance.waited = now - clearance.requested_at  # type: ignore[attr-defined]
        clearance.why = checks.clearance_reason(clearance.reason, clearance.post.findings or [])  # type: ignore[attr-defined]
    return render(request, "publishing/clearances.html", {"clearances": mine, "units": units})


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """Everything scheduled across the units this person may see, by day, in each mission's time zone."""
    posts = (services.visible_posts(request.user).filter(scheduled_for__gte=timezone.now() - timedelta(days=1))
             .exclude(status=PostStatus.RETRACTED).order_by("scheduled_for").prefetch_related("variants")[:500])
    days: dict[str, list[tuple[datetime, Post]]] = defaultdict(list)
    for post in posts:
        assert post.scheduled_for is not None
        local = post.scheduled_for.astimezone(zoneinfo.ZoneInfo(post.unit.time_zone))
        days[local.date().isoformat()].append((local, post))
    return render(request, "publishing/calendar.html", {"days": sorted(days.items())})
