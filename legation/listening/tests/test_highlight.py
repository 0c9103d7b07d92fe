"""Search results mark where the words matched, reading the text as the full-text indexes do."""

from __future__ import annotations

import pytest

from legation.listening.highlight import snippet


@pytest.mark.parametrize("text,query,expected", [
    ("Grève des transports à Paris demain", "greve paris",
     "<mark>Grève</mark> des transports à <mark>Paris</mark> demain"),  # case and Latin diacritics
    ("تهانينا مُبارَك للفائزين", "مبارك", "تهانينا <mark>مُبارَك</mark> للفائزين"),  # Arabic vowel marks
    ("أمل جديد", "امل", "<mark>أمل</mark> جديد"),  # hamza on the alef
    ("北京市发生地震，请大家注意安全", "地震 北京", "<mark>北京</mark>市发生<mark>地震</mark>，请大家注意安全"),
    ("น้ำท่วมกรุงเทพมหานคร", "กรุงเทพ", "น้ำท่วม<mark>กรุงเทพ</mark>มหานคร"),  # inside a Thai run
    ("नमस्ते दिल्ली", "दिल्ली", "नमस्ते <mark>दिल्ली</mark>"),  # the closing vowel sign belongs to the word
    ("Evacuation from Misrata port today", '"misrata port" evac*',
     "<mark>Evac</mark>uation from <mark>Misrata port</mark> today"),  # a phrase and a prefix
    ("Flooding in Benghazi, not in Benghazis", "benghazi -flooding",
     "Flooding in <mark>Benghazi</mark>, not in Benghazis"),  # whole words; a left-out word is not marked
    ("water OR food", "water OR food", "<mark>water</mark> OR <mark>food</mark>"),
    ("Nothing here", "", "Nothing here"),
])
def test_matches_are_marked(text, query, expected):
    assert snippet(text, query) == expected


def test_the_post_is_escaped_around_the_marks():
    html = snippet('<img src=x onerror="alert(1)"> flood in Benghazi & Derna', "benghazi")
    assert html == ("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; flood in <mark>Benghazi</mark> &amp; Derna")


def test_a_long_post_is_cut_around_its_first_match():
    text = "Update. " * 60 + "Hundreds of citizens are stranded at the port of Misrata and need ships. " + "More. " * 80
    html = snippet(text, "misrata", limit=240)
    assert html.startswith("…") and html.endswith("…")
    assert "stranded at the port of <mark>Misrata</mark> and need ships" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) <= 240
    # without a match, or when the match is near the start, the post is shown from its start
    assert snippet(text, "nowhere", limit=240).startswith("Update. Update.")
    assert snippet(text, "update", limit=240).startswith("<mark>Update</mark>. <mark>Update</mark>.")
    assert snippet("short post", "misrata") == "short post"
