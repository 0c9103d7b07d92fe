"""Searching what was heard: one function over SQLite FTS5 or PostgreSQL full-text search, with filters.

A search with words lists its matches newest heard first (by id, descending): the full-text index yields its
matches in that order, so the database stops at the page size instead of collecting and sorting every match
(SQLite: the FTS5 table drives the join, walked by rowid backwards; PostgreSQL: the stored tsvector column is
checked along the primary key, or the GIN index is used when the words are rare, as the planner sees fit).
Browsing without words lists by time posted. Counts stop at COUNT_CAP ("more than ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from legation.listening.enrichment import country_named, place_names
from legation.listening.fulltext import (
    PLACE_KEY_LENGTH,
    TAG_BODY,
    fold,
    place_key,
    plain_letters,
    refill,
    spaced,
    tag_key,
    tag_lexeme,
    tag_token,
    unaccented,
    without_elision,
)
from legation.listening.models import (
    ListenedItem,
    ListeningSource,
    PlaceName,
    Story,
    StoryMember,
    country_code,
    heard_mark,
)
from legation.network.models import Person, Unit
from legation.network.permissions import Action, may, path_filter, paths_where

_M = TypeVar("_M", bound=Model)
COUNT_CAP = 1_000  # counting beyond this costs more than it tells: the page says "1000+"
# SQLite: a place named by more posts than this is browsed newest first through the time index (``search``).
COMMON_PLACE = 5_000


@dataclass
class Filters:
    """What a search narrows to; every field is optional. ``unit`` scopes to that unit and below."""

    language: str = ""
    sentiment: str = ""
    category: str = ""
    country: str = ""
    place: str = ""
    source: int | None = None
    platform: str = ""
    since: datetime | None = None
    until: datetime | None = None
    unit: int | None = None
    story: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Filters:
        """Read filters from query parameters (strings); unknown or malformed values are ignored."""
        def text(name: str, size: int = 100) -> str:
            return without_nul(str(params.get(name) or "")).strip()[:size]

        def country(typed: str) -> str:
            # A code, or a name in English or the interface's languages ("Libya", "ليبيا"); else as typed (and
            # then nothing matches).
            if not typed:
                return ""
            return country_code(typed) or country_named(typed) or (typed.upper() if len(typed) <= 3 else typed)

        def number(name: str) -> int | None:
            value = text(name)
            return int(value) if value.isdecimal() else None

        return cls(
            language=text("language", 8).lower(), sentiment=text("sentiment", 10).lower(),
            category=text("category", 40).lower(), country=country(text("country")), place=text("place"),
            source=number("source"), platform=text("platform", 20).lower(), since=lenient(text("since")),
            until=lenient(text("until"), end_of_day=True), unit=number("unit"), story=number("story"),
        )

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters, for links, saved searches and exports."""
        out = {}
        for name, value in asdict(self).items():
            if value in (None, ""):
                continue
            out[name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out


FILTER_NAMES = tuple(f.name for f in fields(Filters))


def without_nul(value: str) -> str:
    """Text with its NUL characters dropped: PostgreSQL takes none in a string (a query naming one was a 500)."""
    return value.replace("\x00", "")


MAX_QUERY = 500  # characters of a search's words that are read


def clip_query(query: str) -> str:
    """The first MAX_QUERY characters of a search, without the word the cut would halve ("flood" cut to "flo"
    would find other posts, or none)."""
    query = query.strip()
    if len(query) <= MAX_QUERY:
        return query
    clipped = query[:MAX_QUERY]
    if not query[MAX_QUERY].isspace() and " " in clipped:
        clipped = clipped.rsplit(None, 1)[0]
    return clipped.strip()


def search_params(query: str, filters: Filters) -> dict[str, str]:
    """A search's words and filters as a saved search keeps them (and the page links them): the unit apart."""
    params = {k: without_nul(v) for k, v in filters.as_params().items() if k != "unit"}
    query = clip_query(without_nul(query))
    if query:
        params["q"] = query
    return params


def parse_moment(value: str, end_of_day: bool = False) -> datetime | None:
    """A date (``2026-11-23``: its start, or with ``end_of_day`` its last moment, so that "until" a day includes
    that day) or an ISO 8601 date and time; None when empty. Raises ValueError for anything else, impossible
    dates included (``2026-02-30``)."""
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        # Checked first: Python reads a bare date as a date and time at midnight, which would end "until" at
        # the day's first moment.
        day = parse_date(value)
        assert day is not None
        moment = datetime.combine(day, datetime.max.time() if end_of_day else datetime.min.time())
    else:
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"{value[:40]!r} is not a date (YYYY-MM-DD) or an ISO 8601 date and time")
        moment = parsed
    try:  # in UTC: an offset the database cannot store (PostgreSQL: past ±15:59) or a date past the calendar's ends
        return (make_aware(moment) if is_naive(moment) else moment).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{value[:40]!r} is outside the calendar's range of dates") from None


