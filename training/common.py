"""Shared helpers for the training scripts: data location, sparse matrices, fitting, scoring.

Training needs scikit-learn and scipy; the shipped models need only numpy at run time.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from legation.nlp.linear import FeatureSpec, LinearModel, doc_features  # noqa: E402

MODELS_DIR = REPO / "legation" / "nlp" / "models"


def shared_data(arg: str | None = None) -> Path:
    """The training data folder: --data argument, else LEGATION_SHARED_DATA, else ../shared/data."""
    raw = arg or os.environ.get("LEGATION_SHARED_DATA") or str(REPO.parent / "shared" / "data")
    path = Path(raw)
    if not path.is_dir():
        raise SystemExit(f"training data folder not found: {path} (set LEGATION_SHARED_DATA)")
    return path


def build_vocab(docs: Sequence[str], spec: FeatureSpec, min_df: int = 2, max_features: int = 0) -> dict[str, int]:
    """Feature vocabulary: features seen in at least ``min_df`` training texts (most frequent first)."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(doc_features(d, spec)))
    items = [(f, c) for f, c in df.items() if c >= min_df]
    items.sort(key=lambda fc: (-fc[1], fc[0]))
    if max_features:
        items = items[:max_features]
    return {f: i for i, (f, _) in enumerate(items)}


def matrix(model: LinearModel, docs: Sequence[str]) -> sp.csr_matrix:
    """Binary TF-IDF l2-normalised matrix, exactly as :meth:`LinearModel.decision` sees the texts."""
    ids, offsets = model.feature_ids(docs)
    vals = model.idf[ids].astype(np.float64)
    x = sp.csr_matrix((vals, ids, offsets), shape=(len(docs), len(model.vocab)))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x)


def fit_linear(
    docs: Sequence[str],
    labels: Sequence[str],
    spec: FeatureSpec,
    c: float = 4.0,
    min_df: int = 2,
    max_features: int = 0,
    class_weight: str | None = "balanced",
    meta: dict[str, object] | None = None,
    groups: Sequence[str] | None = None,
    algorithm: str = "logreg",
) -> LinearModel:
    """Train a multinomial logistic regression over the spec's features and return a numpy model.

    With ``groups`` (e.g. each text's language), every feature also gets one copy per group ("frustratingly
    easy" domain adaptation): the model learns shared weights plus per-group corrections. The coefficient
    matrix then has ``n_classes * (1 + n_groups)`` columns, shared block first, group names in
    ``meta["blocks"]``.
    """
    vocab = build_vocab(docs, spec, min_df=min_df, max_features=max_features)
    classes = sorted(set(labels))
    n = len(docs)
    model = LinearModel(
        classes=classes,
        spec=spec,
        vocab=vocab,
        idf=np.ones(len(vocab), dtype=np.float32),
        coef=np.zeros((len(vocab), len(classes)), dtype=np.float32),
        intercept=np.zeros(len(classes), dtype=np.float32),
        meta=dict(meta or {}),
    )
    ids, _ = model.feature_ids(docs)
    df = np.bincount(ids, minlength=len(vocab)).astype(np.float64)
    model.idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
    x = matrix(model, docs)
    blocks = sorted(set(groups)) if groups is not None else []
    if groups is not None:
        g = np.asarray(groups)
        x = sp.hstack([x] + [sp.diags((g == b).astype(np.float64)) @ x for b in blocks]).tocsr()
        model.meta["blocks"] = blocks
    clf: LogisticRegression | LinearSVC
    if algorithm == "svm":  # liblinear: much faster on large sets; scores are margins, not log-odds
        clf = LinearSVC(C=c, class_weight=class_weight)
    else:
        clf = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    clf.fit(x, np.asarray(labels))
    coef = clf.coef_
    intercept = clf.intercept_
    if len(classes) == 2:  # sklearn keeps one row for two classes
        coef = np.vstack([-coef, coef])
        intercept = np.array([-intercept[0], intercept[0]])
    else:
        order = [list(clf.classes_).index(k) for k in classes]
        coef, intercept = coef[order], intercept[order]
    v = len(vocab)
    model.coef = np.hstack([coef[:, b * v : (b + 1) * v].T for b in range(1 + len(blocks))]).astype(np.float32)
    model.intercept = np.concatenate([intercept] + [np.zeros(len(classes))] * len(blocks)).astype(np.float32)
    return model


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    return float(f1_score(list(gold), list(pred), average="macro"))
