from __future__ import annotations

import numpy as np

from legation import nlp
from legation.nlp.tests.conftest import BAD_INPUTS


def test_every_batch_function_returns_one_result_per_bad_input():
    n = len(BAD_INPUTS)
    assert len(nlp.detect_languages(BAD_INPUTS)) == n
    for tier in ("fast", "accurate"):
        assert set(nlp.sentiment(BAD_INPUTS, tier=tier)) <= {"negative", "neutral", "positive"}
        assert len(nlp.crisis_categories(BAD_INPUTS, tier=tier)) == n
    assert len(nlp.extract_places(BAD_INPUTS)) == n
    assert len(nlp.extract_head_counts(BAD_INPUTS)) == n
    assert len(nlp.extract_phone_numbers(BAD_INPUTS)) == n
    assert len(nlp.extract_needs(BAD_INPUTS)) == n
    assert nlp.signatures(BAD_INPUTS).shape == (n, 32)
    assert len(nlp.near_duplicate_groups(BAD_INPUTS)) == n
    assert len(nlp.cluster_stories(BAD_INPUTS)) == n


def test_enrich_survives_bad_input_and_reports_no_errors():
    results = nlp.enrich(BAD_INPUTS, "fast")
    assert len(results) == len(BAD_INPUTS)
    assert all(r.errors == [] for r in results)
    assert results[0].language == "und"  # empty text: nothing to judge
    assert results[3].binary  # control characters dominate
    assert "ar" not in results[6].language  # the lone surrogates did not break detection
    assert results[2].language == "en"  # the 1.2 MB text is judged on its start


def test_empty_batch_gives_empty_results():
    assert nlp.enrich([]) == []
    assert nlp.detect_languages([]) == []
    assert nlp.sentiment([]) == []
    assert nlp.signatures([]).shape == (0, 32)
    assert np.asarray(nlp.crisis_categories([])).size == 0


def test_a_single_string_is_one_text_not_characters():
    assert nlp.detect_languages("Bonjour tout le monde, comment allez-vous ?") == ["fr"]


def test_identical_posts_in_a_batch_get_identical_enrichment_and_point_to_the_first():
    sms = "URGENT: 40 of us stuck in Beirut, need water, call +961 3 123 456"
    results = nlp.enrich([sms, "Bonjour", sms, sms], keys=["a", "b", "c", "d"])
    assert [r.duplicate_of for r in results] == [None, None, "a", "a"]
    assert results[2].places == results[0].places and results[3].phone_numbers == ["+9613123456"]
    assert results[1].language == "fr"
