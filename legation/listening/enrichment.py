"""The one place listening meets ``legation.nlp``: enrichment, story keys and spike detection for a batch.

Everything the ingest path and the alerting need from the models goes through the three functions here,
so a change in the nlp package's interface is absorbed in this module alone.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import regex

MISSING_NLP = ""  # the nlp names that were not importable; shown by `legation listen check`


@dataclass(frozen=True)
class Place:
    name: str
    country: str = ""
    lat: float | None = None
    lon: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """As a Reading's ``places`` column stores it."""
        return {"name": self.name, "country": self.country, "lat": self.lat, "lon": self.lon}


@dataclass(frozen=True)
class Enriched:
    """What listening stores about one post."""

    language: str = ""
    sentiment: str = ""
    crisis_category: str = ""
    places: tuple[Place, ...] = ()
    head_count: int | None = None
    phones: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    dup_signature: str = ""
    terms: tuple[str, ...] = field(default=())
    # The whole MinHash signature (32 x uint32), where the models give one: its bands find near-duplicates whose
    # short ``dup_signature`` differs (``near_duplicate_bands``).
    dup_raw: bytes = b""

    @property
    def countries(self) -> list[str]:
        return sorted({p.country.upper() for p in self.places if p.country})

    @property
    def countries_column(self) -> str:
        """As a Reading's ``countries`` column stores them: ",LY,FR," (empty when none)."""
        countries = self.countries
        return f",{','.join(countries)}," if countries else ""

    def reading(self) -> dict[str, Any]:
        """The values of a :class:`legation.listening.models.Reading`'s fields."""
        return {"sentiment": self.sentiment, "crisis_category": self.crisis_category,
                "places": [p.as_dict() for p in self.places], "countries": self.countries_column,
                "head_count": self.head_count, "phones": list(self.phones), "needs": list(self.needs)}


def apply_reading(target: Any, record: Enriched) -> list[str]:
    """Set a :class:`legation.listening.models.Reading`'s fields from an enriched post; return their names."""
    reading = record.reading()
    for name, value in reading.items():
        setattr(target, name, value)
    return list(reading)


def enrich_batch(texts: Sequence[str], tier: str = "fast") -> list[Enriched]:
    """Enrich a batch of texts in one call to the models; one result per text, in order."""
    try:
        from legation.nlp import enrich  # type: ignore[attr-defined]
    except ImportError:  # the models are not installed yet: a crude stand-in keeps the pipeline running
        return [_stand_in(text) for text in texts]
    return [_from_record(record) for record in enrich(list(texts), tier=tier)]


