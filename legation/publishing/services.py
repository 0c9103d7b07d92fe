"""Every write to posts goes through here: drafts, guidance checks, clearances, release, corrections, pauses.

Each function checks the actor's role, writes, and appends to the ledger in one transaction. Delivery to the
platforms happens in ``delivery.py``, run by the worker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from legation.network.models import ROLE_RANK, AccountStatus, OfficialAccount, Person, RoleName, Unit
from legation.network.permissions import Action, may, rank_on, require
from legation.publishing import checks
from legation.publishing.models import (
    Clearance,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Image,
    Post,
    PostStatus,
    Target,
    UnauthorisedPost,
    Variant,
)
from legation.records import ledger

MAX_TEXT = 10_000


@dataclass(frozen=True)
class VariantInput:
    language: str
    text: str
    machine_translated: bool = False


def _validate_variants(variants: Sequence[VariantInput], source_language: str) -> None:
    if not variants:
        raise ValidationError({"variants": _("a post needs at least its source text")})
    languages = [v.language for v in variants]
    if len(set(languages)) != len(languages):
        raise ValidationError({"variants": _("one text per language")})
    if source_language not in languages:
        raise ValidationError({"source_language": _("no text in the source language '%(language)s'")
                               % {"language": source_language}})
    for variant in variants:
        if not variant.language or len(variant.language) > 10:
            raise ValidationError({"variants": _("'%(language)s' is not a language code")
                                   % {"language": variant.language}})
        if not variant.text.strip():
            raise ValidationError({"variants": _("the %(language)s text is empty") % {"language": variant.language}})
        if len(variant.text) > MAX_TEXT:
            raise ValidationError({"variants": _("the %(language)s text is over %(limit)s characters")
                                   % {"language": variant.language, "limit": MAX_TEXT}})


def _validate_targets(unit: Unit, targets: Sequence[tuple[OfficialAccount, str]], languages: set[str]) -> None:
    if not targets:
        raise ValidationError({"accounts": _("choose at least one account")})
    for account, language in targets:
        if not account.unit.is_within(unit):
            raise ValidationError({"accounts": _("%(account)s belongs to %(owner)s, outside %(unit)s")
                                   % {"account": account, "owner": account.unit, "unit": unit}})
        if account.status != AccountStatus.ACTIVE:
            raise ValidationError({"accounts": _("%(account)s is %(status)s")
                                   % {"account": account, "status": account.get_status_display().lower()}})
        if language not in languages:
            raise ValidationError({"accounts": _("%(account)s is to get a %(language)s text, which the post lacks")
                                   % {"account": account, "language": language}})


def revision_hash(post: Post) -> str:
    """SHA-256 of everything that leaves the building; a clearance is valid only for this exact content."""
    body = {
        "variants": sorted((v.language, v.text) for v in post.variants.all()),
        "link": post.link,
        "targets": sorted((t.account_id, t.language) for t in post.targets.all()),
        "images": sorted((i.file.name, i.alt_text) for i in post.images.all()),
        "scheduled_for": post.scheduled_for.isoformat() if post.scheduled_for else None,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _write_content(post: Post, variants: Sequence[VariantInput], source_language: str,
                   targets: Sequence[tuple[OfficialAccount, str]]) -> None:
    post.variants.all().delete()
    Variant.objects.bulk_create([
        Variant(post=post, language=v.language, text=v.text, is_source=v.language == source_language,
                machine_translated=v.machine_translated) for v in variants
    ])
    post.targets.all().delete()
    Target.objects.bulk_create([Target(post=post, account=a, language=lang) for a, lang in targets])


@transaction.atomic
def create_post(actor: Person, *, unit: Unit, source_language: str, variants: Sequence[VariantInput],
                targets: Sequence[tuple[OfficialAccount, str]], link: str = "",
                scheduled_for: datetime | None = None) -> Post:
    """Draft a post: its source text, language variants, and the accounts it goes to (each in a language)."""
    require(actor, Action.POST_DRAFT, unit)
    _validate_variants(variants, source_language)
    _validate_targets(unit, targets, {v.language for v in variants})
    post = Post.objects.create(unit=unit, author=actor, link=link, scheduled_for=scheduled_for)
    _write_content(post, variants, source_language, targets)
    post.revision_hash = revision_hash(post)
    post.save(update_fields=["revision_hash"])
    ledger.append(actor, "post.drafted", obj=post, unit=unit, payload={
        "revision": post.revision, "hash": post.revision_hash, "languages": [v.language for v in variants],
        "accounts": [a.pk for a, _ in targets], "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
    })
    return post


EDITABLE = {PostStatus.DRAFT, PostStatus.AWAITING_CLEARANCE, PostStatus.SCHEDULED}


@transaction.atomic
def update_post(actor: Person, post: Post, *, source_language: str, variants: Sequence[VariantInput],
                targets: Sequence[tuple[OfficialAccount, str]], link: str = "",
                scheduled_for: datetime | None = None) -> Post:
    """A new revision: any clearance given before is void (it was bound to the old content's hash)."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    require(actor, Action.POST_DRAFT, post.unit)
    if post.status not in EDITABLE:
        raise ValidationError({"status": _("a %(status)s post is corrected, not edited")
                               % {"status": post.get_status_display().lower()}})
    _validate_variants(variants, source_language)
    _validate_targets(post.unit, targets, {v.language for v in variants})
    _write_content(post, variants, source_language, targets)
    post.link, post.scheduled_for = link, scheduled_for
    post.revision += 1
    post.revision_hash = revision_hash(post)
    post.status = PostStatus.DRAFT
    post.save()
    voided = post.clearances.filter(cleared_at__isnull=False).count()
    post.clearances.filter(cleared_at__isnull=True).delete()
    post.deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD]).update(
        status=DeliveryStatus.CANCELLED, last_error="the post was edited")
    ledger.append(actor, "post.revised", obj=post, unit=post.unit,
                  payload={"revision": post.revision, "hash": post.revision_hash, "clearances_voided": voided})
    return post


