"""Delivering posts to platforms exactly once.

Each delivery is claimed with a conditional UPDATE that takes a lease; a worker that dies mid-delivery leaves
the lease to expire, and the next claim tries again with the same idempotency key. Before sending a delivery
that was already attempted, the account's own timeline is searched for it, so a platform without idempotency
keys does not get it twice either.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Q
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


def _claimable(now: object) -> Q:
    return (Q(status=DeliveryStatus.PENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now)


def due(now: object | None = None) -> list[int]:
    """Ids of deliveries ready to send: pending and due, or sending with an expired lease (a dead worker's)."""
    return list(Delivery.objects.filter(_claimable(now or timezone.now())).order_by("id")
                .values_list("id", flat=True)[:5000])


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


@dataclass
class _Attempt:
    """What happened to one claimed delivery on the platform, before it is written down."""

    delivery: Delivery
    held: str = ""
    result: Delivered | None = None
    error: ConnectorError | None = None


def _attempt(delivery: Delivery) -> _Attempt:
    """Send one claimed delivery; reads the database but writes nothing of its own (see :func:`_record`)."""
    _crash_point("claimed")
    held = _held_reason(delivery)
    if held:
        return _Attempt(delivery, held=held)
    try:
        result = connections.call(delivery.account, lambda provider: _send(provider, delivery))
    except ConnectorError as exc:
        return _Attempt(delivery, error=exc)
    _crash_point("sent")
    return _Attempt(delivery, result=result)


def _record(attempts: list[_Attempt]) -> list[str]:
    """Write the outcomes down in one transaction, each delivered or failed one with its own ledger record, and
    the posts' statuses once per post; then tell the authors of what failed. Returns the new statuses."""
    statuses: list[str] = []
    failed: list[_Attempt] = []
    posts: set[int] = set()
    with transaction.atomic():
        for attempt in attempts:
            delivery = attempt.delivery
            if attempt.held:
                Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.HELD, last_error=attempt.held,
                                                               lease_until=None)
                statuses.append(DeliveryStatus.HELD)
            elif attempt.error is not None:
                status = _record_failure(delivery, attempt.error)
                if status == DeliveryStatus.FAILED:
                    failed.append(attempt)
                    posts.add(delivery.post_id)
                statuses.append(status)
            else:
                _record_delivered(delivery, attempt.result)
                posts.add(delivery.post_id)
                statuses.append(DeliveryStatus.DELIVERED)
        for post_id in sorted(posts):
            _update_post_status(post_id)
    for attempt in failed:
        assert attempt.error is not None
        _notify_author(attempt.delivery, attempt.error.message)
    return statuses


def perform(delivery: Delivery) -> str:
    """Send one claimed delivery and record the outcome; returns the new status."""
    return _record([_attempt(delivery)])[0]


def _record_delivered(delivery: Delivery, result: Delivered | None) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), lease_until=None, last_error="",
        external_id=(result.external_id if result else delivery.external_id)[:200],
        url=((result.url or "") if result else "")[:1000],
    )
    ledger.append(None, f"delivery.{delivery.kind}_delivered", obj=delivery.post, unit=delivery.account.unit,
                  payload={"delivery": delivery.pk, "account": delivery.account_id,
                           "external_id": result.external_id if result else None,
                           "url": result.url if result else None, "attempts": delivery.attempts})


def _record_failure(delivery: Delivery, exc: ConnectorError) -> str:
    final = exc.permanent or delivery.attempts >= MAX_ATTEMPTS
    if final:
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=exc.message[:2000],
                                                       lease_until=None)
        ledger.append(None, f"delivery.{delivery.kind}_failed", obj=delivery.post, unit=delivery.account.unit,
                      payload={"delivery": delivery.pk, "account": delivery.account_id, "error": exc.message,
                               "attempts": delivery.attempts})
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


def claim_many(ids: list[int]) -> list[Delivery]:
    """Take those of ``ids`` that are due for this worker in one conditional UPDATE; returns what it got."""
    now = timezone.now()
    token = f"{WORKER_ID[:80]}:{uuid.uuid4().hex[:12]}"  # marks this claim's rows, to read back exactly them
    Delivery.objects.filter(pk__in=ids).filter(_claimable(now)).update(
        status=DeliveryStatus.SENDING, lease_until=now + LEASE, worker=token, attempts=F("attempts") + 1)
    return list(Delivery.objects.select_related("account__unit", "post", "original")
                .filter(pk__in=ids, worker=token, status=DeliveryStatus.SENDING))


def _record_batch(attempts: list[_Attempt]) -> list[str | None]:
    """:func:`_record`, tried again when the database is busy; what cannot be written stays ``sending`` until its
    lease runs out, and the next try finds it on the platform (timeline check, idempotency key)."""
    for tries in range(3):
        try:
            return list(_record(attempts))
        except DatabaseError:
            logger.exception("could not record %d delivery outcomes (try %d)", len(attempts), tries + 1)
            time.sleep(0.2 * (tries + 1))
    return ["unrecorded"] * len(attempts)


def _run_parallel(ids: list[int], concurrency: int) -> list[str | None]:
    """Send with ``concurrency`` threads; this thread claims ahead in batches and records outcomes in batches.

    The sender threads only read the database and talk to the platforms. Every write (claims, outcomes and their
    ledger records) is made here, a batch per statement or transaction, so the threads do not queue on
    SQLite's write lock or on the ledger's lock one delivery at a time.
    """
    workers = min(concurrency, len(ids))
    claimed: queue.Queue[Delivery | None] = queue.Queue()
    done: queue.Queue[_Attempt | None] = queue.Queue()

    def sender() -> None:
        try:
            while (delivery := claimed.get()) is not None:
                try:
                    done.put(_attempt(delivery))
                except Exception:  # noqa: BLE001 - one delivery's bug must not stop the others
                    logger.exception("delivery %s failed unexpectedly; retried when its lease runs out", delivery.pk)
                    done.put(None)
        finally:
            connection.close()  # each thread has its own connection, kept for the whole run

    threads = [threading.Thread(target=sender, name=f"delivery-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    results: list[str | None] = []
    waiting = deque(ids)
    in_flight = 0
    try:
        while waiting or in_flight:
            room = 2 * workers - in_flight
            if waiting and room > 0:
                chunk = [waiting.popleft() for _ in range(min(room, len(waiting)))]
                taken = claim_many(chunk)
                results.extend([None] * (len(chunk) - len(taken)))
                for delivery in taken:
                    claimed.put(delivery)
                in_flight += len(taken)
            if not in_flight:
                continue
            batch = [done.get()]
            while len(batch) < 200:
                try:
                    batch.append(done.get_nowait())
                except queue.Empty:
                    break
            in_flight -= len(batch)
            sent = [attempt for attempt in batch if attempt is not None]
            results.extend(["error"] * (len(batch) - len(sent)))
            if sent:
                results.extend(_record_batch(sent))
    finally:
        for _ in threads:
            claimed.put(None)
        for thread in threads:
            thread.join()
    return results


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
        results: list[str | None] = [perform(d) if (d := claim(i)) is not None else None for i in ids]
    else:
        results = _run_parallel(ids, concurrency)
    for outcome in results:
        key = outcome or "skipped"
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes
