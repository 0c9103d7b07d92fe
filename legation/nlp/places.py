"""Places mentioned in a text, resolved to a country code and coordinates with a multilingual gazetteer.

The gazetteer (``models/gazetteer.json.gz``, built by ``training/build_gazetteer.py`` from GeoNames and CLDR)
holds countries, large cities and states or provinces with their names in Latin, Arabic, Cyrillic, CJK,
Devanagari, Hebrew and other scripts. Matching is by whole words (1-4 words, longest first); scripts written
without spaces (Chinese, Japanese, Thai) are matched inside runs; Arabic proclitics (و ب ل ف ك) and Hebrew
prefixes (ו ב ל מ ש כ) are peeled off when a word is unknown; abbreviations ("US", "UK", "UAE") count only in
capitals inside a text that is not in capitals.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import json
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import regex

from legation.nlp.text import MAX_SCAN_CHARS, as_texts, clean

GAZETTEER = Path(__file__).resolve().parent / "models" / "gazetteer.json.gz"
# Words with their combining marks (Devanagari vowel signs, Arabic harakat, Thai vowels ...).
_WORD = regex.compile(r"[\w\p{M}]+")
_ASCII_WORD = re.compile(r"\w+")  # the same words as _WORD in ASCII texts
_ASCII_CAPITALISED = re.compile(r"(?<!\w)[A-Z]\w*")
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u0e00-\u0e7f\uac00-\ud7af]")
_SPECIAL_SCRIPT = re.compile(
    r"[\u0400-\u04ff\u05d0-\u05ea\u0600-\u06ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u0e00-\u0e7f\uac00-\ud7af]"
)
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_PROCLITICS = ("و", "ب", "ل", "ف", "ك")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HEBREW = re.compile(r"[\u05d0-\u05ea]")
# Hebrew prefixes: and, in, to, from, that, as (not "the": Hebrew puts no article before a place's name, and
# "המכה", "הכיוון" are "the blow", "the direction").
_HEBREW_PREFIXES = frozenset("ובלמשכ")
# Russian/Ukrainian case endings: Москве -> Москва, Киеве -> Киев, Одессы -> Одесса. Only letters of a case
# ending are cut off ("Санкт" is no form of "Сана", Sanaa).
_CYRILLIC_ENDINGS = ("", "а", "я", "ь", "й", "о")
_CYRILLIC_CUT = frozenset("аеёиоуыэюяіїєймх")
_MAX_WORDS = 4
_MAX_PLACES = 20
# Lower-case Latin mentions are accepted only for these big places (otherwise "nice", "reading" ...).
_LOWERCASE_MIN_POPULATION = 1_000_000
# Names the gazetteer marks "in_sentence" (Lima, Male, Nice: ordinary words elsewhere) count only written as a
# proper noun inside a sentence: capitalised, not all capitals, after a word, and not before a word that counts
# things in Indonesian, Malay or Tagalog, where "lima" is five ("Lima orang tewas", "Korban Lima Orang").
_SENTENCE_END = frozenset(".!?:;…。！？")
_COUNTED = frozenset((
    "orang", "tahun", "hari", "bulan", "minggu", "jam", "menit", "detik", "juta", "ribu", "ratus", "puluh",
    "belas", "kali", "buah", "ekor", "unit", "rumah", "korban", "warga", "anak", "persen", "kilometer", "km",
    "meter", "ang", "na", "katao", "taon", "araw", "buwan", "libo", "daan", "beses", "piraso",
))


# Words before a person's name: "Prince George", "Queen Victoria" ("Saint Helena" is a multi-word name), and
# before a storm's: "Hurricane Florence", "Tropical Storm Florence", "Cyclone Idai".
_TITLES = frozenset((
    "prince", "princess", "king", "queen", "sir", "lady", "lord", "mr", "mrs", "ms", "dr", "president", "pope",
    "saint", "st", "uncle", "aunt", "hurricane", "storm", "cyclone", "typhoon", "huracán", "ouragan", "cyclón",
))


# A storm's title: "Hurricane #Florence", "#HurricaneFlorence", "Cyclone Idai", "Tropical Storm Florence".
_STORM_TITLES = ("hurricane", "cyclone", "typhoon", "storm", "huracán", "huracan", "ouragan", "ciclón", "ciclon",
                 "tormenta", "tempête")
# "Naples, Florida", "Paris, TX": a town of another region named after a city; the two-letter codes of the US
# states (United States Postal Service) after such a comma name the state: "Raleigh, NC".
_COMMA = re.compile(r"[ \t]*,[ \t]*")
_STATE_CODE = re.compile(r"[ \t]*,[ \t]*([A-Z]{2})(?![\w&])")
US_STATE_CODES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}
_WORDLIKE_CODES = frozenset(("OR", "IN", "ME", "OK", "HI", "OH"))  # words too, in a text in capitals
# "New Bern", "Nueva Rosita": a place named after another (the longer name is matched first when it is known).
_LOCATIVE_BEFORE = re.compile(r"\b(?:in|at|to|from|near|into|across|around|outside|through|towards?)\W+$",
                              re.IGNORECASE)
_CAPITALISED_AFTER = re.compile(r"[ \t]+[A-Z][a-z]")
_NEW = frozenset(("new", "nueva", "nuevo", "nouvelle", "nouveau", "nova", "novo"))
# First names that are also everyday English words: at the start of a sentence they make no person ("Will Jordan
# take more refugees?", "May Georgia ...").
_WORD_FIRST_NAMES = frozenset((
    "will", "may", "hope", "young", "guy", "son", "summer", "june", "april", "august", "bill", "mark", "grant",
    "don", "art", "joy", "rose", "faith", "miles", "van", "frank", "sunny", "king", "pat", "sue", "ray", "al",
    "christian", "gay", "jack", "chase", "dean", "earl", "rich", "bob",
))
# Abbreviations (the gazetteer's "abbreviations": "US", "UK", "UAE", "NYC" ...): found only written so.
_SENTENCE_BREAK = re.compile(r"[!?…\n]|\.(?:\s|$)")


@dataclass(frozen=True)
class Place:
    """A resolved place mention."""

    name: str  # canonical English name, e.g. "Cairo"
    matched: str  # the text as written in the post, e.g. "القاهرة"
    country_code: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float
    kind: str  # "country", "region" (a state or province) or "city"
    population: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def is_latin(name: str) -> bool:
    """True when all letters of ``name`` are Latin."""
    letters = [ch for ch in name if ch.isalpha()]
    return bool(letters) and all(ord(ch) < 0x250 or 0x1E00 <= ord(ch) <= 0x1EFF for ch in letters)


def name_key(name: str) -> str:
    """Lookup key of a place name or a span of text: NFKC, case-folded words joined by one space."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", name).casefold()))


class Gazetteer:
    """Name -> places index loaded from the shipped JSON."""

    def __init__(self, path: Path = GAZETTEER) -> None:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            raw = json.load(f)
        self.places: list[tuple[str, str, str, float, float, int]] = [tuple(p) for p in raw["places"]]
        # Tuples, not JSON's lists: tuples of ints are untracked by the garbage collector, so its full
        # collections (several per 20,000 enriched posts) no longer walk 100,000 lists.
        self.names: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in raw["names"].items()}
        self.in_sentence = frozenset(raw.get("in_sentence", ()))
        self.first_names = frozenset(raw.get("first_names", ()))
        # Frequent Hebrew words that only look like a prefix and a place ("כיוון", direction: not כ + יוון, Greece).
        self.hebrew_prefixed = frozenset(raw.get("hebrew_prefixed", ()))
        # Names matched only when capitalised whatever the place's size ("a turkey", "chile con carne").
        self.capitalised_only = frozenset(raw.get("capitalised_only", ()))
        # Four-letter names that count in lower case ("kyiv", "kiev", "iraq"; not "mali", "peru").
        self.lowercase_short = frozenset(raw.get("lowercase_short", ()))
        # Abbreviations, as written ("US", "U.S.", "UK", "UAE", "KSA", "DRC", "NYC", "LA") -> place.
        self.abbreviations: dict[str, int] = dict(raw.get("abbreviations", {}))
        self._abbreviation_re = re.compile(
            r"(?<![\w.&-])(" + "|".join(re.escape(a) for a in sorted(self.abbreviations, key=len, reverse=True))
            + r")(?![\w&$-]|\.\w)"
        ) if self.abbreviations else None
        # The same without its conditions, a quick first test (most posts have none).
        self._abbreviation_hint = re.compile(
            "|".join(re.escape(a) for a in sorted(self.abbreviations, key=len, reverse=True))
        ) if self.abbreviations else None
        # A country's twin: the region of another country with its name (Georgia -> the US state).
        self.twins: dict[int, int] = {country: region for country, region in raw.get("twins", ())}
        # First words of multi-word names: only they start a longer lookup.
        self.first_words: dict[str, int] = {}
        for key in self.names:
            parts = key.split(" ")
            if len(parts) > 1:
                self.first_words[parts[0]] = max(self.first_words.get(parts[0], 1), len(parts))
        self._fold_cache: dict[str, str] = {}
        # Non-ASCII words (as written) known to start no match, not even with a proclitic or case ending.
        self._dead: set[str] = set()
        # Prefilter of ASCII texts: words that can start a match at all, and the single-word names that
        # only match when written with a capital (lower-case mentions of small places are rejected).
        self._single = frozenset(self.names)
        self._capital_only = frozenset(
            k for k in self.names
            if k.isascii() and any(ch.isalpha() for ch in k)
            and (
                k in self.capitalised_only
                or k in self.first_names and self.places[self.best(k) or 0][0] != "country"
                or not ((len(k) >= 5 or k in self.lowercase_short) and self._big(self.best(k)))
            )
        )
        self._first_pairs = frozenset(tuple(k.split(" ")[:2]) for k in self.names if " " in k)
        # The US states the gazetteer holds, by postal code, and each twin country's region, by the country's name.
        self._states = {
            code: idx for code, name in US_STATE_CODES.items()
            for key in (name_key(name), name_key(name + " State"))  # "Washington State": the city keeps "Washington"
            for idx in self.names.get(key, ())
            if self.places[idx][0] == "region" and self.places[idx][2] == "US"
        }
        self._twin_of_name = {self.places[c][1]: r for c, r in self.twins.items()}

    def fold(self, word: str) -> str:
        folded = self._fold_cache.get(word)
        if folded is None:
            folded = unicodedata.normalize("NFKC", word).casefold()
            if len(self._fold_cache) > 200_000:
                self._fold_cache.clear()
            self._fold_cache[word] = folded
        return folded

    def _big(self, idx: int | None) -> bool:
        if idx is None:
            return False
        kind, _, _, _, _, pop = self.places[idx]
        return kind == "country" or pop >= _LOWERCASE_MIN_POPULATION

    def best(self, key: str) -> int | None:
        ids = self.names.get(key)
        if not ids:
            return None
        if len(ids) == 1:
            return ids[0]
        # Countries outrank cities; otherwise the most populous place wins.
        return min(ids, key=lambda i: (self.places[i][0] != "country", -self.places[i][5]))

    def place(self, idx: int, matched: str) -> Place:
        kind, name, cc, lat, lon, pop = self.places[idx]
        return Place(name, matched, cc, float(lat), float(lon), kind, int(pop))

    def find(self, text: str, ascii_words: list[str] | None = None) -> list[Place]:
        """All places mentioned in one text, in order of appearance, without repeats; ``ascii_words``, when
        the caller has them, are the lower-cased words (``\\w+``) of an ASCII text."""
        abbreviated = (
            self._abbreviations(text) if self._abbreviation_hint is not None and self._abbreviation_hint.search(text)
            else []
        )
        if text.isascii():
            # Most posts name no place: decide that from the set of their words before matching.
            low = _ASCII_WORD.findall(text.lower()) if ascii_words is None else ascii_words
            hits = self._single.intersection(low)
            if (
                not hits
                or hits <= self._capital_only
                and hits.isdisjoint([w.lower() for w in _ASCII_CAPITALISED.findall(text)])
            ) and self._first_pairs.isdisjoint(zip(low, low[1:], strict=False)):
                return self._only(abbreviated)
            # ASCII: lower() keeps every position, so words can be found in the lower-cased text directly.
            words = list(_WORD.finditer(text.lower()))
            folded = raw = [m.group() for m in words]
        else:
            words = list(_WORD.finditer(text))
            fold = self.fold
            raw = [m.group() for m in words]
            folded = [fold(w) for w in raw]
            # Without Arabic, Cyrillic or unspaced scripts only whole known names can match.
            if (
                self._single.isdisjoint(folded)
                and self._first_pairs.isdisjoint(zip(folded, folded[1:], strict=False))
                and not _SPECIAL_SCRIPT.search(" ".join(folded))
            ):
                return self._only(abbreviated)
        found: list[tuple[int, Place]] = []
        seen: set[int] = set()
        for at, idx, written in abbreviated:
            if idx not in seen:
                seen.add(idx)
                found.append((at, self.place(idx, written)))
        names, first_words, dead = self.names, self.first_words, self._dead
        # Where a match can start: in an ASCII text only at a word that starts a name (an ordinary word never
        # does); elsewhere at every word (proclitics, case endings and unspaced scripts are tried too).
        starts: Iterable[int] = (
            [k for k, w in enumerate(folded) if w in names or w in first_words] if text.isascii()
            else range(len(words))
        )
        i = 0  # the first word not yet read (a match of several words is read at once)
        for at in starts:
            if at < i:
                continue
            if len(found) >= _MAX_PLACES:
                break
            i, w = at, folded[at]
            unknown = w not in names and w not in first_words
            if unknown and (w.isascii() or raw[i] in dead):
                i += 1  # the common case: an ordinary word
                continue
            hit = self._match_at(text, words, folded, i)
            if hit is None:
                hit = self._match_inside(words[i], folded[i])
                if hit is None and unknown:  # the same word will not match next time either
                    if len(dead) > 200_000:
                        dead.clear()
                    dead.add(raw[i])
                i += 1
            else:
                i = hit[0]
            if hit is not None and hit[1] not in seen:
                seen.add(hit[1])
                found.append((hit[2], self.place(hit[1], hit[3])))
        found.sort(key=lambda x: x[0])
        if len(found) > 1 and any(p.kind == "city" for _, p in found):
            found = self._cities_of_named_countries(found)
        if any(p.kind == "city" and p.matched.casefold() in self.first_names for _, p in found):
            found = self._drop_storm_names(text, found, folded)
        if "," in text and any(p.kind == "city" for _, p in found):
            found = self._towns_of_other_regions(text, found)
        places = [p for _, p in found]
        if self.twins and len(places) > 1:
            self._prefer_twins(places, [i for i in seen if i in self.twins])
        return places

    def _abbreviations(self, text: str) -> list[tuple[int, int, str]]:
        """(start, place, as written) of the abbreviations ("US", "UK", "UAE", "NYC" ...) in a text not in
        capitals: a word with a small letter stands within two words of it in its sentence ("US troops", "flights
        to the UK"; not "HELP US", "WITH US! Gretchen ..."), and no "$" follows ("US$ 40 million")."""
        assert self._abbreviation_re is not None
        out = []
        for m in self._abbreviation_re.finditer(text):
            before = _WORD.findall(_SENTENCE_BREAK.split(text[max(0, m.start() - 40) : m.start()])[-1])[-2:]
            after = _WORD.findall(_SENTENCE_BREAK.split(text[m.end() : m.end() + 40])[0])[:2]
            if any(w != w.upper() for w in before + after):
                out.append((m.start(), self.abbreviations[m.group(1)], m.group(1)))
        return out

    def _only(self, abbreviated: list[tuple[int, int, str]]) -> list[Place]:
        """The places of a text's abbreviations alone, without repeats."""
        if not abbreviated:
            return []
        seen: dict[int, Place] = {}
        for _, idx, written in abbreviated:
            seen.setdefault(idx, self.place(idx, written))
        return list(seen.values())

    def _cities_of_named_countries(self, found: list[tuple[int, Place]]) -> list[tuple[int, Place]]:
        """A city's name shared by cities of several countries is the one of a country the text names (or of a
        region's country), when the text names none of the first one's: "Tripoli, Lebanon", "San José, Costa
        Rica", "Valencia floods in Spain"."""
        named = {p.country_code for _, p in found if p.kind != "city"}
        if not named:
            return found
        out = []
        for at, p in found:
            if p.kind == "city" and p.country_code not in named:
                ids = self.names.get(name_key(p.matched), ())
                here = [i for i in ids if self.places[i][0] == "city" and self.places[i][2] in named]
                if here and len(ids) > 1:
                    p = self.place(max(here, key=lambda i: self.places[i][5]), p.matched)
            out.append((at, p))
        return out

    def _drop_storm_names(self, text: str, found: list[tuple[int, Place]], folded: list[str]
                          ) -> list[tuple[int, Place]]:
        """In a text about a storm, a hashtag of a city named like a person is the storm ("#Florence" beside
        "#hurricane" and North Carolina), unless a place of its own country is named too, a preposition of place
        comes before it ("evacuees in #Orlando") or a capitalised word after it ("#Charlotte Motor Speedway").
        Written without "#" it stays the city: "Tropical Storm Florence floods Charlotte"."""
        if not any(w.startswith(_STORM_TITLES) for w in folded):
            return found
        kept = []
        for at, p in found:
            if (
                p.kind == "city"
                and text[at - 1 : at] == "#"
                and p.matched.casefold() in self.first_names
                and all(o.country_code != p.country_code for _, o in found if o is not p)
                and not _LOCATIVE_BEFORE.search(text, max(0, at - 24), at)
                and not _CAPITALISED_AFTER.match(text, at + len(p.matched))
            ):
                continue
            kept.append((at, p))
        return kept

    def _towns_of_other_regions(self, text: str, found: list[tuple[int, Place]]) -> list[tuple[int, Place]]:
        """A city followed by a comma and a region of another country (or a US state's postal code) is a town of
        that region named after it, which the gazetteer does not hold: "Naples, Florida", "Paris, Texas",
        "Birmingham, AL" name the state, not Naples, Paris or Birmingham. A country named like a region of
        another country is that region here ("Athens, Georgia": the US state; "Tbilisi, Georgia": the country).
        A postal code is the state ("Raleigh, NC"), unless it is the city's own country's ISO code ("Berlin, DE",
        "Mumbai, IN")."""
        at_start = {at: k for k, (at, _) in enumerate(found)}
        drop: set[int] = set()
        added: list[tuple[int, Place]] = []
        for k, (at, p) in enumerate(found):
            if p.kind != "city":
                continue
            end = at + len(p.matched)
            comma = _COMMA.match(text, end)
            if comma is None:
                continue
            after = at_start.get(comma.end())
            if after is not None:
                q = found[after][1]
                twin = self._twin_of_name.get(q.name) if q.kind == "country" else None
                if twin is not None and q.country_code != p.country_code:
                    q = self.place(twin, q.matched)
                    found[after] = (comma.end(), q)
                if q.kind == "region" and q.country_code != p.country_code:
                    drop.add(k)
                continue
            code = _STATE_CODE.match(text, end)
            if code is None or code.group(1) == p.country_code or code.group(1) not in US_STATE_CODES:
                continue
            if code.group(1) in _WORDLIKE_CODES and p.matched.isupper():
                continue  # "VISIT PARIS, OR LONDON"
            if p.country_code != "US":
                drop.add(k)
            state = self._states.get(code.group(1))
            if state is not None and all(o.name != self.places[state][1] for _, o in found + added):
                added.append((code.start(1), self.place(state, code.group(1))))
        if not drop and not added:
            return found
        return sorted([f for k, f in enumerate(found) if k not in drop] + added, key=lambda x: x[0])

    def _prefer_twins(self, places: list[Place], countries: list[int]) -> None:
        """A country named like a region of another country is that region when the text names other places of
        the region's country and none of the country's own: "Irma hits Florida and Georgia" (the US state),
        "Tbilisi, Georgia" (the country)."""
        for idx in countries:
            country, twin = self.places[idx], self.places[self.twins[idx]]
            at = next((i for i, p in enumerate(places) if p.name == country[1] and p.kind == "country"), None)
            if at is None:  # already read as the region ("Athens, Georgia")
                continue
            others = {p.country_code for i, p in enumerate(places) if i != at}
            if twin[2] in others and country[2] not in others:
                places[at] = self.place(self.twins[idx], places[at].matched)

    def _accept_lower_case(self, idx: int, written: str, key: str) -> bool:
        """A name in a script with capitals (Latin, Cyrillic, Greek, Armenian) written in lower case is a place
        only when the place is big and the name long: "москва" is Moscow, "того" ("of that") is not Togo."""
        if written[:1].isupper():
            return True
        kind, _, _, _, _, pop = self.places[idx]
        if key in self.capitalised_only or key in self.first_names and kind != "country":  # "la victoria"
            return False
        return (len(written) >= 5 or key in self.lowercase_short) and (
            kind == "country" or pop >= _LOWERCASE_MIN_POPULATION)

    def _match_at(
        self, text: str, words: list[regex.Match[str]], folded: list[str], i: int
    ) -> tuple[int, int, int, str] | None:
        names = self.names
        first = folded[i]
        longest = min(_MAX_WORDS, len(words) - i, self.first_words.get(first, 1))
        for n in range(longest, 0, -1):
            key = first if n == 1 else " ".join(folded[i : i + n])
            if key not in names:
                continue
            idx = self.best(key)
            if idx is None:
                continue
            kind = self.places[idx][0]
            start, end = words[i].start(), words[i + n - 1].end()
            written = text[start:end]
            if _cased(written) and not self._accept_lower_case(idx, written, key):
                continue
            if key in self.in_sentence and not _proper_noun_in_sentence(text, words, folded, i, written):
                continue
            if n == 1 and _name_like(written) and self._in_persons_name(text, words, folded, i, idx):
                continue
            if n == 1 and key in self.first_names and kind != "country" and _storm_name(text, words, folded, i):
                continue
            if n == 1 and kind == "city" and i > 0 and folded[i - 1] in _NEW and _after_new(text, words, i):
                continue  # "New Bern" (North Carolina) is not Bern
            return i + n, idx, start, written
        if first.isascii():
            return None
        start = words[i].start()
        written = words[i].group()
        if _ARABIC.match(first):
            if first.startswith("لل") and len(first) > 4:  # ل + ال: "للخرطوم", to Khartoum
                idx = self.best("ا" + first[1:])
                if idx is not None:
                    return i + 1, idx, start, written
            for prefix in _ARABIC_PROCLITICS:
                if first.startswith(prefix) and len(first) > 3:
                    idx = self.best(first[len(prefix) :])
                    if idx is not None:
                        return i + 1, idx, start, written[len(prefix) :]
        elif _HEBREW.match(first) and first not in self.hebrew_prefixed and text[start - 1 : start] not in "'׳":
            # Up to two prefixes: "בירושלים" (in Jerusalem), "ובחיפה" (and in Haifa), "בתל אביב".
            for cut in (1, 2):
                if len(first) - cut < 2 or any(ch not in _HEBREW_PREFIXES for ch in first[:cut]) or (
                    first[1:] in self.hebrew_prefixed  # "וכיוון" (and direction) is ו + כיוון, not ו + כ + יוון
                ):
                    break
                hit = self._match_after_prefix(words, folded, i, first[cut:])
                if hit is not None:
                    return hit[0], hit[1], start + cut, text[start + cut : hit[2]]
        elif _CYRILLIC.match(first) and written[:1].isupper():
            if first in self.first_words:
                inflected = self._inflected_last_word(text, words, folded, i)
                if inflected is not None:
                    return inflected
            if len(first) < 5:
                return None
            for cut in (1, 2):
                if any(ch not in _CYRILLIC_CUT for ch in first[-cut:]):
                    break
                for ending in _CYRILLIC_ENDINGS:
                    idx = self.best(first[:-cut] + ending)
                    if idx is not None:
                        return i + 1, idx, start, written
        return None

    def _inflected_last_word(self, text: str, words: list[regex.Match[str]], folded: list[str], i: int
                             ) -> tuple[int, int, int, str] | None:
        """A Russian or Ukrainian name of several words whose last word has a case ending: "Санкт-Петербурге",
        "Нью-Йорке", "Ростове-на-Дону" (only the last word is tried: "в Санкт-Петербурге")."""
        longest = min(_MAX_WORDS, len(words) - i, self.first_words.get(folded[i], 1))
        for n in range(longest, 1, -1):
            last = folded[i + n - 1]
            head = " ".join(folded[i : i + n - 1])
            for cut in (1, 2):
                if len(last) - cut < 3 or any(ch not in _CYRILLIC_CUT for ch in last[-cut:]):
                    break
                for ending in _CYRILLIC_ENDINGS:
                    idx = self.best(head + " " + last[:-cut] + ending)
                    if idx is not None:
                        start, end = words[i].start(), words[i + n - 1].end()
                        return i + n, idx, start, text[start:end]
        return None

    def _match_after_prefix(self, words: list[regex.Match[str]], folded: list[str], i: int, rest: str
                            ) -> tuple[int, int, int] | None:
        """The longest name that starts with ``rest`` (word ``i`` without its prefix) and goes on with the next
        words: (the first word after it, the place, the end of the name in the text)."""
        longest = min(_MAX_WORDS, len(words) - i, self.first_words.get(rest, 1))
        for n in range(longest, 0, -1):
            if n == 1 and len(rest) < 3:  # a two-letter word only starts a longer name ("בתל אביב")
                break
            key = rest if n == 1 else " ".join([rest, *folded[i + 1 : i + n]])
            idx = self.best(key)
            if idx is not None:
                return i + n, idx, words[i + n - 1].end()
        return None

    def _in_persons_name(self, text: str, words: list[regex.Match[str]], folded: list[str], i: int, idx: int) -> bool:
        """True when the one-word name ``words[i]`` is part of a person's name: after a title ("Prince George"),
        a city or region after a common first name inside a sentence ("he could be Tony Romo"; "Will Kabul fall?" is a
        question), or a place named like a person before a surname ("Florence Nightingale"; a common word of
        any language or a place after it does not count: "Israel Defense Forces", "Florence, Italy")."""
        if i > 0 and not text[words[i - 1].end() : words[i].start()].strip():
            # Slices of the text itself: in an ASCII text the words were found in its lower-cased copy.
            before, prev = text[words[i - 1].start() : words[i - 1].end()], folded[i - 1]
            if prev in _TITLES and _name_like(before):
                return True
            # A country counts only when its name is a first name too ("Michael Jordan", "Chad", "Georgia"), and
            # then even at the start of a sentence unless the first name is an everyday word ("Will Jordan ...?").
            country = self.places[idx][0] == "country"
            if (
                (not country or folded[i] in self.first_names)
                and prev in self.first_names
                and _name_like(before)
                and (
                    not _sentence_start(text, words[i - 1].start())
                    or country and prev not in _WORD_FIRST_NAMES
                )
                and prev not in self.names
                and prev not in self.first_words
            ):
                return True
        if folded[i] in self.first_names and i + 1 < len(words):
            after = text[words[i + 1].start() : words[i + 1].end()]
            if not text[words[i].end() : words[i + 1].start()].strip() and _name_like(after):
                return not self._place_or_word(folded[i + 1])
        return False

    def _place_or_word(self, folded: str) -> bool:
        """True when ``folded`` starts a place name or is a common word of one of the word lists' languages."""
        if folded in self.names or folded in self.first_words:
            return True
        from legation.nlp.language import common_word

        return common_word(folded)

    def _match_inside(self, word: regex.Match[str], folded: str) -> tuple[int, int, int, str] | None:
        if folded.isascii() or len(folded) > 60 or not _NO_SPACE_SCRIPT.search(folded):
            return None
        for size in range(min(8, len(folded)), 1, -1):
            for s in range(0, len(folded) - size + 1):
                idx = self.best(folded[s : s + size])
                if idx is not None:
                    start, end = _written_span(word.group(), folded, s, s + size)
                    return 0, idx, word.start() + start, word.group()[start:end]
        return None