def lenient(value: str, end_of_day: bool = False) -> datetime | None:
    """:func:`parse_moment`, with None for a malformed or impossible date (the web form ignores it)."""
    try:
        return parse_moment(value, end_of_day)
    except ValueError:
        return None


def heard_filter(person: Person | AnonymousUser) -> Q | None:
    """A Q matching items heard by a unit the person may view listening in (None: everything).

    ``heard_by`` lists every unit path that heard the item between bars, so "a unit at or below /1/4/" is
    ``heard_by`` containing "|/1/4/".
    """
    query = path_filter(person, Action.LISTENING_VIEW, "heard_by")
    return _contains_marks(query) if query is not None else None


def _contains_marks(query: Q) -> Q:
    out = Q()
    out.connector, out.negated = query.connector, query.negated
    for child in query.children:
        if isinstance(child, Q):
            out.children.append(_contains_marks(child))
        elif isinstance(child, tuple) and child[0] == "heard_by__startswith":
            out.children.append(("heard_by__contains", "|" + child[1]))
        else:
            out.children.append(child)
    return out


def visible_items(person: Person | AnonymousUser) -> QuerySet[ListenedItem]:
    """Every item heard in a unit the person may view listening in."""
    items = ListenedItem.objects.all()
    query = heard_filter(person)
    return items.filter(query) if query is not None else items


def as_seen_by(person: Person | AnonymousUser, items: Iterable[ListenedItem]) -> list[ListenedItem]:
    """The items as heard in the person's own units. A post is stored once, with the unit, source and story of
    the first unit that heard it; where that unit is one the person may not view (another mission, a region
    above them), the item names the person's own source that heard it and its unit instead, and the story of it
    the person's unit has (``StoryMember``) rather than the other unit's, so nothing of the other unit's set-up
    shows."""
    items = list(items)
    paths = paths_where(person, Action.LISTENING_VIEW)
    if paths is None:
        return items

    def visible(path: str) -> bool:
        return any(path.startswith(p) for p in paths)

    hidden = [item for item in items if not visible(item.unit_path)]
    heard = readers_sources([(item.pk, item.heard_sources, item.heard_by) for item in hidden], visible)
    stories = readers_stories([item.pk for item in hidden], visible)
    for item in hidden:
        source, unit = heard[item.pk]
        item.source, item.story = source, stories.get(item.pk)
        if unit is not None:
            item.unit, item.unit_path = unit, unit.path
    return items


def readers_sources(hidden: list[tuple[int, str, str]], visible: Callable[[str], bool]
                    ) -> dict[int, tuple[ListeningSource | None, Unit | None]]:
    """For posts first stored for a unit the reader may not view, as (id, heard_sources, heard_by): the reader's
    own source that heard each and its unit or, heard through a source since removed, no source and the
    reader's unit that heard it. Two queries at most."""
    heard = {pk: [int(s) for s in sources.strip("|").split("|") if s.isdecimal()] for pk, sources, _by in hidden}
    own = {source.pk: source for source in ListeningSource.objects.filter(
        pk__in={s for ids in heard.values() for s in ids}).select_related("unit") if visible(source.unit.path)}
    found: dict[int, tuple[ListeningSource | None, Unit | None]] = {}
    orphans: dict[int, str] = {}
    for pk, _sources, heard_by in hidden:
        source = next((own[s] for s in heard[pk] if s in own), None)
        found[pk] = (source, source.unit if source is not None else None)
        if source is None:
            orphans[pk] = next((p for p in heard_by.strip("|").split("|") if p and visible(p)), "")
    units = {unit.path: unit for unit in Unit.objects.filter(path__in=set(orphans.values()))} if orphans else {}
    for pk, path in orphans.items():
        found[pk] = (None, units.get(path))
    return found


