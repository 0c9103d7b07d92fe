"""Near-duplicate detection: retweets, copy-paste campaigns, the same SMS sent 600 times.

Each text gets a MinHash signature (32 hashes of its word-pair shingles after removing URLs, mentions,
"RT" and punctuation). Signatures are plain ``uint32`` arrays, stable across processes, so they can be
stored and compared later. Locality-sensitive hashing (8 bands of 4 rows) finds candidates; a candidate is a
near-duplicate when the estimated Jaccard similarity reaches the threshold.
"""

from __future__ import annotations

import re
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np

from legation.nlp.text import as_texts, clean

NUM_HASHES = 32
BANDS = 8
ROWS = NUM_HASHES // BANDS
DEFAULT_THRESHOLD = 0.7
_rng = np.random.default_rng(20240605)  # fixed: signatures must match across processes and releases
_A = _rng.integers(1, 1 << 63, size=NUM_HASHES, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=NUM_HASHES, dtype=np.uint64)
_SHIFT = np.uint64(32)
# Identical texts share a bucket; a few members are enough to recognise the next copy.
_BUCKET_CAP = 8
_NOISE = re.compile(r"(?:https?://|www\.)\S+|@\w+|^\s*rt\b|[^\w\s]", re.IGNORECASE)
_MAX_SHINGLES = 200
# What _NOISE takes out besides punctuation, for ASCII texts whose words are known (plain_ascii_words).
_LINK_MENTION_RT = re.compile(r"(?:https?://|www\.)\S+|@\w+|^\s*rt\b")
_ASCII_WORD = re.compile(r"\w+")
_EMPTY = int(np.iinfo(np.uint32).max)


_word_hash_cache: dict[str, int] = {}


def _word_hash(word: str) -> int:
    h = _word_hash_cache.get(word)
    if h is None:
        h = zlib.crc32(word.encode("utf-8", "replace"))
        if len(_word_hash_cache) > 500_000:
            _word_hash_cache.clear()
        _word_hash_cache[word] = h
    return h


def word_hashes(text: str) -> list[int]:
    """CRC32 of each word of a normalised text (URLs, mentions, a leading RT and punctuation removed)."""
    return _hashes(_plain_words(text))


def _plain_words(text: str) -> list[str]:
    return _NOISE.sub(" ", clean(text, 5000).lower()).split()[: _MAX_SHINGLES + 1]


def _hashes(words: list[str]) -> list[int]:
    hashes = list(map(_word_hash_cache.get, words))
    if None in hashes:
        hashes = [_word_hash(w) if h is None else h for w, h in zip(words, hashes, strict=True)]
    return hashes  # type: ignore[return-value]


def plain_ascii_words(low: str, words: list[str]) -> list[str] | None:
    """The words :func:`word_hashes` keeps of a clean ASCII text of at most 5,000 characters, from its
    lower-cased form ``low`` and that form's ``\\w+`` words, or None for a longer text. Every ASCII character
    of a clean text is a word character, a space or punctuation, which the full pass turns into a space: the
    words are the ``\\w+`` words once URLs, mentions and a leading RT are taken out."""
    if len(low) > 5000:
        return None
    if "@" in low or "://" in low or "www." in low or (words and words[0] == "rt"):
        return _ASCII_WORD.findall(_LINK_MENTION_RT.sub(" ", low))[: _MAX_SHINGLES + 1]
    return words[: _MAX_SHINGLES + 1]


def signatures(texts: Iterable[object], words: Sequence[list[str] | None] | None = None) -> np.ndarray:
    """MinHash signatures, shape (n_texts, 32), dtype uint32; texts without words get all-max rows.

    Shingles are word pairs (a single word for one-word texts), hashed from the words' CRC32 values.
    ``words`` may give the words of some texts already (see :func:`plain_ascii_words`; None for the others).
    """
    items = as_texts(texts)
    known = words if words is not None else [None] * len(items)
    # Every text's words, then all their CRC32 values in one pass over the batch.
    word_lists = [_plain_words(t) if ws is None else ws for t, ws in zip(items, known, strict=True)]
    counts = np.fromiter(map(len, word_lists), dtype=np.int64, count=len(items))
    hashes = np.asarray(_hashes(list(chain.from_iterable(word_lists))), dtype=np.uint64)
    # Shingles: each pair of neighbouring words of a text, or (word, 0) for a one-word text.
    word_start = np.cumsum(counts) - counts
    text_shingles = np.where(counts == 1, 1, np.maximum(counts - 1, 0))
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(text_shingles, out=offsets[1:])
    first_at = np.repeat(word_start - offsets[:-1], text_shingles) + np.arange(int(offsets[-1]), dtype=np.int64)
    single = np.repeat(counts == 1, text_shingles)
    firsts = hashes[first_at]
    seconds = np.where(single, np.uint64(0), hashes[np.minimum(first_at + 1, max(len(hashes) - 1, 0))])
    out = np.full((len(items), NUM_HASHES), _EMPTY, dtype=np.uint32)
    if not len(firsts):
        return out
    pair = (firsts << np.uint64(32)) | seconds
    # Multiply-shift hashing: (a*h + b) mod 2**64, top 32 bits (uint64 arithmetic wraps around).
    # Computed in slices of texts so that memory stays bounded on big batches.
    step = 2000
    for lo in range(0, len(items), step):
        hi = min(lo + step, len(items))
        a, b = int(offsets[lo]), int(offsets[hi])
        if a == b:
            continue
        mixed = ((pair[a:b, None] * _A + _B) >> _SHIFT).astype(np.uint32)
        starts = offsets[lo:hi] - a
        nonempty = offsets[lo + 1 : hi + 1] > offsets[lo:hi]
        out[lo:hi][nonempty] = np.minimum.reduceat(mixed, starts[nonempty], axis=0)
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    if int(a[0]) == _EMPTY and int(b[0]) == _EMPTY:
        return 0.0  # two empty texts are not duplicates of each other
    return float(np.mean(a == b))


