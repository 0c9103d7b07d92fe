"""The fast paths of enrichment (prefilters, ASCII tokenisers, one-regex phrase search) give exactly the
answers of the plain paths they skip, and the language cascade fixes fastText's close calls."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from legation.nlp import detect_languages, extract
from legation.nlp.places import Gazetteer, gazetteer
from legation.nlp.samples import SAMPLE_POSTS
from legation.nlp.tests.conftest import BAD_INPUTS
from legation.nlp.text import MAX_SCAN_CHARS, as_texts, clean

FIXTURES = Path(__file__).parent / "fixtures"
EXTRA = [
    "I live in paris", "Paris is lovely", "new york", "New York is big", "we flew to the hague", "The Hague",
    "US embassy", "the us embassy", "in nice today", "Nice today", "reading in reading", "Reading",
    "hola desde são paulo", "à São Paulo et à Montréal", "в Москве и Киеве", "я в москве", "我在北京",
    "東京に行きます", "وصلنا بالقاهرة", "ونحتاج الماء والطعام", "पानी चाहिए दिल्ली में", "ﬁnd Paris",
    "We are 40 stuck, need water please", "hundreds of Indians", "٣٠ شخصا عالقون", "no food, no water",
    "Need a ride to the airport asap", "out of insulin, please send medicine", "people of us 12 Nigerians",
    "PARIS", "cairo", "CAIRO and ALEXANDRIA", "Berlin-Mitte", "San Francisco", "san francisco",
]


def _sample() -> list[str]:
    texts = list(SAMPLE_POSTS) + EXTRA + as_texts(BAD_INPUTS)
    for name in ("langid_sentences.tsv", "sentiment_sentences.tsv"):
        with (FIXTURES / name).open(encoding="utf-8", newline="") as f:
            texts += [row["text"] for row in csv.DictReader(f, delimiter="\t")]
    return [clean(t, MAX_SCAN_CHARS) for t in texts]


class _Never:
    """Stands in for the prefilter's sets so that it never skips a text."""

    def isdisjoint(self, _other: object) -> bool:
        return False


def test_places_prefilter_gives_the_same_places_as_full_matching():
    gaz = gazetteer()
    plain = Gazetteer.__new__(Gazetteer)
    plain.__dict__.update(gaz.__dict__)
    plain._first_pairs = _Never()  # type: ignore[assignment]
    plain._fold_cache = {}
    plain._dead = _Forgetful()  # type: ignore[assignment]
    texts = _sample()
    fast = Gazetteer.__new__(Gazetteer)
    fast.__dict__.update(gaz.__dict__)
    fast._dead = set()
    first = [fast.find(t) for t in texts]
    assert fast._dead  # unknown Arabic/Cyrillic/CJK words were remembered ...
    assert [fast.find(t) for t in texts] == first  # ... and skipped the second time, with the same places
    assert first == [plain.find(t) for t in texts]
    assert any(first)


class _Forgetful(set):  # type: ignore[type-arg]
    """A set that keeps nothing: the plain path never skips a word it saw before."""

    def add(self, _item: object) -> None:
        pass


def test_other_digit_scan_finds_exactly_the_digits_normalise_digits_maps():
    from legation.nlp.text import _DIGITS, _OTHER_DIGIT, normalise_digits

    found = {c for c in range(0x110000) if not 0xD800 <= c < 0xE000 and _OTHER_DIGIT.match(chr(c))}
    assert found == set(_DIGITS)
    assert normalise_digits("عددنا ٣٠ و۴ और ४२ people") == "عددنا 30 و4 और 42 people"
    assert normalise_digits("ok é") == "ok é"


def test_head_counts_and_needs_fast_paths_match_the_plain_paths(monkeypatch: pytest.MonkeyPatch):
    texts = _sample()
    fast = [(extract.head_counts_in(t), extract.needs_in(t), extract.needs_in(t, False)) for t in texts]

    def any_substring(phrases: tuple[str, ...]):  # the former check: any(p in text for p in phrases)
        return lambda text: any(p in text for p in phrases)

    monkeypatch.setattr(extract, "_ASCII_TOKEN", extract._TOKEN)
    monkeypatch.setattr(extract, "_CUE_SEARCH", any_substring(extract._CUE_PHRASES))
    monkeypatch.setattr(
        extract, "_NEED_SEARCH",
        {need: (terms, any_substring(phrases)) for need, (terms, phrases) in extract._NEED_INDEX.items()},
    )
    plain = [(extract.head_counts_in(t), extract.needs_in(t), extract.needs_in(t, False)) for t in texts]
    assert fast == plain
    assert any(h for h, _, _ in fast) and any(n for _, n, _ in fast)


