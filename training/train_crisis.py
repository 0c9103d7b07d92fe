"""Train the crisis-category models (the ten HumAID classes) and evaluate them three ways.

1. HumAID dev (official split, same events as training);
2. leave-events-out: whole HumAID events held out, trained on the others (a model always meets a new disaster);
3. CrisisLexT26 (2012-2013 disasters absent from training, several languages) mapped to coarse categories.
Each is printed next to the baseline (plain scikit-learn TF-IDF + LogisticRegression). Writes
``legation/nlp/models/crisis_fast.npz``, ``crisis_accurate_chars.npz`` and ``crisis_accurate_vectors.npz``.
The shipped ``crisis_accurate_vectors.npz`` is the fine-tuned encoder's head: run ``train_tuned.py`` after this
script (see docs/nlp.md, "Retraining"), or this script's vector model over the frozen encoder ships instead.

The accurate tier's third model is a logistic regression over multilingual sentence vectors
(:mod:`legation.nlp.embeddings`) between the coarse categories (each HumAID class gets its category's weights),
trained on HumAID train and CrisisLexT26 posts (weight ``LEX_WEIGHT`` each), its scores scaled by
``VECTOR_SCALE``. Since CrisisLexT26 is then training data, its score is cross-fitted: the 20 events are split
in two halves (alternate events in name order) and each half is scored by a vector model trained on HumAID and
the other half. ``--choose`` re-runs the choice of the two constants
(nested: for each half, chosen on the other half alone, by the mean of that half's inner cross-fitted score and
HumAID train 5-fold out-of-fold macro-F1 with vector models trained on the other folds and all CrisisLexT26;
~20 minutes more).

    .venv/bin/python training/train_crisis.py [--data ../shared/data] [--events-out N] [--no-save]
        [--vectors-only] [--choose] [--choose-weights] [--cv]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from common import MODELS_DIR, add_nb, fit_linear, macro_f1, shared_data
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from legation.nlp.crisis import CLASSES, COARSE_OF, CRISISLEX_TO_COARSE
from legation.nlp.embeddings import ENCODER, VectorModel, sentence_vectors
from legation.nlp.language import detect_languages
from legation.nlp.linear import FeatureSpec, LinearModel, softmax
from legation.nlp.text import model_text

# The sentence vectors of the vector model: the whole USE Multilingual encoder's (since 2026-11-23; the static
# average of its sub-word vectors before), see the model card.
VECTORS = ENCODER
# Chosen by --choose (see the module docstring and the model card).
FAST_NB_C = 0.1
LEX_WEIGHT = 3.0
VECTOR_SCALE = 0.4
# The vector model's weight in the accurate tier's average (the n-gram models weigh 1 each), per language: for
# English posts by HumAID train 5-fold out-of-fold macro-F1, for other languages by the cross-fitted
# CrisisLexT26 non-English posts (``--choose-weights``; meta ``ensemble_weight_by_group`` / ``ensemble_weight``).
VECTOR_WEIGHT_EN = 1.0
VECTOR_WEIGHT_OTHER = 16.0
WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 48.0)
# Posts with no language (emoji, numbers, a failed detection) get the English weight: the n-gram models decide.
ENGLISH = ("en", "und")

Rows = tuple[list[str], list[str], list[str]]  # texts, labels, events

# Since 2026-12-05 CrisisLexT26's posts join the n-gram models' training: 20 more disasters (2012-2013), in several
# languages, where HumAID has 10 English-speaking ones. Each coarse type maps to one HumAID class, except
# "Affected individuals", which spans three: such a post gets the one of the three that a fast model trained on
# HumAID alone finds likeliest. See the model card for what it changed.
LEX_FINE = {
    "caution_and_advice": "caution_and_advice",
    "donations_and_volunteering": "rescue_volunteering_or_donation_effort",
    "infrastructure_and_utilities": "infrastructure_and_utility_damage",
    "sympathy_and_support": "sympathy_and_support",
    "other_useful_information": "other_relevant_information",
    "not_applicable": "not_humanitarian",
}
AFFECTED = ("injured_or_dead_people", "missing_or_found_people", "displaced_people_and_evacuations")
# In the fast model's fits an English CrisisLexT26 row counts half as much as a HumAID post (HumAID is English
# too, and its labels are finer), a row in another language fully (nothing else teaches those languages); the
# character model's rows all count 1. Chosen 2026-12-05 by HumAID out-of-fold, dev and the unseen disasters
# between all rows at 1, 0.5 and 0.3 and English rows at 0.5 or 0.3: see the model card.
LEX_WEIGHT_ENGLISH = 0.5
LEX_WEIGHT_OTHER = 1.0


def lex_training_rows(lex: Rows, humaid_fast: LinearModel) -> Rows:
    """CrisisLexT26 posts as n-gram training rows: texts, HumAID classes (see LEX_FINE), events."""
    affected = [i for i, y in enumerate(lex[1]) if y == "affected_individuals"]
    scores = ngram_scores([humaid_fast], [lex[0][i] for i in affected])[0]
    columns = [humaid_fast.classes.index(c) for c in AFFECTED]
    fine = {i: AFFECTED[int(np.argmax(row[columns]))] for i, row in zip(affected, scores, strict=True)}
    fine.update({i: LEX_FINE[y] for i, y in enumerate(lex[1]) if y in LEX_FINE})
    keep = sorted(fine)
    return [lex[0][i] for i in keep], [fine[i] for i in keep], [lex[2][i] for i in keep]


def with_lex(hum: Rows, lex_rows: Rows, events: set[str] | None = None) -> Rows:
    """HumAID rows plus the CrisisLexT26 training rows (of ``events`` only, when given)."""
    keep = [i for i, e in enumerate(lex_rows[2]) if events is None or e in events]
    return (hum[0] + [lex_rows[0][i] for i in keep], hum[1] + [lex_rows[1][i] for i in keep],
            hum[2] + [lex_rows[2][i] for i in keep])


def row_weights(n_humaid: int, lex_texts: list[str]) -> list[float]:
    """The fast model's sample weights for rows of :func:`with_lex`: HumAID rows first, then CrisisLexT26's."""
    langs = detect_languages(lex_texts) if lex_texts else []
    return [1.0] * n_humaid + [LEX_WEIGHT_ENGLISH if lang == "en" else LEX_WEIGHT_OTHER for lang in langs]


def read_humaid(root: Path, split: str) -> Rows:
    texts: list[str] = []
    labels: list[str] = []
    events: list[str] = []
    for event in sorted(p.name for p in root.iterdir() if p.is_dir()):
        with (root / event / f"{split}.tsv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                texts.append(row["tweet_text"])
                labels.append(row["class_label"])
                events.append(event)
    return texts, labels, events


def read_crisislex(root: Path) -> Rows:
    texts: list[str] = []
    labels: list[str] = []
    events: list[str] = []
    for path in sorted(root.glob("*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            for row in csv.DictReader(f, skipinitialspace=True):
                coarse = CRISISLEX_TO_COARSE.get((row.get("Information Type") or "").strip())
                if coarse:
                    texts.append(row["Tweet Text"])
                    labels.append(coarse)
                    events.append(path.stem)
    return texts, labels, events


def fit_fast(texts: list[str], labels: list[str], meta: dict[str, object],
             weights: list[float] | None = None) -> LinearModel:
    docs = [model_text(t) for t in texts]
    fast = fit_linear(docs, labels, FeatureSpec(), c=0.3, class_weight="balanced", algorithm="svm", meta=meta,
                      sample_weight=weights)
    # Plus an NB-SVM over the same features (C=0.1), merged into the same weights: no run-time cost. Chosen by
    # HumAID train 5-fold out-of-fold macro-F1 (0.7075 -> 0.7207; --cv prints it), see the model card.
    add_nb(fast, docs, labels, c=FAST_NB_C, algorithm="svm", sample_weight=weights)
    return fast


def train_models(texts: list[str], labels: list[str], meta: dict[str, object],
                 weights: list[float] | None = None) -> list[LinearModel]:
    """The fast and character models; ``weights`` (:func:`row_weights`) are the fast model's sample weights."""
    docs = [model_text(t) for t in texts]
    fast = fit_fast(texts, labels, meta, weights)
    chars = fit_linear(docs, labels, FeatureSpec(bigrams=True, char_max=0, text_char_max=5), c=0.3,
                       class_weight="balanced", algorithm="svm", min_df=3, meta=meta)
    return [fast, chars]


def predict(models: list[LinearModel], texts: list[str]) -> list[str]:
    docs = [model_text(t) for t in texts]
    probs = sum(m.predict_proba(docs) for m in models)
    return [models[0].classes[i] for i in np.asarray(probs).argmax(axis=1)]


def ngram_scores(models: list[LinearModel], texts: list[str]) -> list[np.ndarray]:
    docs = [model_text(t) for t in texts]
    return [m.decision(docs) for m in models]


def vectors(texts: list[str]) -> np.ndarray:
    return sentence_vectors([model_text(t) for t in texts], VECTORS)


def fit_vector_model(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, classes: list[str], scale: float, meta: dict[str, object]
) -> VectorModel:
    """Logistic regression over sentence vectors between the coarse categories (labels may be HumAID classes or
    coarse categories), written out as a model of the HumAID classes: every class gets its category's weights,
    so the model moves posts between categories and leaves the choice within one to the n-gram models."""
    coarse = np.asarray([COARSE_OF.get(str(v), str(v)) for v in y])
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(x, coarse, sample_weight=weights)
    order = [list(clf.classes_).index(COARSE_OF[k]) for k in classes]
    return VectorModel(classes, (scale * clf.coef_[order].T).astype(np.float32),
                       (scale * clf.intercept_[order]).astype(np.float32), {**meta, "vectors": VECTORS})


