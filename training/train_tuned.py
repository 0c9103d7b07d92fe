"""Ship the fine-tuned encoder (``finetune_encoder.py``'s output) as the accurate tier's sentence vectors.

Reads the folder the GPU run wrote (``encoder_layers.npz``, ``heads.npz``, ``scores.npz``), chooses the vector
models' weights in the accurate tier beside the shipped n-gram models by the same out-of-fold scores the other
scripts choose by, never by dev or val:

- crisis: the vector model's weight for non-English posts by CrisisLexT26 cross-fitted (coarse macro-F1 of its
  non-English posts), then for English posts by HumAID train 5-fold out-of-fold macro-F1
  (``train_crisis.choose_weights``);
- sentiment: the character model's and the vector model's weights by UMSAB train 5-fold out-of-fold mean
  macro-F1 (the fast model keeps weight 0: it is not run in the accurate tier).

The n-gram models' out-of-fold scores are computed here (same folds as the GPU run, ~15 minutes on two cores;
kept in ``--cache``). Writes ``encoder_tuned.npz`` (the layers, float16), ``crisis_accurate_vectors.npz``,
``sentiment_accurate_vectors.npz``, the new weight into ``sentiment_accurate_chars.npz`` and
``tuned_scores.json``, then prints HumAID dev, CrisisLexT26 and UMSAB val scores with the shipped files.

    .venv/bin/python training/train_tuned.py --tuned /path/to/gpu/output [--no-save]

With ``--halves`` it needs only the two CrisisLexT26 half jobs' files (``job_half0.npz``, ``job_half1.npz``; the
two runs fit on a CPU in about an hour): it measures the accurate tier on the 20 unseen disasters, cross-fitted,
with the shipped n-gram models' recipe and the shipped weights, and shows the non-English weight that the
cross-fitted posts would choose (nothing is saved; the English weight needs the five fold jobs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import train_crisis as tc
import train_sentiment as ts
from common import MODELS_DIR, REPO, macro_f1, shared_data

from legation.nlp.crisis import CLASSES, COARSE_OF
from legation.nlp.embeddings import TUNED, VectorModel
from legation.nlp.language import detect_languages
from legation.nlp.linear import LinearModel, softmax
from legation.nlp.text import model_text

# The weight chosen on CrisisLexT26's non-English posts applies to their languages, which the n-gram models learn
# from; in the others (Arabic, Russian ...) they have seen no crisis post and the vectors keep at least this weight
# (a lower one turned the Arabic "we are 30 stranded at Misrata port and need water" into not_humanitarian).
CRISISLEX_LANGUAGES = ("es", "fr", "it", "pt", "tl")
UNSEEN_LANGUAGE_WEIGHT = 1.5
SENTIMENT_CHARS_GRID = tuple(round(a, 2) for a in np.arange(0.0, 1.001, 0.05))


def ngram_scores(data: Path, cache: Path) -> dict[str, np.ndarray]:
    """Out-of-fold n-gram scores (HumAID train, UMSAB train), the shipped n-gram models' scores on HumAID dev,
    CrisisLexT26 and UMSAB val, and the detected languages, computed once and kept in ``cache``."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    out: dict[str, np.ndarray] = {}
    train = tc.read_humaid(data / "crisis" / "humaid", "train")
    dev = tc.read_humaid(data / "crisis" / "humaid", "dev")
    lex = tc.read_crisislex(data / "crisis" / "crisislex-t26")
    # The n-gram models learn from CrisisLexT26 too (train_crisis.lex_training_rows): its scores are cross-fitted.
    lex_rows = tc.lex_training_rows(lex, tc.fit_fast(train[0], train[1], {}))
    out["hum_oof0"], out["hum_oof1"] = tc.humaid_oof_ngram_scores(train, list(CLASSES), lex_rows)
    shipped = [LinearModel.load(MODELS_DIR / n) for n in ("crisis_fast.npz", "crisis_accurate_chars.npz")]
    out["dev0"], out["dev1"] = tc.ngram_scores(shipped, dev[0])
    out["lex0"], out["lex1"] = tc.lex_crossfit_ngram_scores(train, lex, lex_rows)
    out["hum_gold"], out["dev_gold"], out["lex_gold"] = (np.asarray(r[1]) for r in (train, dev, lex))
    out["lex_events"] = np.asarray(lex[2])
    out["hum_lang"], out["dev_lang"], out["lex_lang"] = (np.asarray(detect_languages(r[0])) for r in (train, dev, lex))

    texts, labels, groups = ts.read_pooled(data / "sentiment" / "umsab", "train")
    docs = [model_text(t) for t in texts]
    _, out["sent_oof_chars"], _ = ts.ngram_oof(docs, labels, groups, ts.folds(labels, groups))
    out["sent_gold"], out["sent_lang"] = np.asarray(labels), np.asarray(groups)
    vt, vy, vg = ts.read_pooled(data / "sentiment" / "umsab", "val")
    chars = LinearModel.load(MODELS_DIR / "sentiment_accurate_chars.npz")
    vdocs = [model_text(t) for t in vt]
    out["val_gold"], out["val_lang"] = np.asarray(vy), np.asarray(vg)
    out["val_chars_gold_lang"] = chars.predict_proba(vdocs, vg)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def lex_ngram_scores(data: Path, cache: Path) -> dict[str, np.ndarray]:
    """The n-gram models' cross-fitted scores on CrisisLexT26 (the part of :func:`ngram_scores` that ``--halves``
    needs, ~5 minutes), kept in ``cache``."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    train = tc.read_humaid(data / "crisis" / "humaid", "train")
    lex = tc.read_crisislex(data / "crisis" / "crisislex-t26")
    lex_rows = tc.lex_training_rows(lex, tc.fit_fast(train[0], train[1], {}))
    out: dict[str, np.ndarray] = {}
    out["lex0"], out["lex1"] = tc.lex_crossfit_ngram_scores(train, lex, lex_rows)
    out["lex_gold"], out["lex_events"] = np.asarray(lex[1]), np.asarray(lex[2])
    out["lex_lang"] = np.asarray(detect_languages(lex[0]))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def halves_report(tuned: Path, n: dict[str, np.ndarray]) -> dict[str, object]:
    """The accurate tier on CrisisLexT26's 20 disasters, each half scored by n-gram models and a fine-tune that
    never saw its events, at the shipped weights and over the weight grid for non-English posts."""
    head = np.zeros((len(n["lex_gold"]), len(CLASSES)), dtype=np.float32)
    for half in (0, 1):
        with np.load(tuned / f"job_half{half}.npz") as z:
            head[z["lex_rows"]] = z["lex"]
    vectors = VectorModel.load(MODELS_DIR / "crisis_accurate_vectors.npz")
    by_group = dict(vectors.meta["ensemble_weight_by_group"])  # type: ignore[call-overload]
    shipped_other = float(by_group.get("es", vectors.meta["ensemble_weight"]))
    shipped_en = float(by_group["en"])
    classes = list(LinearModel.load(MODELS_DIR / "crisis_fast.npz").classes)
    coarse_of = np.asarray([COARSE_OF[k] for k in classes])
    gold, lang = n["lex_gold"], n["lex_lang"]
    other = ~np.isin(lang, tc.ENGLISH)

    def coarse(w_en: float, w_other: float, mask: np.ndarray | None = None) -> np.ndarray:
        m = np.ones(len(gold), dtype=bool) if mask is None else mask
        w = tc.text_weights(lang[m], w_en, w_other)
        return np.asarray(coarse_of[tc.fused([n["lex0"][m], n["lex1"][m]], head[m], w).argmax(axis=1)])

    def by_language(pred: np.ndarray) -> dict[str, float]:
        return {code: round(macro_f1(gold[m], pred[m]), 4) for code in ("en", "es", "it", "pt", "tl", "fr")
                if (m := lang == code).sum() >= 30}

    shipped = coarse(shipped_en, shipped_other)
    pair = coarse_of[tc.fused([n["lex0"], n["lex1"]]).argmax(axis=1)]
    fast = coarse_of[n["lex0"].argmax(axis=1)]
    return {
        "crisislex_t26_coarse_crossfit": {
            "fast": round(macro_f1(gold, fast), 4),
            "ngram_pair": round(macro_f1(gold, pair), 4),
            "vector_model_alone": round(macro_f1(gold, coarse_of[head.argmax(axis=1)]), 4),
            "accurate_shipped_weights": round(macro_f1(gold, shipped), 4),
            "shipped_weights": {"en_und": shipped_en, "crisislex_languages_and_other_posts_here": shipped_other},
            "by_language_accurate": by_language(shipped),
            "by_language_ngram_pair": by_language(pair),
        },
        "non_english_by_weight": {str(w): round(macro_f1(gold[other], coarse(shipped_en, w, other)), 4)
                                  for w in tc.WEIGHT_GRID},
        "english_by_weight_not_a_choice": {str(w): round(macro_f1(gold[~other], coarse(w, shipped_other, ~other)), 4)
                                           for w in tc.WEIGHT_GRID},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tuned", required=True, help="the folder finetune_encoder.py wrote")
    ap.add_argument("--halves", action="store_true",
                    help="only the CrisisLexT26 half jobs ran: measure the accurate tier on unseen disasters")
    ap.add_argument("--data", default=None)
    # Not under .gpu/, which travels to the GPU machine.
    ap.add_argument("--cache", default=str(REPO / "var" / "train_tuned_ngram_scores.npz"))
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    tuned = Path(args.tuned)
    if args.halves:
        lex_cache = Path(args.cache).with_name("train_tuned_lex_scores.npz")
        print(json.dumps(halves_report(tuned, lex_ngram_scores(shared_data(args.data), lex_cache)), indent=1))
        return
    n = ngram_scores(shared_data(args.data), Path(args.cache))
    with np.load(tuned / "scores.npz") as z:
        gpu = {k: z[k] for k in z.files}
    with np.load(tuned / "heads.npz") as z:
        heads = {k: z[k] for k in z.files}
    with np.load(REPO / ".gpu" / "finetune_data.npz") as z:
        meta = json.loads(z["meta"].tobytes().decode())
    crisis_classes = list(LinearModel.load(MODELS_DIR / "crisis_fast.npz").classes)
    sentiment_classes = list(LinearModel.load(MODELS_DIR / "sentiment_fast.npz").classes)
    if crisis_classes != meta["classes"] or sentiment_classes != meta["sentiment"]:
        raise SystemExit("the GPU run's classes are not the shipped models' classes")
    report: dict[str, object] = {}

    # Crisis: the weights, chosen as train_crisis.choose_weights does.
    chosen = tc.choose_weights(
        ([n["hum_oof0"], n["hum_oof1"]], gpu["hum_train_oof"], n["hum_gold"], n["hum_lang"]),
        ([n["lex0"], n["lex1"]], gpu["lex_crossfit"], n["lex_gold"], n["lex_lang"], n["lex_events"]),
        crisis_classes)
    w_en, w_other = float(chosen["weight_en"]), float(chosen["weight_other"])  # type: ignore[arg-type]
    names = np.asarray(crisis_classes)
    coarse_of = np.asarray([COARSE_OF[k] for k in crisis_classes])

    def crisis_pred(s0: np.ndarray, s1: np.ndarray, v: np.ndarray | None, langs: np.ndarray) -> np.ndarray:
        if v is None:
            return names[tc.fused([s0, s1]).argmax(axis=1)]
        return names[tc.fused([s0, s1], v, tc.text_weights(langs, w_en, w_other)).argmax(axis=1)]

    lex_pred = crisis_pred(n["lex0"], n["lex1"], gpu["lex_crossfit"], n["lex_lang"])
    report["crisis"] = {
        "weights": {"en_und": w_en, "other": w_other},
        "choice": chosen,
        "humaid_train_oof": {
            "vector_model_alone": macro_f1(n["hum_gold"], names[gpu["hum_train_oof"].argmax(axis=1)]),
            "accurate": macro_f1(n["hum_gold"], crisis_pred(n["hum_oof0"], n["hum_oof1"], gpu["hum_train_oof"],
                                                            n["hum_lang"])),
        },
        "humaid_dev": {
            "fast": macro_f1(n["dev_gold"], names[n["dev0"].argmax(axis=1)]),
            "vector_model_alone": macro_f1(n["dev_gold"], names[gpu["hum_dev"].argmax(axis=1)]),
            "accurate_ngrams_only": macro_f1(n["dev_gold"], crisis_pred(n["dev0"], n["dev1"], None, n["dev_lang"])),
            "accurate": macro_f1(n["dev_gold"], crisis_pred(n["dev0"], n["dev1"], gpu["hum_dev"], n["dev_lang"])),
        },
        "crisislex_t26_coarse_crossfit": {
            "vector_model_alone": macro_f1(n["lex_gold"], coarse_of[gpu["lex_crossfit"].argmax(axis=1)]),
            "accurate": macro_f1(n["lex_gold"], [COARSE_OF[p] for p in lex_pred]),
            "by_language": {
                code: round(macro_f1(n["lex_gold"][m], [COARSE_OF[p] for p in lex_pred[m]]), 4)
                for code in ("en", "es", "it", "pt", "tl", "fr")
                if (m := n["lex_lang"] == code).sum() >= 30
            },
        },
    }

    # Sentiment: the character model's weight a and the vector model's 1 - a, by out-of-fold mean macro-F1.
    vec_oof = softmax(gpu["sent_train_oof"])
    by_a = {a: ts.mean_f1(n["sent_gold"], a * n["sent_oof_chars"] + (1 - a) * vec_oof, sentiment_classes,
                       n["sent_lang"]) for a in SENTIMENT_CHARS_GRID}
    a = max(SENTIMENT_CHARS_GRID, key=lambda a: (by_a[a], -abs(a - 0.5)))
    languages = list(meta["languages"])
    k = len(sentiment_classes)
    sent_model = VectorModel(sentiment_classes, heads["sentiment_W"].T.astype(np.float32),
                             heads["sentiment_b"].astype(np.float32),
                             {"task": "sentiment", "data": "UMSAB train (8 languages), encoder tuned with crisis",
                              "blocks": languages, "vectors": TUNED, "ensemble_weight": round(1 - a, 2)})
    assert sent_model.coef.shape[1] == k * (1 + len(languages))

    gold_scores = gpu["sent_val_gold_lang"]
    report["sentiment"] = {
        "weights": {"fast": 0.0, "chars": a, "vectors": round(1 - a, 2)},
        "train_oof_by_chars_weight": {str(k_): round(v, 4) for k_, v in by_a.items()},
        "train_oof": {"vector_model_alone": by_a[0.0], "chars_alone": by_a[1.0], "accurate": by_a[a]},
        "val_gold_languages": {
            "vector_model_alone": ts.mean_f1(n["val_gold"], softmax(gold_scores), sentiment_classes, n["val_lang"]),
            "accurate": ts.mean_f1(n["val_gold"], a * n["val_chars_gold_lang"] + (1 - a) * softmax(gold_scores),
                                sentiment_classes, n["val_lang"]),
        },
    }
    print(json.dumps(report, indent=1), flush=True)
    if args.no_save:
        return
    with np.load(tuned / "encoder_layers.npz") as z:
        np.savez_compressed(MODELS_DIR / "encoder_tuned.npz", **{k_: z[k_].astype(np.float16) for k_ in z.files})
    crisis_model = VectorModel(
        crisis_classes, heads["crisis_W"].T.astype(np.float32), heads["crisis_b"].astype(np.float32),
        {"task": "crisis", "data": "HumAID train (10 events) + CrisisLexT26 (20 events, coarse types), encoder "
         "tuned with sentiment", "vectors": TUNED, "ensemble_weight": max(w_other, UNSEEN_LANGUAGE_WEIGHT),
         "ensemble_weight_by_group": {**{code: w_en for code in tc.ENGLISH},
                                      **{code: w_other for code in CRISISLEX_LANGUAGES}}})
    crisis_model.save(MODELS_DIR / "crisis_accurate_vectors.npz")
    sent_model.save(MODELS_DIR / "sentiment_accurate_vectors.npz")
    chars = LinearModel.load(MODELS_DIR / "sentiment_accurate_chars.npz")
    chars.meta["ensemble_weight"] = a
    chars.save(MODELS_DIR / "sentiment_accurate_chars.npz")
    (MODELS_DIR / "tuned_scores.json").write_text(json.dumps(report, indent=1) + "\n")
    print("saved to", MODELS_DIR)


if __name__ == "__main__":
    main()
