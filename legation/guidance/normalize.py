"""Text folding and term matching that survive the usual evasions, in any script. Pure Python, no Django.

Folding maps a text to a comparison form while remembering, for every folded character, the index of the
original character it came from, so that a match can be shown on the text the author wrote.

Per character: format characters (zero-width, bidi controls, soft hyphen), variation selectors and the Arabic
tatweel vanish; compatibility forms are decomposed (NFKD, so full-width and ligatures become plain letters);
diacritics and Arabic/Hebrew vowel marks are dropped; case is folded; homoglyphs are mapped to the ASCII letter
they imitate (Unicode confusables data, from ``confusable-homoglyphs``); Arabic and Persian letter variants are
unified; decimal digits of any script become ASCII digits. For term matching, leetspeak digits and symbols
inside words become letters, and every non-word character (spaces, punctuation) is squeezed out, so that
"b.a.d", "b a d" and "bаd" (Cyrillic а) all read "bad".
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Arabic and Persian letter variants that writers use interchangeably.
_ARABIC_UNIFY = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ی": "ي", "ې": "ي", "ئ": "ي", "ے": "ي", "ۍ": "ي",
    "ك": "ک", "ڪ": "ک",
    "ة": "ه", "ۀ": "ه", "ە": "ه", "ھ": "ه", "ہ": "ه",
    "ؤ": "و",
}
TATWEEL = "\u0640"

# Leetspeak: digits are read as the letters they stand for in every word; symbols only between word characters,
# so that "hello!" keeps its exclamation mark. "l" and "i" are merged because "1" stands for both.
_LEET_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "l": "i"}
_LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "€": "e", "£": "l", "+": "t"}

# Scripts written without spaces between words: a term is found anywhere inside them.
_NO_WORD_BOUNDARY_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables (particles attach to nouns)
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3134F),  # CJK extensions B..G
)

# Arabic clitics: a name may carry "and", "the", "with"... in front, and pronoun or plural endings behind.
_ARABIC_PREFIXES = frozenset({"و", "ف", "ب", "ل", "ک", "ال", "وال", "بال", "فال", "کال", "لل", "وب", "ول", "وبال"})
_ARABIC_SUFFIXES = frozenset({"ه", "ها", "هم", "هما", "هن", "ک", "کم", "نا", "ي", "ات", "ون", "ين", "ان", "يه"})


def _is_droppable_mark(ch: str) -> bool:
    """Diacritics and vowel marks that writers add or leave out at will."""
    cp = ord(ch)
    return (
        0x0300 <= cp <= 0x036F  # combining diacritical marks
        or 0x1AB0 <= cp <= 0x1AFF
        or 0x1DC0 <= cp <= 0x1DFF
        or 0x20D0 <= cp <= 0x20FF
        or 0xFE20 <= cp <= 0xFE2F
        or 0x0591 <= cp <= 0x05C7 and unicodedata.category(ch) == "Mn"  # Hebrew points
        or 0x0610 <= cp <= 0x061A  # Arabic signs
        or 0x064B <= cp <= 0x065F  # Arabic tashkeel
        or cp == 0x0670  # superscript alef
        or 0x06D6 <= cp <= 0x06ED and unicodedata.category(ch) == "Mn"
        or 0x08D3 <= cp <= 0x08FF
    )


def is_invisible(ch: str) -> bool:
    """Characters that change nothing a reader sees: zero-width, bidi controls, variation selectors, tatweel."""
    if ch == TATWEEL:
        return True
    category = unicodedata.category(ch)
    if category == "Cf":
        return True
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or cp == 0x034F or 0x180B <= cp <= 0x180F


@functools.cache
def _homoglyph_table() -> dict[str, str]:
    """Lower-case character → the ASCII letter or digit it imitates, from the Unicode confusables data."""
    from confusable_homoglyphs.confusables import confusables_data

    table: dict[str, str] = {}
    for source, homoglyphs in confusables_data.items():
        if len(source) != 1 or source.isascii():
            continue
        lowered = source.casefold()
        if len(lowered) != 1 or lowered.isascii():
            continue
        ascii_alike = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalnum()]
        if not ascii_alike:
            continue
        # Prefer the ASCII character of the same case as the source (Cyrillic "а" → "a", not "A"→"a" anyway).
        same_case = [c for c in ascii_alike if c.islower() == source.islower() and c.isalpha()]
        choice = (same_case or [c for c in ascii_alike if c.isalpha()] or ascii_alike)[0]
        table.setdefault(lowered, choice.casefold())
    return table


@functools.lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """The comparison form of one character: possibly empty, possibly several characters."""
    if is_invisible(ch):
        return ""
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", ch):
        if _is_droppable_mark(part) or is_invisible(part):
            continue
        for low in part.casefold():
            if unicodedata.category(low) == "Nd":
                out.append(str(unicodedata.digit(low)))
                continue
            low = _ARABIC_UNIFY.get(low, low)
            out.append(_homoglyph_table().get(low, low))
    return "".join(out)


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc")


def is_unspaced_script(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _NO_WORD_BOUNDARY_RANGES)


def is_arabic_script(ch: str) -> bool:
    cp = ord(ch)
    return 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0x08A0 <= cp <= 0x08FF


@dataclass(frozen=True)
class Folded:
    """A text in comparison form: ``chars[k]`` came from ``origin[k]`` in the original text."""

    chars: str
    origin: tuple[int, ...]


def fold(text: str) -> Folded:
    """Fold every character (see the module docstring), keeping where each folded character came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for out in fold_char(ch):
            chars.append(out)
            origin.append(index)
    return Folded("".join(chars), tuple(origin))


