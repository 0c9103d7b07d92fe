"""Text classification with the shipped (or a ministry's own) linear models, in two tiers.

The fast tier is one linear model; the accurate tier adds a second model over character n-grams that cross
word boundaries (and, where a task ships one, a linear model over multilingual sentence vectors, see
:mod:`legation.nlp.embeddings`) and averages the models' probabilities, weighted by each model's
:func:`ensemble_weight`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from legation.nlp.embeddings import VectorModel, sentence_vectors
from legation.nlp.linear import FeatureCache, LinearModel, SharedFeatures, softmax
from legation.nlp.text import model_text

MODELS = Path(__file__).resolve().parent / "models"
TIERS = ("fast", "accurate")
MODEL_FILES: dict[str, dict[str, tuple[str, ...]]] = {
    "sentiment": {
        "fast": ("sentiment_fast.npz",),
        "accurate": ("sentiment_fast.npz", "sentiment_accurate_chars.npz", "sentiment_accurate_vectors.npz"),
    },
    "crisis": {
        "fast": ("crisis_fast.npz",),
        "accurate": ("crisis_fast.npz", "crisis_accurate_chars.npz", "crisis_accurate_vectors.npz"),
    },
}
_lock = threading.Lock()


@dataclass(frozen=True)
class Prediction:
    """Labels and class probabilities for a batch."""

    labels: list[str]
    probabilities: np.ndarray  # (n_texts, n_classes), columns in ``classes`` order
    classes: list[str]

    @property
    def confidences(self) -> list[float]:
        if not self.labels:
            return []
        return [float(x) for x in self.probabilities.max(axis=1)]


Model = LinearModel | VectorModel

# A post with no letter or digit to read (a photo without a caption, a row of emoji, a link or a mention
# alone) gets this label with certainty instead of the model's prior: for crisis, the prior is
# other_relevant_information, which would count every caption-less photo as crisis information.
WORDLESS_LABEL = {"crisis": "not_humanitarian"}
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_PLACEHOLDERS = re.compile(r"@user|\bhttp\b|\brt\b")  # what model_text writes for links, mentions, retweets


def wordless(doc: str) -> bool:
    """True when a normalised text (:func:`model_text`) has no letter or digit beside its link, mention and
    retweet placeholders."""
    if not _LETTER_OR_DIGIT.search(doc):
        return True
    return ("http" in doc or "@user" in doc) and not _LETTER_OR_DIGIT.search(_PLACEHOLDERS.sub("", doc))


def settle_wordless(task: str, docs: Sequence[str], probs: np.ndarray, classes: Sequence[str]) -> None:
    """Set, in place, the rows of ``probs`` whose normalised text has no letter or digit to the task's
    :data:`WORDLESS_LABEL` (a task without one, or a ministry model without that class, is left as it is)."""
    label = WORDLESS_LABEL.get(task)
    if label is None or label not in classes:
        return
    rows = [i for i, d in enumerate(docs) if wordless(d)]
    if rows:
        probs[rows] = 0.0
        probs[rows, list(classes).index(label)] = 1.0


@cache
def _load(path: str) -> Model:
    if VectorModel.is_vector_model(path):
        return VectorModel.load(path)
    return LinearModel.load(path)


def ensemble_weight(model: Model) -> float:
    """A model's weight in the probability average of a tier of several models (``meta["ensemble_weight"]``,
    chosen by cross-validation at training time; 1 when absent, i.e. a plain average). A tier of one model (the
    fast tier) ignores it: the sentiment fast model weighs 0 in the accurate tier and is not run there."""
    return float(model.meta.get("ensemble_weight", 1.0))  # type: ignore[arg-type]


def ensemble_weights(model: Model, groups: Sequence[str] | None, n: int) -> np.ndarray:
    """Each text's weight for ``model``, shape (n, 1): :func:`ensemble_weight`, or the weight of the text's
    group (language) where the model's ``meta["ensemble_weight_by_group"]`` names one."""
    default = ensemble_weight(model)
    by_group = model.meta.get("ensemble_weight_by_group")
    if not isinstance(by_group, dict) or groups is None:
        return np.full((n, 1), default, dtype=np.float32)
    return np.fromiter((float(by_group.get(g, default)) for g in groups), dtype=np.float32, count=n)[:, None]


def tier_weights(models: Sequence[Model], model: Model, groups: Sequence[str] | None, n: int) -> np.ndarray:
    """``model``'s weight for each text, shape (n, 1), in the probability average of the tier ``models``:
    :func:`ensemble_weights`, except that a tier of one model is that model alone (its weight plays no part)."""
    if len(models) == 1:
        return np.ones((n, 1), dtype=np.float32)
    return ensemble_weights(model, groups, n)


def models_to_run(models: Sequence[Model]) -> list[Model]:
    """The tier's models that weigh anything: in a tier of several, a model cross-validation gave weight 0 (and
    no per-language weight) is not run."""
    if len(models) == 1:
        return list(models)
    return [m for m in models if ensemble_weight(m) or m.meta.get("ensemble_weight_by_group")]


