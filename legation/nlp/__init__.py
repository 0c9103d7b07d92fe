"""Offline language models for listening and crisis work: pure Python + numpy, no Django, no downloads.

Batch functions over lists of texts; every function accepts empty, huge, binary-looking, mixed-script and
invalid-Unicode texts without failing the batch. Two tiers where it matters: ``"fast"`` (ingestion default)
and ``"accurate"`` (posts that reach a person). Model cards: ``legation/nlp/models/*.md``.
"""

from __future__ import annotations

from legation.nlp.crisis import classify_crisis, crisis_categories
from legation.nlp.duplicates import DuplicateIndex, near_duplicate_groups, signatures
from legation.nlp.enrich import Enrichment, enrich
from legation.nlp.extract import HeadCount, extract_head_counts, extract_needs, extract_phone_numbers
from legation.nlp.language import detect_languages, detect_languages_scored
from legation.nlp.places import Place, extract_places
from legation.nlp.sentiment import classify_sentiment, sentiment
from legation.nlp.spikes import Spike, SpikeDetector, detect_spikes
from legation.nlp.stories import Story, StoryClusterer, cluster_stories

__all__ = [
    "DuplicateIndex",
    "Enrichment",
    "HeadCount",
    "Place",
    "Spike",
    "SpikeDetector",
    "Story",
    "StoryClusterer",
    "classify_crisis",
    "classify_sentiment",
    "cluster_stories",
    "crisis_categories",
    "detect_languages",
    "detect_languages_scored",
    "detect_spikes",
    "enrich",
    "extract_head_counts",
    "extract_needs",
    "extract_phone_numbers",
    "extract_places",
    "near_duplicate_groups",
    "sentiment",
    "signatures",
]
