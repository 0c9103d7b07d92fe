from __future__ import annotations

import csv
from pathlib import Path

import pytest

from legation.nlp import classify_sentiment, sentiment

FIXTURE = Path(__file__).parent / "fixtures" / "sentiment_sentences.tsv"


@pytest.mark.parametrize("tier", ["fast", "accurate"])
def test_hand_written_sentences_in_eight_languages_are_mostly_right(tier):
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert {r["lang"] for r in rows} >= {"ar", "en", "fr", "de", "hi", "it", "pt", "es"}
    pred = sentiment([r["text"] for r in rows], tier=tier)
    accuracy = sum(p == r["label"] for p, r in zip(pred, rows, strict=True)) / len(rows)
    assert accuracy >= 0.8, [(r["text"], p) for p, r in zip(pred, rows, strict=True) if p != r["label"]]


def test_probabilities_are_distributions_over_the_three_labels():
    pred = classify_sentiment(["I love it", "I hate it", ""], tier="fast")
    assert pred.classes == ["negative", "neutral", "positive"]
    assert pred.probabilities.shape == (3, 3)
    assert abs(float(pred.probabilities.sum()) - 3.0) < 1e-4
    assert pred.labels[:2] == ["positive", "negative"]


def test_given_languages_are_used_instead_of_detection():
    texts = ["Che schifo, una vergogna", "Bellissimo, grazie mille"]
    assert sentiment(texts, languages=["it", "it"]) == ["negative", "positive"]
