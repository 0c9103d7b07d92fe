"""Train the multilingual sentiment models (negative / neutral / positive) on UMSAB.

Trains on the eight UMSAB train splits pooled, validates on the val splits, prints the macro-F1 per language
next to the baseline (plain scikit-learn TF-IDF + LogisticRegression per language), and writes
``legation/nlp/models/sentiment_fast.npz`` and ``sentiment_accurate_*.npz``.

The accurate tier averages three models' probabilities with weights: the fast model, an NB-LR over character
n-grams across words, and a logistic regression over multilingual sentence vectors from the whole USE
Multilingual v3 encoder (:mod:`legation.nlp.embeddings`, kind ``encoder``). Its C and the three weights were
chosen by 5-fold cross-validation on train (folds stratified by language and label; mean of the eight
languages' macro-F1), never on val: ``--choose`` runs that search again (about 5 times the training time) and
prints the choice.

The shipped vector model and weights come from the fine-tuned encoder: run ``train_tuned.py`` after this script
(see docs/nlp.md, "Retraining"), or this script's frozen-encoder model and weights ship instead.

The fast model also learns weakly labelled crisis posts (HumAID train, CrisisLexT26; ``crisis_rows``). To change
only it (keeping the shipped character model and the fine-tune's vector model), ``--fast-only`` trains and scores
it alone and saves it with its scores; then run ``refit.py --only sentiment``.

    .venv/bin/python training/train_sentiment.py [--data ../shared/data] [--no-save] [--choose] [--fast-only]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import time
from pathlib import Path

import numpy as np
from common import MODELS_DIR, add_nb, empty_model, fit_linear, macro_f1, shared_data
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from legation.nlp.classify import tier_weights
from legation.nlp.embeddings import ENCODER, VectorModel, sentence_vectors
from legation.nlp.linear import FeatureSpec, LinearModel, softmax
from legation.nlp.text import model_text

LANGS = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
    "italian": "it", "portuguese": "pt", "spanish": "es",
}
NAMES = {"0": "negative", "1": "neutral", "2": "positive"}
# Chosen by --choose (5-fold CV on UMSAB train, 2026-11-23): C of the sentence-vector model (with per-language
# copies of the vectors) and the accurate tier's weights (fast, character NB-LR, sentence vectors). CV mean
# macro-F1 0.6133 with the whole encoder's vectors (C=0.0002), against 0.5941 with the static inverse-frequency
# weighted average of its sub-word vectors (C=0.001, weights 0/0.5/0.5) and 0.573 for the plain average of the
# first two. The fast model's weight came out 0 (0.1/0.3/0.6: 0.6136, within noise): the accurate tier does not
# run it. --choose also prints the best weights per language; they are not used (24 more parameters fitted
# in-sample, no better in CV terms).
VECTORS = ENCODER
VECTOR_C = 0.0002
WEIGHTS = (0.0, 0.4, 0.6)
VECTOR_CS = (0.0001, 0.0002, 0.0003, 0.001)
# Weak supervision for the fast model (since 2026-12-07): UMSAB has almost no crisis posts, so the fast model read
# requests for help as positive ("families", "food", "please" lean positive in its tweets). It also learns from
# crisis posts with weak labels, each at a small weight (CRISIS_WEIGHT): posts of distress (five HumAID classes,
# CrisisLexT26's affected individuals and damage) as "negative"; and, so that it learns what distress says rather
# than that a post is about a disaster (with distress rows alone 96 % of HumAID dev's sympathy posts and "Great
# news, the evacuation flight landed" came out negative), posts of sympathy as "positive" and advice and
# information as "neutral". Rescue, volunteering and donation posts are left out: their words are those of the
# requests ("need", "help"), and labelled positive or neutral they pulled requests back to positive or neutral.
# HumAID **train** (posts drawn per class, seed 0; English, the "en" block) and CrisisLexT26's posts detected in one
# of the seven other languages (their language's block, all of them). HumAID dev stays out: it measures the
# change (the model card). Weight and label sets by 5-fold cross-validation on UMSAB train (``folds``), the crisis
# rows split by event alongside (the card has the figures). The character and vector models stay UMSAB alone.
CRISIS_ROWS = {  # HumAID class: (weak sentiment, posts)
    "displaced_people_and_evacuations": ("negative", 700), "infrastructure_and_utility_damage": ("negative", 700),
    "injured_or_dead_people": ("negative", 700), "missing_or_found_people": ("negative", 700),
    "requests_or_urgent_needs": ("negative", 700), "sympathy_and_support": ("positive", 1500),
    "caution_and_advice": ("neutral", 1000), "other_relevant_information": ("neutral", 1000),
}
LEX_ROWS = {  # CrisisLexT26 coarse class: weak sentiment
    "affected_individuals": "negative", "infrastructure_and_utilities": "negative",
    "sympathy_and_support": "positive", "caution_and_advice": "neutral", "other_useful_information": "neutral",
}
CRISIS_WEIGHT = 0.05
# Posts of a class left out when they match: HumAID's displaced and evacuations posts that name an evacuation are
# mostly orders and news ("mandatory evacuation for visitors in Ocracoke"); labelled negative they taught the model
# that "evacuation" is negative at 1.0 ("Great news, the evacuation flight landed" negative, an embassy's
# evacuation schedule negative). The rest (stranded, displaced, homeless, trapped) stay negative.
CRISIS_LEAVE_OUT = {"displaced_people_and_evacuations": re.compile(r"evacu", re.IGNORECASE)}


def crisis_rows(crisis_root: Path) -> tuple[list[str], list[str], list[str]]:
    """The fast model's weakly labelled rows (see ``CRISIS_WEIGHT``): normalised texts, weak labels and language
    blocks. HumAID train only (never dev); the HumAID posts are English."""
    from train_crisis import read_crisislex, read_humaid

    from legation.nlp.language import detect_languages

    texts, labels, _ = read_humaid(crisis_root / "humaid", "train")
    pick: dict[int, str] = {}
    for label, (weak, n) in sorted(CRISIS_ROWS.items()):
        rng = np.random.default_rng(list(label.encode()))  # a generator per class: one class's change moves no other
        leave_out = CRISIS_LEAVE_OUT.get(label)
        idx = [i for i, y in enumerate(labels) if y == label and not (leave_out and leave_out.search(texts[i]))]
        rng.shuffle(idx)
        pick.update({i: weak for i in idx[:n]})
    docs = [model_text(texts[i]) for i in sorted(pick)]
    weak_labels = [pick[i] for i in sorted(pick)]
    groups = ["en"] * len(docs)
    lex_texts, lex_labels, _ = read_crisislex(crisis_root / "crisislex-t26")
    lex = [(t, LEX_ROWS[y]) for t, y in zip(lex_texts, lex_labels, strict=True) if y in LEX_ROWS]
    for (text, weak), lang in zip(lex, detect_languages([t for t, _ in lex]), strict=True):
        if lang in LANGS.values() and lang != "en":
            docs.append(model_text(text))
            weak_labels.append(weak)
            groups.append(lang)
    return docs, weak_labels, groups


def fit_fast_model(docs: list[str], labels: list[str], groups: list[str], meta: dict[str, object],
                   crisis: tuple[list[str], list[str], list[str]] | None = None) -> LinearModel:
    """The fast model, with ``crisis``'s weakly labelled rows (:func:`crisis_rows`) at ``CRISIS_WEIGHT`` when
    given."""
    # Logistic regression plus twice an NB-LR over the same features, merged into one linear model.
    fast_docs, fast_labels, fast_groups, weights = list(docs), list(labels), list(groups), None
    if crisis is not None and crisis[0]:
        fast_docs += crisis[0]
        fast_labels += crisis[1]
        fast_groups += crisis[2]
        weights = [1.0] * len(docs) + [CRISIS_WEIGHT] * len(crisis[0])
    fast = fit_linear(fast_docs, fast_labels, FeatureSpec(), c=1.0, groups=fast_groups, meta=meta,
                      sample_weight=weights)
    add_nb(fast, fast_docs, fast_labels, c=1.0, weight=2.0, groups=fast_groups, sample_weight=weights)
    return fast


def fit_ngram_models(docs: list[str], labels: list[str], groups: list[str], meta: dict[str, object],
                     crisis: tuple[list[str], list[str], list[str]] | None = None) -> tuple[LinearModel, LinearModel]:
    """The fast model (:func:`fit_fast_model`) and the character model (UMSAB alone)."""
    fast = fit_fast_model(docs, labels, groups, meta, crisis)
    # An NB-LR over character 2-5-grams across words, for the accurate tier.
    text_chars = empty_model(docs, labels, FeatureSpec(char_max=0, text_char_max=5), min_df=3, meta=meta,
                             groups=groups)
    add_nb(text_chars, docs, labels, c=2.0, groups=groups)
    return fast, text_chars


def fit_vector_model(x: np.ndarray, y: list[str], groups: list[str], c: float,
                     meta: dict[str, object]) -> VectorModel:
    """Logistic regression over standardised sentence vectors with one copy of them per language (shared
    weights plus a correction per language, as the n-gram models), the standardisation folded into the
    weights."""
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mu) / sd
    g = np.asarray(groups)
    blocks = sorted(set(groups))
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(
        np.hstack([z] + [z * (g == b)[:, None] for b in blocks]), y)
    k = len(clf.classes_)
    parts = np.split(clf.coef_.T, 1 + len(blocks))  # (DIMENSIONS, k) each: shared, then one per block
    coef = np.hstack([w / sd[:, None] for w in parts])
    intercept = np.concatenate([clf.intercept_ - mu @ coef[:, :k]]
                               + [-mu @ coef[:, k * (1 + i) : k * (2 + i)] for i in range(len(blocks))])
    return VectorModel(list(clf.classes_), coef.astype(np.float32), intercept.astype(np.float32),
                       {**meta, "blocks": blocks, "vectors": VECTORS})


def mean_f1(gold: np.ndarray, probs: np.ndarray, classes: list[str], groups: np.ndarray) -> float:
    pred = np.asarray(classes)[probs.argmax(axis=1)]
    return float(np.mean([macro_f1(gold[groups == g], pred[groups == g]) for g in sorted(set(groups))]))


def folds(labels: list[str], groups: list[str]) -> np.ndarray:
    """The fold (0-4) of each train post for 5-fold cross-validation: stratified by language and label, seed 0
    (``finetune_data.py`` gives the GPU fine-tune the same folds)."""
    y, g = np.asarray(labels), np.asarray(groups)
    rng = np.random.default_rng(0)
    fold = np.zeros(len(labels), dtype=np.int8)
    for lang, label in itertools.product(sorted(set(groups)), sorted(set(labels))):
        idx = np.flatnonzero((g == lang) & (y == label))
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % 5
    return fold


def ngram_oof(docs: list[str], labels: list[str], groups: list[str], fold: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Out-of-fold probabilities of the fast and the character model (each fold scored by models trained on the
    others), and the classes."""
    y, g = np.asarray(labels), np.asarray(groups)
    fast_oof, chars_oof = np.zeros((len(docs), 3)), np.zeros((len(docs), 3))
    for k in range(5):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        fast, chars = fit_ngram_models([docs[i] for i in tr], list(y[tr]), list(g[tr]), {})
        test_docs, test_groups = [docs[i] for i in te], list(g[te])
        fast_oof[te] = fast.predict_proba(test_docs, test_groups)
        chars_oof[te] = chars.predict_proba(test_docs, test_groups)
        print(f"n-gram fold {k + 1}/5 done", flush=True)
    return fast_oof, chars_oof, fast.classes


