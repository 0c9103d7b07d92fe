"""Train the romanised-Hindi (Hinglish) recogniser that completes fastText's language identification.

fastText and every other packaged detector label Latin-script Hindi as English (or Indonesian, ...). This
trains a small binary model on UMSAB train (hindi vs. the six Latin-script languages) and reports, on UMSAB
val, the whole cascade's accuracy. Writes ``legation/nlp/models/hinglish.npz``.

    .venv/bin/python training/train_language.py [--data ../shared/data] [--no-save]
"""

from __future__ import annotations

import argparse
import json

from common import MODELS_DIR, fit_linear, shared_data

from legation.nlp.linear import FeatureSpec
from legation.nlp.text import model_text

LANGS = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
    "italian": "it", "portuguese": "pt", "spanish": "es",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    root = shared_data(args.data) / "sentiment" / "umsab"
    docs: list[str] = []
    labels: list[str] = []
    for folder, code in LANGS.items():
        if code == "ar":
            continue
        for line in (root / folder / "train_text.txt").read_text("utf-8").splitlines():
            docs.append(model_text(line))
            labels.append("hi" if code == "hi" else "other")
    model = fit_linear(docs, labels, FeatureSpec(char_min=3, char_max=4), c=4.0, min_df=2, max_features=60000,
                       meta={"task": "hinglish", "data": "UMSAB train, latin-script languages"})
    if not args.no_save:
        model.save(MODELS_DIR / "hinglish.npz")
    from legation.nlp import language

    language._hinglish = model
    report: dict[str, float] = {}
    total = correct = 0
    for folder, code in LANGS.items():
        texts = (root / folder / "val_text.txt").read_text("utf-8").splitlines()
        pred = language.detect_languages(texts)
        ok = sum(p == code for p in pred)
        report[code] = round(ok / len(texts), 4)
        total += len(texts)
        correct += ok
    report["all"] = round(correct / total, 4)
    print(json.dumps({"umsab_val_accuracy_of_cascade": report}))


if __name__ == "__main__":
    main()
