"""Sentiment (negative / neutral / positive) in many languages.

The models learn shared weights over all eight UMSAB languages plus a correction per language, so each text's
language (from :func:`legation.nlp.language.detect_languages`, or given by the caller) picks its correction;
other languages use the shared weights alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from legation.nlp.classify import Prediction, classify
from legation.nlp.language import detect_languages
from legation.nlp.text import as_texts

CLASSES = ("negative", "neutral", "positive")


def classify_sentiment(
    texts: Iterable[object],
    tier: str = "fast",
    languages: Sequence[str] | None = None,
    model_path: str | Path | None = None,
) -> Prediction:
    """Sentiment label, probabilities and confidence for every text."""
    items = as_texts(texts)
    langs = list(languages) if languages is not None else detect_languages(items)
    return classify(items, "sentiment", tier, groups=langs, model_path=model_path)


def sentiment(
    texts: Iterable[object],
    tier: str = "fast",
    languages: Sequence[str] | None = None,
    model_path: str | Path | None = None,
) -> list[str]:
    """``"negative"``, ``"neutral"`` or ``"positive"`` for every text."""
    return classify_sentiment(texts, tier, languages, model_path).labels