def read_pooled(root: Path, split: str) -> tuple[list[str], list[str], list[str]]:
    """Texts, labels and languages of a split, the eight languages pooled in ``LANGS`` order."""
    texts: list[str] = []
    labels: list[str] = []
    groups: list[str] = []
    for folder, code in LANGS.items():
        t, y = read_split(root, folder, split)
        texts += t
        labels += y
        groups += [code] * len(t)
    return texts, labels, groups


def choose(docs: list[str], labels: list[str], groups: list[str], vectors: np.ndarray) -> None:
    """Print the vector model's C and the accurate tier's weights that 5-fold CV on train likes best."""
    y, g = np.asarray(labels), np.asarray(groups)
    fold = folds(labels, groups)
    oof = {name: np.zeros((len(docs), 3)) for name in map(str, VECTOR_CS)}
    oof["fast"], oof["chars"], classes = ngram_oof(docs, labels, groups, fold)
    for k in range(5):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        for c in VECTOR_CS:
            vm = fit_vector_model(vectors[tr], list(y[tr]), list(g[tr]), c, {})
            oof[str(c)][te] = softmax(vm.decision_from_vectors(vectors[te], list(g[te])))
    grid = [(round(float(a), 1), round(float(b), 1), round(float(1 - a - b), 1))
            for a, b in itertools.product(np.arange(0, 1.01, 0.1), repeat=2) if a + b <= 1.0001]
    results = []
    for c in VECTOR_CS:
        for w in grid:
            probs = w[0] * oof["fast"] + w[1] * oof["chars"] + w[2] * oof[str(c)]
            results.append((mean_f1(y, probs, classes, g), c, w))
    results.sort(key=lambda r: -r[0])
    best_c = str(results[0][1])
    by_lang = {}
    for lang in sorted(set(groups)):
        m = g == lang
        scored = [(macro_f1(y[m], np.asarray(classes)[(w[0] * oof["fast"][m] + w[1] * oof["chars"][m]
                                                        + w[2] * oof[best_c][m]).argmax(axis=1)]), w) for w in grid]
        by_lang[lang] = max(scored, key=lambda r: r[0])[1]  # the first of equals, in grid order
    print(f"best weights per language (not used): {by_lang}")
    print("CV fast {:.4f}, chars {:.4f}, plain average {:.4f}".format(
        mean_f1(y, oof["fast"], classes, g), mean_f1(y, oof["chars"], classes, g),
        mean_f1(y, oof["fast"] + oof["chars"], classes, g)))
    for score, c, w in results[:5]:
        print(f"CV {score:.4f}: VECTOR_C = {c}, WEIGHTS = {w}")