ALLOWED_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024


@transaction.atomic
def attach_image(actor: Person, post: Post, upload: Any, *, alt_text: str) -> Post:
    """Add an image with its description; a new revision of what leaves the building, so clearances are void."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    require(actor, Action.POST_DRAFT, post.unit)
    if post.status not in EDITABLE:
        raise ValidationError({"image": _("a %(status)s post takes no new image")
                               % {"status": post.get_status_display().lower()}})
    if not alt_text.strip():
        raise ValidationError({"image_alt": _("describe the image for people who cannot see it")})
    mime_type = getattr(upload, "content_type", "") or ""
    if mime_type not in ALLOWED_IMAGE_TYPES:
        refusal = (_("%(type)s is not an image type platforms accept") % {"type": mime_type} if mime_type
                   else _("this file is not an image type platforms accept"))
        raise ValidationError({"image": refusal})
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError({"image": _("the image is over %(size)s MB")
                               % {"size": MAX_IMAGE_BYTES // (1024 * 1024)}})
    image = Image.objects.create(post=post, file=upload, mime_type=mime_type, alt_text=alt_text.strip())
    post.revision += 1
    post.revision_hash = revision_hash(post)
    post.status = PostStatus.DRAFT
    post.save(update_fields=["revision", "revision_hash", "status"])
    post.clearances.filter(cleared_at__isnull=True).delete()
    post.deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD]).update(
        status=DeliveryStatus.CANCELLED, last_error="the post was edited")
    ledger.append(actor, "post.image_attached", obj=post, unit=post.unit, payload={
        "revision": post.revision, "hash": post.revision_hash, "image": image.file.name, "alt_text": image.alt_text})
    return post


def pending_clearances(post: Post) -> list[Clearance]:
    """Clearances still needed for the current revision (a clearance of an older revision is void, not pending)."""
    return [c for c in post.clearances.all() if c.cleared_at is None]


def submit(actor: Person, post: Post, now: datetime | None = None) -> Post:
    """Check the post against guidance; block, ask for the clearances it needs, or release it.

    A blocked post keeps its findings and the ``post.blocked`` record on the ledger: the refusal is raised
    once that transaction has committed, so that governance sees every attempt.
    """
    post, blocks = _submit(actor, post, now)
    if blocks:
        raise ValidationError({"text": [_("%(rule)s: %(why)s") % {"rule": f.rule, "why": checks.explain(f)}
                                        for f in blocks]})
    return post


@transaction.atomic
def _submit(actor: Person, post: Post, now: datetime | None) -> tuple[Post, list[checks.Finding]]:
    post = Post.objects.select_for_update().get(pk=post.pk)
    require(actor, Action.POST_DRAFT, post.unit)
    if post.status not in (PostStatus.DRAFT, PostStatus.AWAITING_CLEARANCE):
        raise ValidationError({"status": _("the post is %(status)s") % {"status": post.get_status_display().lower()}})
    now = now or timezone.now()
    findings = checks.run(post, now)
    post.findings = [f.as_dict() for f in findings]
    blocks = [f for f in findings if f.severity == "block"]
    if blocks:
        post.save(update_fields=["findings"])
        ledger.append(actor, "post.blocked", obj=post, unit=post.unit,
                      payload={"revision": post.revision, "findings": post.findings})
        return post, blocks
    post.clearances.filter(cleared_at__isnull=True).delete()
    needed: dict[tuple[str, int], tuple[str, str]] = {}
    for finding in findings:
        if finding.severity == "needs_clearance" and finding.clearance_unit_id:
            needed.setdefault((finding.clearance_role, finding.clearance_unit_id), (finding.why, finding.rule))
    if not may(actor, Action.POST_PUBLISH, post.unit):
        # An editor drafts; a publisher of the unit publishes (four eyes by default).
        # Stored in English, like the findings' reasons; checks.clearance_reason words it for the reader.
        needed.setdefault((RoleName.PUBLISHER, post.unit_id),
                          (gettext_noop("drafted by an editor"), gettext_noop("publishing rights")))
    already = {(c.role, c.unit_id) for c in post.clearances.all() if c.revision_hash == post.revision_hash}
    for (role, unit_id), (why, rule) in needed.items():
        if (role, unit_id) not in already:
            Clearance.objects.create(post=post, role=role, unit_id=unit_id, reason=why, rule=rule)
    post.submitted_at = now
    post.status = PostStatus.AWAITING_CLEARANCE
    post.save(update_fields=["findings", "submitted_at", "status"])
    ledger.append(actor, "post.submitted", obj=post, unit=post.unit, payload={
        "revision": post.revision, "findings": post.findings,
        "clearances_needed": [{"role": r, "unit": u} for (r, u) in needed if (r, u) not in already],
    })
    _release_if_cleared(actor, post)
    return post, []


def may_clear(person: Person, clearance: Clearance) -> bool:
    return (person.pk != clearance.post.author_id
            and rank_on(person, clearance.unit) >= ROLE_RANK[clearance.role])


@transaction.atomic
def clear(actor: Person, clearance: Clearance) -> Post:
    """Give one clearance for the post's current revision; four eyes: never the author's own."""
    clearance = Clearance.objects.select_for_update().select_related("post", "unit").get(pk=clearance.pk)
    post = clearance.post
    if actor.pk == post.author_id:
        raise PermissionDenied(_("the author cannot clear their own post"))
    if rank_on(actor, clearance.unit) < ROLE_RANK[clearance.role]:
        raise PermissionDenied(_("this clearance needs a %(role)s at %(unit)s")
                               % {"role": clearance.get_role_display().lower(), "unit": clearance.unit})
    if post.status != PostStatus.AWAITING_CLEARANCE:
        raise ValidationError({"status": _("the post is %(status)s") % {"status": post.get_status_display().lower()}})
    clearance.cleared_by, clearance.cleared_at, clearance.revision_hash = actor, timezone.now(), post.revision_hash
    clearance.save(update_fields=["cleared_by", "cleared_at", "revision_hash"])
    ledger.append(actor, "post.cleared", obj=post, unit=post.unit, payload={
        "revision": post.revision, "hash": post.revision_hash, "role": clearance.role, "at_unit": clearance.unit_id,
        "reason": clearance.reason})
    _release_if_cleared(actor, post)
    return post


def _paused(unit: Unit) -> bool:
    return Unit.objects.filter(id__in=unit.ancestor_ids(), publishing_paused_at__isnull=False).exists()


def _release_if_cleared(actor: Person, post: Post) -> None:
    if pending_clearances(post):
        return
    deliveries = [
        Delivery(post=post, account=t.account, language=t.language, kind=DeliveryKind.PUBLISH,
                 text=next(v.text for v in post.variants.all() if v.language == t.language),
                 idempotency_key=f"legation-post-{post.pk}-r{post.revision}-a{t.account_id}",
                 not_before=post.scheduled_for)
        for t in post.targets.select_related("account")
    ]
    Delivery.objects.bulk_create(deliveries)
    future = post.scheduled_for is not None and post.scheduled_for > timezone.now()
    post.status = PostStatus.SCHEDULED if future else PostStatus.PUBLISHING
    post.save(update_fields=["status"])
    ledger.append(actor, "post.released", obj=post, unit=post.unit, payload={
        "revision": post.revision, "hash": post.revision_hash, "deliveries": len(deliveries),
        "scheduled_for": post.scheduled_for.isoformat() if post.scheduled_for else None})
    from legation.publishing.tasks import deliver_due

    transaction.on_commit(lambda: deliver_due.enqueue())


CORRECTION_MODES = ("edit", "replace", "reply")


@transaction.atomic
def correct(actor: Person, post: Post, *, texts: dict[str, str], mode: str = "edit", note: str = "") -> Post:
    """Send a correction to every account the post went to: edited where the platform allows it, otherwise
    deleted and posted again (``replace``) or answered with the correction (``reply``)."""
    require(actor, Action.POST_PUBLISH, post.unit)
    if mode not in CORRECTION_MODES:
        raise ValidationError({"mode": _("one of %(choices)s") % {"choices": ", ".join(CORRECTION_MODES)}})
    delivered = list(post.deliveries.filter(kind=DeliveryKind.PUBLISH, status=DeliveryStatus.DELIVERED))
    if not delivered:
        raise ValidationError({"status": _("nothing was delivered yet: edit the post instead")})
    missing = {d.language for d in delivered} - set(texts)
    if missing:
        raise ValidationError({"texts": _("give the corrected text in %(languages)s")
                               % {"languages": ", ".join(sorted(missing))}})
    count = post.deliveries.filter(kind=DeliveryKind.CORRECT).count()
    Delivery.objects.bulk_create([
        Delivery(post=post, account_id=d.account_id, kind=DeliveryKind.CORRECT, original=d, language=d.language,
                 text=texts[d.language], idempotency_key=f"legation-post-{post.pk}-c{count + 1}-{mode}-d{d.pk}",
                 mode=mode)
        for d in delivered
    ])
    ledger.append(actor, "post.corrected", obj=post, unit=post.unit,
                  payload={"mode": mode, "texts": texts, "note": note, "accounts": [d.account_id for d in delivered]})
    from legation.publishing.tasks import deliver_due

    transaction.on_commit(lambda: deliver_due.enqueue())
    return post


@transaction.atomic
def retract(actor: Person, post: Post, *, reason: str) -> Post:
    """Take the post down everywhere it went (deleted, or where that is impossible, answered with a notice)."""
    require(actor, Action.POST_PUBLISH, post.unit)
    if not reason.strip():
        raise ValidationError({"reason": _("say why the post is retracted")})
    post.deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD]).update(
        status=DeliveryStatus.CANCELLED, last_error="retracted")
    # Everything of this post still on a platform: the posts, and corrections that went out as posts of their own.
    live: dict[tuple[int, str], Delivery] = {}
    for d in post.deliveries.filter(status=DeliveryStatus.DELIVERED).exclude(kind=DeliveryKind.RETRACT).order_by("id"):
        if d.external_id:
            live.setdefault((d.account_id, d.external_id), d)
    delivered = list(live.values())
    Delivery.objects.bulk_create([
        Delivery(post=post, account_id=d.account_id, kind=DeliveryKind.RETRACT, original=d, language=d.language,
                 text=reason, idempotency_key=f"legation-post-{post.pk}-retract-d{d.pk}")
        for d in delivered
    ])
    post.status = PostStatus.RETRACTED
    post.save(update_fields=["status"])
    ledger.append(actor, "post.retracted", obj=post, unit=post.unit,
                  payload={"reason": reason, "accounts": [d.account_id for d in delivered]})
    from legation.publishing.tasks import deliver_due

    transaction.on_commit(lambda: deliver_due.enqueue())
    return post


@transaction.atomic
def pause_publishing(actor: Person, unit: Unit, *, reason: str) -> Unit:
    """Hold every delivery of this unit and every unit below it until resumed."""
    require(actor, Action.ACCOUNT_LOCK, unit)
    unit.publishing_paused_at = timezone.now()
    unit.save(update_fields=["publishing_paused_at"])
    ledger.append(actor, "unit.publishing_paused", obj=unit, unit=unit, payload={"reason": reason})
    return unit


@transaction.atomic
def resume_publishing(actor: Person, unit: Unit) -> Unit:
    require(actor, Action.ACCOUNT_LOCK, unit)
    unit.publishing_paused_at = None
    unit.save(update_fields=["publishing_paused_at"])
    held = Delivery.objects.filter(account__unit__path__startswith=unit.path, status=DeliveryStatus.HELD)
    released = held.update(status=DeliveryStatus.PENDING, last_error="")
    ledger.append(actor, "unit.publishing_resumed", obj=unit, unit=unit, payload={"deliveries_released": released})
    return unit


@transaction.atomic
def acknowledge_unauthorised(actor: Person, item: UnauthorisedPost, note: str = "") -> None:
    require(actor, Action.ACCOUNT_MANAGE, item.account.unit)
    item.acknowledged_by, item.acknowledged_at = actor, timezone.now()
    item.save(update_fields=["acknowledged_by", "acknowledged_at"])
    ledger.append(actor, "account.unauthorised_post_acknowledged", obj=item.account, unit=item.account.unit,
                  payload={"external_id": item.external_id, "note": note})


def visible_posts(person: Any) -> Any:
    from legation.network.permissions import path_filter

    query = path_filter(person, Action.UNIT_VIEW, "unit__path")
    posts = Post.objects.select_related("unit", "author")
    return posts.filter(query) if query is not None else posts
