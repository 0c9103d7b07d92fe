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


def test_accurate_tier_is_the_weighted_average_of_its_three_models_and_the_joint_pass_agrees():
    import numpy as np

    from legation.nlp.classify import classify_tasks, ensemble_weight, ensemble_weights, load_models
    from legation.nlp.embeddings import VectorModel
    from legation.nlp.text import model_text

    with FIXTURE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    texts = [r["text"] for r in rows] + ["Un texte sans langue connue"]
    langs = [r["lang"] for r in rows] + ["xx"]  # a language without weights of its own gets the overall ones
    models = load_models("sentiment", "accurate")
    assert [isinstance(m, VectorModel) for m in models] == [False, False, True]
    assert all(ensemble_weight(m) >= 0 for m in models)  # 0: cross-validation left the model out of the tier
    assert sum(ensemble_weight(m) > 0 for m in models) >= 2
    assert len({ensemble_weight(m) for m in models}) > 1  # weighted, not a plain average
    weights = [ensemble_weights(m, langs, len(langs)) for m in models]
    assert np.allclose([w[-1, 0] for w in weights], [ensemble_weight(m) for m in models])
    docs = [model_text(t) for t in texts]
    expected = sum(w * m.predict_proba(docs, langs) for w, m in zip(weights, models, strict=True)) / sum(weights)
    alone = classify_sentiment(texts, tier="accurate", languages=langs)
    joint = classify_tasks(texts, {"sentiment": langs, "crisis": None}, "accurate")["sentiment"]
    assert np.abs(alone.probabilities - expected).max() < 1e-5
    assert np.abs(joint.probabilities - alone.probabilities).max() < 1e-5
    assert joint.labels == alone.labels
    # The fast tier is the first model alone, its weight (in the accurate tier) playing no part.
    fast = classify_sentiment(texts, tier="fast", languages=langs)
    assert np.abs(fast.probabilities - models[0].predict_proba(docs, langs)).max() < 1e-5


def test_vector_model_adds_each_languages_correction_and_unknown_languages_get_the_shared_weights():
    import numpy as np

    from legation.nlp.classify import load_models
    from legation.nlp.embeddings import sentence_vectors

    vm = load_models("sentiment", "accurate")[2]
    assert vm.blocks == sorted(["ar", "en", "fr", "de", "hi", "it", "pt", "es"])
    vectors = sentence_vectors(["what a lovely day", "quel désastre"])
    shared = vm.decision_from_vectors(vectors)
    assert np.allclose(vm.decision_from_vectors(vectors, ["xx", "yy"]), shared)
    en = vm.decision_from_vectors(vectors, ["en", "en"])
    fr_en = vm.decision_from_vectors(vectors, ["fr", "en"])
    assert not np.allclose(en, shared)
    assert np.allclose(fr_en[1], en[1]) and not np.allclose(fr_en[0], en[0])
