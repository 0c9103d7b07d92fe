"""Measure the language detectors packaged on PyPI side by side: accuracy and speed.

Sets: UMSAB val (8 languages, real tweets, from the shared data folder), scored against the folder's language
and against hand-corrected labels (``umsab_val_language_corrections.tsv``: line numbers and labels only, where the
folder names the wrong language, e.g. English tweets in the Hindi folder); our own hand-written fixtures of 35
languages: ``langid_sentences.tsv`` (clean sentences; used while tuning the Legation cascade) and
``langid_posts.tsv`` (210 short noisy posts with mentions, hashtags, emoji, URLs and code-mixing; its errors were
looked at while tuning) and ``langid_posts_heldout.tsv`` (140 more such posts, written before being scored);
``langid_posts2_tune.tsv`` and ``langid_posts2_heldout.tsv`` (2026-12-05: 210 noisy posts each, 6 per language,
the first used to tune, the second scored once after); ``langid_short_check.tsv`` (2026-12-06: 150 short greetings
and phrases, 35 languages and Arabizi, scored before and after the short-post changes). Prints one JSON object per
detector; speeds are CPU time (``time.process_time``) on one core. Detectors that are not installed are skipped.

    .venv/bin/python training/compare_langid.py [--data ../shared/data] [--only legation] [--sets posts2_tune]
        [--errors]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path

from common import REPO, shared_data

UMSAB_CODES = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
    "italian": "it", "portuguese": "pt", "spanish": "es",
}
FIXTURES = REPO / "legation" / "nlp" / "tests" / "fixtures"
CORRECTIONS = Path(__file__).resolve().parent / "umsab_val_language_corrections.tsv"


def load_umsab(data: Path) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    gold: list[str] = []
    for folder, code in UMSAB_CODES.items():
        lines = (data / "sentiment" / "umsab" / folder / "val_text.txt").read_text("utf-8").splitlines()
        texts.extend(lines)
        gold.extend([code] * len(lines))
    return texts, gold


def load_corrected(data: Path) -> tuple[list[str], list[str]]:
    """UMSAB val with the hand-corrected labels applied."""
    texts: list[str] = []
    gold: list[str] = []
    fixes: dict[tuple[str, int], str] = {}
    for line in CORRECTIONS.read_text("utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("#") or parts[0] == "folder":
            continue
        fixes[(parts[0], int(parts[1]))] = parts[2]
    for folder, code in UMSAB_CODES.items():
        lines = (data / "sentiment" / "umsab" / folder / "val_text.txt").read_text("utf-8").splitlines()
        texts.extend(lines)
        gold.extend(fixes.get((folder, n), code) for n in range(1, len(lines) + 1))
    return texts, gold


def load_fixture(name: str = "langid_sentences") -> tuple[list[str], list[str]]:
    with (FIXTURES / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["text"] for r in rows], [r["lang"] for r in rows]


def detectors() -> dict[str, Callable[[list[str]], list[str]]]:
    found: dict[str, Callable[[list[str]], list[str]]] = {}
    try:
        from legation.nlp.language import detect_languages_scored

        found["legation fast tier"] = lambda texts: [c for c, _ in detect_languages_scored(texts, cascade=False)]
        found["legation accurate tier"] = lambda texts: [c for c, _ in detect_languages_scored(texts)]
    except ImportError:
        pass
    try:
        import fasttext

        ft = fasttext.load_model(str(REPO / "legation" / "nlp" / "models" / "lid.176.ftz"))

        def run_ft(texts: list[str]) -> list[str]:
            labels = ft.f.multilinePredict([t.replace("\n", " ") for t in texts], 1, 0.0, "strict")
            return [lab[0].replace("__label__", "") if lab else "un" for lab in labels]

        found["fasttext lid.176.ftz (raw)"] = run_ft
    except ImportError:
        pass
    try:
        import py3langid

        found["py3langid"] = lambda texts: [py3langid.classify(t)[0] for t in texts]
    except ImportError:
        pass
    try:
        import pycld2

        def run_cld2(texts: list[str]) -> list[str]:
            out = []
            for t in texts:
                try:
                    out.append(pycld2.detect(t)[2][0][1].split("-")[0])
                except pycld2.error:
                    out.append("un")
            return out

        found["pycld2"] = run_cld2
    except ImportError:
        pass
    try:
        import langdetect

        langdetect.DetectorFactory.seed = 0

        def run_ld(texts: list[str]) -> list[str]:
            out = []
            for t in texts:
                try:
                    out.append(langdetect.detect(t).split("-")[0])
                except langdetect.LangDetectException:
                    out.append("un")
            return out

        found["langdetect"] = run_ld
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder

        lingua = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

        def run_lingua(texts: list[str]) -> list[str]:
            res = lingua.detect_languages_in_parallel_of(texts)
            return [r.iso_code_639_1.name.lower() if r else "un" for r in res]

        found["lingua (high accuracy, all languages)"] = run_lingua
    except ImportError:
        pass
    return found


def normalise_code(code: str) -> str:
    # Norwegian Bokmal/Nynorsk and Malay/Indonesian macro-language variants are scored as the code we wrote.
    return {"nb": "no", "nn": "no", "zh-hant": "zh", "fil": "tl", "iw": "he"}.get(code, code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--only", default="", help="score only the detectors whose name contains this")
    ap.add_argument("--sets", default="", help="comma-separated substrings: score only the sets that contain one")
    ap.add_argument("--errors", action="store_true", help="also list every wrong answer (gold, predicted, text)")
    args = ap.parse_args()
    data = shared_data(args.data)
    loaders: dict[str, Callable[[], tuple[list[str], list[str]]]] = {
        "umsab_val": lambda: load_umsab(data), "umsab_val_corrected": lambda: load_corrected(data),
        "own_sentences_35": lambda: load_fixture("langid_sentences"),
        "own_posts_35": lambda: load_fixture("langid_posts"),
        "own_posts_heldout_35": lambda: load_fixture("langid_posts_heldout"),
        "own_posts2_tune_35": lambda: load_fixture("langid_posts2_tune"),
        "own_posts2_heldout_35": lambda: load_fixture("langid_posts2_heldout"),
        "own_short_check_35": lambda: load_fixture("langid_short_check"),
    }
    wanted = [w for w in args.sets.split(",") if w]
    sets = {name: load() for name, load in loaders.items() if not wanted or any(w in name for w in wanted)}
    for name, fn in detectors().items():
        if args.only not in name:
            continue
        row: dict[str, object] = {"detector": name}
        for set_name, (texts, gold) in sets.items():
            fn(texts[:20])  # warm up lazy loading
            t0 = time.process_time()
            pred = [normalise_code(p) for p in fn(texts)]
            dt = time.process_time() - t0
            acc = sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold)
            per: dict[str, float] = {}
            for code in sorted(set(gold)):
                idx = [i for i, g in enumerate(gold) if g == code]
                per[code] = round(sum(pred[i] == code for i in idx) / len(idx), 3)
            entry: dict[str, object] = {
                "accuracy": round(acc, 4), "texts_per_s": round(len(texts) / dt), "per_language": per,
            }
            if args.errors:
                entry["errors"] = [[g, p, t] for t, g, p in zip(texts, gold, pred, strict=True) if p != g]
            row[set_name] = entry
        print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
