"""Text counting exposed to the composer: X, Bluesky, Mastodon and SMS, with known values."""

from __future__ import annotations

import pytest

from legation.connectors.limits import count_bluesky, count_mastodon, count_sms, count_x, sms_segments

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one grapheme, seven code points
FLAG = "\U0001f1eb\U0001f1f7"
LONG_URL = "https://www.example.org/news/2025/statement-on-the-situation?utm_source=embassy&lang=en"


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        ("Hello, world", 12),
        ("😀", 2),
        (FAMILY, 2),  # an emoji sequence counts as one emoji
        ("日本語のテキスト", 16),  # CJK weighs 2
        ("مرحبا بالعالم", 13),  # Arabic weighs 1
        ("Read: " + LONG_URL, 6 + 23),  # every link counts 23
        ("a.com and b.org", 23 + 5 + 23),  # links without a scheme too
        ("é" * 10, 10),  # Latin-1 supplement weighs 1
    ],
)
def test_x_counts_weighted_characters_and_fixed_length_links(text, weighted):
    count = count_x(text)
    assert count.used == weighted
    assert count.limit == 280 and count.unit == "weighted characters"


def test_x_marks_a_post_over_the_limit():
    assert not count_x("a" * 280).over
    assert count_x("a" * 281).over
    assert count_x("日" * 141).over  # 282 weighted


def test_x_explains_link_counting_in_detail():
    assert count_x("see " + LONG_URL).detail == "1 link counted as 23 each"


@pytest.mark.parametrize(
    ("text", "used"),
    [("hello", 5), ("😀", 1), (FAMILY, 1), (FLAG, 1), ("é", 1), ("e\u0301", 1), ("日本語", 3), ("مرحبا", 5)],
)
def test_bluesky_counts_graphemes(text, used):
    count = count_bluesky(text)
    assert count.used == used and count.limit == 300 and count.unit == "graphemes"


def test_bluesky_counts_links_at_their_full_length_and_limits_bytes():
    assert count_bluesky("see " + LONG_URL).used == 4 + len(LONG_URL)
    assert count_bluesky(FAMILY * 300).over  # 300 graphemes fit, 7500 bytes do not
    bulky = count_bluesky(FAMILY * 120)  # 120 graphemes, 3000 bytes: fits
    assert not bulky.over
    too_big = count_bluesky(FAMILY * 121)
    assert too_big.over and "bytes" in too_big.detail


def test_bluesky_limit_is_300_graphemes():
    assert not count_bluesky("😀" * 300).over
    assert count_bluesky("😀" * 301).over


def test_mastodon_counts_links_as_23_and_remote_mentions_by_username():
    text = "Thanks @alice@diplo.social and @bob! " + LONG_URL
    count = count_mastodon(text)
    assert count.used == len("Thanks @alice and @bob! ") + 23
    assert count.limit == 500


def test_mastodon_counts_graphemes_and_the_content_warning():
    assert count_mastodon(FAMILY + FLAG).used == 2
    assert count_mastodon("body", spoiler_text="CW: war").used == 11
    assert count_mastodon("a" * 501).over
    assert not count_mastodon("a" * 900, limit=1000).over


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("Hello", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("Café à Genève: ÄÖÜ ñ", "GSM-7", 1),  # accented letters in the GSM alphabet
        ("x" * 70 + "ç", "UCS-2", 2),  # ç is not in GSM-7 (only Ç is)
        ("Привет", "UCS-2", 1),
        ("ا" * 70, "UCS-2", 1),
        ("ا" * 71, "UCS-2", 2),
        ("ا" * 134, "UCS-2", 2),
        ("ا" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_sms_segments_in_gsm7_and_ucs2(text, encoding, segments):
    info = sms_segments(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_an_escape_sequence_is_never_split_across_parts():
    # 152 septets then a two-septet euro sign: the euro moves to the second part.
    info = sms_segments("a" * 152 + "€" + "a" * 10)
    assert info.units == 164 and info.segments == 2 and info.remaining == 153 - 12


def test_a_surrogate_pair_is_never_split_across_parts():
    info = sms_segments("ж" * 66 + "😀" + "ж" * 10)
    assert info.units == 78 and info.segments == 2 and info.remaining == 67 - 12


def test_count_sms_names_the_characters_that_force_ucs2():
    count = count_sms("Evacuate now 🚨", max_segments=3)
    assert count.used == 1 and count.limit == 3 and count.unit == "segments"
    assert "UCS-2" in count.detail and "🚨" in count.detail
    assert count_sms("a" * 2000, max_segments=10).over
