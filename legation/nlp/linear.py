"""Sparse n-gram features and linear classifiers evaluated with numpy only.

A model file is a compressed ``.npz`` holding plain arrays (no pickles): the feature vocabulary as UTF-8 bytes,
the IDF weights, the coefficient matrix, the intercepts, the class names and the feature spec as JSON.
Training (``training/``) builds the same features with :func:`doc_features`, so inference matches training
exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from legation.nlp.text import model_text

_TOKEN = re.compile(r"\w+|[^\w\s]")
_MAX_TOKENS = 300
_MAX_SUBWORD_TOKEN = 30
# Words seen most recently keep their feature ids (~0.3 KB each); the cache restarts when full.
_WORD_CACHE_SIZE = 100_000
# Texts per feature pass: bigger calls (training sets) are cut into passes of this size.
_BATCH_TEXTS = 5000
# New words' character n-grams, and the n-grams over whole texts, are looked up in numpy hash tables (False:
# one dict lookup each, as before).
_NGRAMS_IN_NUMPY = True
# Texts per numpy pass over whole-text n-grams: at most ~1,600 n-grams per text, ~130 bytes each while a pass
# runs (windows, hashes, probe state), so at most ~50 MB for a pass of 250 texts of 400 characters.
_TEXT_GRAM_TEXTS = 250


# Kept for ``classify.clear_caches``, which empties it; the batch feature pass keeps no per-spec n-gram strings.
_features_of_word: dict[tuple[str, int, int, bool], list[str]] = {}


@dataclass(frozen=True)
class FeatureSpec:
    """Which n-grams a model looks at."""

    words: bool = True
    bigrams: bool = True
    char_min: int = 3
    char_max: int = 5
    # Character n-grams over the whole normalised text (crosses word boundaries); 0 disables them.
    text_char_max: int = 0

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> FeatureSpec:
        return cls(**json.loads(raw))


def tokens(normalised: str) -> list[str]:
    """Split a normalised text into word and symbol tokens (emoji and punctuation are tokens)."""
    return _TOKEN.findall(normalised)[:_MAX_TOKENS]


def doc_features(normalised: str, spec: FeatureSpec) -> list[str]:
    """Feature strings of one normalised text (see :func:`legation.nlp.text.model_text`)."""
    toks = tokens(normalised)
    feats: list[str] = []
    if spec.words:
        feats.extend(toks)
    if spec.bigrams:
        feats.extend([f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)])
    if spec.char_max:
        lo, hi = spec.char_min, spec.char_max
        for tok in toks:
            if len(tok) < 2 or len(tok) > _MAX_SUBWORD_TOKEN:
                continue
            w = f"<{tok}>"
            size = len(w)
            for n in range(lo, min(hi, size) + 1):
                feats.extend([w[i : i + n] for i in range(size - n + 1)])
    if spec.text_char_max:
        t = f" {normalised[:400]} "
        size = len(t)
        for n in range(2, spec.text_char_max + 1):
            feats.extend(["\x01" + t[i : i + n] for i in range(size - n + 1)])
    return feats


class _WordTable:
    """Feature ids of recently seen words (each word's own id and its character n-grams' ids), stored flat:
    ``flat[starts[s] : starts[s] + lens[s]]`` are the ids of the word in slot ``slot[word]``."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.slot: dict[str, int] = {}
        self.starts = np.zeros(0, dtype=np.int64)
        self.lens = np.zeros(0, dtype=np.int64)
        self.flat = np.zeros(0, dtype=np.int32)
        self.pair_word = np.zeros(0, dtype=np.int64)  # the word's number among bigram words, -1 if none
        self.used = 0

    def __len__(self) -> int:
        return len(self.slot)

    def add(
        self,
        words: list[str],
        spec: FeatureSpec,
        get: Callable[[str], int | None],
        pair_word: Callable[[str, int], int] | None = None,
        ngrams: _NgramIndex | None = None,
    ) -> None:
        """Look up the features of new words, all in one pass, and store them (with ``pair_word``, each
        word's number among the words of bigram features, -1 for other words; with ``ngrams``, the character
        n-grams are looked up in numpy)."""
        lo, hi = spec.char_min, spec.char_max
        by_dict = range(len(words))
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        if ngrams is not None and hi:
            gram_ids, gram_word, unsure = ngrams.lookup(words)
            parts.append((gram_ids, gram_word))
            if spec.words:
                parts.append((_known_ids(list(map(get, words))), np.arange(len(words), dtype=np.int64)))
            by_dict = unsure  # type: ignore[assignment]
        feats: list[str] = []
        counts: list[int] = []
        for i in by_dict:
            tok = words[i]
            before = len(feats)
            if spec.words and ngrams is None:
                feats.append(tok)
            if hi and 2 <= len(tok) <= _MAX_SUBWORD_TOKEN:
                w = f"<{tok}>"
                size = len(w)
                feats += [w[k : k + n] for n in range(lo, min(hi, size) + 1) for k in range(size - n + 1)]
            counts.append(len(feats) - before)
        parts.append((_known_ids(list(map(get, feats))), np.repeat(np.asarray(by_dict, dtype=np.int64), counts)))
        ids = np.concatenate([p[0] for p in parts])
        word_of = np.concatenate([p[1] for p in parts])
        known = ids >= 0
        ids, word_of = ids[known], word_of[known]
        if len(parts) > 1:  # each word's ids together
            order = np.argsort(word_of, kind="stable")
            ids, word_of = ids[order], word_of[order]
        lens = np.bincount(word_of, minlength=len(words))
        first, used = len(self.slot), self.used
        self.slot.update(zip(words, range(first, first + len(words)), strict=True))
        self.starts = _grown(self.starts, first + len(words))
        self.lens = _grown(self.lens, first + len(words))
        self.pair_word = _grown(self.pair_word, first + len(words))
        self.pair_word[first : first + len(words)] = -1 if pair_word is None else [pair_word(w, -1) for w in words]
        self.flat = _grown(self.flat, used + len(ids))
        self.lens[first : first + len(words)] = lens
        self.starts[first : first + len(words)] = used + np.cumsum(lens) - lens
        self.flat[used : used + len(ids)] = ids
        self.used = used + len(ids)