def load_models(task: str, tier: str = "fast", model_path: str | Path | None = None) -> list[Model]:
    """The models of a task and tier (a ministry's own model file replaces the shipped ones)."""
    if model_path is not None:
        with _lock:
            return [_load(str(Path(model_path).resolve()))]
    if task not in MODEL_FILES:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(MODEL_FILES)}")
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {TIERS}")
    with _lock:
        return [_load(str(MODELS / name)) for name in MODEL_FILES[task][tier]]


def _vectors(done: dict[str, np.ndarray], docs: list[str], model: VectorModel) -> np.ndarray:
    """The sentence vectors ``model`` reads, computed once per kind and batch (``done`` holds them)."""
    if model.vectors not in done:
        done[model.vectors] = sentence_vectors(docs, model.vectors)
    return done[model.vectors]


def classify(
    texts: Sequence[str],
    task: str,
    tier: str = "fast",
    groups: Sequence[str] | None = None,
    model_path: str | Path | None = None,
    normalised: Sequence[str] | None = None,
    features: FeatureCache | None = None,
) -> Prediction:
    """Classify already-valid texts; ``groups`` are the texts' languages for language-aware models."""
    models = models_to_run(load_models(task, tier, model_path))
    docs = list(normalised) if normalised is not None else [model_text(t) for t in texts]
    classes = models[0].classes
    if not docs:
        return Prediction([], np.zeros((0, len(classes)), dtype=np.float32), classes)
    probs = np.zeros((len(docs), len(classes)), dtype=np.float32)
    total = np.zeros((len(docs), 1), dtype=np.float32)
    vectors: dict[str, np.ndarray] = {}  # one pass per kind of sentence vectors
    for m in models:
        w = tier_weights(models, m, groups, len(docs))
        if not w.any():  # no weight for any text of this batch (weights per language)
            continue
        if isinstance(m, VectorModel):
            p = softmax(m.decision_from_vectors(_vectors(vectors, docs, m), groups))
        else:
            p = m.predict_proba(docs, groups, features)
        probs += w * p
        total += w
    probs /= np.maximum(total, 1e-12)
    settle_wordless(task, docs, probs, classes)
    return Prediction([classes[i] for i in probs.argmax(axis=1)], probs, classes)


_shared: dict[tuple[int, ...], SharedFeatures] = {}


def classify_tasks(
    texts: Sequence[str],
    groups: dict[str, Sequence[str] | None],
    tier: str = "fast",
    normalised: Sequence[str] | None = None,
) -> dict[str, Prediction]:
    """Several tasks over one batch (e.g. sentiment and crisis in ``enrich``), with one feature pass per
    feature spec shared by all their models; ``groups`` maps each task to its texts' groups (or None)."""
    docs = list(normalised) if normalised is not None else [model_text(t) for t in texts]
    task_models = {task: models_to_run(load_models(task, tier)) for task in groups}
    by_spec: dict[object, list[LinearModel]] = {}
    vector_models: list[VectorModel] = []
    for models in task_models.values():
        for m in models:
            if isinstance(m, VectorModel):
                vector_models.append(m)
                continue
            same = by_spec.setdefault(m.spec, [])
            if all(m is not other for other in same):
                same.append(m)
    owner = {id(m): task for task, models in task_models.items() for m in models}
    probs_of: dict[int, np.ndarray] = {}
    for same_spec in by_spec.values():
        key = tuple(id(m) for m in same_spec)
        with _lock:
            shared = _shared.get(key)
            if shared is None:
                shared = _shared[key] = SharedFeatures(same_spec)
        scores = shared.decisions(docs, [groups[owner[id(m)]] for m in same_spec])
        for lm, sc in zip(same_spec, scores, strict=True):
            probs_of[id(lm)] = softmax(sc)
    vectors: dict[str, np.ndarray] = {}  # one sentence-vector pass per kind for every task's vector models
    for vm in vector_models:
        probs_of[id(vm)] = softmax(vm.decision_from_vectors(_vectors(vectors, docs, vm), groups[owner[id(vm)]]))
    out: dict[str, Prediction] = {}
    for task, models in task_models.items():
        classes = models[0].classes
        probs = np.zeros((len(docs), len(classes)), dtype=np.float32)
        total = np.zeros((len(docs), 1), dtype=np.float32)
        for m in models:
            w = tier_weights(models, m, groups[task], len(docs))
            probs += w * probs_of[id(m)]
            total += w
        if len(docs):
            probs /= np.maximum(total, 1e-12)
            settle_wordless(task, docs, probs, classes)
        labels = [classes[i] for i in probs.argmax(axis=1)] if len(docs) else []
        out[task] = Prediction(labels, probs, classes)
    return out


def clear_caches() -> None:
    """Forget the per-word caches of the loaded models (benchmarks measure a cold start with it)."""
    from legation.nlp import duplicates, linear, places

    with _lock:
        for task in MODEL_FILES.values():
            for names in task.values():
                for name in names:
                    path = MODELS / name
                    if path.exists() and isinstance(model := _load(str(path)), LinearModel):
                        model._word_cache.clear()
        for shared in _shared.values():
            shared._lookup._word_cache.clear()
    duplicates._word_hash_cache.clear()
    linear._features_of_word.clear()
    if places._gazetteer is not None:
        places._gazetteer._fold_cache.clear()
