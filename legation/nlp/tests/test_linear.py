from __future__ import annotations

import numpy as np

from legation.nlp.classify import MODELS, classify, classify_tasks
from legation.nlp.linear import FeatureSpec, LinearModel, doc_features
from legation.nlp.samples import SAMPLE_POSTS
from legation.nlp.text import model_text
from legation.nlp.train import fit_linear


def test_shared_feature_pass_gives_the_same_predictions_as_separate_models():
    texts = list(SAMPLE_POSTS)
    langs = ["en"] * len(texts)
    for tier in ("fast", "accurate"):
        joint = classify_tasks(texts, {"sentiment": langs, "crisis": None}, tier)
        alone_s = classify(texts, "sentiment", tier, groups=langs)
        alone_c = classify(texts, "crisis", tier)
        assert joint["sentiment"].labels == alone_s.labels
        assert joint["crisis"].labels == alone_c.labels
        assert np.allclose(joint["crisis"].probabilities, alone_c.probabilities, atol=1e-5)


def test_cached_word_features_match_the_training_features():
    model = LinearModel.load(MODELS / "crisis_fast.npz")
    for text in SAMPLE_POSTS:
        norm = model_text(text)
        expected = {j for j in map(model.vocab.get, doc_features(norm, model.spec)) if j is not None}
        ids, offsets = model.feature_ids([norm])
        assert set(ids.tolist()) == expected


def test_model_file_round_trip_keeps_predictions(tmp_path):
    docs = [model_text(t) for t in ["good news today", "bad news today", "good day", "bad day"] * 5]
    labels = ["pos", "neg", "pos", "neg"] * 5

    model = fit_linear(docs, labels, FeatureSpec(char_max=0), c=10.0, min_df=1)
    path = tmp_path / "m.npz"
    model.save(path)
    again = LinearModel.load(path)
    assert again.classes == ["neg", "pos"]
    assert [again.classes[i] for i in again.predict_proba(docs[:4]).argmax(axis=1)] == labels[:4]


def test_sample_weights_decide_between_contradicting_examples():
    # "storm" is labelled both ways; the label whose examples weigh more wins, whichever it is.
    docs = [model_text(t) for t in ["storm", "storm", "calm sea", "sunny calm"]]
    labels = ["alarm", "quiet", "quiet", "quiet"]
    for heavy, expected in ((0, "alarm"), (1, "quiet")):
        weights = [1.0, 1.0, 1.0, 1.0]
        weights[heavy] = 20.0
        model = fit_linear(docs, labels, FeatureSpec(char_max=0), c=10.0, min_df=1, class_weight=None,
                           algorithm="svm", sample_weight=weights)
        assert model.classes[int(model.predict_proba([model_text("storm")]).argmax())] == expected