def readers_stories(item_ids: list[int], visible: Callable[[str], bool]) -> dict[int, Story]:
    """For posts first stored for a unit the reader may not view: the story of each that a unit the reader may
    view has (``StoryMember``), by post id. One query."""
    if not item_ids:
        return {}
    return {member.item_id: member.story for member in StoryMember.objects.filter(
        item_id__in=item_ids).select_related("story") if visible(member.story.unit_path)}


def viewable(person: Person | AnonymousUser, queryset: QuerySet[_M], field: str = "unit_path") -> QuerySet[_M]:
    """The rows of ``queryset`` in units the person may view listening in (``field``: the row's unit path)."""
    scope = path_filter(person, Action.LISTENING_VIEW, field)
    return queryset.filter(scope) if scope is not None else queryset


def search(person: Person | AnonymousUser, query: str, filters: Filters | None = None) -> QuerySet[ListenedItem]:
    """Items the person may see matching the words of ``query`` (all of them) and the filters.

    With words: newest heard first; without: newest posted first.
    """
    filters = filters or Filters()
    query = plain_letters(query.replace("\x00", " "))  # PostgreSQL refuses NUL in a parameter; SQLite ends it
    items = visible_items(person)
    if filters.unit:
        # Only a unit the person may view listening in: what another unit heard is not theirs to learn.
        unit = Unit.objects.filter(pk=filters.unit).only("path").first()
        allowed = unit is not None and may(person, Action.LISTENING_VIEW, unit)
        items = items.filter(heard_by__contains="|" + unit.path) if unit and allowed else items.none()
    conditions = Q()
    if filters.language:
        conditions &= Q(language=filters.language)
    if filters.sentiment:
        conditions &= Q(sentiment=filters.sentiment)
    if filters.category:
        conditions &= Q(crisis_category=filters.category)
    if filters.country:
        conditions &= Q(countries__contains=f",{filters.country},")
    if filters.place and connection.vendor != "postgresql":
        # A place's stored name starts with what was typed, or with the name the gazetteer gives what was typed
        # in another script or spelling (stored names are the gazetteer's: "بنغازي" finds Benghazi), whatever
        # the case. Looked up by prefix in the index of place names the database keeps (``PlaceName``);
        # PostgreSQL reads the full-text index's place names instead (``place_vector``, migration 0019).
        named = PlaceName.objects.filter(place_condition(filters.place)).values("item_id")
        if query.strip() or named[: COMMON_PLACE + 1].count() <= COMMON_PLACE:
            conditions &= Q(pk__in=named)
        else:
            # A place many posts name, without words: SQLite would read every post that names it to sort them by
            # time; newest first, the first page is near. The unary "+" keeps it from reading the posts by these
            # ids, so it walks the time index and tests each post against them. Counting is the other way
            # round: the same condition without the "+" lets it read the posts by id (``capped_count``).
            named_sql, named_params = named.query.sql_with_params()
            items = items.extra(  # noqa: S610 - our compiled subquery, its values are parameters
                where=[f"+listening_listeneditem.id IN ({named_sql})"], params=list(named_params))
            items.query.count_hint = Q(pk__in=named)  # type: ignore[attr-defined] # a clone's Query keeps it
    if filters.source:
        # Only a source of a unit the reader may view: another mission's would tell which posts it heard.
        if not viewable(person, ListeningSource.objects.filter(pk=filters.source), "unit__path").exists():
            return ListenedItem.objects.none()
        conditions &= Q(heard_sources__contains=heard_mark(filters.source))
    if filters.story:
        # A story of a unit the reader may view: its own posts and those another unit stored (``StoryMember``).
        if not viewable(person, Story.objects.filter(pk=filters.story)).exists():
            return ListenedItem.objects.none()
        conditions &= Q(story_id=filters.story) | Q(
            pk__in=StoryMember.objects.filter(story_id=filters.story).values("item_id"))
    if filters.platform:
        conditions &= Q(platform=filters.platform)
    if filters.since:
        conditions &= Q(created_at__gte=filters.since)
    if filters.until:
        conditions &= Q(created_at__lte=filters.until)
    items = items.filter(conditions)
    if filters.place and connection.vendor == "postgresql":
        tsquery, params = postgres_place_query(filters.place)
        items = items.extra(  # noqa: S610 - fixed SQL, the names are parameters
            where=[f"listening_listeneditem.place_vector @@ ({tsquery})"], params=params)
    found = _full_text(items, query, filters) if query.strip() else items.order_by("-created_at", "-id")
    if filters.place and connection.vendor == "postgresql":
        # The planner cannot tell how many posts name a place typed as a prefix (it guesses 2 %): for a rare
        # place it would walk the posts (newest first, or in the table's order to count them) looking for the
        # few that name it. The index finds them all at once: matches are read and counted by the index, and
        # when there are at most COUNT_CAP of them the page is read by their ids.
        found.query.read_by_index = True  # type: ignore[attr-defined] # a clone's Query keeps it
        with _index_scans_only():
            ids = list(found.order_by().values_list("id", flat=True)[: COUNT_CAP + 1])
        if len(ids) <= COUNT_CAP:
            return found.filter(pk__in=ids)
    return found


