"""Ingest a batch of posts: check, de-duplicate, enrich once, assign stories, store with bulk inserts.

A post is stored once per (platform, external id): one query per batch finds those already stored, which only
gain the new unit and source in their ``heard_by`` / ``heard_sources``. New rows go in with one parametrised
``INSERT ... ON CONFLICT DO NOTHING`` run over the whole batch (``executemany``: no model instances, no ORM
compilation per row, which cost more than the database itself). The full-text index follows the rows by
itself (SQLite FTS5 trigger, buffered by FTS5 until commit; PostgreSQL stored tsvector column with a GIN
index), so storing a row is indexing it. Story sizes and spans move with one ``executemany`` per batch, and so
do the unit's counters of posts per minute and key (``HeardCount``, read by the alerts): a post counts for a unit
when it is stored for it or first marked as heard by it, in the same transaction, so a duplicate never counts
twice and a batch that rolls back counts nothing.
Nothing here runs in the web process: tasks and the CLI call it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, models, transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_noop as noop

from legation.listening.enrichment import Enriched, enrich_batch, near_duplicate_bands, story_keys, story_label
from legation.listening.fulltext import NOT_AFTER_WORD, TAG_BODY, spaced, unaccented
from legation.listening.models import (
    HeardCount,
    ListenedItem,
    ListeningSource,
    SourceKind,
    Story,
    StoryBand,
    StoryMember,
    heard_mark,
)
from legation.listening.reasons import Reason
from legation.network.models import Unit

MAX_TEXT_BYTES = 1_000_000  # a post of 1 MB or more is refused, with the reason
def long_id(external_id: str) -> str:
    """An id as the column takes it: one longer than MAX_ID characters (a feed entry known by a long tracking link)
    keeps its start and a digest of the whole, so two long ids sharing their start stay two posts, and the same
    id gives the same stored id every time."""
    if len(external_id) <= MAX_ID:
        return external_id
    digest = hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()[:48]
    return f"{external_id[:MAX_ID - 49]}~{digest}"


TOO_LARGE = noop("too large (%(size)s bytes; the limit is %(limit)s)")
MAX_ID, MAX_PLATFORM = 255, 20  # the columns' lengths: a longer id is digested (``long_id``), a platform refused
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a short field (id, platform, author, link) cannot hold: control characters (PostgreSQL refuses NUL) and
# unpaired surrogates (not encodable as UTF-8, so neither database takes them).
_NOT_PLAIN = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_QUERY_CHUNK = 5000  # ids per IN (...) lookup, well inside SQLite's parameter limit (32,766)


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
    heard_again: int = 0  # already stored, now also listed as heard by this source's unit or by this source
    rejected: list[Rejected] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.heard_again += other.heard_again
        self.rejected.extend(other.rejected)


def plain_field(value: object) -> str:
    """A short field as it can be stored: unpaired surrogates become U+FFFD, control characters are dropped."""
    return _NOT_PLAIN.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else "", str(value or ""))


def storable_text(value: str) -> str:
    """A long text as both databases take it, kept whole otherwise: lone surrogates become U+FFFD and NUL
    characters (PostgreSQL refuses them) are dropped; line breaks and everything else stay."""
    return _SURROGATE.sub("\ufffd", value).replace("\x00", "")


def checked_text(value: object) -> tuple[str, str]:
    """(text, "") for a storable post, else ("", the reason it is refused)."""
    if value is None:
        return "", Reason(noop("no text"))
    if isinstance(value, bytes | bytearray):
        if len(value) >= MAX_TEXT_BYTES:
            return "", Reason(TOO_LARGE, size=len(value), limit=MAX_TEXT_BYTES)
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "", Reason(noop("binary content, not UTF-8 text"))
    if not isinstance(value, str):
        return "", Reason(noop("text must be a string, not %(kind)s"), kind=type(value).__name__)
    # Lone surrogates cannot be stored or indexed: each becomes U+FFFD, the rest of the post is kept.
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
        size = len(value.encode("utf-8"))
    if size >= MAX_TEXT_BYTES:
        return "", Reason(TOO_LARGE, size=size, limit=MAX_TEXT_BYTES)
    text = value
    if "\x00" in text or _control_share(text) > 0.1:
        return "", Reason(noop("binary content (control characters)"))
    text = text.strip()
    if not text:
        return "", Reason(noop("empty text"))
    return text, ""


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _control_share(text: str) -> float:
    sample = text[:4000]
    if not sample or _CONTROL.search(sample) is None:
        return 0.0
    return len(_CONTROL.findall(sample)) / len(sample)


def ingest(source: ListeningSource, posts: Iterable[Post], *, tier: str = "fast",
           enrich: Callable[..., list[Enriched]] | None = None) -> IngestResult:
    """Store the new posts of one batch for the source's unit; enrich them in one call to the models.

    Posts already stored (heard by any source) are not stored again: they are marked as heard by this source
    and its unit too, so the unit's searches find them. ``enrich`` replaces the models (benchmarks, tests).
    """
    batch = prepare(source, posts)
    records = (enrich or enrich_batch)(batch.texts, tier=tier) if batch.fresh else []
    return write(source, batch, records)


@dataclass
class Prepared:
    """A batch checked and de-duplicated, waiting for its enrichment: what ``write`` stores."""

    result: IngestResult
    known: dict[tuple[str, str], tuple[int, str, str]]
    fresh: list[tuple[tuple[str, str], Post, str]]

    @property
    def texts(self) -> list[str]:
        """The texts to enrich, one per new post, in order."""
        return [text for _key, _post, text in self.fresh]

    @property
    def keys(self) -> set[tuple[str, str]]:
        """Every post of the batch that ``write`` will store or mark as heard."""
        return {key for key, _post, _text in self.fresh} | set(self.known)


def prepare(source: ListeningSource, posts: Iterable[Post], *,
            in_flight: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> Prepared:
    """Check a batch and split it into posts already stored and new ones (one query per 5,000 ids).

    ``in_flight``: posts of earlier batches of the same source that are prepared but not written yet (a
    pipeline enriching one batch while the one before is stored); they count as duplicates here, as they would
    once the batch before is written, so a post is never stored or marked twice.
    """
    result = IngestResult()
    candidates: dict[tuple[str, str], tuple[Post, str]] = {}
    for post in posts:
        result.received += 1
        text, reason = checked_text(post.text)
        if reason:
            result.rejected.append(Rejected(post.position, reason))
            continue
        external_id = str(post.external_id or "").strip()
        if not external_id:
            result.rejected.append(Rejected(post.position, Reason(noop("no id"))))
            continue
        platform = str(post.platform or "")
        if len(platform) > MAX_PLATFORM:  # cut, two platforms' posts could share ids
            result.rejected.append(Rejected(post.position, Reason(
                noop("platform name longer than %(n)s characters"), n=MAX_PLATFORM)))
            continue
        external_id = long_id(external_id)
        if _NOT_PLAIN.search(external_id) or _NOT_PLAIN.search(platform):
            # Cleaning an id could make it another post's: the post is refused, with the reason.
            result.rejected.append(Rejected(post.position, Reason(noop(
                "id or platform holds control characters or unpaired surrogates"))))
            continue
        if (post.author and _NOT_PLAIN.search(str(post.author))) or (post.url and _NOT_PLAIN.search(str(post.url))):
            # An author's name or a link with a stray character keeps the post: the character is dropped.
            post = replace(post, author=plain_field(post.author), url=plain_field(post.url))
        key = (platform, external_id)
        if key in candidates or key in in_flight:
            result.duplicates += 1
            continue
        candidates[key] = (post, text)
    known = _already_stored(list(candidates)) if candidates else {}
    fresh = [(key, post, text) for key, (post, text) in candidates.items() if key not in known]
    result.duplicates += len(candidates) - len(fresh)
    return Prepared(result, known, fresh)


_UNIT_LOCK = 0x4C49  # "LI": the first key of listening's advisory locks (the second is the unit's id)


def write(source: ListeningSource, batch: Prepared, records: Sequence[Enriched]) -> IngestResult:
    """Store a prepared batch with its enrichment (one record per new post), in one transaction."""
    if len(records) != len(batch.fresh):
        raise ValueError(f"{len(records)} enrichment records for {len(batch.fresh)} new posts")
    unit = source.unit
    result = batch.result
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One writer per unit at a time (SQLite's IMMEDIATE transactions are one writer in all): its stories
            # and counters are read and grown by one transaction, so two pulls meeting count nothing twice.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_UNIT_LOCK, unit.pk])
        if batch.known:
            result.heard_again = _mark_heard(source, unit, batch.known.values())
        if batch.fresh:
            result.stored = _store(source, unit, batch.fresh, list(records))
            if result.stored < len(batch.fresh):
                # Another process stored some of these posts since ``prepare`` read: they are heard again.
                raced = _already_stored([key for key, _post, _text in batch.fresh])
                mine = heard_mark(source.pk)
                others = [row for row in raced.values() if mine not in row[2]]
                result.duplicates += len(batch.fresh) - result.stored
                result.heard_again += _mark_heard(source, unit, others) if others else 0
    return result


def _stored_among(keys: Sequence[tuple[str, str]], **more: Any) -> Iterator[tuple[str, Any]]:
    """(platform, queryset) of the stored posts with these (platform, external id) keys, 5,000 ids a query."""
    by_platform: dict[str, list[str]] = defaultdict(list)
    for platform, external_id in keys:
        by_platform[platform].append(external_id)
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), _QUERY_CHUNK):
            yield platform, ListenedItem.objects.filter(
                platform=platform, external_id__in=ids[start : start + _QUERY_CHUNK], **more)


def _already_stored(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(id, heard_by, heard_sources) of the posts already stored, by (platform, external id)."""
    known: dict[tuple[str, str], tuple[int, str, str]] = {}
    for platform, found in _stored_among(keys):
        for item_id, external_id, heard_by, heard_sources in found.values_list(
                "id", "external_id", "heard_by", "heard_sources"):
            known[(platform, external_id)] = (item_id, heard_by, heard_sources)
    return known


def _mark_heard(source: ListeningSource, unit: Unit, known: Iterable[tuple[int, str, str]]) -> int:
    """List the unit and the source on stored posts they heard too; how many posts changed."""
    path_mark, source_mark = heard_mark(unit.path), heard_mark(source.pk)
    new_unit = [item_id for item_id, heard_by, _s in known if path_mark not in heard_by]
    new_source = [item_id for item_id, _h, heard_sources in known if source_mark not in heard_sources]
    counts: Counter[tuple[str, int, str]] = Counter()
    in_stories: list[tuple[int, int, datetime]] = []  # (post, the first unit's story, time posted)
    words = listened_words(unit) if new_unit else frozenset()
    for ids, name, mark in ((new_unit, "heard_by", path_mark), (new_source, "heard_sources", source_mark)):
        field = models.TextField()
        # "|/1/|" + "/4/|": the list's last bar starts the new mark; an empty list takes the whole mark.
        appended = Case(When(**{name: ""}, then=Value(mark)), default=Concat(name, Value(mark[1:])),
                        output_field=field)
        for start in range(0, len(ids), _QUERY_CHUNK):
            # Rows that gained the mark since they were read are left alone (and not counted again).
            rows = ListenedItem.objects.filter(id__in=ids[start : start + _QUERY_CHUNK]).exclude(
                **{f"{name}__contains": mark})
            if name == "heard_by":  # the unit hears these posts now: they count in its volumes from now on
                for item_id, when, language, category, countries, places, text, story_id in rows.values_list(
                        "id", "created_at", "language", "crisis_category", "countries", "places", "text",
                        "story_id"):
                    count_post(counts, unit.path, when, language, category, countries, place_names_of(places),
                               text, words)
                    if story_id is not None:
                        in_stories.append((item_id, story_id, when))
            rows.update(**{name: appended})
    add_counts(counts)
    _join_stories(unit, in_stories)
    return len(set(new_unit) | set(new_source))


