"""The whole enrichment of a batch of posts, run once per batch by listening ingestion.

One call runs every model over the batch, sharing the work that can be shared (normalised texts, n-gram
features), and returns one typed record per post. A failure inside a stage falls back to post-by-post
processing for that stage, so one bad post costs its own fields, never the batch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TypeVar

import numpy as np

from legation.nlp.classify import Prediction, classify, classify_tasks
from legation.nlp.duplicates import DuplicateIndex, plain_ascii_words, signatures
from legation.nlp.extract import HeadCount, head_counts_in, needs_in, phones_in
from legation.nlp.language import UNDETERMINED, detect_languages_scored
from legation.nlp.places import Place, gazetteer
from legation.nlp.stories import StoryClusterer
from legation.nlp.text import MAX_SCAN_CHARS, as_texts, binary_share, clean, model_text

log = logging.getLogger(__name__)
_ASCII_WORD = re.compile(r"\w+")
T = TypeVar("T")


@dataclass(slots=True)
class Enrichment:
    """Everything the offline models say about one post."""

    language: str = UNDETERMINED
    language_confidence: float = 0.0
    sentiment: str = "neutral"
    sentiment_confidence: float = 0.0
    crisis_category: str = "not_humanitarian"
    crisis_confidence: float = 0.0
    places: list[Place] = field(default_factory=list)
    head_counts: list[HeadCount] = field(default_factory=list)
    phone_numbers: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    signature: bytes = b""  # MinHash signature (32 x uint32), for near-duplicate checks later
    duplicate_of: object | None = None  # key of an earlier near-duplicate (in this batch or the index)
    story_id: int | None = None  # set when a StoryClusterer is passed
    binary: bool = False  # mostly unreadable characters: models were skipped
    errors: list[str] = field(default_factory=list)

    @property
    def country_codes(self) -> list[str]:
        return sorted({p.country_code for p in self.places})

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["signature"] = self.signature.hex()
        return d


def _stage(name: str, fn: Callable[[list[int]], list[T]], default: T, errors: list[list[str]]) -> list[T]:
    """Run ``fn`` over all positions; if it fails, run it position by position and note the failures."""
    everyone = list(range(len(errors)))
    try:
        out = fn(everyone)
        if len(out) == len(everyone):
            return out
        raise ValueError(f"{name}: {len(out)} results for {len(everyone)} texts")
    except Exception:  # noqa: BLE001 - isolate the bad post, keep the batch
        log.exception("nlp stage %s failed on a batch; retrying post by post", name)
    out = []
    for i in everyone:
        try:
            out.append(fn([i])[0])
        except Exception as exc:  # noqa: BLE001
            out.append(default)
            errors[i].append(f"{name}: {type(exc).__name__}")
    return out


def enrich(
    texts: Iterable[object],
    tier: str = "fast",
    *,
    phone_region: str | None = None,
    duplicates: DuplicateIndex | None = None,
    keys: Sequence[object] | None = None,
    stories: StoryClusterer | None = None,
    timestamps: Sequence[float] | None = None,
) -> list[Enrichment]:
    """Enrich a batch of posts: language, sentiment, crisis category, places, head counts, phones, needs,
    near-duplicates and (with ``stories``) story ids.

    ``duplicates`` is a long-lived index (e.g. the listening worker's) checked and updated with this batch,
    under ``keys`` (post ids; default: positions in the batch). Without it, duplicates are found within the
    batch. ``phone_region`` reads national phone numbers as that country's (ISO code, e.g. ``"LB"``).
    """
    posts = as_texts(texts)
    if not posts:
        return []
    # Identical texts (retweets, the same SMS sent 600 times) are enriched once and the result is copied.
    first: dict[str, int] = {}
    inverse = [first.setdefault(p, len(first)) for p in posts]
    items = list(first)
    errors: list[list[str]] = [[] for _ in items]
    binary = [binary_share(t) >= 0.3 for t in items]

    # The fast tier skips the Lingua step of the language cascade (about 0.2 ms for one post in six).
    langs = _stage("language", lambda ix: detect_languages_scored([items[i] for i in ix], tier != "fast"),
                   (UNDETERMINED, 0.0), errors)
    codes = [c for c, _ in langs]
    normalised = [model_text(t) for t in items]
    everyone = len(items)

    # Sentiment and crisis models share one n-gram pass over the batch; if that fails, each task runs alone
    # (and post by post if need be) so that one bad post costs only its own fields.
    # Crisis gets the languages in the accurate tier only (its vector model's weight depends on them).
    crisis_groups = codes if tier != "fast" else None
    joint: dict[str, Prediction] = {}
    try:
        joint = classify_tasks(items, {"sentiment": codes, "crisis": crisis_groups}, tier, normalised=normalised)
    except Exception:  # noqa: BLE001
        log.exception("nlp joint classification failed on a batch; running the tasks one by one")

    def run_model(task: str, groups: list[str] | None) -> Callable[[list[int]], list[tuple[str, float]]]:
        def run(ix: list[int]) -> list[tuple[str, float]]:
            if len(ix) == everyone and task in joint:
                pred = joint[task]
            else:
                pred = classify([items[i] for i in ix], task, tier,
                                groups=None if groups is None else [groups[i] for i in ix])
            return list(zip(pred.labels, pred.confidences, strict=True))

        return run

    senti = _stage("sentiment", run_model("sentiment", codes), ("neutral", 0.0), errors)
    crisis = _stage("crisis", run_model("crisis", crisis_groups), ("not_humanitarian", 0.0), errors)
    scan = [clean(t, MAX_SCAN_CHARS) for t in items]
    # Most posts are ASCII: their lower-cased words are found once for places, head counts, needs and
    # near-duplicate signatures (each stage still finds them itself for other texts).
    lows = [t.lower() if t.isascii() else None for t in scan]
    words = [None if low is None else _ASCII_WORD.findall(low) for low in lows]
    word_sets = [None if w is None else set(w) for w in words]
    gaz = gazetteer()
    no_places: list[Place] = []
    no_counts: list[HeadCount] = []
    no_strings: list[str] = []
    places = _stage("places", lambda ix: [gaz.find(scan[i], words[i]) for i in ix], no_places, errors)
    counts = _stage("head_counts", lambda ix: [head_counts_in(scan[i], word_sets[i]) for i in ix], no_counts,
                    errors)
    phones = _stage("phones", lambda ix: [phones_in(scan[i], phone_region) for i in ix], no_strings, errors)
    needs = _stage("needs", lambda ix: [needs_in(scan[i], True, lows[i], word_sets[i]) for i in ix], no_strings,
                   errors)
    sigs = signatures(items, [None if w is None else plain_ascii_words(low, w)  # type: ignore[arg-type]
                              for low, w in zip(lows, words, strict=True)])

    raw = np.ascontiguousarray(sigs, dtype=np.uint32).tobytes()
    size = 4 * sigs.shape[1]
    # Each record is built in one call (binary posts keep the default sentiment and crisis fields).
    default = Enrichment()
    results = [
        Enrichment(
            language=langs[i][0],
            language_confidence=langs[i][1],
            sentiment=default.sentiment if binary[i] else senti[i][0],
            sentiment_confidence=default.sentiment_confidence if binary[i] else senti[i][1],
            crisis_category=default.crisis_category if binary[i] else crisis[i][0],
            crisis_confidence=default.crisis_confidence if binary[i] else crisis[i][1],
            places=places[i],
            head_counts=counts[i],
            phone_numbers=phones[i],
            needs=needs[i],
            signature=raw[i * size : (i + 1) * size],
            binary=binary[i],
            errors=errors[i],
        )
        for i in range(len(items))
    ]

    if len(items) < len(posts):
        results = [replace(results[j], errors=list(results[j].errors)) for j in inverse]
        sigs = sigs[inverse]
    batch_keys: Sequence[object] = keys if keys is not None else list(range(len(posts)))
    index = duplicates if duplicates is not None else DuplicateIndex()
    for r, dup in zip(results, index.check_and_add(batch_keys, sigs), strict=True):
        r.duplicate_of = dup
    if stories is not None:
        for r, sid in zip(results, stories.add(posts, timestamps), strict=True):
            r.story_id = sid or None
    return results