def fused(scores: list[np.ndarray], extra: np.ndarray | None = None, weight: np.ndarray | float = 1.0) -> np.ndarray:
    """Weighted average of the models' probabilities, as :func:`legation.nlp.classify.classify` does (n-gram
    models weigh 1, the vector model ``weight``, a scalar or one per text)."""
    if extra is None:
        return np.asarray(sum(softmax(s) for s in scores))
    w = np.asarray(weight, dtype=np.float64).reshape(-1, 1) if np.ndim(weight) else float(weight)
    probs = (sum(softmax(s) for s in scores) + w * softmax(extra)) / (len(scores) + w)
    return np.asarray(probs)


def text_weights(langs: np.ndarray, w_en: float, w_other: float) -> np.ndarray:
    """The vector model's weight for each text, as ``ensemble_weights`` gives it from the model's meta."""
    return np.where(np.isin(langs, ENGLISH), w_en, w_other)


def choose_weights(
    hum: tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray],
    lex: tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    classes: list[str],
) -> dict[str, object]:
    """The vector model's weight for non-English posts (cross-fitted CrisisLexT26 non-English posts, coarse
    macro-F1) and then for English posts (HumAID train out-of-fold macro-F1, non-English posts there at the
    first weight), with a nested check of the first: each half of the events scored at the weight chosen on the
    other half. ``hum`` = (n-gram scores, vector scores, gold, languages), ``lex`` adds the events."""
    names, coarse_of = np.asarray(classes), np.asarray([COARSE_OF[k] for k in classes])
    l_s, l_v, l_y, l_lang, l_ev = lex
    other = ~np.isin(l_lang, ENGLISH)

    def lex_f1(mask: np.ndarray, w: float) -> float:
        pred = coarse_of[fused([s[mask] for s in l_s], l_v[mask], w).argmax(axis=1)]
        return macro_f1(l_y[mask], pred)

    by_other = {w: lex_f1(other, w) for w in WEIGHT_GRID}
    w_other = max(WEIGHT_GRID, key=lambda w: (by_other[w], -w))
    nested = np.empty(len(l_y), dtype=object)
    nested_choice = {}
    for held, rest in zip(halves(set(l_ev)), reversed(halves(set(l_ev))), strict=True):
        inner = other & np.isin(l_ev, list(rest))
        w = max(WEIGHT_GRID, key=lambda w: (lex_f1(inner, w), -w))
        m = other & np.isin(l_ev, list(held))
        nested[m] = coarse_of[fused([s[m] for s in l_s], l_v[m], w).argmax(axis=1)]
        nested_choice[f"{len(held)} events from {min(held)}"] = w
    h_s, h_v, h_y, h_lang = hum

    def hum_f1(w_en: float) -> float:
        return macro_f1(h_y, names[fused(h_s, h_v, text_weights(h_lang, w_en, w_other)).argmax(axis=1)])

    by_en = {w: hum_f1(w) for w in WEIGHT_GRID}
    lex_en = {str(w): round(lex_f1(~other, w), 4) for w in WEIGHT_GRID}  # reported only, not used
    w_en = max(WEIGHT_GRID, key=lambda w: (by_en[w], -w))
    return {
        "weight_other": w_other, "weight_en": w_en,
        "crisislex_non_english_by_weight": {str(k): round(v, 4) for k, v in by_other.items()},
        "humaid_oof_by_english_weight": {str(k): round(v, 4) for k, v in by_en.items()},
        "crisislex_english_by_weight_not_used": lex_en,
        "crisislex_non_english_chosen": round(by_other[w_other], 4),
        "crisislex_non_english_nested": round(macro_f1(l_y[other], nested[other].astype(str)), 4),
        "nested_choices": nested_choice,
    }