@dataclass(frozen=True)
class Squeezed:
    """Only the word characters of a folded text, leetspeak read as letters.

    ``gap[k]`` is True when non-word characters stood between squeezed character k-1 and k (or k is first);
    ``spaced[k]`` when that gap held white space.
    """

    chars: str
    origin: tuple[int, ...]
    gap: tuple[bool, ...]
    spaced: tuple[bool, ...]


def squeeze(folded: Folded, edges: bool = False) -> Squeezed:
    """``edges``: symbols glued to a word's first or last letter are read as letters too ("propagand@")."""
    text = folded.chars
    chars: list[str] = []
    origin: list[int] = []
    gap: list[bool] = []
    spaced: list[bool] = []
    pending_gap, pending_space = True, False
    inside_word = _symbols_inside_words(text, edges)
    for k, ch in enumerate(text):
        if k in inside_word:
            ch = _LEET_SYMBOLS[ch]
        if not is_word_char(ch):
            pending_gap = True
            pending_space = pending_space or ch.isspace()
            continue
        chars.append(_LEET_DIGITS.get(ch, ch))
        origin.append(folded.origin[k])
        gap.append(pending_gap)
        spaced.append(pending_space)
        pending_gap, pending_space = False, False
    return Squeezed("".join(chars), tuple(origin), tuple(gap), tuple(spaced))


def _symbols_inside_words(text: str, edges: bool = False) -> set[int]:
    """Positions of leetspeak symbols in runs with word characters on both sides ("h@te", "n0r|@nd"); with
    ``edges``, on either side ("propagand@", "$candal")."""
    inside: set[int] = set()
    k = 0
    while k < len(text):
        if text[k] not in _LEET_SYMBOLS:
            k += 1
            continue
        run_end = k
        while run_end < len(text) and text[run_end] in _LEET_SYMBOLS:
            run_end += 1
        before = k > 0 and is_word_char(text[k - 1])
        after = run_end < len(text) and is_word_char(text[run_end])
        if (before or after) if edges else (before and after):
            inside.update(range(k, run_end))
        k = run_end
    return inside


def term_key(term: str) -> str:
    """The squeezed comparison form of a configured term (without a trailing ``*``)."""
    return squeeze(fold(term.rstrip("*").strip())).chars


@dataclass(frozen=True)
class TermMatch:
    term: str  # the term as configured
    start: int  # span in the original text
    end: int
    matched: str  # the original text of the span
    evasive: bool  # letters were split by spaces or punctuation, or look-alike characters were used


@dataclass(frozen=True)
class _CompiledTerm:
    term: str
    key: str
    gaps: int  # separators inside the term itself ("human rights" has one)
    prefix: bool  # "word*": any word that begins with it
    unspaced_start: bool
    unspaced_end: bool
    arabic: bool


