"""Shared helpers for the training scripts: data location, sparse matrices, fitting, scoring.

Training needs scikit-learn and scipy; the shipped models need only numpy at run time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from legation.nlp.linear import FeatureSpec, LinearModel  # noqa: E402
from legation.nlp.train import build_vocab, fit_linear, matrix  # noqa: E402,F401

MODELS_DIR = REPO / "legation" / "nlp" / "models"


def shared_data(arg: str | None = None) -> Path:
    """The training data folder: --data argument, else LEGATION_SHARED_DATA, else ../shared/data."""
    raw = arg or os.environ.get("LEGATION_SHARED_DATA") or str(REPO.parent / "shared" / "data")
    path = Path(raw)
    if not path.is_dir():
        raise SystemExit(f"training data folder not found: {path} (set LEGATION_SHARED_DATA)")
    return path


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    return float(f1_score(list(gold), list(pred), average="macro"))


def empty_model(
    docs: Sequence[str],
    labels: Sequence[str],
    spec: FeatureSpec,
    min_df: int = 2,
    meta: dict[str, object] | None = None,
    groups: Sequence[str] | None = None,
) -> LinearModel:
    """A model with the vocabulary, IDF and blocks of ``docs`` (as :func:`fit_linear` builds them) and zero
    weights, to fill with :func:`add_nb`."""
    vocab = build_vocab(docs, spec, min_df=min_df)
    classes = sorted(set(labels))
    blocks = sorted(set(groups)) if groups is not None else []
    nb = 1 + len(blocks)
    model = LinearModel(
        classes=classes,
        spec=spec,
        vocab=vocab,
        idf=np.ones(len(vocab), dtype=np.float32),
        coef=np.zeros((len(vocab), len(classes) * nb), dtype=np.float32),
        intercept=np.zeros(len(classes) * nb, dtype=np.float32),
        meta=dict(meta or {}),
    )
    if blocks:
        model.meta["blocks"] = blocks
    ids, _ = model.feature_ids(docs)
    df = np.bincount(ids, minlength=len(vocab)).astype(np.float64)
    model.idf = (np.log((1 + len(docs)) / (1 + df)) + 1.0).astype(np.float32)
    return model


def add_nb(
    model: LinearModel,
    docs: Sequence[str],
    labels: Sequence[str],
    c: float = 1.0,
    weight: float = 1.0,
    groups: Sequence[str] | None = None,
    algorithm: str = "logreg",
    class_weight: str | None = "balanced",
    sample_weight: Sequence[float] | None = None,
) -> LinearModel:
    """Add ``weight`` times an NB-SVM / NB-LR (Wang & Manning 2012) to ``model``'s weights, in place.

    One-vs-rest binary classifiers over the model's own TF-IDF features scaled by each class's log-count ratio
    r = log((p / |p|) / (q / |q|)) of binary counts (add-one smoothed); the scaling is folded into the weights,
    so the result is still one linear model in the package's numpy format (no run-time cost). With ``groups``
    the features get per-group copies as in :func:`fit_linear` (a model trained with groups must get the same
    groups here). ``sample_weight`` scales each text's say in the fits, the log-count ratios included.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    x = matrix(model, docs)
    ids, offsets = model.feature_ids(docs)
    v = len(model.vocab)
    binary = sp.csr_matrix((np.ones(len(ids)), ids, offsets), shape=(len(docs), v))
    blocks = sorted(set(groups)) if groups is not None else []
    if blocks != model.blocks:
        raise ValueError("groups must match the model's blocks")
    if groups is not None:
        g = np.asarray(groups)
        x = sp.hstack([x] + [sp.diags((g == b).astype(np.float64)) @ x for b in blocks]).tocsr()
    y = np.asarray(labels)
    sw = np.ones(len(docs)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    binary = sp.diags(sw) @ binary
    nb = 1 + len(blocks)
    coef = np.zeros((len(model.classes), v * nb))
    intercept = np.zeros(len(model.classes))
    for j, k in enumerate(model.classes):
        pos = y == k
        p = np.asarray(binary[pos].sum(axis=0)).ravel() + 1.0
        q = np.asarray(binary[~pos].sum(axis=0)).ravel() + 1.0
        r = np.tile(np.log((p / p.sum()) / (q / q.sum())), nb)
        clf: Any = (
            LinearSVC(C=c, class_weight=class_weight)
            if algorithm == "svm"
            else LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
        )
        clf.fit(x @ sp.diags(r), pos, sample_weight=sw)
        coef[j] = clf.coef_.ravel() * r
        intercept[j] = clf.intercept_[0]
    model.coef = model.coef + weight * np.hstack([coef[:, b * v : (b + 1) * v].T for b in range(nb)]).astype(np.float32)
    model.intercept = model.intercept + weight * np.concatenate(
        [intercept] + [np.zeros(len(model.classes))] * len(blocks)
    ).astype(np.float32)
    return model