def _band_keys(sig: np.ndarray) -> list[bytes]:
    raw = sig.tobytes()
    step = ROWS * 4
    return [bytes([b]) + raw[b * step : (b + 1) * step] for b in range(BANDS)]


def _all_band_keys(sigs: np.ndarray) -> list[list[bytes]]:
    """:func:`_band_keys` of every signature of a batch, built with one numpy pass."""
    n = len(sigs)
    if n == 0:
        return []
    keys = np.empty((n, BANDS, 1 + ROWS * 4), dtype=np.uint8)
    keys[:, :, 0] = np.arange(BANDS, dtype=np.uint8)
    keys[:, :, 1:] = np.ascontiguousarray(sigs, dtype=np.uint32).view(np.uint8).reshape(n, BANDS, ROWS * 4)
    out: list[list[bytes]] = keys.view(np.dtype((np.void, 1 + ROWS * 4))).reshape(n, BANDS).tolist()  # type: ignore[assignment]
    return out


class DuplicateIndex:
    """Signatures seen so far, to find near-duplicates of new texts (bounded: oldest forgotten first)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, capacity: int = 1_000_000) -> None:
        self.threshold = threshold
        self.capacity = capacity
        self._sigs: OrderedDict[object, np.ndarray] = OrderedDict()
        self._buckets: dict[bytes, list[object]] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def find(self, sig: np.ndarray, bands: list[bytes] | None = None) -> object | None:
        """Key of the most similar stored signature at or above the threshold, or None."""
        if int(sig[0]) == _EMPTY:
            return None
        candidates: dict[object, None] = {}
        for band in bands or _band_keys(sig):
            for other in self._buckets.get(band, ()):
                candidates[other] = None
        keys = [k for k in candidates if k in self._sigs]
        if not keys:
            return None
        sims = (np.stack([self._sigs[k] for k in keys]) == sig).mean(axis=1)
        best = int(sims.argmax())
        return keys[best] if sims[best] >= self.threshold else None

    def add(self, key: object, sig: np.ndarray, bands: list[bytes] | None = None) -> None:
        """Remember a signature under ``key`` (e.g. a post id)."""
        if int(sig[0]) == _EMPTY or key in self._sigs:
            return
        self._sigs[key] = sig
        for band in bands or _band_keys(sig):
            members = self._buckets.setdefault(band, [])
            if len(members) < _BUCKET_CAP:
                members.append(key)
        if len(self._sigs) > self.capacity:
            self._evict()

    def check_and_add(self, keys: Sequence[object], sigs: np.ndarray) -> list[object | None]:
        """For each new text: the key of an earlier near-duplicate (seen before or earlier in this batch).

        The same as :meth:`find` then :meth:`add` for each text in turn, with their per-text steps inlined
        (most texts of a stream have no candidate at all)."""
        out: list[object | None] = []
        if len(sigs) == 0:
            return out
        stored, buckets, threshold = self._sigs, self._buckets, self.threshold
        empty = (np.asarray(sigs)[:, 0] == _EMPTY).tolist()
        for key, sig, bands, is_empty in zip(keys, sigs, _all_band_keys(sigs), empty, strict=True):
            if is_empty:
                out.append(None)
                continue
            candidates: dict[object, None] = {}
            for band in bands:
                members = buckets.get(band)
                if members:
                    candidates.update(dict.fromkeys(members))
            dup = None
            if candidates:
                found = [k for k in candidates if k in stored]
                if found:
                    sims = (np.stack([stored[k] for k in found]) == sig).mean(axis=1)
                    best = int(sims.argmax())
                    dup = found[best] if sims[best] >= threshold else None
            out.append(dup)
            if key in stored:
                continue
            stored[key] = sig
            for band in bands:
                members = buckets.get(band)
                if members is None:
                    buckets[band] = [key]
                elif len(members) < _BUCKET_CAP:
                    members.append(key)
            if len(stored) > self.capacity:
                self._evict()
        return out

    def _evict(self) -> None:
        """Forget the oldest signatures beyond the capacity."""
        while len(self._sigs) > self.capacity:
            old, old_sig = self._sigs.popitem(last=False)
            for band in _band_keys(old_sig):
                stored = self._buckets.get(band)
                if stored and old in stored:
                    stored.remove(old)
                    if not stored:
                        del self._buckets[band]


def near_duplicate_groups(texts: Iterable[object], threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """Group id of every text in a batch: the index of the first text of its near-duplicate group."""
    sigs = signatures(texts)
    index = DuplicateIndex(threshold)
    groups: list[int] = []
    for i, dup in enumerate(index.check_and_add(list(range(len(sigs))), sigs)):
        groups.append(i if dup is None else groups[int(dup)])  # type: ignore[call-overload]
    return groups
