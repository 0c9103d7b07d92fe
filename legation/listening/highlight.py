"""Where a search's words are in a post: the text shown in the results, cut around the first match, with every
match marked (``<mark>``), as search engines and listening tools show them.

The matching reads the text as the full-text indexes do (``legation.listening.fulltext`` and
``search.postgres_fold``): case, Arabic spelling folds, Latin diacritics and the combining marks of Thai, Lao,
Burmese and Khmer do not count; words match whole, except with a trailing ``*`` (a prefix) and in the scripts
written without spaces, where a run is found inside a longer one. Words after ``-`` or ``NOT`` are left out. It
is for the eye only: the database decides which posts match; a post it returns whose match cannot be placed here (a rare
tokenizer difference) is shown from its start, unmarked.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from legation.listening.fulltext import CJK_RANGES, SOUTHEAST_ASIAN_MARKS, SOUTHEAST_ASIAN_RANGES, fold
from legation.listening.search import parse_query

_PIECE = re.compile(f"[{CJK_RANGES}{SOUTHEAST_ASIAN_RANGES}]|[^\\W_]+")
_UNSPACED = re.compile(f"[{CJK_RANGES}{SOUTHEAST_ASIAN_RANGES}]")
_SEA_MARK = re.compile(f"[{SOUTHEAST_ASIAN_MARKS}]")
SCAN_CHARS = 10_000  # matches are looked for in the first 10,000 characters of a post


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """One written character as the indexes read it: Arabic folds, Latin letters without diacritics, case."""
    folded = fold(ch)
    if folded and not folded.isascii():
        base = unicodedata.normalize("NFD", folded)[0]
        if base.isascii() and base.isalpha():
            folded = base  # é -> e, Ü -> U
    return folded.casefold()


def _folded(text: str) -> tuple[str, list[int] | range]:
    """The text folded as the indexes read it, and for each folded character the index of the written one."""
    if text.isascii():
        return text.lower(), range(len(text))
    out: list[str] = []
    origin: list[int] = []
    previous_latin = False
    for i, ch in enumerate(text):
        if unicodedata.combining(ch) and previous_latin or _SEA_MARK.match(ch):
            continue  # a diacritic written after a Latin letter, or a Thai/Lao/Burmese/Khmer mark
        folded = _fold_char(ch)
        previous_latin = folded.isascii() and folded.isalpha()
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin


def _pattern(term: str, prefix: bool) -> str | None:
    """A regular expression over folded text for one word or phrase of a query."""
    pieces = _PIECE.findall(_folded(term)[0])
    if not pieces:
        return None
    parts = []
    for n, piece in enumerate(pieces):
        if n:
            unspaced = bool(_UNSPACED.match(piece) or _UNSPACED.match(pieces[n - 1]))
            parts.append(r"[\W_]*" if unspaced else r"[\W_]+")
        parts.append(re.escape(piece))
    start = "" if _UNSPACED.match(pieces[0]) else r"(?<![^\W_])"
    end = "" if prefix or _UNSPACED.match(pieces[-1]) else r"(?![^\W_])"
    return start + "".join(parts) + end


def _after_marks(text: str, end: int) -> int:
    """``end`` moved past the combining marks written after it (a Devanagari vowel sign ends a word)."""
    while end < len(text) and unicodedata.category(text[end]).startswith("M"):
        end += 1
    return end


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """(start, end) of every match of the query's wanted words in ``text``, in order, overlaps merged."""
    patterns = []
    groups, _left_out = parse_query(query[:500])  # read as the search reads it: NOT, possessives, elisions
    for term in (term for group in groups for term in group):
        pattern = _pattern(term.text, term.prefix)
        if pattern:
            patterns.append(pattern)
    if not patterns:
        return []
    folded, origin = _folded(text[:SCAN_CHARS])
    spans = sorted(
        (origin[m.start()], _after_marks(text, origin[m.end() - 1] + 1))
        for m in re.finditer("|".join(f"(?:{p})" for p in patterns), folded)
        if m.end() > m.start()
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, query: str, limit: int = 240, line_breaks: bool = False) -> SafeString:
    """HTML: at most ``limit`` characters of ``text`` (with "…" where it is cut), beginning a little before the
    first match, every match in ``<mark>``; everything else escaped; with ``line_breaks``, each line break
    a ``<br>``."""
    spans = match_spans(text, query) if query.strip() else []
    begin = 0
    if len(text) > limit and spans and spans[0][1] > limit - limit // 4:
        begin = max(0, spans[0][0] - limit // 4)
        space = text.rfind(" ", begin - 20, begin)  # start on a word where one is near
        begin = space + 1 if space > 0 else begin
    end = min(len(text), begin + limit - (1 if begin else 0))
    if end < len(text):
        end -= 1  # room for the closing "…"
    html = ["…" if begin else ""]
    at = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        html.append(escape(text[at:start]))
        html.append(f"<mark>{escape(text[start:stop])}</mark>")
        at = stop
    html.append(escape(text[at:end]))
    if end < len(text):
        html.append("…")
    out = "".join(html)
    if line_breaks:
        out = out.replace("\r\n", "\n").replace("\n", "<br>")
    return mark_safe(out)  # noqa: S308 - every piece of the post is escaped above