def test_ascii_word_pattern_equals_the_unicode_one_on_ascii():
    text = "".join(chr(c) for c in range(128)) + " a_b 12x y-z"
    assert extract._ASCII_TOKEN.findall(text) == extract._TOKEN.findall(text)
    assert re.compile(r"\w+").findall(text) == extract._TOKEN.findall(text)


def test_language_cascade_settles_fasttexts_close_calls():
    assert detect_languages(
        [
            "A embaixada estará fechada amanhã por causa do feriado.",  # fastText: es, 0.51
            "Ada sesiapa tahu sama ada lapangan terbang sudah dibuka semula selepas ribut?",  # fastText: id, 0.66
            "The embassy will be closed tomorrow for the national holiday.",
        ]
    ) == ["pt", "ms", "en"]


def test_language_accuracy_on_own_fixture_reaches_98_percent():
    with (FIXTURES / "langid_sentences.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    pred = detect_languages([r["text"] for r in rows])
    accuracy = sum(p == r["lang"] for p, r in zip(pred, rows, strict=True)) / len(rows)
    assert accuracy >= 0.98


def test_batch_band_keys_equal_the_per_signature_ones():
    import numpy as np

    from legation.nlp.duplicates import _all_band_keys, _band_keys, signatures

    sigs = np.concatenate([
        signatures(_sample()[:200]),
        np.zeros((2, 32), dtype=np.uint32),
        np.random.default_rng(0).integers(0, 2**32, size=(50, 32), dtype=np.uint64).astype(np.uint32),
    ])
    assert _all_band_keys(sigs) == [_band_keys(s) for s in sigs]
    assert _all_band_keys(sigs[:0]) == []


# --- the batch feature pass and the enrichment's shared ASCII words -------------------------------------------


def _model_texts() -> list[str]:
    from legation.nlp.text import model_text

    texts = _sample() + ["a b " * 400, "x", "", "🙂🙂 ok", "RT @user: look https://t.co/x ok ok ok"]
    return [model_text(t) for t in texts]


def _plain_ids(model, text: str) -> set[int]:  # type: ignore[no-untyped-def]
    from legation.nlp.linear import doc_features

    return {j for j in map(model.vocab.get, doc_features(text, model.spec)) if j is not None}


@pytest.mark.parametrize(
    "name", ["sentiment_fast.npz", "crisis_fast.npz", "sentiment_accurate_chars.npz", "hinglish.npz", "latin.npz"]
)
def test_batch_feature_pass_gives_each_text_its_plain_features(name: str, monkeypatch: pytest.MonkeyPatch):
    from legation.nlp import linear
    from legation.nlp.classify import MODELS

    model = linear.LinearModel.load(MODELS / name)
    docs = _model_texts()
    expected = [_plain_ids(model, t) for t in docs]

    def check() -> None:
        ids, offsets = model.feature_ids(docs)
        got = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(docs))]
        assert [set(g) for g in got] == expected
        assert all(g == sorted(set(g)) for g in got)  # each id once, in increasing order

    check()  # cold: every word is new
    check()  # warm: every word comes from the table
    monkeypatch.setattr(linear, "_WORD_CACHE_SIZE", 50)  # the table overflows and restarts, or is bypassed
    model._word_cache.clear()
    check()
    monkeypatch.setattr(linear, "_BATCH_TEXTS", 7)  # big calls cut into passes
    monkeypatch.setattr(linear, "_TEXT_GRAM_TEXTS", 3)  # and the whole-text n-grams into smaller ones
    check()
    monkeypatch.setattr(linear, "_NGRAMS_IN_NUMPY", False)  # character n-grams by dict, one lookup each
    model._word_cache.clear()
    check()