def crisis_meta(crisis: tuple[list[str], list[str], list[str]]) -> dict[str, object]:
    return {"data": "UMSAB train (8 languages)", "weak_labels": f"{len(crisis[0]):,} crisis posts (HumAID train, "
            f"CrisisLexT26) weakly labelled, at weight {CRISIS_WEIGHT}"}


def fast_only(docs: list[str], labels: list[str], groups: list[str], crisis: tuple[list[str], list[str], list[str]],
              val: dict[str, tuple[list[str], list[str]]], no_save: bool) -> None:
    """Train the fast model on train (+ the crisis rows), score it on val with gold languages, and save it and
    the ``fast`` entry of ``sentiment_scores.json`` (the other models and scores are left as they are)."""
    t0 = time.time()
    meta: dict[str, object] = {"task": "sentiment", **crisis_meta(crisis)}
    fast = fit_fast_model(docs, labels, groups, meta, crisis)
    print(f"trained in {time.time() - t0:.0f}s; vocab {len(fast.vocab)}")
    scores = {}
    for code in LANGS.values():
        norm = [model_text(t) for t in val[code][0]]
        pred = np.asarray(fast.classes)[fast.predict_proba(norm, [code] * len(norm)).argmax(axis=1)]
        scores[code] = round(macro_f1(val[code][1], list(pred)), 4)
    scores["mean"] = round(float(np.mean([scores[c] for c in LANGS.values()])), 4)
    print(json.dumps({"fast": scores}))
    if not no_save:
        fast.meta["ensemble_weight"] = WEIGHTS[0]
        fast.meta["val_macro_f1"] = scores
        fast.save(MODELS_DIR / "sentiment_fast.npz")
        path = MODELS_DIR / "sentiment_scores.json"
        summary = json.loads(path.read_text()) if path.exists() else {}
        summary["fast"] = scores
        path.write_text(json.dumps(summary, indent=1) + "\n")
        print("saved to", MODELS_DIR)


