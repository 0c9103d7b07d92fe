"""Pulling one source: ask its connector (or read its file) from the stored cursor, then ingest the page."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from django.core.exceptions import ValidationError

from legation.connectors.base import Capability, ConnectorError, InboundItem, Page, Provider
from legation.connectors.registry import provider_class
from legation.listening import reasons, services
from legation.listening.importing import BadLine, read_posts
from legation.listening.ingest import IngestResult, Post, Rejected
from legation.listening.models import FILE_PLATFORM, ListeningSource, SourceKind
from legation.listening.pipeline import Batch
from legation.network.services import read_credentials

logger = logging.getLogger(__name__)


def pull_source(source: ListeningSource) -> IngestResult:
    """Fetch the next page of one source and store what is new; errors are kept on the source."""
    if source.platform == FILE_PLATFORM:
        return _pull_file(source)
    try:
        page = _fetch(source)
    except ConnectorError as exc:
        logger.warning("listening source %s: %s", source.pk, exc.message)
        services.record_pull_error(source, exc.message, permanent=exc.permanent, said=reasons.platform_error(exc))
        return IngestResult()
    posts = [_post(item, index) for index, item in enumerate(page.items)]
    return services.ingest_posts(source, posts, cursor=page.cursor if page.cursor is not None else source.cursor)


def provider_for(source: ListeningSource) -> Provider:
    cls = provider_class(source.platform)
    config: dict[str, object] = dict(source.account.config) if source.account else {}
    if source.kind == SourceKind.FEED and "feed_url" in cls.config_model.model_fields:
        config.setdefault("feed_url", source.query)  # a feed reader's address; elsewhere the account's timeline
    credentials = read_credentials(source.account) if source.account else {}
    return cls(config, credentials)


def _fetch(source: ListeningSource) -> Page:
    provider = provider_for(source)
    cursor = source.cursor or None
    limit = source.batch_size
    need = services.capability_needed(source.kind, source.query)
    if need == Capability.PULL_MENTIONS:
        return provider.pull_mentions(cursor, limit)
    if need == Capability.PULL_TIMELINE:
        return provider.pull_timeline(cursor, limit)
    if need == Capability.PULL_ACCOUNT:
        return provider.pull_account(source.query, cursor, limit)
    return provider.search(source.query, cursor, limit)


def _post(item: InboundItem, index: int) -> Post:
    return Post(text=item.text, platform=item.platform, external_id=item.external_id,
                author=item.author_name or item.author_id, created_at=item.created_at, url=item.url or "",
                kind=item.kind, position=index + 1)


CHUNK = 1000  # posts per transaction of a file pull; a larger batch size is stored in chunks, pipelined
# A last line without its line end is read once the file has not changed for this long (a writer that stopped
# half-way); before that it is left for the next pull, so a log read while a line is being appended loses nothing.
UNFINISHED_WAIT_S = 60


def _pull_file(source: ListeningSource) -> IngestResult:
    """A file source replays its file a batch per pull; the cursor is the number of records read.

    A batch of more than CHUNK records is stored in chunks, each with the cursor at its end, while the next
    chunks are enriched in other processes (``services.ingest_batches``).
    """
    try:
        # a source a person set up reads only what that person's unit may, whatever was put in the folders since
        path = services.resolve_file(source.query, source.unit, scoped=source.created_by_id is not None)
    except ValidationError:  # the file has gone, or is no longer the unit's to read
        services.record_pull_error(source, services.missing_file(source.query, source.unit), permanent=True)
        return IngestResult()
    except Exception as exc:  # noqa: BLE001 - an unreadable file is the source's error, not the worker's
        services.record_pull_error(source, str(exc), permanent=True)
        return IngestResult()
    done = int(source.cursor) if source.cursor.isdecimal() else 0
    try:  # a file changed in the last minute may be a log still being written: its last line may be unfinished
        writing = time.time() - path.stat().st_mtime < UNFINISHED_WAIT_S
    except OSError:
        writing = False

    def chunks() -> Iterator[Batch]:
        posts: list[Post] = []
        bad: list[Rejected] = []
        read = 0
        for record in read_posts(path, skip=done, hold_unfinished=writing):
            if read >= source.batch_size:
                break
            read += 1
            if isinstance(record, BadLine):
                bad.append(Rejected(record.line, record.reason))
            else:
                posts.append(record)
            if len(posts) + len(bad) >= CHUNK:
                yield Batch(posts, cursor=str(done + read), rejected=bad)
                posts, bad = [], []
        if posts or bad or not read:
            yield Batch(posts, cursor=str(done + read), rejected=bad)

    total = IngestResult()
    for result in services.ingest_batches(source, chunks()):
        total.add(result)
    return total