@pytest.mark.parametrize("name", ["crisis_fast.npz", "hinglish.npz", "latin.npz", "crisis_accurate_chars.npz"])
def test_numpy_ngram_lookup_sends_hash_collisions_to_the_dict(name: str, monkeypatch: pytest.MonkeyPatch):
    from legation.nlp import linear
    from legation.nlp.classify import MODELS

    strong = linear._window_hashes
    # Only 12 bits of hash left: many different strings share one, in the vocabulary and among the n-grams.
    monkeypatch.setattr(linear, "_window_hashes", lambda w, n: strong(w, n) >> np.uint64(52) << np.uint64(52) | 1)
    unsure: list[int] = []
    lookup = linear._NgramIndex.lookup

    def spy(self, words):  # type: ignore[no-untyped-def]
        out = lookup(self, words)
        unsure.append(len(out[2]))
        return out

    monkeypatch.setattr(linear._NgramIndex, "lookup", spy)
    text_lookup = linear._NgramIndex.text_lookup  # the n-grams over whole texts (accurate tier's models)

    def text_spy(self, texts):  # type: ignore[no-untyped-def]
        out = text_lookup(self, texts)
        unsure.append(len(out[2]))
        return out

    monkeypatch.setattr(linear._NgramIndex, "text_lookup", text_spy)
    monkeypatch.setattr(linear, "_TEXT_GRAM_TEXTS", 3)  # unsure texts in passes that do not start at 0
    model = linear.LinearModel.load(MODELS / name)
    docs = _model_texts()
    ids, offsets = model.feature_ids(docs)
    got = [set(ids[offsets[i] : offsets[i + 1]].tolist()) for i in range(len(docs))]
    assert got == [_plain_ids(model, t) for t in docs]
    assert sum(unsure) > 0


def test_premultiplied_scores_equal_the_plain_tfidf_formula():
    from legation.nlp.classify import load_models

    model = load_models("sentiment", "fast")[0]
    docs = _model_texts()
    groups = [["en", "fr", "ar", "xx", "hi"][i % 5] for i in range(len(docs))]
    scores = model.decision(docs, groups=groups)
    v, c = len(model.vocab), len(model.classes)
    coef = model.coef.astype(np.float64).reshape(v, -1, c)
    for i, text in enumerate(docs):
        ids = sorted(_plain_ids(model, text))
        expected = model.intercept[:c].astype(np.float64)
        if ids:
            x = model.idf[ids].astype(np.float64)
            w = coef[ids, 0]
            if groups[i] in model.blocks:
                w = w + coef[ids, 1 + model.blocks.index(groups[i])]
            expected = expected + (x / np.sqrt((x * x).sum())) @ w
        assert np.allclose(scores[i], expected, atol=1e-5)


def test_shared_ascii_words_give_the_stages_their_own_answers():
    from legation.nlp.duplicates import plain_ascii_words, signatures
    from legation.nlp.enrich import _ASCII_WORD

    texts = _sample() + [
        "RT @embassy: 40 of us stuck in Cairo, need water https://t.co/x", "rt: hello there", "  RT hi",
        "art rt", "mail me: a@b.com", "WWW.EXAMPLE.COM is down", "x" * 6000 + " Paris", "Paris, Paris; PARIS!",
    ]
    gaz = gazetteer()
    ascii_texts = [t for t in texts if t.isascii()]
    words = [_ASCII_WORD.findall(t.lower()) for t in ascii_texts]
    for t, w in zip(ascii_texts, words, strict=True):
        assert gaz.find(t, w) == gaz.find(t)
        assert extract.head_counts_in(t, set(w)) == extract.head_counts_in(t)
        assert extract.needs_in(t, True, t.lower(), set(w)) == extract.needs_in(t)
    shared = [plain_ascii_words(t.lower(), w) for t, w in zip(ascii_texts, words, strict=True)]
    assert (signatures(ascii_texts, shared) == signatures(ascii_texts)).all()
    assert any(s is None for s in shared) and sum(s is not None for s in shared) > 50
    # Retweets, links and mentions take the shared path too (only texts over 5,000 characters do not).
    assert shared[ascii_texts.index("RT @embassy: 40 of us stuck in Cairo, need water https://t.co/x")] == [
        "40", "of", "us", "stuck", "in", "cairo", "need", "water"]


@pytest.mark.parametrize("capacity", [1_000_000, 25])
def test_check_and_add_equals_find_then_add_for_each_text(capacity: int):
    from legation.nlp.duplicates import DuplicateIndex, signatures

    texts = _sample()[:150]
    # Copies, near-copies and empty texts among the others, in two batches.
    texts += [t + " !" for t in texts[:40]] + texts[10:30] + ["", "  "] + [t.upper() for t in texts[50:60]]
    sigs = signatures(texts)
    keys = [f"post-{i}" for i in range(len(texts))] + ["post-3"]
    sigs = np.concatenate([sigs, sigs[3:4]])  # a key seen before
    fast, plain = DuplicateIndex(capacity=capacity), DuplicateIndex(capacity=capacity)
    got: list[object] = []
    expected: list[object] = []
    for lo, hi in [(0, 120), (120, len(keys))]:
        got += fast.check_and_add(keys[lo:hi], sigs[lo:hi])
        for key, sig in zip(keys[lo:hi], sigs[lo:hi], strict=True):
            expected.append(plain.find(sig))
            plain.add(key, sig)
    assert got == expected
    assert sum(d is not None for d in got) >= (20 if capacity > len(keys) else 1)
    stored = {k for k, s in zip(keys, sigs, strict=True) if int(s[0]) != 2**32 - 1}  # empty texts are not
    assert len(fast) == min(capacity, len(stored))
    assert list(fast._sigs) == list(plain._sigs)
    assert fast._buckets == plain._buckets