def _join_stories(unit: Unit, heard: list[tuple[int, int, datetime]]) -> None:
    """Posts in another unit's story that this unit hears now join this unit's story of the same key (created
    with the other's label and terms when the unit has none), which grows by them (``StoryMember``)."""
    if not heard:
        return
    theirs = {story.pk: story for story in Story.objects.filter(pk__in={story_id for _i, story_id, _w in heard})
              .exclude(unit=unit).only("key", "label", "terms")}
    members: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    first: dict[str, Story] = {}
    for item_id, story_id, when in heard:
        if story_id in theirs:
            key = theirs[story_id].key
            members[key].append((item_id, when))
            first.setdefault(key, theirs[story_id])
    if not members:
        return
    mine = dict(Story.objects.filter(unit=unit, key__in=list(members)).values_list("key", "id"))
    new = [Story(unit=unit, unit_path=unit.path, key=key, label=first[key].label, terms=first[key].terms, size=0,
                 first_seen=min(when for _i, when in posts), last_seen=max(when for _i, when in posts))
           for key, posts in members.items() if key not in mine]
    if new:
        Story.objects.bulk_create(new, ignore_conflicts=True)
        mine = dict(Story.objects.filter(unit=unit, key__in=list(members)).values_list("key", "id"))
    StoryMember.objects.bulk_create([StoryMember(story_id=mine[key], item_id=item_id)
                                     for key, posts in members.items() for item_id, _when in posts],
                                    ignore_conflicts=True)
    _grow_stories([(mine[key], len(posts), min(when for _i, when in posts), max(when for _i, when in posts))
                   for key, posts in members.items()])


def _grow_stories(growth: list[tuple[int, int, datetime, datetime]]) -> None:
    """Add (story id, posts, first, last) to the stories' sizes and widen their spans, one statement."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Story._meta.db_table} SET size = size + %s, "  # noqa: S608 - our table name
            "first_seen = CASE WHEN first_seen > %s THEN %s ELSE first_seen END, "
            "last_seen = CASE WHEN last_seen < %s THEN %s ELSE last_seen END WHERE id = %s",
            [(n, adapt(start), adapt(start), adapt(end), adapt(end), story_id) for story_id, n, start, end in growth])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)


def minute_of(when: datetime) -> int:
    """Minutes since 1970-01-01 UTC, rounded down (a naive time is UTC, as the database stores it)."""
    return ((when if when.tzinfo else when.replace(tzinfo=UTC)) - _EPOCH) // _MINUTE


def series_keys(language: str, category: str, countries: str, places: Iterable[str] = (), text: str = "",
                words: frozenset[str] = frozenset()) -> list[str]:
    """The volume series a post counts in: all posts, its language, its crisis category, each of its countries,
    each place it names (by the gazetteer's name: a few thousand at most), and as terms each of its hashtags and
    each of ``words`` it contains (the words the unit listens for, ``listened_words``)."""
    keys = ["all"]
    if language:
        keys.append(f"language:{language}")
    if category and category != "not_humanitarian":
        keys.append(f"category:{category}")
    keys.extend(f"country:{country}" for country in countries.split(",") if country)
    keys.extend(f"place:{name[:200]}" for name in sorted(set(places)) if name)
    keys.extend(f"term:{tag}" for tag in hashtags(text))
    if words:
        keys.extend(f"term:{word}" for word in words_in(text, words))
    return keys


def count_post(counts: Counter[tuple[str, int, str]], path: str, when: datetime, language: str, category: str,
               countries: str, places: Iterable[str] = (), text: str = "",
               words: frozenset[str] = frozenset()) -> None:
    minute = minute_of(when)
    for key in series_keys(language, category, countries, places, text, words):
        counts[(path, minute, key)] += 1


LISTENED_WORDS = 50  # per unit: the words of its keyword and hashtag sources' queries counted as terms
_QUERY_TOKEN = re.compile(r'[^\s"()]+')
_QUERY_OPERATORS = {"OR", "AND", "NOT"}
_WORD = re.compile(r"\w{2,100}")


def term_fold(text: str) -> str:
    """A text as terms are matched: Arabic folds, any case, Latin letters without their diacritics."""
    return text.lower() if text.isascii() else unaccented(text).casefold()


def query_words(query: str) -> list[str]:
    """The words a keyword or hashtag query listens for, as terms: "Misratah OR evacuation -rumour lang:en" ->
    misratah, evacuation. Operators, words left out ("-rumour"), filters ("lang:en") and hashtags (counted as
    hashtags) are not terms; a quoted phrase gives its words."""
    words: list[str] = []
    for token in _QUERY_TOKEN.findall(query):
        if token in _QUERY_OPERATORS or token.startswith(("-", "#")) or ":" in token:
            continue
        words.extend(word for word in _WORD.findall(term_fold(token)) if word not in words)
    return words


def listened_words(unit: Unit) -> frozenset[str]:
    """The words the unit's keyword and hashtag sources listen for (at most LISTENED_WORDS): a spike in posts
    with one of them alerts ("Spike in posts with evacuation")."""
    words: list[str] = []
    for query in ListeningSource.objects.filter(unit=unit, kind__in=(SourceKind.KEYWORD, SourceKind.HASHTAG)
                                                ).order_by("pk").values_list("query", flat=True):
        words.extend(word for word in query_words(query) if word not in words)
    return frozenset(words[:LISTENED_WORDS])


def words_in(text: str, words: frozenset[str]) -> list[str]:
    """Which of ``words`` the text has (``term_fold``), in alphabetical order: as whole words, or anywhere in
    the text for a word in a script written without spaces (Chinese, Japanese, Thai...: "救援" in "紧急救援队")."""
    if not words:
        return []
    whole, inside = _by_script(words)
    folded = term_fold(text or "")
    found = set(whole.intersection(_WORD.findall(folded)))
    found.update(word for word in inside if word in folded)
    return sorted(found)


@functools.lru_cache(maxsize=256)
def _by_script(words: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(words matched whole, words matched anywhere in the text) of a unit's listened words."""
    inside = tuple(word for word in words if spaced(word) != word)
    return words.difference(inside), inside


# A hashtag: "#" after no letter or digit, then letters, digits or "_" in any script (#Misratah, #طرابلس, #救援),
# with the combining marks inside a word (#हिंदी, #กรุงเทพ: ``fulltext.TAG_BODY``); counted from 2 to 100 characters.
HASHTAG = re.compile(f"{NOT_AFTER_WORD}#({TAG_BODY[:-1]}{{1,99}})")
HASHTAGS_COUNTED = 10  # per post: a post that is a wall of hashtags does not fill the counters


def hashtags(text: str) -> list[str]:
    """The distinct hashtags of a text, lowercased, in order, at most HASHTAGS_COUNTED."""
    found: dict[str, None] = {}
    for match in HASHTAG.finditer(text or ""):
        found.setdefault("#" + match.group(1).lower(), None)
        if len(found) >= HASHTAGS_COUNTED:
            break
    return list(found)


def place_names_of(places: object) -> list[str]:
    """The names in a stored ``places`` list (``[{"name": "Benghazi", ...}]``); none for anything else."""
    return [str(p["name"]) for p in places if isinstance(p, dict) and p.get("name")] if isinstance(
        places, list) else []


def add_counts(counts: Counter[tuple[str, int, str]]) -> None:
    """Add a batch's counts to the stored counters: one upsert per (unit, minute, key), in a fixed order, so two
    transactions adding to the same counters lock them in the same order (no deadlock)."""
    if not counts:
        return
    table = HeardCount._meta.db_table
    upsert = f"ON CONFLICT (unit_path, minute, key) DO UPDATE SET n = {table}.n + excluded.n"
    rows = [(path, minute, key, n) for (path, minute, key), n in sorted(counts.items())]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement over column arrays (a batch of old posts: 1000s)
            columns = [list(column) for column in zip(*rows, strict=True)]
            cursor.execute(
                f"INSERT INTO {table} (unit_path, minute, key, n) "  # noqa: S608 - our table
                f"SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[]) {upsert}", columns)
        else:
            cursor.executemany(
                f"INSERT INTO {table} (unit_path, minute, key, n) VALUES (%s, %s, %s, %s) {upsert}",  # noqa: S608
                rows)


def roll_up_counts(oldest: int, before: int) -> int:
    """Fold the per-minute counters of minutes in [oldest, before) into one counter per clock hour (at the hour's
    first minute), and return how many minute counters went. The alerts compare the last WINDOWS hours minute by
    minute; older counters serve only the hourly trends of terms, which read them per clock hour, so the same
    figures come from a sixtieth of the rows (a source hearing 100 distinct hashtags a minute: 6,000 rows an hour
    become 100). A post that arrives late for a folded minute gets a minute counter again, folded next time."""
    table = HeardCount._meta.db_table
    minutes = "minute >= %s AND minute < %s AND minute %% 60 <> 0"
    upsert = f"ON CONFLICT (unit_path, minute, key) DO UPDATE SET n = {table}.n + excluded.n"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: a row ingestion adds to meanwhile is either waited for and folded, or left for later.
            cursor.execute(
                f"WITH gone AS (DELETE FROM {table} WHERE {minutes} "  # noqa: S608
                "RETURNING unit_path, minute, key, n), "
                f"folded AS (INSERT INTO {table} (unit_path, minute, key, n) "
                "SELECT unit_path, minute - minute %% 60, key, SUM(n) FROM gone GROUP BY 1, 2, 3 "
                f"{upsert}) SELECT COUNT(*) FROM gone", [oldest, before])
            return int(cursor.fetchone()[0])
        with transaction.atomic():  # SQLite has one writer at a time: both statements see the same rows
            cursor.execute(
                f"INSERT INTO {table} (unit_path, minute, key, n) "  # noqa: S608 - our table
                f"SELECT unit_path, minute - minute %% 60, key, SUM(n) FROM {table} "
                f"WHERE {minutes} GROUP BY 1, 2, 3 {upsert}",
                [oldest, before])
            cursor.execute(f"DELETE FROM {table} WHERE {minutes}",  # noqa: S608
                           [oldest, before])
            return int(cursor.rowcount)


_COLUMNS = ("source_id", "unit_id", "unit_path", "heard_by", "heard_sources", "platform", "external_id", "kind",
            "text", "author", "url", "created_at", "ingested_at", "language", "sentiment", "crisis_category",
            "places", "countries", "head_count", "phones", "needs", "dup_signature", "story_id")


def _store(source: ListeningSource, unit: Unit, fresh: list[tuple[tuple[str, str], Post, str]],
           records: list[Enriched]) -> int:
    """Insert the new posts of the batch (SQLite: one statement run over the batch; PostgreSQL: COPY)."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    stamped = adapt(now)
    created = [post.created_at or now for _key, post, _text in fresh]
    story_ids, grow_stories = _attach_stories(unit, [text for _key, _post, text in fresh], records, created)
    path, heard_by, heard_sources = unit.path, heard_mark(unit.path), heard_mark(source.pk)
    dumps = json.dumps
    rows: list[tuple[Any, ...]] = []
    countries_of = [record.countries_column for record in records]
    for (key, post, text), record, when, story_id, countries in zip(fresh, records, created, story_ids, countries_of,
                                                                   strict=True):
        rows.append((
            source.pk, unit.pk, path, heard_by, heard_sources, key[0], key[1], (post.kind or "post")[:20], text,
            str(post.author or "")[:200], str(post.url or "")[:1000], adapt(when) if when is not now else stamped,
            stamped, record.language, record.sentiment, record.crisis_category,
            dumps([p.as_dict() for p in record.places]) if record.places else "[]",
            countries, record.head_count,
            dumps(list(record.phones)) if record.phones else "[]", dumps(list(record.needs)) if record.needs else "[]",
            record.dup_signature, story_id,
        ))
    table = ListenedItem._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            inserted_keys = _copy_rows(cursor, table, rows)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "  # noqa: S608
                "ON CONFLICT (platform, external_id) DO NOTHING", rows)
            inserted = cursor.rowcount
            inserted_keys = None if inserted is None or inserted < 0 or inserted >= len(rows) else set(
                _inserted_here(source, [key for key, _post, _text in fresh], now))
    # Stories grow, and counters count, by the posts this batch stored (another process's copies of a raced
    # post count where it stored them, and here as heard again: ``write``).
    grow_stories(None if inserted_keys is None else
                 {i for i, (key, _post, _text) in enumerate(fresh) if key in inserted_keys})
    counts: Counter[tuple[str, int, str]] = Counter()
    words = listened_words(unit)
    for (key, _post, text), record, when, countries in zip(fresh, records, created, countries_of, strict=True):
        if inserted_keys is None or key in inserted_keys:
            count_post(counts, path, when, record.language, record.crisis_category, countries,
                       [place.name for place in record.places], text, words)
    add_counts(counts)
    return len(rows) if inserted_keys is None else len(inserted_keys)


def _inserted_here(source: ListeningSource, keys: list[tuple[str, str]], stamped: datetime) -> list[tuple[str, str]]:
    """SQLite, when some posts of the batch were stored by another process meanwhile (rare): those this
    transaction inserted, known by their source and storing time to the microsecond."""
    return [(platform, external_id) for platform, rows in _stored_among(keys, source=source, ingested_at=stamped)
            for external_id in rows.values_list("external_id", flat=True)]


_STAGE = "listening_item_stage"


def _copy_rows(cursor: Any, table: str, rows: list[tuple[Any, ...]]) -> set[tuple[str, str]] | None:
    """PostgreSQL: COPY the rows into a session-private staging table, then move them in one statement.

    Returns None when every row went in, else the (platform, external id) of those that did.

    COPY formats the rows in psycopg's C code (an ``INSERT ... unnest()`` of column arrays spent more time
    quoting arrays in Python than the server spent storing them); the move empties the staging table and
    inserts with ``ON CONFLICT DO NOTHING`` in one round trip.
    """
    names = ", ".join(_COLUMNS)
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} AS "  # noqa: S608 - our names
                   f"SELECT {names} FROM {table} WITH NO DATA")
    with cursor.cursor.copy(f"COPY {_STAGE} ({names}) FROM STDIN") as copy:  # psycopg's own cursor
        for row in rows:
            copy.write_row(row)
    cursor.execute(f"WITH staged AS (DELETE FROM {_STAGE} RETURNING {names}) "  # noqa: S608 - our names
                   f"INSERT INTO {table} ({names}) SELECT {names} FROM staged "
                   "ON CONFLICT (platform, external_id) DO NOTHING RETURNING platform, external_id")
    inserted = {(platform, external_id) for platform, external_id in cursor.fetchall()}
    return None if len(inserted) >= len(rows) else inserted


BANDS_KEPT = 16  # a story's bands most shared by the posts that started it (or grew it several at a time)
SAME_GROUP = 16  # of the 32 MinHash values two posts sharing a band must have in common to be put together
RECENT_COMPARED = 50  # the unit's latest near-duplicate stories a post sharing no kept band is compared with


def _stored_bands(unit: Unit, bands: np.ndarray) -> list[tuple[int, int, str]]:
    """(band, story id, story key) of the unit's stories keeping any of ``bands``: one statement with the bands
    as one parameter (an array, or JSON on SQLite), which thousands of bound values would make slow."""
    table, stories = StoryBand._meta.db_table, Story._meta.db_table
    if connection.vendor == "postgresql":
        # As an array's text: psycopg adapts a list of 8,000 ints element by element (15 ms a batch).
        among, values = "= ANY(%s::bigint[])", "{" + ",".join(map(str, bands.tolist())) + "}"
    else:
        among, values = "IN (SELECT value FROM json_each(%s))", json.dumps(bands.tolist())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT b.band, b.story_id, s.key FROM {table} b JOIN {stories} s ON s.id = b.story_id "  # noqa: S608
                       f"WHERE b.unit_id = %s AND b.band {among}", [unit.pk, values])
        return [(int(band), int(story_id), str(key)) for band, story_id, key in cursor.fetchall()]


def _near_duplicate_keys(unit: Unit, keys: list[str | None],
                         records: list[Enriched]) -> tuple[list[str | None], dict[int, list[int]]]:
    """Near-duplicates of each other or of a story of the unit get one story key, though their short signatures
    differ: posts of the batch sharing a band (``enrichment.near_duplicate_bands``) and at least SAME_GROUP of
    their 32 MinHash values are grouped, and a group with a band a story of the unit keeps (``StoryBand``) joins
    that story (the one most of its bands point to). Returns the keys and, per group to remember, its first post
    and the bands to keep for its story. Posts without a whole signature keep their keys (exact signature)."""
    every = near_duplicate_bands(records)
    bands = {i: every[i] for i, key in enumerate(keys) if key and key.startswith("dup:") and every[i]}
    if not bands:
        return keys, {}
    posts = list(bands)
    values = np.frombuffer(b"".join(records[i].dup_raw for i in posts), dtype=np.uint32).reshape(len(posts), 32)
    row_of = {i: row for row, i in enumerate(posts)}
    parent = {i: i for i in posts}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def similar(i: int, j: int) -> bool:
        return int((values[row_of[i]] == values[row_of[j]]).sum()) >= SAME_GROUP

    # Posts sharing a band: the few first posts with each band are compared with the next ones.
    flat = np.array([bands[i] for i in posts], dtype=np.int64)
    distinct, counts = np.unique(flat, return_counts=True)
    if (counts > 1).any():
        with_band: dict[int, list[int]] = defaultdict(list)
        shared = set(distinct[counts > 1].tolist())
        for i in posts:
            for band in bands[i]:
                if band in shared:
                    bucket = with_band[band]
                    for j in bucket:
                        if root(i) != root(j) and similar(i, j):
                            parent[max(root(i), root(j))] = min(root(i), root(j))  # the first post leads
                    if len(bucket) < 8:
                        bucket.append(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in posts:
        groups[root(i)].append(i)
    # A copy can differ from the others in one value of every band: a post alone joins the group of the batch
    # whose first post it resembles most, if enough.
    big = [leader for leader, members in groups.items() if len(members) > 1][:500]
    alone = [leader for leader, members in groups.items() if len(members) == 1]
    if big and alone:
        same = (values[[row_of[i] for i in alone]][:, None, :] == values[[row_of[i] for i in big]][None]).sum(2)
        for row in np.flatnonzero(same.max(axis=1) >= SAME_GROUP).tolist():
            groups[big[int(same[row].argmax())]].append(groups.pop(alone[row])[0])
    stored = {band: (story_id, key) for band, story_id, key in _stored_bands(unit, distinct)}
    unmatched = [leader for leader, members in groups.items()
                 if not any(band in stored for i in members for band in bands[i])]
    recent = [(story_id, key, signature) for story_id, key, signature in Story.objects.filter(
        unit=unit, last_seen__gte=timezone.now() - timedelta(days=2)).exclude(signature="").order_by(
        "-last_seen").values_list("id", "key", "signature")[:RECENT_COMPARED] if len(signature) == 256] \
        if unmatched else []
    if recent:  # the same, against the first posts of the unit's latest stories
        theirs = np.frombuffer(bytes.fromhex("".join(signature for _id, _key, signature in recent)),
                               dtype=np.uint32).reshape(len(recent), 32)
        same = (values[[row_of[i] for i in unmatched]][:, None, :] == theirs[None]).sum(2)
        for row in np.flatnonzero(same.max(axis=1) >= SAME_GROUP).tolist():
            story_id, key, _signature = recent[int(same[row].argmax())]
            stored.update({band: (story_id, key) for band in bands[unmatched[row]]})
    keys = list(keys)
    remember: dict[int, list[int]] = {}
    for leader, members in groups.items():
        hits = [stored[band] for i in members for band in bands[i] if band in stored]
        votes = Counter(hits) if hits else None
        chosen = min(votes, key=lambda story: (-votes[story], story[0]))[1] if votes else keys[leader]
        for i in members:
            keys[i] = chosen
        if len(members) > 1:
            kept = Counter(band for i in members for band in bands[i])
            remember[leader] = [band for band, _n in kept.most_common(BANDS_KEPT)]
        elif not votes:  # a post alone: its bands, in case it starts a story with copies stored earlier
            remember[leader] = bands[leader]
    return keys, remember


def _attach_stories(unit: Unit, texts: list[str], records: list[Enriched], created: list[datetime]
                    ) -> tuple[list[int | None], Callable[[set[int] | None], None]]:
    """The story id of each new post, creating the stories it needs (a few statements), and the function that
    grows their sizes and time spans once the posts are stored, by those of them that were (all: None)."""
    keys, remember = _near_duplicate_keys(unit, story_keys(records), records)
    members: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        if key is not None:
            members[key].append(index)
    story_ids: list[int | None] = [None] * len(texts)
    if not members:
        return story_ids, lambda _inserted: None
    stories = dict(Story.objects.filter(unit=unit, key__in=list(members)).values_list("key", "id"))
    # A near-duplicate is a story only once it has company: in this batch, or a story or post already stored.
    lonely = {records[idx[0]].dup_signature: key for key, idx in members.items()
              if key.startswith("dup:") and len(idx) < 2 and key not in stories}
    earlier: dict[str, list[int]] = defaultdict(list)  # signature -> stored posts of this unit without a story
    heard: dict[str, list[int]] = defaultdict(list)  # signature -> posts stored for another unit, heard by this one
    if lonely:
        seen = ListenedItem.objects.filter(heard_by__contains=heard_mark(unit.path),
                                           dup_signature__in=list(lonely)).values_list(
            "dup_signature", "id", "story_id", "unit_id")
        found = set()
        for signature, item_id, story_id, owner in seen:
            found.add(signature)
            if owner != unit.pk:
                heard[signature].append(item_id)  # joins this unit's story as a member (``StoryMember``)
            elif story_id is None:
                earlier[signature].append(item_id)
        for signature, key in lonely.items():
            if signature not in found:
                del members[key]
    new = []
    for key, indexes in members.items():
        if key in stories:
            continue
        times = [created[i] for i in indexes]
        label, terms = story_label(key, texts[indexes[0]], records[indexes[0]])
        new.append(Story(unit=unit, unit_path=unit.path, key=key, label=label, terms=terms, size=0,
                         first_seen=min(times), last_seen=max(times),
                         signature=records[indexes[0]].dup_raw.hex() if key.startswith("dup:") else ""))
    if new:
        Story.objects.bulk_create(new, ignore_conflicts=True)
        stories = dict(Story.objects.filter(unit=unit, key__in=list(members)).values_list("key", "id"))
    made = {stories[story.key] for story in new if story.key in stories}
    plan: list[tuple[int, list[int], int]] = []  # (story, its posts of the batch, earlier posts that join it)
    joins: list[tuple[int, int]] = []
    memberships: list[StoryMember] = []
    for key, indexes in members.items():
        story_id = stories[key]
        for i in indexes:
            story_ids[i] = story_id
        joined: list[int] = []
        others: list[int] = []
        if key.startswith("dup:"):  # earlier copies heard before the story existed join it now
            joined = earlier.get(records[indexes[0]].dup_signature, [])
            joins.extend((story_id, item_id) for item_id in joined)
            others = heard.get(records[indexes[0]].dup_signature, [])
            memberships.extend(StoryMember(story_id=story_id, item_id=item_id) for item_id in others)
        plan.append((story_id, indexes, len(joined) + len(others)))
    StoryMember.objects.bulk_create(memberships, ignore_conflicts=True)
    StoryBand.objects.bulk_create([StoryBand(story_id=story, unit=unit, band=band)
                                   for leader, kept in remember.items() if (story := story_ids[leader]) is not None
                                   for band in kept], ignore_conflicts=True)
    if joins:
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {ListenedItem._meta.db_table} SET story_id = %s WHERE id = %s",  # noqa: S608
                               joins)

    def grow(inserted: set[int] | None) -> None:
        growth = []
        for story_id, indexes, earlier_posts in plan:
            stored = indexes if inserted is None else [i for i in indexes if i in inserted]
            if stored:
                times = [created[i] for i in stored]
                growth.append((story_id, len(stored) + earlier_posts, min(times), max(times)))
            elif earlier_posts:  # its span stays as it is: the batch's own posts are stored elsewhere
                growth.append((story_id, earlier_posts, _NEVER, _EPOCH))
        _grow_stories(growth)
        if inserted is not None and made:  # a story made for posts another process stored: none of its own
            Story.objects.filter(pk__in=made, size=0).delete()

    return story_ids, grow