_STAND_IN_WORDS = {
    "fr": {"le", "la", "les", "et", "est", "des", "une", "pour"},
    "es": {"el", "los", "las", "y", "es", "una", "por", "para"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein"},
    "id": {"yang", "dan", "di", "ini", "itu", "tidak", "untuk"},
    "en": {"the", "and", "is", "of", "to", "in", "we", "are"},
}


def place_names(text: str) -> set[str]:
    """The gazetteer's names for the places a short text names, whatever the script or spelling ("مصراتة",
    "Le Caire" -> Misratah, Cairo): what listening stores as a post's place names. Loads the gazetteer once."""
    try:
        from legation.nlp import extract_places
    except ImportError:
        return set()
    return {place.name for place in extract_places([text[:200]])[0]}


def country_named(text: str) -> str:
    """The ISO code of the country a short text names in any script or language ("روسيا", "Russie" -> RU), by
    the gazetteer; "" when the text is not (only) a country's name."""
    try:
        from legation.nlp import extract_places
    except ImportError:
        return ""
    typed = " ".join(text[:200].split()).casefold()
    return next((place.country_code for place in extract_places([text[:200]])[0]
                 if place.kind == "country" and " ".join(place.matched.split()).casefold() == typed), "")


def _stand_in(text: str) -> Enriched:
    lowered = text[:2000].lower()
    if re.search(r"[\u0600-\u06ff]", lowered):
        language = "ar"
    else:
        words = set(re.findall(r"\w+", lowered))
        language = max(_STAND_IN_WORDS, key=lambda code: len(words & _STAND_IN_WORDS[code]))
    signature = hashlib.md5(" ".join(sorted(story_terms(lowered, 6))).encode(), usedforsecurity=False)
    return Enriched(language=language, sentiment="neutral", crisis_category="not_humanitarian",
                    dup_signature=signature.hexdigest()[:16])


def _get(record: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
        if value is not None:
            return value
    return default


def _place(value: Any) -> Place:
    if isinstance(value, str):
        return Place(name=value)
    lat = _get(value, "lat", "latitude")
    lon = _get(value, "lon", "lng", "longitude")
    return Place(
        name=str(_get(value, "name", "place", default="")),
        country=str(_get(value, "country", "country_code", "cc", default="") or "").upper()[:2],
        lat=float(lat) if lat is not None else None,
        lon=float(lon) if lon is not None else None,
    )


def _label(value: Any) -> str:
    """A label, whether given as a string, an enum or a (label, score) pair."""
    if value is None:
        return ""
    if isinstance(value, tuple | list) and value:
        value = value[0]
    return str(getattr(value, "value", value))


def _signature(value: Any) -> str:
    """A near-duplicate signature as short hex text, whether the model gives an int, bytes or a string."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()[:32]
    if isinstance(value, int):
        return format(value, "x")[:32]
    return str(value or "")[:32]


def _from_record(record: Any) -> Enriched:
    head = _get(record, "head_count", "head_counts", "count")
    if isinstance(head, list | tuple):
        head = max((int(_get(h, "count", "value", default=h)) for h in head), default=None) if head else None
    needs = _get(record, "needs", default=()) or ()
    phones = _get(record, "phones", "phone_numbers", default=()) or ()
    signature = _get(record, "dup_signature", "near_dup_signature", "signature", "simhash", default="")
    return Enriched(
        language=_label(_get(record, "language", "lang"))[:8],
        sentiment=_label(_get(record, "sentiment"))[:10],
        crisis_category=_label(_get(record, "crisis_category", "crisis", "category"))[:40],
        places=tuple(_place(p) for p in (_get(record, "places", default=()) or ())),
        head_count=int(head) if head is not None else None,
        phones=tuple(str(p) for p in phones),
        needs=tuple(str(getattr(n, "value", n)) for n in needs),
        dup_signature=_signature(signature),
        terms=tuple(str(t) for t in (_get(record, "terms", "keywords", default=()) or ())),
        dup_raw=bytes(signature) if isinstance(signature, bytes | bytearray) else b"",
    )


def near_duplicate_bands(records: Sequence[Enriched]) -> list[list[int]]:
    """Each post's locality-sensitive keys: its MinHash signature cut in 8 bands of 4 values (as
    ``legation.nlp.duplicates`` does), each band with its number hashed to a signed 64-bit integer (one numpy
    pass over the batch). Two posts of Jaccard similarity 0.8 share one with probability 0.98, of 0.6 with 0.67,
    of 0.3 with 0.06. None for a post without a whole signature or without words (an empty signature)."""
    whole = [i for i, record in enumerate(records)
             if len(record.dup_raw) == 128 and record.dup_raw[:4] != b"\xff\xff\xff\xff"]
    bands: list[list[int]] = [[] for _ in records]
    if not whole:
        return bands
    values = np.frombuffer(b"".join(records[i].dup_raw for i in whole), dtype=np.uint32)
    values = values.reshape(len(whole), 8, 4).astype(np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        mixed = (values * _BAND_FACTORS[:4]).sum(axis=2, dtype=np.uint64) + np.arange(8, dtype=np.uint64) * \
            _BAND_FACTORS[4]
        mixed ^= mixed >> np.uint64(29)
        mixed *= _BAND_FACTORS[5]
        mixed ^= mixed >> np.uint64(32)
    for i, row in zip(whole, mixed.view(np.int64).tolist(), strict=True):
        bands[i] = row
    return bands


# Odd 64-bit constants (fixed: stored bands must match across processes and releases).
_BAND_FACTORS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                          0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53], dtype=np.uint64)


# regex's \w (unlike re's) includes combining marks, so a Hindi or Tamil word is one word, not its letters
_WORD = regex.compile(r"[^\W\d_]{4,}")
# Words too common to name a story; a story label should say what happened, not how people speak.
_STOP = frozenset({
    "that", "this", "with", "from", "have", "there", "their", "what", "when", "they", "been", "were", "will",
    "your", "about", "which", "would", "could", "should", "just", "like", "than", "then", "them", "these",
    "those", "into", "only", "also", "very", "more", "most", "some", "such", "here", "over", "after", "before",
    "pour", "dans", "avec", "sont", "mais", "plus", "cette", "nous", "vous", "leur", "elle", "tout", "être",
    "fait", "comme",
})


def story_terms(text: str, limit: int = 3) -> list[str]:
    """The words that name a post's story: its longest uncommon words, lower-cased."""
    words = {w.lower() for w in _WORD.findall(text[:2000])} - _STOP
    return sorted(words, key=lambda w: (-len(w), w))[:limit]


_QUIET_CATEGORIES = frozenset({"not_humanitarian", "other_relevant_information"})


def story_keys(records: Sequence[Enriched]) -> list[str | None]:
    """For each post, the key of its story when it belongs to one, else None (cheap: no text is read).

    Posts about a crisis cluster by category and country; other near-duplicates cluster by their signature
    (keys starting with ``dup:``). ``story_label`` names a story, once, when it is created.
    """
    keys: list[str | None] = []
    for record in records:
        category = record.crisis_category
        if category and category not in _QUIET_CATEGORIES:
            places = record.places
            country = min((p.country.upper() for p in places if p.country), default="") if places else ""
            keys.append(hashlib.sha256(f"{category}|{country}".encode()).hexdigest()[:16])
        elif record.dup_signature:
            keys.append("dup:" + record.dup_signature[:28])
        else:
            keys.append(None)
    return keys


def story_label(key: str, text: str, record: Enriched) -> tuple[str, list[str]]:
    """(label, terms) of a new story, from its first post."""
    terms = list(record.terms) or story_terms(text)
    if key.startswith("dup:"):
        return (" ".join(terms) or text[:60])[:300], terms
    category = record.crisis_category
    country = record.countries[0] if record.countries else ""
    place = next((p.name for p in record.places if p.name), "")
    label = category.replace("_", " ") + (f" — {place or country}" if (place or country) else "")
    return label[:300], terms


def spikes(series: Mapping[str, Sequence[int]], threshold: float, min_count: int) -> dict[str, float]:
    """The keys whose last bucket is a spike against the buckets before it, with their score."""
    try:
        from legation.nlp.spikes import detect_spikes
    except ImportError:  # the models are not installed yet: a plain deviation test stands in
        return _stand_in_spikes(series, threshold, min_count)
    result: dict[str, float] = {}
    for key, counts in series.items():
        if len(counts) < 3 or counts[-1] < min_count:
            continue
        # The threshold reads as "times the usual volume" for the nlp detector (its min_ratio).
        if detect_spikes([float(c) for c in counts], min_count=float(min_count), min_ratio=threshold)[-1]:
            history = counts[:-1]
            result[key] = round(counts[-1] / max(sum(history) / len(history), 1.0), 2)
    return result


def _stand_in_spikes(series: Mapping[str, Sequence[int]], threshold: float, min_count: int) -> dict[str, float]:
    result: dict[str, float] = {}
    for key, counts in series.items():
        if len(counts) < 3 or counts[-1] < min_count:
            continue
        history = counts[:-1]
        mean = sum(history) / len(history)
        spread = math.sqrt(sum((c - mean) ** 2 for c in history) / len(history))
        score = (counts[-1] - mean) / max(spread, 1.0, math.sqrt(mean))
        if score >= threshold:
            result[key] = round(score, 2)
    return result


def leave_with_parent(parent: int, every: float = 2.0) -> None:
    """In an enrichment process (the pool's initializer): exit when the process that started it is gone (killed
    with SIGKILL, its pool never shut down), instead of living on, models loaded, as an orphan."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()