def test_batch_signatures_equal_the_minhash_formula_text_by_text():
    from legation.nlp import duplicates

    texts = _sample()[:120] + ["", "one", "two words", "RT @x http://t.co", "   ", "a b a b a b"]
    sigs = duplicates.signatures(texts)
    a = [int(x) for x in duplicates._A]
    b = [int(x) for x in duplicates._B]
    for text, sig in zip(texts, sigs, strict=True):
        hs = duplicates.word_hashes(text)
        shingles = [(h1 << 32) | h2 for h1, h2 in zip(hs, hs[1:], strict=False)] or [h << 32 for h in hs]
        if not shingles:
            assert sig.tolist() == [2**32 - 1] * 32
            continue
        expected = [min(((ak * s + bk) % 2**64) >> 32 for s in shingles) for ak, bk in zip(a, b, strict=True)]
        assert sig.tolist() == expected


def test_a_stage_failing_on_one_post_costs_only_that_posts_field(monkeypatch: pytest.MonkeyPatch):
    import importlib

    enrich_module = importlib.import_module("legation.nlp.enrich")
    texts = ["We are 40 stuck in Beirut, need water", "BOOM 12 people", "hundreds of Indians in Cairo",
             "BOOM 12 people"]
    before = enrich_module.enrich(texts)
    real = enrich_module.head_counts_in

    def fragile(text: str, words: object = None) -> object:
        if "BOOM" in text:
            raise RuntimeError("bad post")
        return real(text, words)  # type: ignore[arg-type]

    monkeypatch.setattr(enrich_module, "head_counts_in", fragile)
    after = enrich_module.enrich(texts)
    assert [r.errors for r in after] == [[], ["head_counts: RuntimeError"], [], ["head_counts: RuntimeError"]]
    assert after[1].head_counts == [] and before[1].head_counts
    assert after[1].errors is not after[3].errors  # copies of one text get their own lists
    for b, a in zip(before, after, strict=True):
        assert (a.places, a.needs, a.language, a.sentiment) == (b.places, b.needs, b.language, b.sentiment)
    assert after[0].head_counts == before[0].head_counts and after[0].head_counts


@pytest.mark.parametrize("text_char_max", [1, 2, 3, 5, 7])
def test_whole_text_ngrams_in_numpy_equal_the_dict_lookups_on_odd_characters(
    text_char_max: int, monkeypatch: pytest.MonkeyPatch
):
    from legation.nlp import linear

    rng = np.random.default_rng(0)
    alphabet = ["a", "b", " ", "\0", "\x01", "é", "\ud83d", "\ude42", "\U0001f642"]
    texts = ["".join(rng.choice(alphabet, size=n)) for n in (0, 1, 2, 3, 5, 20, 399, 400, 401, 450) for _ in range(3)]
    grams = {t[k : k + n] for t in texts for n in range(1, text_char_max + 2) for k in range(len(t))}
    # The vocabulary holds the features, and strings that are one character off or lack the "\x01" mark.
    vocab: dict[str, int] = {}
    for g in sorted(grams):
        for f in ("\x01" + g, "\x01" + g + "\0", g):
            vocab.setdefault(f, len(vocab))
    model = linear.LinearModel(
        classes=["x", "y"], spec=linear.FeatureSpec(bigrams=False, char_max=0, text_char_max=text_char_max),
        vocab=vocab, idf=np.ones(len(vocab), np.float32), coef=np.zeros((len(vocab), 2), np.float32),
        intercept=np.zeros(2, np.float32),
    )
    framed = [f" {t[:400]} " for t in texts]
    plain_ids, plain_owners = model._text_char_ids_by_dict(framed, range(len(framed)))
    expected = sorted(zip(plain_owners, plain_ids, strict=True))
    monkeypatch.setattr(linear, "_TEXT_GRAM_TEXTS", 4)
    ids, owners = model._text_char_ids(texts)
    assert sorted(zip(np.asarray(owners).tolist(), np.asarray(ids).tolist(), strict=True)) == expected
    assert (model._text_gram_index() is None) == (text_char_max < 2)