def _name_like(word: str) -> bool:
    """A capitalised word that is not in capitals: "Mendes", not "MENDES" or "mendes"."""
    return word[:1].isupper() and not word.isupper() and _cased(word)


def _storm_name(text: str, words: list[regex.Match[str]], folded: list[str], i: int) -> bool:
    """True when the one-word name ``words[i]`` (a common first name, e.g. Florence) is a storm's: the text
    names the storm with its title somewhere ("Hurricane Florence", "Hurricane #Florence", "#HurricaneFlorence"),
    so every mention of the name in it is the storm's ("#Florence is pulling away"). A row of hashtags is no
    title and name: "#hurricane #georgia" is the state."""
    name = folded[i]
    for j, w in enumerate(folded):
        if w.startswith(_STORM_TITLES):
            if w in _STORM_TITLES:
                hashtag = text[words[j].start() - 1 : words[j].start()] == "#"
                if j + 1 < len(folded) and folded[j + 1] == name and (
                    _joined(text, words, j) or not hashtag and _joined(text, words, j, "#")
                ):
                    return True
            elif any(w == title + name for title in _STORM_TITLES):
                return True
    return False


def _joined(text: str, words: list[regex.Match[str]], j: int, allowed: str = "") -> bool:
    """True when nothing but spaces (and the characters ``allowed``) stands between ``words[j]`` and the next."""
    return not text[words[j].end() : words[j + 1].start()].strip(" " + allowed)