class LexCrossFit:
    """Vector models trained on HumAID train plus some CrisisLexT26 events, scoring the other events."""

    def __init__(self, hum_x: np.ndarray, hum_y: list[str], lex_x: np.ndarray, lex_y: np.ndarray,
                 lex_events: list[str], classes: list[str]) -> None:
        self.hum_x, self.hum_y, self.lex_x, self.lex_y = hum_x, np.asarray(hum_y), lex_x, lex_y
        self.events, self.classes = np.asarray(lex_events), classes
        self._fits: dict[tuple[tuple[str, ...], float], VectorModel] = {}

    def model(self, train_events: set[str], lex_weight: float) -> VectorModel:
        key = (tuple(sorted(train_events)), lex_weight)
        if key not in self._fits:
            m = np.isin(self.events, list(train_events))
            x = np.vstack([self.hum_x, self.lex_x[m]])
            y = np.concatenate([self.hum_y, self.lex_y[m]])
            w = np.concatenate([np.ones(len(self.hum_y)), np.full(int(m.sum()), lex_weight)])
            self._fits[key] = fit_vector_model(x, y, w, self.classes, 1.0, {})
        return self._fits[key]

    def raw_scores(self, train_events: set[str], test_events: set[str], lex_weight: float) -> tuple[np.ndarray,
                                                                                                    np.ndarray]:
        m = np.isin(self.events, list(test_events))
        return m, self.model(train_events, lex_weight).decision_from_vectors(self.lex_x[m])


def halves(events: set[str]) -> tuple[set[str], set[str]]:
    ordered = sorted(events)
    return set(ordered[0::2]), set(ordered[1::2])


def baseline(train: Rows, texts: list[str]) -> list[str]:
    vec = TfidfVectorizer()
    clf = LogisticRegression(max_iter=1000).fit(vec.fit_transform(train[0]), train[1])
    return [str(p) for p in clf.predict(vec.transform(texts))]


SCALES = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8)
LEX_WEIGHTS = (1.0, 3.0)


