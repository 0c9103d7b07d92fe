"""Train the multilingual sentiment models (negative / neutral / positive) on UMSAB.

Trains on the eight UMSAB train splits pooled, validates on the val splits, prints the macro-F1 per language
next to the baseline (plain scikit-learn TF-IDF + LogisticRegression per language), and writes
``legation/nlp/models/sentiment_fast.npz`` and ``sentiment_accurate_*.npz``.

    .venv/bin/python training/train_sentiment.py [--data ../shared/data] [--no-save]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from common import MODELS_DIR, add_nb, empty_model, fit_linear, macro_f1, shared_data
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from legation.nlp.linear import FeatureSpec, LinearModel
from legation.nlp.text import model_text

LANGS = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
    "italian": "it", "portuguese": "pt", "spanish": "es",
}
NAMES = {"0": "negative", "1": "neutral", "2": "positive"}


def read_split(root: Path, folder: str, split: str) -> tuple[list[str], list[str]]:
    texts = (root / folder / f"{split}_text.txt").read_text("utf-8").split("\n")
    labels = (root / folder / f"{split}_labels.txt").read_text("utf-8").split("\n")
    pairs = [(t, NAMES[y.strip()]) for t, y in zip(texts, labels, strict=False) if y.strip()]
    return [t for t, _ in pairs], [y for _, y in pairs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None, help="shared data folder (default: $LEGATION_SHARED_DATA)")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    root = shared_data(args.data) / "sentiment" / "umsab"
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
    t0 = time.time()
    meta: dict[str, object] = {"task": "sentiment", "data": "UMSAB train (8 languages)"}
    # Fast: logistic regression plus twice an NB-LR over the same features, merged into one linear model.
    fast = fit_linear(docs, labels, FeatureSpec(), c=1.0, groups=groups, meta=meta)
    add_nb(fast, docs, labels, c=1.0, weight=2.0, groups=groups)
    # Accurate adds an NB-LR over character 2-5-grams across words (probabilities averaged with the fast one).
    text_chars = empty_model(docs, labels, FeatureSpec(char_max=0, text_char_max=5), min_df=3, meta=meta,
                             groups=groups)
    add_nb(text_chars, docs, labels, c=2.0, groups=groups)
    print(f"trained in {time.time() - t0:.0f}s; vocab {len(fast.vocab)} + {len(text_chars.vocab)}")

    def predict(models: list[LinearModel], texts: list[str], code: str) -> list[str]:
        norm = [model_text(t) for t in texts]
        probs = sum(m.predict_proba(norm, [code] * len(norm)) for m in models)
        return [models[0].classes[i] for i in np.asarray(probs).argmax(axis=1)]

    for code in LANGS.values():
        report["fast"][code] = macro_f1(val[code][1], predict([fast], val[code][0], code))
        report["accurate"][code] = macro_f1(val[code][1], predict([fast, text_chars], val[code][0], code))
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
        (MODELS_DIR / "sentiment_scores.json").write_text(json.dumps(summary, indent=1) + "\n")
        print("saved to", MODELS_DIR)


if __name__ == "__main__":
    main()