def read_split(root: Path, folder: str, split: str) -> tuple[list[str], list[str]]:
    texts = (root / folder / f"{split}_text.txt").read_text("utf-8").split("\n")
    labels = (root / folder / f"{split}_labels.txt").read_text("utf-8").split("\n")
    pairs = [(t, NAMES[y.strip()]) for t, y in zip(texts, labels, strict=False) if y.strip()]
    return [t for t, _ in pairs], [y for _, y in pairs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None, help="shared data folder (default: $LEGATION_SHARED_DATA)")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--choose", action="store_true", help="choose C and weights by 5-fold CV on train, then stop")
    ap.add_argument("--fast-only", action="store_true",
                    help="train and score the fast model alone; save it and the fast scores, leave the others")
    args = ap.parse_args()
    root = shared_data(args.data) / "sentiment" / "umsab"
    crisis = crisis_rows(shared_data(args.data) / "crisis")
    train = {code: read_split(root, folder, "train") for folder, code in LANGS.items()}
    val = {code: read_split(root, folder, "val") for folder, code in LANGS.items()}

    report: dict[str, dict[str, float]] = {"baseline_tfidf_lr": {}, "fast": {}, "accurate": {}}
    for code in LANGS.values():
        vec = TfidfVectorizer()
        clf = LogisticRegression(max_iter=1000).fit(vec.fit_transform(train[code][0]), train[code][1])
        report["baseline_tfidf_lr"][code] = macro_f1(val[code][1], clf.predict(vec.transform(val[code][0])))

    docs = [model_text(t) for code in LANGS.values() for t in train[code][0]]
    labels = [y for code in LANGS.values() for y in train[code][1]]
    groups = [code for code in LANGS.values() for _ in train[code][0]]
    if args.fast_only:
        fast_only(docs, labels, groups, crisis, val, args.no_save)
        return
    vectors = sentence_vectors(docs, VECTORS)
    if args.choose:
        choose(docs, labels, groups, vectors)
        return
    t0 = time.time()
    meta: dict[str, object] = {"task": "sentiment", "data": "UMSAB train (8 languages)"}
    fast, text_chars = fit_ngram_models(docs, labels, groups, meta, crisis)
    fast.meta = {**fast.meta, **crisis_meta(crisis)}
    vector_model = fit_vector_model(vectors, labels, groups, VECTOR_C, {**meta, "C": VECTOR_C})
    for model, weight in zip((fast, text_chars, vector_model), WEIGHTS, strict=True):
        model.meta["ensemble_weight"] = weight
    print(f"trained in {time.time() - t0:.0f}s; vocab {len(fast.vocab)} + {len(text_chars.vocab)}")

    def predict(models: list[LinearModel | VectorModel], texts: list[str], code: str) -> list[str]:
        """As :func:`legation.nlp.classify.classify` does: probabilities averaged with the models' weights."""
        norm = [model_text(t) for t in texts]
        langs = [code] * len(norm)
        probs = np.zeros((len(norm), len(fast.classes)))
        for m in models:
            w = tier_weights(models, m, langs, len(norm))
            if not w.any():
                continue
            if isinstance(m, VectorModel):
                probs += w * softmax(m.decision_from_vectors(sentence_vectors(norm, m.vectors), langs))
            else:
                probs += w * m.predict_proba(norm, langs)
        return [fast.classes[i] for i in probs.argmax(axis=1)]

    for code in LANGS.values():
        report["fast"][code] = macro_f1(val[code][1], predict([fast], val[code][0], code))
        report["accurate"][code] = macro_f1(val[code][1], predict([fast, text_chars, vector_model], val[code][0], code))
    summary = {
        name: {**{k: round(v, 4) for k, v in scores.items()}, "mean": round(float(np.mean(list(scores.values()))), 4)}
        for name, scores in report.items()
    }
    print(json.dumps(summary, indent=1))
    if not args.no_save:
        MODELS_DIR.mkdir(parents=True, exist_ok=True)
        fast.meta["val_macro_f1"] = summary["fast"]
        fast.save(MODELS_DIR / "sentiment_fast.npz")
        text_chars.meta["val_macro_f1_ensemble"] = summary["accurate"]
        text_chars.save(MODELS_DIR / "sentiment_accurate_chars.npz")
        vector_model.meta["val_macro_f1_ensemble"] = summary["accurate"]
        vector_model.save(MODELS_DIR / "sentiment_accurate_vectors.npz")
        (MODELS_DIR / "sentiment_scores.json").write_text(json.dumps(summary, indent=1) + "\n")
        print("saved to", MODELS_DIR)


if __name__ == "__main__":
    main()
