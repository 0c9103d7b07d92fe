"""Benchmark of Legation's offline language models, side by side with a plain scikit-learn baseline.

Runs on one core (CPU affinity and BLAS threads pinned), on real posts from the shared data folder (UMSAB val
in 8 languages + HumAID dev), and prints one JSON object:
- posts per second per stage and for the whole enrichment (batches of 1,000 distinct posts; first pass with
  empty per-word caches, second pass warm), fast and accurate tiers;
- the same for the baseline (TF-IDF + LogisticRegression, trained on the same training data), and its
  macro-F1 next to ours on the same held-out sets (held out from the baseline; from our shipped n-gram models
  too unless ``training/refit.py`` fit them on those sets, which ``quality.not_held_out`` then says);
- peak memory (Python allocations during a fast enrichment; max RSS of the process).
Every speed is given twice: from wall time and from this process's CPU time (``time.process_time``), so that
a machine loaded by other work does not hide the real figure.

    .venv/bin/python bench/nlp_bench.py [--data ../shared/data] [--n 20000] [--max-train 0]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MODELS = REPO / "legation" / "nlp" / "models"

UMSAB = {"arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi", "italian": "it",
         "portuguese": "pt", "spanish": "es"}
SENTIMENT_NAMES = {"0": "negative", "1": "neutral", "2": "positive"}


def umsab(root: Path, split: str) -> tuple[list[str], list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    langs: list[str] = []
    for folder, code in UMSAB.items():
        t = (root / folder / f"{split}_text.txt").read_text("utf-8").split("\n")
        y = (root / folder / f"{split}_labels.txt").read_text("utf-8").split("\n")
        for text, label in zip(t, y, strict=False):
            if label.strip():
                texts.append(text)
                labels.append(SENTIMENT_NAMES[label.strip()])
                langs.append(code)
    return texts, labels, langs


def humaid(root: Path, split: str) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for event in sorted(p for p in root.iterdir() if p.is_dir()):
        with (event / f"{split}.tsv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                texts.append(row["tweet_text"])
                labels.append(row["class_label"])
    return texts, labels


def rate(fn: object, n: int) -> dict[str, int]:
    """Items per second of one call of ``fn``, from wall time and from this process's CPU time."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"wall": round(n / max(wall, 1e-9)), "cpu": round(n / max(cpu, 1e-9))}


def run_ours(posts: list[str]) -> dict[str, object]:
    """Posts per second per stage and for the whole enrichment per tier (wall and CPU), and peak memory."""
    from legation.nlp.cli import run_bench

    return run_bench(len(posts), posts, timer=rate)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=os.environ.get("LEGATION_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--n", type=int, default=20000, help="posts per timing run")
    ap.add_argument("--max-train", type=int, default=0, help="cap the baseline's training rows (0: all)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from legation import nlp
    from legation.nlp.metrics import classification_report

    data = Path(args.data)
    s_train, s_train_y, _ = umsab(data / "sentiment" / "umsab", "train")
    s_val, s_val_y, s_val_lang = umsab(data / "sentiment" / "umsab", "val")
    c_train, c_train_y = humaid(data / "crisis" / "humaid", "train")
    c_dev, c_dev_y = humaid(data / "crisis" / "humaid", "dev")
    if args.max_train:
        s_train, s_train_y = s_train[: args.max_train], s_train_y[: args.max_train]
        c_train, c_train_y = c_train[: args.max_train], c_train_y[: args.max_train]

    # Distinct real posts only: identical posts are enriched once, so repeats would flatter the figures.
    posts = list(dict.fromkeys(s_val + c_dev + s_train + c_train))[: args.n]
    ours = run_ours(posts)

    # Baseline: plain TF-IDF + LogisticRegression, one per task, on the same training data.
    base: dict[str, object] = {}
    for task, (tx, ty, vx, vy) in {
        "sentiment": (s_train, s_train_y, s_val, s_val_y),
        "crisis": (c_train, c_train_y, c_dev, c_dev_y),
    }.items():
        vec = TfidfVectorizer()
        clf = LogisticRegression(max_iter=1000).fit(vec.fit_transform(tx), ty)
        speed = rate(lambda v=vec, c=clf: c.predict(v.transform(posts)), len(posts))
        pred = [str(p) for p in clf.predict(vec.transform(vx))]
        base[task] = {"posts_per_s": speed, "macro_f1": classification_report(vy, pred)["macro_f1"]}

    quality: dict[str, object] = {}
    for tier in ("fast", "accurate"):
        s_pred = nlp.sentiment(s_val, tier=tier, languages=nlp.detect_languages(s_val))
        s_oracle = nlp.sentiment(s_val, tier=tier, languages=s_val_lang)
        c_pred = nlp.crisis_categories(c_dev, tier=tier)
        per_lang: dict[str, float] = {}
        for code in UMSAB.values():
            idx = [i for i, c in enumerate(s_val_lang) if c == code]
            report = classification_report([s_val_y[i] for i in idx], [s_pred[i] for i in idx])
            per_lang[code] = float(report["macro_f1"])  # type: ignore[arg-type]
        quality[tier] = {
            "sentiment_macro_f1_mean_of_8_languages": round(sum(per_lang.values()) / len(per_lang), 4),
            "sentiment_macro_f1_by_language": per_lang,
            "sentiment_macro_f1_pooled_with_gold_languages": classification_report(s_val_y, s_oracle)["macro_f1"],
            "crisis_macro_f1_humaid_dev": classification_report(c_dev_y, c_pred)["macro_f1"],
        }
    # training/refit.py fits the shipped n-gram models on train + val / dev once their recipe is measured: their
    # scores here are then in-sample, and the held-out figures are those of the train-only fit.
    from legation.nlp.linear import LinearModel

    refit = {name: LinearModel.load(MODELS / f"{name}.npz").meta.get("refit")
             for name in ("sentiment_fast", "crisis_fast")}
    if any(refit.values()):
        for tier in ("fast", "accurate"):  # named so that no one reads them as held-out figures
            quality[tier] = {f"{key}_in_sample": value for key, value in quality[tier].items()}  # type: ignore[attr-defined]
        quality["not_held_out"] = {
            "refit_on": refit,
            "held_out_scores_of_the_train_only_fit": [str(p.relative_to(REPO)) for p in sorted(
                MODELS.glob("*_scores.json"))],
        }
    print(json.dumps({"legation": ours, "quality": quality, "baseline_tfidf_logreg": base}, indent=1))


if __name__ == "__main__":
    main()