class TermMatcher:
    """Finds configured terms in texts, robust to evasion; whole words unless ``whole_words`` is False.

    A term ending in ``*`` matches any word beginning with it ("explos*"). In scripts written without spaces
    (Chinese, Japanese, Thai...) a term is found anywhere. Arabic terms allow attached clitics ("والمدينة").
    """

    def __init__(self, terms: Iterable[str], whole_words: bool = True) -> None:
        compiled = []
        for term in terms:
            squeezed = squeeze(fold(term.rstrip("*").strip()))
            key = squeezed.chars
            if not key:
                continue
            compiled.append(_CompiledTerm(
                term=term, key=key, gaps=sum(squeezed.gap[1:]), prefix=term.strip().endswith("*"),
                unspaced_start=is_unspaced_script(key[0]), unspaced_end=is_unspaced_script(key[-1]),
                arabic=is_arabic_script(key[0]) or is_arabic_script(key[-1]),
            ))
        self._terms = tuple(compiled)
        self.whole_words = whole_words

    def __bool__(self) -> bool:
        return bool(self._terms)

    def find(self, text: str) -> list[TermMatch]:
        if not self._terms or not text:
            return []
        folded = fold(text)
        found = self._find(text, squeeze(folded))
        if _symbols_inside_words(folded.chars, edges=True) != _symbols_inside_words(folded.chars):
            # Symbols glued to a word's edge: "great!" is "great", but "propagand@" is "propaganda". Both readings
            # are searched, and a match in either counts.
            seen = {(m.term, m.start, m.end) for m in found}
            found += [m for m in self._find(text, squeeze(folded, edges=True)) if (m.term, m.start, m.end) not in seen]
        return _drop_overlaps(found)

    def _find(self, text: str, squeezed: Squeezed) -> list[TermMatch]:
        found: list[TermMatch] = []
        for term in self._terms:
            start = squeezed.chars.find(term.key)
            while start != -1:
                end = start + len(term.key)
                if self._accept(term, squeezed, start, end):
                    word_end = end
                    while term.prefix and word_end < len(squeezed.chars) and not self._boundary(squeezed, word_end):
                        word_end += 1  # "flood*" shows the whole word it matched: "Flooding"
                    o_start, o_end = squeezed.origin[start], squeezed.origin[word_end - 1] + 1
                    matched = text[o_start:o_end]
                    evasive = sum(squeezed.gap[start + 1:end]) > term.gaps or _looks_disguised(matched, term.term)
                    found.append(TermMatch(term.term, o_start, o_end, matched, evasive))
                start = squeezed.chars.find(term.key, start + 1)
        return found

    def _accept(self, term: _CompiledTerm, s: Squeezed, start: int, end: int) -> bool:
        if not self.whole_words:
            return True
        return self._starts_word(term, s, start) and (term.prefix or self._ends_word(term, s, end))

    @staticmethod
    def _boundary(s: Squeezed, k: int) -> bool:
        """True when squeezed position k begins a word: after a gap, or at a change between spaced and unspaced
        scripts."""
        if k <= 0 or k >= len(s.chars):
            return True
        return s.gap[k] or is_unspaced_script(s.chars[k - 1]) != is_unspaced_script(s.chars[k])

    def _starts_word(self, term: _CompiledTerm, s: Squeezed, start: int) -> bool:
        if term.unspaced_start or self._boundary(s, start):
            return True
        if term.arabic:
            word_start = start
            while word_start > 0 and not self._boundary(s, word_start):
                word_start -= 1
            return s.chars[word_start:start] in _ARABIC_PREFIXES
        return False

    def _ends_word(self, term: _CompiledTerm, s: Squeezed, end: int) -> bool:
        if term.unspaced_end or self._boundary(s, end):
            return True
        if term.arabic:
            word_end = end
            while word_end < len(s.chars) and not self._boundary(s, word_end):
                word_end += 1
            return s.chars[end:word_end] in _ARABIC_SUFFIXES
        return False


def _plain(text: str) -> str:
    """Case and diacritics folded, only word characters: what the text reads as without any disguise."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if is_word_char(ch) and not _is_droppable_mark(ch))


def _looks_disguised(matched: str, term: str) -> bool:
    """True when the match uses other characters than the plain term (homoglyphs, leetspeak, invisibles)."""
    return not _plain(matched).startswith(_plain(term.rstrip("*"))) or any(is_invisible(ch) for ch in matched)


def _drop_overlaps(matches: Sequence[TermMatch]) -> list[TermMatch]:
    """Longest match first where two overlap (e.g. "Norland" and "Norland army")."""
    kept: list[TermMatch] = []
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if kept and m.start < kept[-1].end and m.term != kept[-1].term and m.end <= kept[-1].end:
            continue
        kept.append(m)
    return kept


def skeleton(text: str) -> str:
    """A look-alike-insensitive form of a short string such as a domain name: folded, leetspeak read."""
    return "".join(_LEET_DIGITS.get(ch, ch) for ch in fold(text).chars)
