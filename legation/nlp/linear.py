"""Sparse n-gram features and linear classifiers evaluated with numpy only.

A model file is a compressed ``.npz`` holding plain arrays (no pickles): the feature vocabulary as UTF-8 bytes,
the IDF weights, the coefficient matrix, the intercepts, the class names and the feature spec as JSON.
Training (``training/``) builds the same features with :func:`doc_features`, so inference matches training
exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from legation.nlp.text import model_text

_TOKEN = re.compile(r"\w+|[^\w\s]")
_MAX_TOKENS = 300
_MAX_SUBWORD_TOKEN = 30
# Words seen most recently keep their feature ids (~0.3 KB each); the cache restarts when full.
_WORD_CACHE_SIZE = 100_000


# N-gram strings of recent words, so that two models with the same spec (sentiment and crisis in one enrich
# batch) build them once; small because the strings are heavy (~2 KB per word).
_SHARED_NGRAM_CACHE_SIZE = 20_000
_features_of_word: dict[tuple[str, int, int, bool], list[str]] = {}


def _word_features(tok: str, spec: FeatureSpec) -> list[str]:
    """A word's own feature and its character n-grams, shared by every model with the same spec."""
    key = (tok, spec.char_min, spec.char_max, spec.words)
    feats = _features_of_word.get(key)
    if feats is None:
        feats = [tok] if spec.words else []
        if spec.char_max and 2 <= len(tok) <= _MAX_SUBWORD_TOKEN:
            w = f"<{tok}>"
            size = len(w)
            for n in range(spec.char_min, min(spec.char_max, size) + 1):
                feats.extend([w[k : k + n] for k in range(size - n + 1)])
        if len(_features_of_word) >= _SHARED_NGRAM_CACHE_SIZE:
            _features_of_word.clear()
        _features_of_word[key] = feats
    return feats


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
    _word_cache: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)
    _stacked_coef: np.ndarray | None = field(default=None, repr=False, compare=False)

    # -- features -----------------------------------------------------------------------------------------
    def feature_ids(
        self, normalised: Sequence[str], features: FeatureCache | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, offsets): the known feature ids of every text, concatenated, and each text's start.

        Same features as :func:`doc_features`, computed through a per-word cache (a word's own id and its
        character n-grams' ids), since most words of a stream have been seen before.
        """
        all_ids: list[int] = []
        offsets = np.zeros(len(normalised) + 1, dtype=np.int64)
        doc_ids = self._doc_ids
        for i, text in enumerate(normalised):
            all_ids.extend(doc_ids(text))
            offsets[i + 1] = len(all_ids)
        return np.asarray(all_ids, dtype=np.int64), offsets

    def _doc_ids(self, text: str) -> set[int]:
        spec = self.spec
        get = self.vocab.get
        cache = self._word_cache
        toks = tokens(text)
        ids: set[int] = set()
        for tok in toks:
            known = cache.get(tok)
            if known is None:
                found = list(map(get, _word_features(tok, spec)))
                known = tuple([j for j in found if j is not None] if None in found else found)  # type: ignore[arg-type]
                if len(cache) >= _WORD_CACHE_SIZE:
                    cache.clear()
                cache[tok] = known
            ids.update(known)
        if spec.bigrams:
            for a, b in zip(toks, toks[1:], strict=False):
                j = get(f"{a} {b}")
                if j is not None:
                    ids.add(j)
        if spec.text_char_max:
            t = f" {text[:400]} "
            size = len(t)
            for n in range(2, spec.text_char_max + 1):
                for k in range(size - n + 1):
                    j = get("\x01" + t[k : k + n])
                    if j is not None:
                        ids.add(j)
        return ids

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
        """Class scores from feature ids already looked up (see :meth:`feature_ids`)."""
        n = len(offsets) - 1
        c = len(self.classes)
        scores = np.tile(self.intercept[:c].astype(np.float32), (n, 1))
        if ids.size == 0:
            return scores
        vals = self.idf[ids]
        starts = offsets[:-1]
        counts = np.diff(offsets)
        blocks = self.blocks
        if blocks and groups is not None:
            # Rows of the (1 + n_blocks) * n_features stacked matrix: shared row plus the text's block row.
            index = {b: i for i, b in enumerate(blocks)}
            g = np.fromiter((index.get(x, -1) for x in groups), dtype=np.int64, count=n)
            block_of = np.repeat(g, counts)
            has = block_of >= 0
            padded = self._padded()
            weights = padded[ids]
            if has.any():
                # The text's block row, or the zero row at the end for texts of unknown groups.
                rows = np.where(has, (1 + block_of) * len(self.vocab) + ids, len(padded) - 1)
                weights += padded[rows]
        else:
            weights = self._padded()[ids]
        nonempty = counts > 0
        idx = starts[nonempty]
        sq = np.add.reduceat(vals * vals, idx)
        weights *= vals[:, None]
        weighted = np.add.reduceat(weights, idx, axis=0)
        scores[nonempty] += weighted / np.sqrt(sq)[:, None]
        return scores

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
        self.maps: list[np.ndarray] = []
        for m in models:
            mapping = np.full(len(joint), -1, dtype=np.int64)
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
        out = []
        for model, mapping, model_groups in zip(self.models, self.maps, groups, strict=True):
            mids = mapping[ids]
            keep = mids >= 0
            cumulative = np.concatenate([[0], np.cumsum(keep)])
            out.append(model.decision_from_ids(mids[keep], cumulative[offsets], model_groups))
        return out


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out