def _known_ids(found: list[int | None]) -> np.ndarray:
    """Ids found by dict lookups as an int64 array, -1 where the lookup found nothing (converting through
    float64, where None becomes NaN, is the fastest way numpy offers; ids are far below 2**53)."""
    values = np.array(found, dtype=np.float64)
    values[np.isnan(values)] = -1
    return values.astype(np.int64)


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    """``a`` itself if it holds ``size`` items, else a copy with room for at least twice as many."""
    if len(a) >= size:
        return a
    out = np.zeros(max(2 * size, 1024), dtype=a.dtype)
    out[: len(a)] = a
    return out


_MIX = np.uint64(0x100000001B3)
_FINAL = np.uint64(0xFF51AFD7ED558CCD)


def _window_hashes(windows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """64-bit hashes of strings given as zero-padded code points (one row each) and their lengths; never 0."""
    with np.errstate(over="ignore"):
        h = sizes.astype(np.uint64)
        for j in range(windows.shape[1]):
            h = h * _MIX ^ windows[:, j].astype(np.uint64)
        h ^= h >> np.uint64(33)
        h *= _FINAL
        h ^= h >> np.uint64(29)
    h[h == 0] = 1
    return h


def _gram_starts(size: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For strings of lengths ``size`` laid end to end: the number of the string of each of their n-grams, and
    where the n-gram starts."""
    count = np.maximum(size - n + 1, 0)
    owner = np.repeat(np.arange(len(size), dtype=np.int64), count)
    first = np.cumsum(count) - count
    start = np.cumsum(size) - size
    return owner, start[owner] + np.arange(int(count.sum()), dtype=np.int64) - first[owner]


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class _NgramIndex:
    """The vocabulary's strings of ``lo`` to ``hi`` characters in an open-addressing hash table of numpy
    arrays, so that the character n-grams of a batch's new words are looked up together. A hit is confirmed
    by comparing code points, so the ids are exactly the dict's; anything unsure goes to the dict."""

    def __init__(self, vocab: dict[str, int], lo: int, hi: int, prefix: str = "") -> None:
        self.lo, self.hi = lo, hi
        short = [(f, j) for f, j in vocab.items() if lo <= len(f) <= hi and f.startswith(prefix)]
        self.ids = np.fromiter((j for _, j in short), dtype=np.int64, count=len(short))
        self.sizes = np.fromiter((len(f) for f, _ in short), dtype=np.int64, count=len(short))
        padded = "".join(f.ljust(hi, "\0") for f, _ in short)
        self.points = _code_points(padded).reshape(len(short), hi) if short else np.zeros((0, hi), np.uint32)
        hashes = _window_hashes(self.points, self.sizes)
        bits = max(int(2 * len(short)).bit_length(), 4)
        self.mask = (1 << bits) - 1
        self.shift = np.uint64(64 - bits)
        self.keys = np.zeros(1 << bits, dtype=np.uint64)  # 0: empty slot
        self.rows = np.full(1 << bits, -1, dtype=np.int64)
        pos = (hashes >> self.shift).astype(np.int64)
        pending = np.arange(len(short), dtype=np.int64)
        while pending.size:  # linear probing, one round per probe step for every string still unplaced
            p = pos[pending]
            free = self.keys[p] == 0
            _, first = np.unique(p[free], return_index=True)
            placed = pending[free][first]
            self.keys[pos[placed]] = hashes[placed]
            self.rows[pos[placed]] = placed
            rest = np.ones(len(pending), dtype=bool)
            rest[np.flatnonzero(free)[first]] = False
            pending = pending[rest]
            pos[pending] = (pos[pending] + 1) & self.mask

    def lookup(self, words: list[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Known ids of the character n-grams of ``words`` (as in :func:`doc_features`: ``<word>``, words of
        2 to 30 characters), the number of the word of each, and the numbers of words to look up by dict."""
        kept = [i for i, w in enumerate(words) if 2 <= len(w) <= _MAX_SUBWORD_TOKEN]
        lo, hi = self.lo, self.hi
        if not kept:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
        size = np.fromiter((len(words[i]) + 2 for i in kept), dtype=np.int64, count=len(kept))
        points = np.concatenate([_code_points("".join(f"<{words[i]}>" for i in kept)), np.zeros(hi, np.uint32)])
        owners, starts, sizes = [], [], []
        for n in range(lo, hi + 1):
            owner, at = _gram_starts(size, n)
            starts.append(at)
            owners.append(owner)
            sizes.append(np.full(len(at), n, dtype=np.int64))
        owner = np.concatenate(owners)
        at = np.concatenate(starts)
        n_of = np.concatenate(sizes)
        windows = points[at[:, None] + np.arange(hi)]
        windows[np.arange(hi) >= n_of[:, None]] = 0
        ids, found_in, unsure = self.find(windows, n_of, owner)
        return ids, np.asarray(kept, dtype=np.int64)[found_in], [kept[i] for i in unsure.tolist()]

    def find(self, windows: np.ndarray, sizes: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
        """For strings given as zero-padded code points (one row of ``hi`` each), their lengths and the number
        of the text (or word) each comes from: the ids of those in the table, the text of each, and the texts
        to look up by dict instead (one of their strings shares a hash with a different string)."""
        hashes = _window_hashes(windows, sizes)
        row = np.full(len(sizes), -1, dtype=np.int64)
        pos = (hashes >> self.shift).astype(np.int64)
        pending = np.arange(len(sizes), dtype=np.int64)
        while pending.size:
            key = self.keys[pos[pending]]
            hit = key == hashes[pending]
            row[pending[hit]] = self.rows[pos[pending[hit]]]
            pending = pending[(key != 0) & ~hit]
            pos[pending] = (pos[pending] + 1) & self.mask
        found = np.flatnonzero(row >= 0)
        same = (self.sizes[row[found]] == sizes[found]) & (self.points[row[found]] == windows[found]).all(axis=1)
        unsure = np.unique(owner[found[~same]])
        found = found[same]
        found = found[~np.isin(owner[found], unsure)]
        return self.ids[row[found]], owner[found], unsure

    def text_lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """For a table of ``"\x01" + gram`` strings (``lo`` = 3): the known ids of the character 2- to
        ``hi - 1``-grams of ``texts`` (each already framed, `` text ``), the number of the text of each, and the
        numbers of the texts to look up by dict (a hash shared by different strings)."""
        hi = self.hi
        size = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        points = np.concatenate([_code_points("".join(texts)), np.zeros(hi, np.uint32)])
        # Every position's next hi - 1 code points (a view), gathered per n-gram size into zero-padded rows
        # that start with the "\x01" marking these features.
        ahead = np.lib.stride_tricks.sliding_window_view(points, hi - 1)
        blocks, owners = [], []
        for n in range(2, hi):
            owner, at = _gram_starts(size, n)
            block = np.zeros((len(at), hi), dtype=np.uint32)
            block[:, 0] = 1
            block[:, 1 : n + 1] = ahead[at, :n]
            blocks.append(block)
            owners.append(owner)
        owner = np.concatenate(owners)
        windows = np.concatenate(blocks)
        n_of = np.repeat(np.arange(2, hi, dtype=np.int64), [len(b) for b in blocks])
        ids, found_in, unsure = self.find(windows, n_of + 1, owner)
        return ids, found_in, unsure.tolist()


class _PairIndex:
    """The bigram features of a vocabulary: ``"a b"`` -> ``number[a] * width + number[b]`` in one sorted
    array (``number``: a word's number among the words of bigram features)."""

    def __init__(self, vocab: dict[str, int]) -> None:
        self.number: dict[str, int] = {}
        lefts: list[int] = []
        rights: list[int] = []
        ids: list[int] = []
        for f, j in vocab.items():
            if " " in f:
                parts = f.split(" ")
                if len(parts) == 2:
                    lefts.append(self.number.setdefault(parts[0], len(self.number)))
                    rights.append(self.number.setdefault(parts[1], len(self.number)))
                    ids.append(j)
        self.width = max(len(self.number), 1)
        keys = np.asarray(lefts, dtype=np.int64) * self.width + np.asarray(rights, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.values = np.asarray(ids, dtype=np.int64)[order]

    def ids(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The feature ids of the pairs ``keys`` that are features, and where they are among ``keys``."""
        if not len(self.keys) or not len(keys):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(self.keys, keys)
        np.minimum(pos, len(self.keys) - 1, out=pos)
        found = np.flatnonzero(self.keys[pos] == keys)
        return self.values[pos[found]], found


class FeatureCache:
    """Feature strings of one batch per feature spec, so that models sharing a spec compute them once."""

    def __init__(self) -> None:
        self._by_spec: dict[FeatureSpec, list[list[str]]] = {}

    def get(self, spec: FeatureSpec, normalised: Sequence[str]) -> list[list[str]]:
        feats = self._by_spec.get(spec)
        if feats is None or len(feats) != len(normalised):
            feats = self._by_spec[spec] = [doc_features(t, spec) for t in normalised]
        return feats


@dataclass
class LinearModel:
    """A multi-class linear model over binary TF-IDF n-gram features, l2-normalised per text."""

    classes: list[str]
    spec: FeatureSpec
    vocab: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # (n_features, n_classes)
    intercept: np.ndarray  # (n_classes,)
    meta: dict[str, object] = field(default_factory=dict)
    _word_cache: _WordTable = field(default_factory=lambda: _WordTable(), repr=False, compare=False)
    _stacked_coef: np.ndarray | None = field(default=None, repr=False, compare=False)
    _ngrams: _NgramIndex | None = field(default=None, repr=False, compare=False)
    _text_grams: _NgramIndex | None = field(default=None, repr=False, compare=False)
    _pairs: _PairIndex | None = field(default=None, repr=False, compare=False)
    _weighted_coef: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    # -- features -----------------------------------------------------------------------------------------
    def feature_ids(
        self, normalised: Sequence[str], features: FeatureCache | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, offsets): the known feature ids of every text, concatenated, and each text's start.

        Same features as :func:`doc_features` (each text's ids once, in increasing order), computed for the
        whole batch with numpy: a word's own id and its character n-grams' ids come from a per-word table
        (most words of a stream have been seen before; the batch's new words are looked up together), bigram
        ids are found by word pair without building the bigram strings, and one sort removes repeats.
        """
        if len(normalised) > _BATCH_TEXTS:  # bounded memory for big calls (training sets)
            parts = [self._batch_ids(normalised[i : i + _BATCH_TEXTS])
                     for i in range(0, len(normalised), _BATCH_TEXTS)]
            starts = np.cumsum([0] + [len(ids) for ids, _ in parts[:-1]])
            offsets = np.concatenate([[0]] + [off[1:] + s for (_, off), s in zip(parts, starts, strict=True)])
            return np.concatenate([ids for ids, _ in parts]), offsets.astype(np.int64)
        return self._batch_ids(normalised)

    def _batch_ids(self, normalised: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        n = len(normalised)
        offsets = np.zeros(n + 1, dtype=np.int64)
        toks_of = [_TOKEN.findall(t)[:_MAX_TOKENS] for t in normalised]
        flat = list(chain.from_iterable(toks_of))
        table = self._word_cache
        missing = set(flat).difference(table.slot)
        if missing:
            if len(table) + len(missing) > _WORD_CACHE_SIZE:
                table.clear()
                missing = set(flat)
                if len(missing) > _WORD_CACHE_SIZE:  # one huge batch: its words are looked up for it alone
                    table = _WordTable()
            table.add(list(missing), self.spec, self.vocab.get,
                      self._pair_index().number.get if self.spec.bigrams else None, self._ngram_index())
        per_text = np.fromiter(map(len, toks_of), dtype=np.int64, count=n)
        text_of_tok = np.repeat(np.arange(n, dtype=np.int64), per_text)
        slots = np.fromiter(map(table.slot.__getitem__, flat), dtype=np.int64, count=len(flat))
        lens = table.lens[slots]
        ends = np.cumsum(lens)
        total = int(ends[-1]) if len(ends) else 0
        where = np.repeat(table.starts[slots] - ends + lens, lens) + np.arange(total, dtype=np.int64)
        id_parts = [table.flat[where].astype(np.int64)]
        text_parts = [np.repeat(text_of_tok, lens)]
        if self.spec.bigrams and len(flat) > 1:
            # Bigram ids by the pair of the words' numbers among bigram words, found in one sorted array.
            pairs = self._pair_index()
            number = table.pair_word[slots]
            left, right = number[:-1], number[1:]
            inside = (left >= 0) & (right >= 0) & (text_of_tok[1:] == text_of_tok[:-1])
            pair_ids, hit = pairs.ids(left[inside] * pairs.width + right[inside])
            id_parts.append(pair_ids)
            text_parts.append(text_of_tok[1:][inside][hit])
        if self.spec.text_char_max:
            found, owners = self._text_char_ids(normalised)
            id_parts.append(found)
            text_parts.append(owners)
        # One key per (text, feature); sorting groups each text's features, in increasing order, and repeats.
        width = max(len(self.vocab), 1)
        keys = np.concatenate(text_parts) * width + np.concatenate(id_parts)
        if keys.size == 0:
            return keys, offsets
        keys.sort(kind="stable")  # about twice as fast as numpy's default sort on these keys
        first = np.empty(keys.size, dtype=bool)
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        keys = keys[first]
        owner = keys // width
        np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
        return keys - owner * width, offsets

    def _text_char_ids(self, normalised: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the character n-grams over whole texts (``text_char_max``), and the text of each: looked up
        in numpy for the whole batch (about 3 times faster than a dict lookup per n-gram), by dict for the
        texts where the numpy table is unsure (a shared hash)."""
        framed = [f" {text[:400]} " for text in normalised]
        index = self._text_gram_index()
        ids_parts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        owner_parts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        by_dict: list[int] = []
        if index is None:
            by_dict = list(range(len(framed)))
        else:
            for s in range(0, len(framed), _TEXT_GRAM_TEXTS):  # bounded memory (see the constant)
                ids, owners, unsure = index.text_lookup(framed[s : s + _TEXT_GRAM_TEXTS])
                ids_parts.append(ids)
                owner_parts.append(owners + s)
                by_dict += [s + i for i in unsure]
        if by_dict:
            more, more_owners = self._text_char_ids_by_dict(framed, by_dict)
            ids_parts.append(np.asarray(more, dtype=np.int64))
            owner_parts.append(np.asarray(more_owners, dtype=np.int64))
        return np.concatenate(ids_parts), np.concatenate(owner_parts)

    def _text_char_ids_by_dict(self, framed: Sequence[str], which: Sequence[int]) -> tuple[list[int], list[int]]:
        """:meth:`_text_char_ids` for the texts ``which`` of ``framed``, one dict lookup per n-gram."""
        get = self.vocab.get
        found: list[int] = []
        owners: list[int] = []
        for i in which:
            t = framed[i]
            size = len(t)
            for n in range(2, self.spec.text_char_max + 1):
                ids = [j for j in map(get, ["\x01" + t[k : k + n] for k in range(size - n + 1)]) if j is not None]
                found += ids
                owners += [i] * len(ids)
        return found, owners

    def _ngram_index(self) -> _NgramIndex | None:
        """The numpy index of the character n-grams (None without them, or where numpy is not faster)."""
        lo, hi = self.spec.char_min, self.spec.char_max
        if not hi or hi > 8 or lo < 1 or not _NGRAMS_IN_NUMPY:
            return None
        if self._ngrams is None:
            self._ngrams = _NgramIndex(self.vocab, lo, hi)
        return self._ngrams

    def _text_gram_index(self) -> _NgramIndex | None:
        """The numpy index of the character n-grams over whole texts (None without them)."""
        hi = self.spec.text_char_max
        if hi < 2 or hi > 8 or not _NGRAMS_IN_NUMPY:  # below 2 there are no whole-text n-grams at all
            return None
        if self._text_grams is None:
            self._text_grams = _NgramIndex(self.vocab, 3, hi + 1, prefix="\x01")
        return self._text_grams

    def _pair_index(self) -> _PairIndex:
        """Bigram features by word pair (tokens never hold spaces, so ``"a b"`` is the pair ``(a, b)``)."""
        if self._pairs is None:
            self._pairs = _PairIndex(self.vocab)
        return self._pairs

    def decision(
        self,
        normalised: Sequence[str],
        features: FeatureCache | None = None,
        groups: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Class scores, shape (n_texts, n_classes): shared weights plus, for a model trained with groups,
        the correction of each text's group (texts of unknown groups get the shared weights only)."""
        ids, offsets = self.feature_ids(normalised, features)
        return self.decision_from_ids(ids, offsets, groups)

    def decision_from_ids(
        self, ids: np.ndarray, offsets: np.ndarray, groups: Sequence[str] | None = None
    ) -> np.ndarray:
        """Class scores from feature ids already looked up (see :meth:`feature_ids`); an id equal to
        :attr:`zero_row` stands for a feature this model does not know (it adds nothing)."""
        n = len(offsets) - 1
        c = len(self.classes)
        scores = np.tile(self.intercept[:c].astype(np.float32), (n, 1))
        if ids.size == 0:
            return scores
        weighted, squares = self._weighted()
        counts = np.diff(offsets)
        rows = ids
        blocks = self.blocks
        if blocks and groups is not None:
            # Rows of the text's block (shared weights plus its correction) for texts of known groups.
            index = {b: i for i, b in enumerate(blocks)}
            v = len(self.vocab)
            base = np.fromiter(((1 + index.get(x, -1)) * v for x in groups), dtype=np.int64, count=n)
            rows = np.where(ids < v, np.repeat(base, counts) + ids, ids)
        weights = np.take(weighted, rows, axis=0)
        nonempty = counts > 0
        idx = offsets[:-1][nonempty]
        sq = np.add.reduceat(squares[ids], idx)
        sums = np.add.reduceat(weights, idx, axis=0)
        # Texts whose features this model does not know at all keep the intercepts (0 / 1).
        scores[nonempty] += sums / np.sqrt(np.where(sq > 0, sq, 1))[:, None]
        return scores

    @property
    def zero_row(self) -> int:
        """Index of the all-zero row after the stacked coefficients (a feature unknown to this model)."""
        return len(self._padded()) - 1

    def _weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """Stacked coefficients (a block's rows with the shared weights added) times each feature's IDF (the
        value of a present binary feature), and the squared IDF of every shared row (zero elsewhere), both
        with the zero row at the end."""
        if self._weighted_coef is None:
            padded = self._padded()
            v = len(self.vocab)
            nb = (len(padded) - 1) // max(v, 1)
            weighted = padded.copy()
            if nb > 1:  # a block's rows: shared weights plus the block's correction
                weighted[v:-1] += np.tile(padded[:v], (nb - 1, 1))
            weighted[:-1] *= np.tile(self.idf.astype(np.float32), nb)[:, None]
            squares = np.zeros(len(padded), dtype=np.float32)
            squares[:v] = self.idf * self.idf
            self._weighted_coef = (weighted, squares)
        return self._weighted_coef

    def _stacked(self) -> np.ndarray:
        """Coefficients as a contiguous ((1 + n_blocks) * n_features, n_classes) matrix, shared block first."""
        return self._padded()[:-1]

    def _padded(self) -> np.ndarray:
        """:meth:`_stacked` with one more row of zeros at the end."""
        if self._stacked_coef is None:
            v, c = len(self.vocab), len(self.classes)
            nb = self.coef.shape[1] // c
            padded = np.zeros((nb * v + 1, c), dtype=self.coef.dtype)
            padded[:-1] = self.coef.reshape(v, nb, c).transpose(1, 0, 2).reshape(nb * v, c)
            self._stacked_coef = padded
        return self._stacked_coef

    @property
    def blocks(self) -> list[str]:
        """Group names (e.g. languages) with their own weight corrections; empty for a plain model."""
        raw = self.meta.get("blocks") or []
        return [str(b) for b in raw] if isinstance(raw, list) else []

    def predict_proba(
        self,
        normalised: Sequence[str],
        groups: Sequence[str] | None = None,
        features: FeatureCache | None = None,
    ) -> np.ndarray:
        """Class probabilities (softmax of :meth:`decision`), shape (n_texts, n_classes)."""
        return softmax(self.decision(normalised, features, groups))

    def predict_proba_texts(self, texts: Sequence[str], groups: Sequence[str] | None = None) -> np.ndarray:
        """Like :meth:`predict_proba` for raw texts (normalises them first)."""
        return self.predict_proba([model_text(t) for t in texts], groups)

    # -- persistence -------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the model as a compressed npz of plain arrays."""
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        vocab_blob = np.frombuffer("\n".join(words).encode("utf-8", "surrogatepass"), dtype=np.uint8)
        np.savez_compressed(
            path,
            vocab=vocab_blob,
            idf=self.idf.astype(np.float16),
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            classes=np.frombuffer(json.dumps(self.classes).encode(), dtype=np.uint8),
            spec=np.frombuffer(self.spec.to_json().encode(), dtype=np.uint8),
            meta=np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        """Read a model written by :meth:`save` (no pickles are allowed)."""
        with np.load(path, allow_pickle=False) as data:
            words = data["vocab"].tobytes().decode("utf-8", "surrogatepass").split("\n")
            vocab = {w: i for i, w in enumerate(words)}
            return cls(
                classes=list(json.loads(data["classes"].tobytes().decode())),
                spec=FeatureSpec.from_json(data["spec"].tobytes().decode()),
                vocab=vocab,
                idf=data["idf"].astype(np.float32),
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                meta=dict(json.loads(data["meta"].tobytes().decode())),
            )


class SharedFeatures:
    """One feature pass for several models with the same spec, through a joint vocabulary.

    Sentiment and crisis models look at the same n-grams; enriching a batch looks each word up once and maps
    the joint ids to each model's ids with one numpy gather.
    """

    def __init__(self, models: Sequence[LinearModel]) -> None:
        spec = models[0].spec
        if any(m.spec != spec for m in models):
            raise ValueError("shared features need models with the same feature spec")
        joint: dict[str, int] = {}
        for m in models:
            for f in m.vocab:
                joint.setdefault(f, len(joint))
        self.models = list(models)
        # Joint id -> the model's row, or the model's zero row for features it does not know.
        self.maps: list[np.ndarray] = []
        for m in models:
            mapping = np.full(len(joint), m.zero_row, dtype=np.int64)
            mapping[np.fromiter((joint[f] for f in m.vocab), dtype=np.int64, count=len(m.vocab))] = np.fromiter(
                m.vocab.values(), dtype=np.int64, count=len(m.vocab)
            )
            self.maps.append(mapping)
        empty = np.zeros(0, dtype=np.float32)
        self._lookup = LinearModel([], spec, joint, empty, empty.reshape(0, 0), empty)

    def decisions(
        self, normalised: Sequence[str], groups: Sequence[Sequence[str] | None]
    ) -> list[np.ndarray]:
        """Each model's class scores (see :meth:`LinearModel.decision`), ``groups`` given per model."""
        ids, offsets = self._lookup.feature_ids(normalised)
        return [
            model.decision_from_ids(mapping[ids], offsets, model_groups)
            for model, mapping, model_groups in zip(self.models, self.maps, groups, strict=True)
        ]


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out
