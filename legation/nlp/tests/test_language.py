from __future__ import annotations

import csv
from pathlib import Path

from legation.nlp import detect_languages, detect_languages_scored

FIXTURE = Path(__file__).parent / "fixtures" / "langid_sentences.tsv"


def _fixture() -> tuple[list[str], list[str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["text"] for r in rows], [r["lang"] for r in rows]


def test_own_multilingual_fixture_covers_35_languages_at_95_percent():
    texts, gold = _fixture()
    assert len(set(gold)) >= 30
    pred = detect_languages(texts)
    accuracy = sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold)
    assert accuracy >= 0.95, [(g, p, t) for t, g, p in zip(texts, gold, pred, strict=True) if g != p]


def test_romanised_hindi_is_hindi_and_plain_english_stays_english():
    assert detect_languages(
        [
            "yaar ye match toh bahut accha tha, kya baat hai",
            "Thanks so much for helping us get home safely!",
            "bhai mujhe nahi pata ki kal kya hoga",
        ]
    ) == ["hi", "en", "hi"]


def test_shouted_italian_is_not_english():
    assert detect_languages(["GOVERNO: IL PRESIDENTE CHIEDE APPOGGIO AI PARTITI PER LA RIFORMA"]) == ["it"]


def test_codes_are_iso_639_1_and_confidence_is_bounded():
    scored = detect_languages_scored(["مرحبا بكم في السفارة", "😀😀", "http://t.co/x @user"])
    assert scored[0][0] == "ar" and 0.5 < scored[0][1] <= 1.0
    assert scored[1] == ("und", 0.0)
    assert scored[2] == ("und", 0.0)
