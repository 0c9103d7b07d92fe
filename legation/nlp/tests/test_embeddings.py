"""The accurate tier's multilingual sentence vectors (USE Multilingual v3 sub-word table, shipped in a package)."""

import numpy as np

from legation.nlp.embeddings import DIMENSIONS, sentence_vectors


def test_vectors_are_unit_length_and_empty_texts_are_zero():
    vecs = sentence_vectors(["We need drinking water", "", "🙂"])
    assert vecs.shape == (3, DIMENSIONS)
    assert vecs.dtype == np.float32
    assert abs(float(np.linalg.norm(vecs[0])) - 1.0) < 1e-4
    assert not vecs[1].any()


def test_translations_are_closer_than_unrelated_sentences():
    en, es, fr, other = sentence_vectors(
        [
            "The bridge collapsed after the earthquake",
            "El puente se derrumbó después del terremoto",
            "Le pont s'est effondré après le tremblement de terre",
            "I love this new song, what a great concert",
        ]
    )
    assert en @ es > en @ other
    assert fr @ es > fr @ other


def test_one_text_gives_the_same_vector_alone_or_in_a_batch():
    texts = ["Evacuation buses leave the port at noon", "Merci pour votre aide", "شكرا جزيلا"]
    batch = sentence_vectors(texts)
    for i, text in enumerate(texts):
        np.testing.assert_allclose(sentence_vectors([text])[0], batch[i], rtol=1e-5, atol=1e-6)


def test_huge_binary_and_invalid_texts_do_not_fail():
    vecs = sentence_vectors(["x" * 1_000_000, "\x00\x01\x02\ufffd", "a\ud800b"])
    assert vecs.shape == (3, DIMENSIONS)


def test_function_words_barely_move_a_post():
    """Pieces are weighted by inverse frequency: 'the', 'of', 'and' hardly count, the content words carry the post."""
    content, padded, function_words = sentence_vectors(
        ["flooded houses", "the flooded houses of the and the", "the of and the"]
    )
    assert content @ padded > 0.95
    assert padded @ function_words < 0.3
