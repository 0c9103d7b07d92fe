"""API endpoints for posts: draft, revise, submit, clear, correct, retract; deliveries with their status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from legation.network.models import OfficialAccount, Unit
from legation.network.permissions import Action, require
from legation.publishing import checks, services
from legation.publishing.models import Clearance, Post

router = Router(tags=["publishing"])


class VariantIO(Schema):
    language: str = Field(min_length=2, max_length=10)
    text: str = Field(min_length=1)
    machine_translated: bool = False


class TargetIO(Schema):
    account_id: int
    language: str


class PostIn(Schema):
    unit_id: int
    source_language: str
    variants: list[VariantIO] = Field(min_length=1)
    targets: list[TargetIO] = Field(min_length=1)
    link: str = ""
    scheduled_for: datetime | None = None
    submit: bool = False


class PostUpdate(Schema):
    source_language: str
    variants: list[VariantIO] = Field(min_length=1)
    targets: list[TargetIO] = Field(min_length=1)
    link: str = ""
    scheduled_for: datetime | None = None


class ClearanceOut(Schema):
    id: int
    role: str
    unit_id: int
    reason: str
    cleared_by_id: int | None
    cleared_at: datetime | None
    valid: bool


class DeliveryOut(Schema):
    id: int
    account_id: int
    kind: str
    mode: str
    language: str
    status: str
    external_id: str
    url: str
    attempts: int
    last_error: str
    delivered_at: datetime | None


class PostOut(Schema):
    id: int
    unit_id: int
    author_id: int
    status: str
    revision: int
    revision_hash: str
    link: str
    scheduled_for: datetime | None
    variants: list[VariantIO]
    targets: list[TargetIO]
    findings: list[dict[str, Any]]
    clearances: list[ClearanceOut]
    deliveries: list[DeliveryOut]

    @staticmethod
    def resolve_findings(obj: Post) -> list[dict[str, Any]]:
        return checks.shown(obj.findings or [])  # "why" in the token owner's language

    @staticmethod
    def resolve_variants(obj: Post) -> list[dict[str, Any]]:
        return [{"language": v.language, "text": v.text, "machine_translated": v.machine_translated}
                for v in obj.variants.all()]

    @staticmethod
    def resolve_targets(obj: Post) -> list[dict[str, Any]]:
        return [{"account_id": t.account_id, "language": t.language} for t in obj.targets.all()]

    @staticmethod
    def resolve_clearances(obj: Post) -> list[dict[str, Any]]:
        return [{"id": c.pk, "role": c.role, "unit_id": c.unit_id,
                 "reason": checks.clearance_reason(c.reason, obj.findings or []),
                 "cleared_by_id": c.cleared_by_id, "cleared_at": c.cleared_at,
                 "valid": c.revision_hash == obj.revision_hash} for c in obj.clearances.all()]

    @staticmethod
    def resolve_deliveries(obj: Post) -> list[Any]:
        return list(obj.deliveries.all())


class CorrectionIn(Schema):
    texts: dict[str, str]
    mode: str = "edit"
    note: str = ""


class RetractIn(Schema):
    reason: str = Field(min_length=1)


class PauseIn(Schema):
    reason: str = ""


def _post(request: HttpRequest, post_id: int) -> Post:
    post = get_object_or_404(Post.objects.select_related("unit"), pk=post_id)
    require(request.user, Action.UNIT_VIEW, post.unit)
    return post


def _targets(request: HttpRequest, targets: list[TargetIO]) -> list[tuple[OfficialAccount, str]]:
    out = []
    for target in targets:
        account = get_object_or_404(OfficialAccount.objects.select_related("unit"), pk=target.account_id)
        require(request.user, Action.ACCOUNT_VIEW, account.unit)
        out.append((account, target.language))
    return out


def _variants(variants: list[VariantIO]) -> list[services.VariantInput]:
    return [services.VariantInput(v.language, v.text, v.machine_translated) for v in variants]


@router.get("", response=list[PostOut])
def list_posts(request: HttpRequest, unit_id: int | None = None, status: str | None = None) -> Any:
    posts = services.visible_posts(request.user).prefetch_related("variants", "targets", "clearances", "deliveries")
    if unit_id is not None:
        unit = get_object_or_404(Unit, pk=unit_id)
        require(request.user, Action.UNIT_VIEW, unit)
        posts = posts.filter(unit__path__startswith=unit.path)
    if status:
        posts = posts.filter(status=status)
    return posts[:500]


@router.post("", response={201: PostOut})
def create_post(request: HttpRequest, payload: PostIn) -> Status:
    unit = get_object_or_404(Unit, pk=payload.unit_id)
    require(request.user, Action.UNIT_VIEW, unit)
    post = services.create_post(request.user, unit=unit, source_language=payload.source_language,  # type: ignore[arg-type]
                                variants=_variants(payload.variants), targets=_targets(request, payload.targets),
                                link=payload.link, scheduled_for=payload.scheduled_for)
    if payload.submit:
        post = services.submit(request.user, post)  # type: ignore[arg-type]
    return Status(201, post)


@router.get("/{post_id}", response=PostOut)
def get_post(request: HttpRequest, post_id: int) -> Post:
    return _post(request, post_id)


@router.put("/{post_id}", response=PostOut)
def update_post(request: HttpRequest, post_id: int, payload: PostUpdate) -> Post:
    return services.update_post(request.user, _post(request, post_id),  # type: ignore[arg-type]
                                source_language=payload.source_language, variants=_variants(payload.variants),
                                targets=_targets(request, payload.targets), link=payload.link,
                                scheduled_for=payload.scheduled_for)


@router.post("/{post_id}/submit", response=PostOut)
def submit_post(request: HttpRequest, post_id: int) -> Post:
    return services.submit(request.user, _post(request, post_id))  # type: ignore[arg-type]


@router.post("/{post_id}/clearances/{clearance_id}/clear", response=PostOut)
def clear(request: HttpRequest, post_id: int, clearance_id: int) -> Post:
    post = _post(request, post_id)
    return services.clear(request.user, get_object_or_404(Clearance, pk=clearance_id, post=post))  # type: ignore[arg-type]


@router.post("/{post_id}/correct", response=PostOut)
def correct(request: HttpRequest, post_id: int, payload: CorrectionIn) -> Post:
    return services.correct(request.user, _post(request, post_id), texts=payload.texts,  # type: ignore[arg-type]
                            mode=payload.mode, note=payload.note)


@router.post("/{post_id}/retract", response=PostOut)
def retract(request: HttpRequest, post_id: int, payload: RetractIn) -> Post:
    return services.retract(request.user, _post(request, post_id), reason=payload.reason)  # type: ignore[arg-type]


@router.post("/units/{unit_id}/pause", response={204: None})
def pause(request: HttpRequest, unit_id: int, payload: PauseIn) -> Status:
    unit = get_object_or_404(Unit, pk=unit_id)
    services.pause_publishing(request.user, unit, reason=payload.reason)  # type: ignore[arg-type]
    return Status(204, None)


@router.post("/units/{unit_id}/resume", response={204: None})
def resume(request: HttpRequest, unit_id: int) -> Status:
    unit = get_object_or_404(Unit, pk=unit_id)
    services.resume_publishing(request.user, unit)  # type: ignore[arg-type]
    return Status(204, None)
