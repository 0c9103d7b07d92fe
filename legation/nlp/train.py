"""Training of the linear models (shipped ones in ``training/``, a ministry's own through the CLI).

Needs scikit-learn and scipy, imported here only: inference (``linear.py``) needs numpy alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from legation.nlp.linear import FeatureSpec, LinearModel, doc_features


class NoFeaturesError(ValueError):
    """No feature is in at least ``min_df`` of the training texts: nothing to learn from."""


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


def matrix(model: LinearModel, docs: Sequence[str]) -> Any:
    """Binary TF-IDF l2-normalised CSR matrix, exactly as :meth:`LinearModel.decision` sees the texts."""
    import scipy.sparse as sp

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
    sample_weight: Sequence[float] | None = None,
) -> LinearModel:
    """Train a linear classifier over the spec's features of normalised ``docs`` and return a numpy model.

    ``algorithm`` is ``"logreg"`` (multinomial logistic regression) or ``"svm"`` (liblinear linear SVM,
    much faster on large sets). With ``groups`` (e.g. each text's language), every feature also gets one copy
    per group ("frustratingly easy" domain adaptation): shared weights plus per-group corrections; the
    coefficient matrix then has ``n_classes * (1 + n_groups)`` columns, shared block first, group names in
    ``meta["blocks"]``. ``sample_weight`` scales each text's say in the fit (as in scikit-learn).
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    vocab = build_vocab(docs, spec, min_df=min_df, max_features=max_features)
    if not vocab:
        raise NoFeaturesError(f"no feature is in at least {min_df} of the {len(docs)} training texts")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two different labels")
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
    clf: Any
    if algorithm == "svm":
        clf = LinearSVC(C=c, class_weight=class_weight)
    else:
        clf = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    clf.fit(x, np.asarray(labels), sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    coef, intercept = clf.coef_, clf.intercept_
    if len(classes) == 2:  # scikit-learn keeps one row for two classes
        coef = np.vstack([-coef, coef])
        intercept = np.array([-intercept[0], intercept[0]])
    else:
        order = [list(clf.classes_).index(k) for k in classes]
        coef, intercept = coef[order], intercept[order]
    v = len(vocab)
    model.coef = np.hstack([coef[:, b * v : (b + 1) * v].T for b in range(1 + len(blocks))]).astype(np.float32)
    model.intercept = np.concatenate([intercept] + [np.zeros(len(classes))] * len(blocks)).astype(np.float32)
    return model