def humaid_oof_scores(train: Rows, hum_x: np.ndarray, classes: list[str], lex_x: np.ndarray, lex_y: np.ndarray,
                      lex_weights: tuple[float, ...] = LEX_WEIGHTS, lex_rows: Rows | None = None
                      ) -> tuple[list[np.ndarray], dict[float, np.ndarray]]:
    """HumAID train 5-fold out-of-fold scores: the two n-gram models' (with ``lex_rows``), and the vector
    model's (scale 1, trained on the other folds and all CrisisLexT26 at each lex weight)."""
    y = np.asarray(train[1])
    folds = humaid_folds(train[1])
    s0, s1 = humaid_oof_ngram_scores(train, classes, lex_rows)
    vecs = {}
    for lex_weight in lex_weights:
        vec = np.zeros((len(y), len(classes)), dtype=np.float32)
        for a, b in folds:
            vm = fit_vector_model(np.vstack([hum_x[a], lex_x]), np.concatenate([y[a], lex_y]),
                                  np.concatenate([np.ones(len(a)), np.full(len(lex_y), lex_weight)]), classes, 1.0, {})
            vec[b] = vm.decision_from_vectors(hum_x[b])
        vecs[lex_weight] = vec
    return [s0, s1], vecs


def lex_crossfit_ngram_scores(train: Rows, lex: Rows, lex_rows: Rows) -> list[np.ndarray]:
    """The two n-gram models' scores on every CrisisLexT26 post, cross-fitted: each half of its events scored by
    models trained on HumAID train and the other half's training rows, so no post is scored by a model that
    learnt from its own disaster."""
    scores = [np.zeros((len(lex[0]), len(CLASSES)), dtype=np.float32) for _ in range(2)]
    events = np.asarray(lex[2])
    for held, other in zip(halves(set(lex[2])), reversed(halves(set(lex[2]))), strict=True):
        rows = with_lex(train, lex_rows, other)
        ms = train_models(rows[0], rows[1], {}, row_weights(len(train[0]), rows[0][len(train[0]):]))
        m = np.isin(events, list(held))
        for part, sc in zip(scores, ngram_scores(ms, [t for t, k in zip(lex[0], m, strict=True) if k]), strict=True):
            part[m] = sc
        print("cross-fitted CrisisLexT26 n-gram half done", flush=True)
    return scores


def humaid_folds(labels: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 5 (train, test) index pairs of HumAID train's cross-validation (stratified, shuffled, seed 0;
    ``finetune_data.py`` gives the GPU fine-tune the same folds)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    return list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def humaid_oof_ngram_scores(train: Rows, classes: list[str], lex_rows: Rows | None = None) -> list[np.ndarray]:
    """HumAID train 5-fold out-of-fold scores of the two n-gram models (each fold's models trained on the other
    folds and, as the shipped ones, the CrisisLexT26 rows when given)."""
    s0, s1 = (np.zeros((len(train[1]), len(classes)), dtype=np.float32) for _ in range(2))
    extra: Rows = lex_rows or ([], [], [])
    for a, b in humaid_folds(train[1]):
        ms = train_models([train[0][i] for i in a] + extra[0], [train[1][i] for i in a] + extra[1], {},
                          row_weights(len(a), extra[0]))
        s0[b], s1[b] = ngram_scores(ms, [train[0][i] for i in b])
        print("out-of-fold n-gram part done", flush=True)
    return [s0, s1]


def humaid_oof(train: Rows, hum_x: np.ndarray, classes: list[str], lex_x: np.ndarray, lex_y: np.ndarray,
               lex_rows: Rows | None = None) -> dict[tuple[float, float], float]:
    """HumAID train 5-fold out-of-fold macro-F1 of the accurate tier for each (lex weight, vector scale)."""
    y = np.asarray(train[1])
    names = np.asarray(classes)
    (s0, s1), vecs = humaid_oof_scores(train, hum_x, classes, lex_x, lex_y, lex_rows=lex_rows)
    return {(lw, scale): macro_f1(y, names[fused([s0, s1], scale * vec).argmax(axis=1)])
            for lw, vec in vecs.items() for scale in SCALES}


