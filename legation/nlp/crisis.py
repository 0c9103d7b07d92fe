"""Crisis categories: the ten HumAID classes, and the coarse categories shared with CrisisLexT26."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from legation.nlp.classify import Prediction, classify
from legation.nlp.language import detect_languages
from legation.nlp.text import as_texts

CLASSES = (
    "caution_and_advice",
    "displaced_people_and_evacuations",
    "infrastructure_and_utility_damage",
    "injured_or_dead_people",
    "missing_or_found_people",
    "not_humanitarian",
    "other_relevant_information",
    "requests_or_urgent_needs",
    "rescue_volunteering_or_donation_effort",
    "sympathy_and_support",
)

# HumAID class -> coarse category (the CrisisLexT26 information types, which are coarser).
COARSE_OF = {
    "injured_or_dead_people": "affected_individuals",
    "missing_or_found_people": "affected_individuals",
    "displaced_people_and_evacuations": "affected_individuals",
    "caution_and_advice": "caution_and_advice",
    "requests_or_urgent_needs": "donations_and_volunteering",
    "rescue_volunteering_or_donation_effort": "donations_and_volunteering",
    "infrastructure_and_utility_damage": "infrastructure_and_utilities",
    "sympathy_and_support": "sympathy_and_support",
    "other_relevant_information": "other_useful_information",
    "not_humanitarian": "not_applicable",
}
# CrisisLexT26 "Information Type" -> coarse category ("Not labeled" rows are left out of evaluation).
CRISISLEX_TO_COARSE = {
    "Affected individuals": "affected_individuals",
    "Caution and advice": "caution_and_advice",
    "Donations and volunteering": "donations_and_volunteering",
    "Infrastructure and utilities": "infrastructure_and_utilities",
    "Sympathy and support": "sympathy_and_support",
    "Other Useful Information": "other_useful_information",
    "Not applicable": "not_applicable",
}


def classify_crisis(
    texts: Iterable[object],
    tier: str = "fast",
    languages: Sequence[str] | None = None,
    model_path: str | Path | None = None,
) -> Prediction:
    """HumAID class, probabilities and confidence for every text.

    In the accurate tier the sentence-vector model's weight depends on each text's language (``languages``, or
    :func:`legation.nlp.language.detect_languages` when not given); the fast tier ignores languages."""
    items = as_texts(texts)
    if tier == "fast" and model_path is None:
        return classify(items, "crisis", tier)
    langs = list(languages) if languages is not None else detect_languages(items)
    return classify(items, "crisis", tier, groups=langs, model_path=model_path)


def crisis_categories(
    texts: Iterable[object],
    tier: str = "fast",
    languages: Sequence[str] | None = None,
    model_path: str | Path | None = None,
) -> list[str]:
    """HumAID class name for every text (e.g. ``"caution_and_advice"``)."""
    return classify_crisis(texts, tier, languages, model_path).labels
