"""Ingest a batch of posts: check, de-duplicate, enrich once, assign stories, store with bulk inserts.

The full-text index follows the rows by itself (SQLite FTS5 triggers, a PostgreSQL GIN expression index), so
storing a row is indexing it. Nothing here runs in the web process: tasks and the CLI call it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from legation.listening.enrichment import Enriched, enrich_batch, story_keys
from legation.listening.models import ListenedItem, ListeningSource, Story
from legation.network.models import Unit

MAX_TEXT_BYTES = 1_000_000  # a post of 1 MB or more is refused, with the reason
_SURROGATE = re.compile("[\ud800-\udfff]")
_QUERY_CHUNK = 500  # ids per IN (...) lookup, well inside SQLite's parameter limit


@dataclass(frozen=True)
class Post:
    """A post to ingest, from a connector page or an imported file."""

    text: object
    platform: str
    external_id: str
    author: str = ""
    created_at: datetime | None = None
    url: str = ""
    kind: str = "post"
    position: int = 0  # the line of an import, or the index in a page; used in error reports


@dataclass(frozen=True)
class Rejected:
    position: int
    reason: str


@dataclass
class IngestResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)


def checked_text(value: object) -> tuple[str, str]:
    """(text, "") for a storable post, else ("", the reason it is refused)."""
    if value is None:
        return "", "no text"
    if isinstance(value, bytes | bytearray):
        if len(value) >= MAX_TEXT_BYTES:
            return "", f"too large ({len(value)} bytes; the limit is {MAX_TEXT_BYTES})"
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "", "binary content, not UTF-8 text"
    if not isinstance(value, str):
        return "", f"text must be a string, not {type(value).__name__}"
    # Lone surrogates cannot be stored or indexed: each becomes U+FFFD, the rest of the post is kept.
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
        size = len(value.encode("utf-8"))
    if size >= MAX_TEXT_BYTES:
        return "", f"too large ({size} bytes; the limit is {MAX_TEXT_BYTES})"
    text = value
    if "\x00" in text or _control_share(text) > 0.1:
        return "", "binary content (control characters)"
    text = text.strip()
    if not text:
        return "", "empty text"
    return text, ""


def _control_share(text: str) -> float:
    sample = text[:4000]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r")
    return controls / len(sample)


def ingest(source: ListeningSource, posts: Iterable[Post], *, tier: str = "fast") -> IngestResult:
    """Store the new posts of one batch for the source's unit; enrich them in one call to the models."""
    unit = source.unit
    result = IngestResult()
    candidates: dict[tuple[str, str], tuple[Post, str]] = {}
    for post in posts:
        result.received += 1
        text, reason = checked_text(post.text)
        if reason:
            result.rejected.append(Rejected(post.position, reason))
            continue
        external_id = str(post.external_id or "").strip()[:255]
        if not external_id:
            result.rejected.append(Rejected(post.position, "no id"))
            continue
        key = (post.platform, external_id)
        if key in candidates:
            result.duplicates += 1
            continue
        candidates[key] = (post, text)
    known = _already_stored(unit, list(candidates))
    fresh = [(key, post, text) for key, (post, text) in candidates.items() if key not in known]
    result.duplicates += len(candidates) - len(fresh)
    if not fresh:
        return result
    texts = [text for _key, _post, text in fresh]
    records = enrich_batch(texts, tier=tier)
    now = timezone.now()
    items = [
        _item(source, unit, key, post, text, record, now)
        for (key, post, text), record in zip(fresh, records, strict=True)
    ]
    with transaction.atomic():
        _attach_stories(unit, items, texts, records)
        stored = ListenedItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    result.stored = len(stored)
    return result


def _already_stored(unit: Unit, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    by_platform: dict[str, list[str]] = defaultdict(list)
    for platform, external_id in keys:
        by_platform[platform].append(external_id)
    known: set[tuple[str, str]] = set()
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), _QUERY_CHUNK):
            chunk = ids[start : start + _QUERY_CHUNK]
            found = ListenedItem.objects.filter(unit=unit, platform=platform, external_id__in=chunk)
            known.update((platform, external_id) for external_id in found.values_list("external_id", flat=True))
    return known


def _item(source: ListeningSource, unit: Unit, key: tuple[str, str], post: Post, text: str, record: Enriched,
          now: datetime) -> ListenedItem:
    countries = record.countries
    return ListenedItem(
        source=source,
        unit=unit,
        unit_path=unit.path,
        platform=key[0][:20],
        external_id=key[1],
        kind=(post.kind or "post")[:20],
        text=text,
        author=str(post.author or "")[:200],
        url=str(post.url or "")[:1000],
        created_at=post.created_at or now,
        ingested_at=now,
        language=record.language,
        sentiment=record.sentiment,
        crisis_category=record.crisis_category,
        places=[{"name": p.name, "country": p.country, "lat": p.lat, "lon": p.lon} for p in record.places],
        countries=f",{','.join(countries)}," if countries else "",
        head_count=record.head_count,
        phones=list(record.phones),
        needs=list(record.needs),
        dup_signature=record.dup_signature,
    )


def _attach_stories(unit: Unit, items: list[ListenedItem], texts: list[str], records: list[Enriched]) -> None:
    """Point each item at its story, creating stories and growing their size and time span."""
    keys = story_keys(texts, records)
    members: dict[str, list[int]] = defaultdict(list)
    labels: dict[str, tuple[str, list[str]]] = {}
    for index, found in enumerate(keys):
        if found is None:
            continue
        key, label, terms = found
        members[key].append(index)
        labels.setdefault(key, (label, terms))
    # A near-duplicate is a story only once it has company: in this batch, or a story or post already stored.
    lonely = [key for key, idx in members.items() if key.startswith("dup:") and len(idx) < 2]
    if lonely:
        existing_keys = set(Story.objects.filter(unit=unit, key__in=lonely).values_list("key", flat=True))
        signatures = {items[members[key][0]].dup_signature: key for key in lonely if key not in existing_keys}
        seen_before = set(
            ListenedItem.objects.filter(unit=unit, dup_signature__in=list(signatures))
            .values_list("dup_signature", flat=True).distinct()
        )
        for signature, key in signatures.items():
            if signature not in seen_before:
                del members[key]
    if not members:
        return
    stories = {s.key: s for s in Story.objects.filter(unit=unit, key__in=list(members))}
    new = []
    for key, indexes in members.items():
        if key in stories:
            continue
        times = [items[i].created_at for i in indexes]
        label, terms = labels[key]
        new.append(Story(unit=unit, unit_path=unit.path, key=key, label=label, terms=terms, size=0,
                         first_seen=min(times), last_seen=max(times)))
    if new:
        Story.objects.bulk_create(new, ignore_conflicts=True)
        stories = {s.key: s for s in Story.objects.filter(unit=unit, key__in=list(members))}
    for key, indexes in members.items():
        story = stories[key]
        times = [items[i].created_at for i in indexes]
        Story.objects.filter(pk=story.pk).update(
            size=F("size") + len(indexes), first_seen=Least("first_seen", min(times)),
            last_seen=Greatest("last_seen", max(times)),
        )
        for i in indexes:
            items[i].story = story
        if key.startswith("dup:"):
            # Earlier copies stored before the story existed join it now.
            signature = items[indexes[0]].dup_signature
            joined = ListenedItem.objects.filter(unit=unit, dup_signature=signature, story__isnull=True).update(
                story=story)
            if joined:
                Story.objects.filter(pk=story.pk).update(size=F("size") + joined)