@contextmanager
def _index_scans_only() -> Iterator[None]:
    """PostgreSQL: the queries inside read the table through the bitmap of an index, not in its order or an
    index's order (the planner's choices when it believes a filter matches many rows)."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        try:
            yield
        finally:
            try:
                cursor.execute("RESET enable_seqscan")
                cursor.execute("RESET enable_indexscan")
            except DatabaseError:  # the query failed inside a transaction: its rollback undoes the settings
                pass


def postgres_place_query(typed: str) -> tuple[str, list[str]]:
    """(tsquery expression, parameters): a stored place name (a lexeme of ``place_vector``) starts with what was
    typed or with a gazetteer name for it, lowercased by ``lower()`` as the column is. The expression is
    immutable: the planner folds it into a constant, which it estimates and looks up in the index."""
    names = sorted({name[:PLACE_KEY_LENGTH] for name in {typed} | place_names(typed) if name.strip()})
    quoted = r"""('''' || replace(replace(left(lower(%s), 200), '\', '\\'), '''', '''''') || ''':*')::tsquery"""
    return " || ".join([quoted] * len(names)) or "''::tsquery", names


def place_condition(typed: str) -> Q:
    """SQLite: ``PlaceName`` rows whose name starts with what was typed or with a gazetteer name for it,
    lowercased as the triggers lowercase (``place_key``): a range over the index in code point order."""
    condition = Q()
    for name in sorted({typed} | place_names(typed)):
        key = place_key(name) or ""
        condition |= Q(name_key__gte=key, name_key__lt=key + "\U0010ffff")
    return condition


def _full_text(items: QuerySet[ListenedItem], query: str, filters: Filters) -> QuerySet[ListenedItem]:
    vendor = connection.vendor
    if vendor == "sqlite":
        match, excluded = fts5_query(fold(query))
        if not match and not excluded:
            return items.none()  # nothing searchable was typed (only emoji or punctuation): no post matches it
        if not match:
            # Only words to leave out ("-flood"): every post but those, newest first.
            return items.extra(  # noqa: S610 - fixed SQL, the query is a parameter
                where=["listening_listeneditem.id NOT IN (SELECT rowid FROM listening_item_fts "
                       "WHERE listening_item_fts MATCH %s)"],
                params=[f"text : ({excluded})"],
            ).order_by("-created_at", "-id")
        if excluded:
            match = f"({match}) NOT ({excluded})"
        # The words are looked for in the text column only; the index's language column (migration 0005)
        # takes the language filter inside FTS5, which intersects the two lists newest first: a common word in
        # a rare language no longer walks every match of the word (the row's own filter stays, exact).
        match = f"text : ({match})"
        language = re.sub(r"[^\w\s]", " ", filters.language, flags=re.UNICODE).strip()
        if language:
            match += f' AND language : "{language}"'
        # A join (not "id IN (all matches)"), ordered by the FTS5 rowid: FTS5 hands matches newest first and
        # the query stops at the page size.
        return items.extra(  # noqa: S610 - fixed SQL, the query is a parameter
            tables=["listening_item_fts"],
            where=["listening_item_fts.rowid = listening_listeneditem.id", "listening_item_fts MATCH %s"],
            params=[match],
            order_by=["-listening_item_fts.rowid"],
        )
    if vendor == "postgresql":
        # The stored column of migrations 0004, 0010 and 0014, with its GIN index.
        tsquery, params = postgres_query(query)
        if not tsquery:
            return items.none()  # nothing searchable was typed, as on SQLite
        return items.extra(  # noqa: S610 - fixed SQL, the words are parameters
            where=[f"listening_listeneditem.search_vector @@ ({tsquery})"], params=params,
        ).order_by("-id")
    words = query.split()
    for word in words[:10]:
        items = items.filter(text__icontains=word)
    return items.order_by("-id")


# PostgreSQL's 'simple' configuration keeps diacritics; its stored column drops those of Latin letters (migration
# 0014 does the same in SQL: decompose, drop the combining marks that follow an ASCII letter, recompose), so
# "greve" finds "grève" there as on SQLite, whose FTS5 tokenizer (unicode61) drops them too. Other scripts keep
# theirs ("й" stays "й").
postgres_fold = unaccented  # text as PostgreSQL's search column holds it


def postgres_query(query: str) -> tuple[str, list[str]]:
    """(SQL of a tsquery, its parameters) for what a person typed, read as :func:`parse_query` reads it: every
    word or "quoted phrase" must match, ``OR`` between words, a trailing ``*`` asks for a prefix, a leading
    ``-`` or ``NOT`` leaves the word or phrase out. ("", []) when nothing searchable was typed.

    Each word or phrase is parsed by PostgreSQL's own parser (``phraseto_tsquery``), as the stored column was,
    so "evil.example" or "+218" are found as written; a prefix is ``'word':*``. The pieces are immutable
    functions of constants, so the planner computes the tsquery once and may use the GIN index.
    """
    groups, excluded = parse_query(query)
    params: list[str] = []

    def tsquery(term: Term) -> str:
        if term.hashtag:  # the lexeme the stored column holds for the hashtag (migration 0026)
            params.append(tag_lexeme(term.hashtag))
            return "%s::tsquery"
        raw = postgres_fold(term.text)
        if term.prefix:
            words = spaced(re.sub(r"[^\w\s]|_", " ", raw, flags=re.UNICODE)).split()
            if not words:
                return ""
            params.append(" <-> ".join(f"'{w}'" for w in words) + ":*")
            return "to_tsquery('simple'::regconfig, %s)"
        if not raw.strip():
            return ""
        params.append(spaced(raw))
        return "phraseto_tsquery('simple'::regconfig, %s)"

    matched = [" && ".join(sql for sql in map(tsquery, group) if sql) for group in groups]
    matched = [group for group in matched if group]
    parts = ["(" + " || ".join(f"({group})" for group in matched) + ")"] if matched else []
    parts += [f"!!({sql})" for sql in map(tsquery, excluded) if sql]
    return " && ".join(parts), params


def refill_sqlite_index(cursor: Any) -> None:
    """Index every stored post again on SQLite, as the triggers of migration 0015 do (``legation_search_text``).

    FTS5's own 'rebuild' would index the text as stored, unfolded: use this after a bulk load instead.
    """
    refill(cursor)


QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_HASHTAG = re.compile(f"#({TAG_BODY})")


@dataclass(frozen=True)
class Term:
    """A word or "quoted phrase" of a search, as :func:`parse_query` reads it."""

    text: str  # as typed, without its "-" or quotes, an English possessive or elided article dropped
    negative: bool = False  # after "-" or NOT: posts that have it are left out
    prefix: bool = False  # a word with a trailing "*"
    hashtag: str = ""  # typed as "#tag": the tag, as ``fulltext.tag_key`` gives it


def parse_query(query: str) -> tuple[list[list[Term]], list[Term]]:
    """What a person typed, as (groups of terms, terms to leave out): a post matches when it has every term of
    one group (groups are what ``OR`` separates) and none of the terms left out.

    Every word or "quoted phrase" must match; ``OR`` between words is kept; ``AND`` between words is what two
    words already mean; a trailing ``*`` asks for a prefix; a leading ``-`` or a ``NOT`` before a word or phrase
    leaves it out (as in web search engines and PostgreSQL's ``websearch_to_tsquery``). The operators are
    written in capitals; first, twice in a row or alone they are words ("OR" finds the word "or"); last, they
    are dropped. A word typed "#tag" is the hashtag (``search``). Other syntax is treated as text; terms with
    nothing searchable (punctuation, emoji) are dropped.
    """
    tokens = QUERY_TOKEN.findall(clip_query(query))
    groups: list[list[Term]] = [[]]
    excluded: list[Term] = []
    negate = False
    for n, (minus, phrase, word) in enumerate(tokens):
        last = n == len(tokens) - 1
        if not negate and (word in ("OR", "AND") and groups[-1] or word == "NOT" and (
                not last or excluded or any(groups))):
            if word == "OR":
                groups.append([])
            negate = word == "NOT" and not last
            continue
        dashed = word.startswith("-") and len(word) > 1
        negative, negate = negate or bool(minus) or dashed, False
        raw = word[1:] if dashed else word or phrase
        prefix = bool(word) and raw.endswith("*")
        if word:
            raw = without_elision(raw.rstrip("*")) + ("*" if prefix else "")
        if not re.sub(r"[^\w\s]", " ", raw, flags=re.UNICODE).strip():
            continue
        hashtag = _HASHTAG.fullmatch(fold(raw)) if word else None  # "#مَصر" as "#مصر", on both databases
        term = Term(raw, negative, prefix, tag_key(hashtag.group(1)) if hashtag else "")
        (excluded if negative else groups[-1]).append(term)
    return [group for group in groups if group], excluded


def fts5_query(query: str) -> tuple[str, str]:
    """Turn what a person typed into safe FTS5 queries: (what must match, what must not), read as
    :func:`parse_query` reads it; FTS5's own syntax is treated as text. A hashtag ("#veridia") is the word the
    index holds for it (``fulltext.tag_token``): posts with the hashtag, not those with the word alone."""
    groups, excluded = parse_query(query)

    def fts(term: Term) -> str:
        if term.hashtag:
            return f'"{tag_token(term.hashtag)}"'
        cleaned = spaced(re.sub(r"[^\w\s]", " ", term.text, flags=re.UNICODE)).strip()
        return f'"{cleaned}"' + ("*" if term.prefix else "")

    return (" OR ".join(" ".join(map(fts, group)) for group in groups),
            " OR ".join(fts(term) for term in excluded))


def capped_count(items: QuerySet[ListenedItem]) -> tuple[int, bool]:
    """(count, True when there are more than COUNT_CAP)."""
    hint = getattr(items.query, "count_hint", None)  # a condition the query has already, to count by (``search``)
    capped = (items.filter(hint) if hint is not None else items).order_by()[: COUNT_CAP + 1]
    if getattr(items.query, "read_by_index", False):  # see ``search``
        with _index_scans_only():
            count = capped.count()
    else:
        count = capped.count()
    return min(count, COUNT_CAP), count > COUNT_CAP