def choose(cf: LexCrossFit, pool: set[str], lex_s: list[np.ndarray], lex: Rows,
           hum: dict[tuple[float, float], float]) -> tuple[float, float, float]:
    """(criterion, lex_weight, scale) maximising mean(inner cross-fitted CrisisLexT26 score on ``pool``, HumAID
    out-of-fold score)."""
    first, second = halves(pool)
    coarse_of = np.asarray([COARSE_OF[k] for k in cf.classes])
    gold = np.asarray(lex[1])
    best = (-1.0, 0.0, 0.0)
    for lex_weight in LEX_WEIGHTS:
        parts = [cf.raw_scores(tr, te, lex_weight) for tr, te in ((first, second), (second, first))]
        mask = parts[0][0] | parts[1][0]
        for scale in SCALES:
            pred = np.empty(len(gold), dtype=object)
            for m, raw in parts:
                pred[m] = coarse_of[fused([s[m] for s in lex_s], scale * raw).argmax(axis=1)]
            crit = 0.5 * macro_f1(gold[mask], pred[mask].astype(str)) + 0.5 * hum[lex_weight, scale]
            print(f"  choice over {len(pool)} events: lex weight {lex_weight}, scale {scale}: {crit:.4f}", flush=True)
            best = max(best, (crit, lex_weight, scale))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--events-out", type=int, default=3, help="how many HumAID events to hold out, one at a time")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--vectors-only", action="store_true",
                    help="keep the shipped n-gram models, train (and evaluate) the vector model only")
    ap.add_argument("--choose", action="store_true", help="re-run the choice of LEX_WEIGHT and VECTOR_SCALE")
    ap.add_argument("--cv", action="store_true",
                    help="also print HumAID train 5-fold out-of-fold macro-F1 of every model (~15 minutes more)")
    ap.add_argument("--choose-weights", action="store_true",
                    help="re-run the choice of VECTOR_WEIGHT_EN and VECTOR_WEIGHT_OTHER (~15 minutes more)")
    args = ap.parse_args()
    data = shared_data(args.data)
    humaid = data / "crisis" / "humaid"
    train, dev = read_humaid(humaid, "train"), read_humaid(humaid, "dev")
    lex = read_crisislex(data / "crisis" / "crisislex-t26")
    report: dict[str, object] = {}
    t0 = time.time()
    # The CrisisLexT26 rows the n-gram models learn from (LEX_FINE), labelled with a HumAID-only fast model.
    lex_rows = lex_training_rows(lex, fit_fast(train[0], train[1], {}))
    if args.vectors_only:
        models = [LinearModel.load(MODELS_DIR / name) for name in ("crisis_fast.npz", "crisis_accurate_chars.npz")]
    else:
        rows = with_lex(train, lex_rows)
        meta: dict[str, object] = {"task": "crisis", "data": "HumAID train (10 events) + CrisisLexT26 (20 events, "
                "coarse types mapped "
                "to HumAID classes)", "lex_row_weights": {"en": LEX_WEIGHT_ENGLISH, "other": LEX_WEIGHT_OTHER}}
        models = train_models(rows[0], rows[1], meta, row_weights(len(train[0]), lex_rows[0]))
        print(f"trained in {time.time() - t0:.0f}s; vocab {len(models[0].vocab)} + {len(models[1].vocab)}", flush=True)
    classes = models[0].classes
    names = np.asarray(classes)
    hum_x, dev_x, lex_x = vectors(train[0]), vectors(dev[0]), vectors(lex[0])
    # CrisisLexT26 is n-gram training data too, so its n-gram scores are cross-fitted (by halves of its events).
    dev_s, lex_s = ngram_scores(models, dev[0]), lex_crossfit_ngram_scores(train, lex, lex_rows)
    lex_fine = np.asarray(lex[1])  # coarse categories: the vector model is trained between categories
    cf = LexCrossFit(hum_x, train[1], lex_x, lex_fine, lex[2], classes)
    lex_events = set(lex[2])
    lex_weight, scale = LEX_WEIGHT, VECTOR_SCALE
    choices: dict[str, object] = {}
    hum: dict[tuple[float, float], float] = {}
    if args.choose:
        hum = humaid_oof(train, hum_x, classes, lex_x, lex_fine, lex_rows)
        print("HumAID out-of-fold", hum, flush=True)
        _, lex_weight, scale = choose(cf, lex_events, lex_s, lex, hum)
        choices["all_events"] = {"lex_weight": lex_weight, "scale": scale}
    # CrisisLexT26: predictions mapped to coarse categories, per language too. The accurate tier's vector model
    # is cross-fitted (each half of the events scored by a model trained without them, constants chosen without
    # them under --choose).
    langs = np.asarray(detect_languages(lex[0]))
    hum_langs, dev_langs = np.asarray(detect_languages(train[0])), np.asarray(detect_languages(dev[0]))
    lex_v = np.zeros((len(lex[0]), len(classes)), dtype=np.float32)
    for held, other in zip(halves(lex_events), reversed(halves(lex_events)), strict=True):
        lw, sc = lex_weight, scale
        if args.choose:
            _, lw, sc = choose(cf, other, lex_s, lex, hum)
            choices[f"{len(held)} events from {min(held)}"] = {"lex_weight": lw, "scale": sc}
        m, raw = cf.raw_scores(other, held, lw)
        lex_v[m] = sc * raw
    w_en, w_other = VECTOR_WEIGHT_EN, VECTOR_WEIGHT_OTHER
    if args.choose_weights or args.cv:
        h_s, h_v = humaid_oof_scores(train, hum_x, classes, lex_x, lex_fine, (lex_weight,), lex_rows)
    if args.choose_weights:
        chosen = choose_weights((h_s, scale * h_v[lex_weight], np.asarray(train[1]), hum_langs),
                                (lex_s, lex_v, lex_fine, langs, np.asarray(lex[2])), classes)
        print(json.dumps(chosen), flush=True)
        w_en, w_other = float(chosen["weight_en"]), float(chosen["weight_other"])  # type: ignore[arg-type]
        report["vector_weight_choice"] = chosen
    if args.cv:
        # 5-fold out-of-fold on HumAID train (44,373 posts): a steadier estimate than dev, whose smallest class
        # has 20 posts (missing_or_found_people; one post there moves macro-F1 by up to ~0.004).
        gold = np.asarray(train[1])
        base = np.empty(len(gold), dtype=object)
        for a, b in humaid_folds(train[1]):
            base[b] = baseline(([train[0][i] for i in a], [train[1][i] for i in a], []), [train[0][i] for i in b])
        report["humaid_train_5fold"] = {
            "baseline_tfidf_lr": macro_f1(gold, base.astype(str)),
            "fast": macro_f1(gold, names[h_s[0].argmax(axis=1)]),
            "accurate_ngrams_only": macro_f1(gold, names[fused(h_s).argmax(axis=1)]),
            "accurate": macro_f1(gold, names[fused(h_s, scale * h_v[lex_weight],
                                                  text_weights(hum_langs, w_en, w_other)).argmax(axis=1)]),
        }
        print(json.dumps(report["humaid_train_5fold"]), flush=True)
    acc = fused(lex_s, lex_v, text_weights(langs, w_en, w_other))
    vec_model = fit_vector_model(
        np.vstack([hum_x, lex_x]), np.concatenate([np.asarray(train[1]), lex_fine]),
        np.concatenate([np.ones(len(train[1])), np.full(len(lex_fine), lex_weight)]), classes, scale,
        {"task": "crisis", "data": "HumAID train (10 events) + CrisisLexT26 (20 events, coarse types mapped)",
         "lex_weight": lex_weight, "scale": scale, "ensemble_weight": w_other,
         "ensemble_weight_by_group": {code: w_en for code in ENGLISH}},
    )
    dev_w = text_weights(dev_langs, w_en, w_other)
    report["humaid_dev"] = {
        "baseline_tfidf_lr": macro_f1(dev[1], baseline(train, dev[0])),
        "fast": macro_f1(dev[1], names[dev_s[0].argmax(axis=1)]),
        "accurate_ngrams_only": macro_f1(dev[1], names[fused(dev_s).argmax(axis=1)]),
        "accurate": macro_f1(dev[1], names[fused(dev_s, vec_model.decision_from_vectors(dev_x), dev_w).argmax(axis=1)]),
    }
    print(json.dumps(report), flush=True)
    coarse: dict[str, object] = {"rows": len(lex[0])}
    for name, pred in (
        ("baseline_tfidf_lr", baseline(train, lex[0])),
        ("fast", list(names[lex_s[0].argmax(axis=1)])),
        ("accurate_ngrams_only", list(names[fused(lex_s).argmax(axis=1)])),
        ("accurate", list(names[acc.argmax(axis=1)])),
    ):
        mapped = [COARSE_OF[p] for p in pred]
        by_lang = {}
        for code in ("en", "es", "it", "pt", "tl", "fr"):
            idx = [i for i, c in enumerate(langs) if c == code]
            if len(idx) >= 30:
                by_lang[code] = {"n": len(idx), "macro_f1": round(macro_f1([lex[1][i] for i in idx],
                                                                           [mapped[i] for i in idx]), 4)}
        coarse[name] = {"macro_f1": round(macro_f1(lex[1], mapped), 4), "by_language": by_lang}
    if choices:
        coarse["choices"] = choices
    report["crisislex_t26_coarse"] = coarse
    print(json.dumps(report["crisislex_t26_coarse"]), flush=True)

    # Leave-events-out: hold out whole events (train split of the others -> train+dev of the held-out one).
    events = sorted(set(train[2]))
    held_out = events[:: max(1, len(events) // max(1, args.events_out))][: args.events_out] if args.events_out else []
    leo: dict[str, dict[str, float]] = {}
    for event in held_out:
        keep = [i for i, e in enumerate(train[2]) if e != event]
        sub: Rows = ([train[0][i] for i in keep], [train[1][i] for i in keep], [train[2][i] for i in keep])
        test = [i for i, e in enumerate(train[2] + dev[2]) if e == event]
        test_t = [(train[0] + dev[0])[i] for i in test]
        test_y = [(train[1] + dev[1])[i] for i in test]
        test_x = np.vstack([hum_x, dev_x])[test]
        ms = train_models(sub[0] + lex_rows[0], sub[1] + lex_rows[1], {}, row_weights(len(keep), lex_rows[0]))
        sc = ngram_scores(ms, test_t)
        vm = fit_vector_model(
            np.vstack([hum_x[keep], lex_x]), np.concatenate([np.asarray(sub[1]), lex_fine]),
            np.concatenate([np.ones(len(keep)), np.full(len(lex_fine), lex_weight)]), classes, scale, {})
        leo[event] = {
            "baseline_tfidf_lr": round(macro_f1(test_y, baseline(sub, test_t)), 4),
            "fast": round(macro_f1(test_y, names[sc[0].argmax(axis=1)]), 4),
            "accurate_ngrams_only": round(macro_f1(test_y, names[fused(sc).argmax(axis=1)]), 4),
            "accurate": round(macro_f1(test_y, names[fused(sc, vm.decision_from_vectors(test_x), text_weights(
                np.concatenate([hum_langs, dev_langs])[test], w_en, w_other)).argmax(axis=1)]), 4),
        }
        print(event, leo[event], flush=True)
    if leo:
        leo["mean"] = {k: round(float(np.mean([v[k] for v in leo.values()])), 4)
                       for k in ("baseline_tfidf_lr", "fast", "accurate_ngrams_only", "accurate")}
        report["leave_events_out"] = leo
    print(json.dumps(report, indent=1))
    if not args.no_save:
        if not args.vectors_only:
            models[0].meta["humaid_dev_macro_f1"] = report["humaid_dev"]
            models[0].save(MODELS_DIR / "crisis_fast.npz")
            models[1].save(MODELS_DIR / "crisis_accurate_chars.npz")
        vec_model.save(MODELS_DIR / "crisis_accurate_vectors.npz")
        (MODELS_DIR / "crisis_scores.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
