"""Build ``legation/nlp/models/swahili_words.txt.gz``: Swahili words that are in none of the 26 word lists.

fastText lid.176 reads short and mid-length Swahili badly ("Serikali imetangaza kuongeza bei ya mafuta kuanzia
mwezi ujao." is German 0.34 for it) and ``wordfreq`` has no Swahili list, so the language cascade settles a
fastText close call as Swahili when most of the text's words are Swahili words (see the model card,
``models/language.md``). The words come from the pronunciation lexicon of ``gruut-lang-sw`` (PyPI, MIT licence,
the Swahili files of the gruut phonemizer by Michael Hansen / Rhasspy): its 81,219 entries (word forms of news
text, with some names and English words among them), kept when alphabetic, at least 3 letters long and absent
from every list of ``langwords.json.gz`` (so "na", "sana" or "bei" never speak for Swahili by themselves here) and
below zipf ``ELSEWHERE_ZIPF`` in each of those 26 languages' whole ``wordfreq`` lists (names and loans that
English or Indonesian posts use too: "safari", "nairobi", "simba"). Needed only to rebuild the file, not at run
time:

    .venv/bin/python -m pip install gruut-lang-sw==2.0.1 wordfreq==3.1.1
    .venv/bin/python training/build_swahili_words.py [--lexicon PATH/lexicon.db]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
from pathlib import Path

from common import MODELS_DIR

# A word this frequent (zipf) in another language's wordfreq list is not Swahili evidence: "Jambo Jambo, welcome
# to Kenya safari" is English ("safari" 3.6 in English, "nairobi" 3.5, "simba" 3.0; "serikali" or "mvua" 0).
ELSEWHERE_ZIPF = 3.0


def default_lexicon() -> Path:
    try:
        import gruut_lang_sw  # type: ignore[import-not-found]
    except ImportError as exc:
        raise SystemExit("install gruut-lang-sw==2.0.1 or pass --lexicon PATH/lexicon.db") from exc
    return Path(gruut_lang_sw.__file__).parent / "lexicon.db"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lexicon", type=Path, default=None, help="gruut-lang-sw's lexicon.db")
    args = ap.parse_args()
    path = args.lexicon or default_lexicon()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        entries = {str(w).lower() for (w,) in db.execute("SELECT DISTINCT word FROM word_phonemes")}
    lists = json.loads(gzip.decompress((MODELS_DIR / "langwords.json.gz").read_bytes()))["zipf10"]
    elsewhere = set().union(*(set(words) for words in lists.values()))
    from wordfreq import zipf_frequency

    def common_elsewhere(word: str) -> bool:
        return any(zipf_frequency(word, lang) >= ELSEWHERE_ZIPF for lang in lists)

    kept = sorted(w for w in entries
                  if w.isalpha() and len(w) >= 3 and w not in elsewhere and not common_elsewhere(w))
    out = MODELS_DIR / "swahili_words.txt.gz"
    # mtime=0: the same words give the same bytes.
    out.write_bytes(gzip.compress(("\n".join(kept) + "\n").encode("utf-8"), mtime=0))
    print(f"{len(entries):,} lexicon entries -> {len(kept):,} words, {out.stat().st_size:,} bytes: {out}")


if __name__ == "__main__":
    main()
