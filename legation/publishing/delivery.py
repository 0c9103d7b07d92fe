"""Delivering posts to platforms exactly once.

Each delivery is claimed with a conditional UPDATE that takes a lease; a worker that dies mid-delivery leaves
the lease to expire, and the next claim tries again with the same idempotency key. Before sending a delivery
that was already attempted, the account's own timeline is searched for it, so a platform without idempotency
keys does not get it twice either.
"""

from __future__ import annotations

import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from legation.connectors.base import Capability, ConnectorError, Delivered, Media, OutboundPost, Provider
from legation.network import connections
from legation.network.models import AccountStatus, Unit
from legation.publishing.models import Delivery, DeliveryKind, DeliveryStatus, Post, PostStatus
from legation.records import ledger

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=int(os.environ.get("LEGATION_DELIVERY_LEASE_SECONDS", "120")))
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def due(now: object | None = None) -> list[int]:
    """Ids of deliveries ready to send: pending and due, or sending with an expired lease (a dead worker's)."""
    now = now or timezone.now()
    query = (Q(status=DeliveryStatus.PENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now)
    return list(Delivery.objects.filter(query).order_by("id").values_list("id", flat=True)[:5000])


def claim(delivery_id: int) -> Delivery | None:
    """Take the delivery for this worker, or None when another worker has it or it is not due."""
    now = timezone.now()
    query = (Q(status=DeliveryStatus.PENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now)
    delivery = Delivery.objects.filter(pk=delivery_id).filter(query).first()
    if delivery is None:
        return None
    taken = Delivery.objects.filter(pk=delivery_id, status=delivery.status, attempts=delivery.attempts).update(
        status=DeliveryStatus.SENDING, lease_until=now + LEASE, worker=WORKER_ID, attempts=delivery.attempts + 1)
    if not taken:
        return None
    return Delivery.objects.select_related("account__unit", "post", "original").get(pk=delivery_id)


def _held_reason(delivery: Delivery) -> str:
    account = delivery.account
    if account.status != AccountStatus.ACTIVE:
        return f"the account is {account.get_status_display().lower()}"
    if Unit.objects.filter(id__in=account.unit.ancestor_ids(), publishing_paused_at__isnull=False).exists():
        return "publishing is paused for this unit"
    return ""


def _already_there(provider: Provider, delivery: Delivery) -> Delivered | None:
    """After an attempt whose outcome is unknown, look for the post on the account's own timeline."""
    if not provider.supports(Capability.PULL_TIMELINE):
        return None
    try:
        page = provider.pull_timeline(None, 50)
    except ConnectorError:
        return None
    for item in page.items:
        if item.text.strip() == delivery.text.strip():
            return Delivered(external_id=item.external_id, url=item.url)
    return None


def _send(provider: Provider, delivery: Delivery) -> Delivered | None:
    media = []
    for image in delivery.post.images.all():
        with image.file.open("rb") as handle:
            media.append(Media(data=handle.read(), mime_type=image.mime_type, alt_text=image.alt_text,
                               filename=(image.file.name or "image").rsplit("/", 1)[-1]))
    post = OutboundPost(text=delivery.text, link=delivery.post.link or None, language=delivery.language,
                        idempotency_key=delivery.idempotency_key, media=media)
    if delivery.kind == DeliveryKind.PUBLISH:
        if delivery.attempts > 1:
            found = _already_there(provider, delivery)
            if found is not None:
                return found
        return provider.publish(post)
    original = delivery.original
    assert original is not None
    if delivery.kind == DeliveryKind.RETRACT:
        if provider.supports(Capability.DELETE):
            provider.delete(original.external_id)
            return None
        return provider.publish(OutboundPost(text=delivery.text, reply_to=original.external_id,
                                             idempotency_key=delivery.idempotency_key))
    mode = delivery.mode or "edit"
    if mode == "edit" and provider.supports(Capability.EDIT):
        return provider.edit(original.external_id, post)
    if mode in ("edit", "replace") and provider.supports(Capability.DELETE):
        provider.delete(original.external_id)
        return provider.publish(post)
    return provider.publish(OutboundPost(text=delivery.text, reply_to=original.external_id,
                                         idempotency_key=delivery.idempotency_key, language=delivery.language))


def _crash_point(step: str) -> None:
    """Fault tests kill the worker process at a chosen step (LEGATION_CRASH_AT=claimed|sent); never set in use."""
    if os.environ.get("LEGATION_CRASH_AT") == step:
        logger.error("LEGATION_CRASH_AT=%s: the worker dies here, as if killed", step)
        os._exit(137)


def perform(delivery: Delivery) -> str:
    """Send one claimed delivery and record the outcome; returns the new status."""
    _crash_point("claimed")
    held = _held_reason(delivery)
    if held:
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.HELD, last_error=held, lease_until=None)
        return DeliveryStatus.HELD
    try:
        result = connections.call(delivery.account, lambda provider: _send(provider, delivery))
    except ConnectorError as exc:
        return _failed(delivery, exc)
    _crash_point("sent")
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), lease_until=None, last_error="",
            external_id=(result.external_id if result else delivery.external_id)[:200],
            url=((result.url or "") if result else "")[:1000],
        )
        ledger.append(None, f"delivery.{delivery.kind}_delivered", obj=delivery.post, unit=delivery.account.unit,
                      payload={"delivery": delivery.pk, "account": delivery.account_id,
                               "external_id": result.external_id if result else None,
                               "url": result.url if result else None, "attempts": delivery.attempts})
        _update_post_status(delivery.post_id)
    return DeliveryStatus.DELIVERED


