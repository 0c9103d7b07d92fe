"""Train the crisis-category models (the ten HumAID classes) and evaluate them three ways.

1. HumAID dev (official split, same events as training);
2. leave-events-out: whole HumAID events held out, trained on the others (a model always meets a new disaster);
3. CrisisLexT26 (2012-2013 disasters absent from training, several languages) mapped to coarse categories.
Each is printed next to the baseline (plain scikit-learn TF-IDF + LogisticRegression). Writes
``legation/nlp/models/crisis_fast.npz`` and ``crisis_accurate_chars.npz``.

    .venv/bin/python training/train_crisis.py [--data ../shared/data] [--events-out N] [--no-save]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from common import MODELS_DIR, fit_linear, macro_f1, shared_data
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from legation.nlp.crisis import COARSE_OF, CRISISLEX_TO_COARSE
from legation.nlp.language import detect_languages
from legation.nlp.linear import FeatureSpec, LinearModel
from legation.nlp.text import model_text

Rows = tuple[list[str], list[str], list[str]]  # texts, labels, events


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


def train_models(texts: list[str], labels: list[str], meta: dict[str, object]) -> list[LinearModel]:
    docs = [model_text(t) for t in texts]
    fast = fit_linear(docs, labels, FeatureSpec(), c=0.3, class_weight="balanced", algorithm="svm", meta=meta)
    chars = fit_linear(docs, labels, FeatureSpec(bigrams=True, char_max=0, text_char_max=5), c=0.3,
                       class_weight="balanced", algorithm="svm", min_df=3, meta=meta)
    return [fast, chars]


def predict(models: list[LinearModel], texts: list[str]) -> list[str]:
    docs = [model_text(t) for t in texts]
    probs = sum(m.predict_proba(docs) for m in models)
    return [models[0].classes[i] for i in np.asarray(probs).argmax(axis=1)]


def baseline(train: Rows, texts: list[str]) -> list[str]:
    vec = TfidfVectorizer()
    clf = LogisticRegression(max_iter=1000).fit(vec.fit_transform(train[0]), train[1])
    return [str(p) for p in clf.predict(vec.transform(texts))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--events-out", type=int, default=3, help="how many HumAID events to hold out, one at a time")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    data = shared_data(args.data)
    humaid = data / "crisis" / "humaid"
    train, dev = read_humaid(humaid, "train"), read_humaid(humaid, "dev")
    report: dict[str, object] = {}
    t0 = time.time()
    models = train_models(train[0], train[1], {"task": "crisis", "data": "HumAID train (10 events)"})
    print(f"trained in {time.time() - t0:.0f}s; vocab {len(models[0].vocab)} + {len(models[1].vocab)}", flush=True)
    report["humaid_dev"] = {
        "baseline_tfidf_lr": macro_f1(dev[1], baseline(train, dev[0])),
        "fast": macro_f1(dev[1], predict(models[:1], dev[0])),
        "accurate": macro_f1(dev[1], predict(models, dev[0])),
    }
    print(json.dumps(report), flush=True)

    # CrisisLexT26: predictions mapped to coarse categories, per language too.
    lex = read_crisislex(data / "crisis" / "crisislex-t26")
    langs = detect_languages(lex[0])
    coarse: dict[str, object] = {"rows": len(lex[0])}
    for name, pred in (
        ("baseline_tfidf_lr", baseline(train, lex[0])),
        ("fast", predict(models[:1], lex[0])),
        ("accurate", predict(models, lex[0])),
    ):
        mapped = [COARSE_OF[p] for p in pred]
        by_lang = {}
        for code in ("en", "es", "it", "pt", "tl"):
            idx = [i for i, c in enumerate(langs) if c == code]
            if len(idx) >= 30:
                by_lang[code] = {"n": len(idx), "macro_f1": round(macro_f1([lex[1][i] for i in idx],
                                                                           [mapped[i] for i in idx]), 4)}
        coarse[name] = {"macro_f1": round(macro_f1(lex[1], mapped), 4), "by_language": by_lang}
    report["crisislex_t26_coarse"] = coarse
    print(json.dumps(report["crisislex_t26_coarse"]), flush=True)

    # Leave-events-out: hold out whole events (train split of the others -> train+dev of the held-out one).
    events = sorted(set(train[2]))
    held = events[:: max(1, len(events) // max(1, args.events_out))][: args.events_out]
    leo: dict[str, dict[str, float]] = {}
    for event in held:
        keep = [i for i, e in enumerate(train[2]) if e != event]
        sub: Rows = ([train[0][i] for i in keep], [train[1][i] for i in keep], [train[2][i] for i in keep])
        test_t = [t for t, e in zip(train[0] + dev[0], train[2] + dev[2], strict=True) if e == event]
        test_y = [y for y, e in zip(train[1] + dev[1], train[2] + dev[2], strict=True) if e == event]
        ms = train_models(sub[0], sub[1], {})
        leo[event] = {
            "baseline_tfidf_lr": round(macro_f1(test_y, baseline(sub, test_t)), 4),
            "fast": round(macro_f1(test_y, predict(ms[:1], test_t)), 4),
            "accurate": round(macro_f1(test_y, predict(ms, test_t)), 4),
        }
        print(event, leo[event], flush=True)
    leo["mean"] = {k: round(float(np.mean([v[k] for v in leo.values()])), 4)
                   for k in ("baseline_tfidf_lr", "fast", "accurate")}
    report["leave_events_out"] = leo
    print(json.dumps(report, indent=1))
    if not args.no_save:
        models[0].meta["humaid_dev_macro_f1"] = report["humaid_dev"]
        models[0].save(MODELS_DIR / "crisis_fast.npz")
        models[1].save(MODELS_DIR / "crisis_accurate_chars.npz")
        (MODELS_DIR / "crisis_scores.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