def _after_new(text: str, words: list[regex.Match[str]], i: int) -> bool:
    """True when ``words[i]`` follows a capitalised "New" (or "Nueva", "Nova" ...) with only a space between."""
    before = text[words[i - 1].start() : words[i - 1].end()]
    return before[:1].isupper() and _joined(text, words, i - 1)


def _sentence_start(text: str, at: int) -> bool:
    """True when nothing but spaces, a "#", quotes or a bracket stand between ``text[at]`` and the start of the
    text, a line or a sentence."""
    before = text[max(0, at - 64) : at].rstrip().rstrip("#\"'“‘«(").rstrip()  # a bounded look back
    return not before or before[-1] in _SENTENCE_END or before[-1] == "\n"


def _cased(written: str) -> bool:
    """True when ``written`` is in a script with capitals (Latin, Cyrillic, Greek, Armenian, ...)."""
    return any(ch.lower() != ch.upper() for ch in written[:3])


def _proper_noun_in_sentence(text: str, words: list[regex.Match[str]], folded: list[str], i: int, written: str
                             ) -> bool:
    """True when the one-word name ``words[i]`` reads as a proper noun: "an earthquake in Lima", "flights to
    #Lima"; not "Lima orang tewas", "LIMA", "Nice!" or "Nice weather in Paris"."""
    if not written[:1].isupper() or written.isupper():
        return False
    if _sentence_start(text, words[i].start()):
        return False
    return i + 1 >= len(words) or folded[i + 1] not in _COUNTED


def _written_span(written: str, folded: str, start: int, end: int) -> tuple[int, int]:
    """The span of ``written`` that ``folded[start:end]`` comes from. NFKC can lengthen a word (Thai "ำ" is
    two characters once folded, as in "น้ำ", water), so positions in the folded word are mapped back through
    each written character's folded length."""
    if len(written) == len(folded):
        return start, end
    ends = list(itertools.accumulate(len(unicodedata.normalize("NFKC", ch).casefold()) for ch in written))
    return bisect.bisect_right(ends, start), min(len(written), bisect.bisect_left(ends, end) + 1)


_lock = threading.Lock()
_gazetteer: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded once."""
    global _gazetteer
    with _lock:
        if _gazetteer is None:
            _gazetteer = Gazetteer()
    return _gazetteer


def extract_places(texts: Iterable[object]) -> list[list[Place]]:
    """Places mentioned in every text, resolved to country code and coordinates."""
    gaz = gazetteer()
    return [gaz.find(clean(t, MAX_SCAN_CHARS)) for t in as_texts(texts)]