def _failed(delivery: Delivery, exc: ConnectorError) -> str:
    final = exc.permanent or delivery.attempts >= MAX_ATTEMPTS
    if final:
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=exc.message[:2000],
                                                           lease_until=None)
            ledger.append(None, f"delivery.{delivery.kind}_failed", obj=delivery.post, unit=delivery.account.unit,
                          payload={"delivery": delivery.pk, "account": delivery.account_id, "error": exc.message,
                                   "attempts": delivery.attempts})
            _update_post_status(delivery.post_id)
        _notify_author(delivery, exc.message)
        return DeliveryStatus.FAILED
    wait = timedelta(seconds=exc.retry_after) if exc.retry_after else min(
        MAX_BACKOFF, timedelta(seconds=2 ** min(delivery.attempts, 12)))
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, last_error=exc.message[:2000],
                                                   not_before=timezone.now() + wait, lease_until=None)
    return DeliveryStatus.PENDING


def _notify_author(delivery: Delivery, message: str) -> None:
    author = delivery.post.author
    if not author.email:
        return
    try:
        send_mail(f"[Legation] post #{delivery.post_id} failed on {delivery.account}",
                  f"Your post could not be delivered to {delivery.account}:\n\n{message}\n\n"
                  f"{settings.SITE_URL}/posts/{delivery.post_id}/", settings.DEFAULT_FROM_EMAIL, [author.email])
    except OSError:
        logger.exception("could not e-mail %s", author)


def _update_post_status(post_id: int) -> None:
    post = Post.objects.select_for_update().get(pk=post_id)
    if post.status == PostStatus.RETRACTED:
        return
    statuses = set(post.deliveries.filter(kind=DeliveryKind.PUBLISH).exclude(status=DeliveryStatus.CANCELLED)
                   .values_list("status", flat=True))
    if statuses == {DeliveryStatus.DELIVERED}:
        post.status = PostStatus.PUBLISHED
    elif DeliveryStatus.FAILED in statuses and not statuses & {DeliveryStatus.PENDING, DeliveryStatus.SENDING}:
        post.status = PostStatus.FAILED
    else:
        post.status = PostStatus.PUBLISHING
    post.save(update_fields=["status"])


def _work(delivery_id: int) -> str | None:
    try:
        delivery = claim(delivery_id)
        return perform(delivery) if delivery is not None else None
    finally:
        connection.close()  # each thread has its own connection


def run_due(concurrency: int | None = None) -> dict[str, int]:
    """Send every due delivery, several at once; returns counts by outcome."""
    if not connection.in_atomic_block:
        close_old_connections()  # a worker's long-lived connection may have died with a database restart
    ids = due()
    concurrency = concurrency or int(os.environ.get("LEGATION_DELIVERY_CONCURRENCY", "32"))
    outcomes: dict[str, int] = {}
    if not ids:
        return outcomes
    if concurrency <= 1 or connection.in_atomic_block:  # inside a transaction, other threads would not see it
        results = [perform(d) if (d := claim(i)) is not None else None for i in ids]
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(ids))) as pool:
            results = list(pool.map(_work, ids))
    for outcome in results:
        key = outcome or "skipped"
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes
