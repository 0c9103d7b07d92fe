"""Taking in what the public sends to official accounts: pulls with stored cursors, and webhooks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from legation.connectors.base import Capability, ConnectorError, InboundItem, Page, Provider, WebhookRequest
from legation.inbox.models import InboundMessage, PullCursor, Stream, WebhookDelivery
from legation.inbox.signals import inbound_stored
from legation.listening.enrichment import Enriched, apply_reading, enrich_batch
from legation.listening.ingest import plain_field, storable_text
from legation.network import connections
from legation.network.models import OfficialAccount

logger = logging.getLogger(__name__)

STREAM_CAPABILITY = {
    Stream.MENTIONS: Capability.PULL_MENTIONS,
    Stream.MESSAGES: Capability.PULL_MESSAGES,
    Stream.TIMELINE: Capability.PULL_TIMELINE,
}
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class PullResult:
    fetched: int
    stored: int
    cursor: str | None
    has_more: bool


def streams_for(account: OfficialAccount) -> list[str]:
    from legation.connectors.registry import provider_class

    cls = provider_class(account.platform)
    return [stream for stream, capability in STREAM_CAPABILITY.items() if cls.supports(capability)]


def _fetch(provider: Provider, stream: str, cursor: str | None, limit: int) -> Page:
    if stream == Stream.MENTIONS:
        return provider.pull_mentions(cursor, limit)
    if stream == Stream.MESSAGES:
        return provider.pull_messages(cursor, limit)
    return provider.pull_timeline(cursor, limit)


def store_items(account: OfficialAccount, stream: str, items: list[InboundItem]) -> int:
    """Store items once per account (the platform's id decides); return how many were new."""
    # Nothing sent to us is refused: a character neither database takes is replaced (or, NUL, dropped).
    rows = [
        InboundMessage(
            account=account, stream=stream, external_id=plain_field(item.external_id)[:200],
            kind=plain_field(item.kind)[:20], text=storable_text(item.text),
            author_id=plain_field(item.author_id)[:200], author_name=plain_field(item.author_name)[:200],
            url=plain_field(item.url)[:1000], in_reply_to=plain_field(item.in_reply_to)[:200],
            conversation_id=plain_field(item.conversation_id)[:200], language=plain_field(item.language)[:10],
            created_at=item.created_at, unit_path=account.unit.path,
        )
        for item in items
    ]
    before = InboundMessage.objects.filter(account=account).count()
    InboundMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return InboundMessage.objects.filter(account=account).count() - before


def pull(account: OfficialAccount, stream: str, limit: int = 100) -> PullResult:
    """Pull one page after the stored cursor; items and the new cursor commit together.

    A worker killed after the fetch and before the commit leaves the cursor where it was: the next pull fetches
    the same page again and the items are stored once, thanks to the unique (account, external id).
    """
    state, _ = PullCursor.objects.get_or_create(account=account, stream=stream)
    try:
        page = connections.call(account, lambda provider: _fetch(provider, stream, state.cursor or None, limit))
    except ConnectorError as exc:
        backoff = timedelta(seconds=exc.retry_after) if exc.retry_after else min(
            MAX_BACKOFF, timedelta(seconds=30 * 2 ** min(state.failures, 10)))
        PullCursor.objects.filter(pk=state.pk).update(
            failures=state.failures + 1, last_error=exc.message[:2000], next_pull_at=timezone.now() + backoff)
        raise
    with transaction.atomic():
        stored = store_items(account, stream, page.items)
        PullCursor.objects.filter(pk=state.pk).update(
            cursor=page.cursor or state.cursor, pulled_at=timezone.now(), failures=0, last_error="",
            next_pull_at=timezone.now() if page.has_more else None)
    inbound_stored.send(sender=None, account=account, stream=stream, stored=stored)
    return PullResult(fetched=len(page.items), stored=stored, cursor=page.cursor, has_more=page.has_more)


def pull_all(account: OfficialAccount, stream: str, limit: int = 100, max_pages: int = 50) -> int:
    """Pull page after page until the platform has no more (bounded); return how many items were new."""
    stored = 0
    for _ in range(max_pages):
        result = pull(account, stream, limit)
        stored += result.stored
        if not result.has_more:
            break
    return stored


def receive_webhook(account: OfficialAccount, request: WebhookRequest) -> tuple[int, str | None, str]:
    """Verify and store a webhook delivery; a replayed delivery is acknowledged but stored once.

    Returns (items stored, body to answer with, its content type). Raises WebhookRejected when invalid.
    """
    provider = connections.provider_for(account)
    result = provider.parse_webhook(request)
    stream_of = {"message": Stream.MESSAGES, "sms": Stream.MESSAGES, "email": Stream.MESSAGES}
    with transaction.atomic():
        if result.delivery_id:
            try:
                with transaction.atomic():
                    WebhookDelivery.objects.create(account=account, delivery_id=result.delivery_id[:200],
                                                   items=len(result.items))
            except IntegrityError:
                logger.info("webhook replay %s for %s ignored", result.delivery_id, account)
                return 0, result.response_body, result.response_content_type
        stored = 0
        for stream in {stream_of.get(item.kind, Stream.MENTIONS) for item in result.items}:
            stored += store_items(account, stream,
                                  [i for i in result.items if stream_of.get(i.kind, Stream.MENTIONS) == stream])
    return stored, result.response_body, result.response_content_type


READ_BATCH = 200  # messages read by the models per transaction


def read_unread(limit: int = READ_BATCH) -> int:
    """Read the oldest messages the offline models have not read yet, with the accurate tier; return how many.

    A batch is claimed, enriched in one call and written in one transaction: a second worker skips the rows this
    one holds (PostgreSQL; SQLite has one writer), and a worker stopped before the write leaves the batch unread
    for the next run (a reading is an overwrite, so nothing is lost or doubled). If the batch cannot be read, each
    message is read alone and one that still fails is marked read with an empty reading, so that one bad
    message never stops the queue behind it. The platform's own language is kept; the models' fills it where the
    platform gave none.
    """
    with transaction.atomic():
        batch = list(InboundMessage.objects.select_for_update(skip_locked=True).filter(read_at__isnull=True)
                     .order_by("id").only("id", "text", "language")[:limit])
        if not batch:
            return 0
        try:
            records = enrich_batch([message.text for message in batch], tier="accurate")
        except Exception:  # noqa: BLE001 - one message must not hold up the others
            logger.exception("the models could not read a batch of %d messages; reading them one by one", len(batch))
            records = [_read_alone(message) for message in batch]
        now = timezone.now()
        fields: list[str] = []
        for message, record in zip(batch, records, strict=True):
            fields = apply_reading(message, record)
            message.language = message.language or record.language[:10]
            message.read_at = now
        InboundMessage.objects.bulk_update(batch, [*fields, "language", "read_at"])
    return len(batch)


def _read_alone(message: InboundMessage) -> Enriched:
    try:
        return enrich_batch([message.text], tier="accurate")[0]
    except Exception:  # noqa: BLE001
        logger.exception("the models could not read message %s; it is left with an empty reading", message.pk)
        return Enriched()
