"""Search reads what people type as they mean it, the same on SQLite and PostgreSQL: NOT leaves a word out, a
possessive or elided article still finds the word, every Arabic alef folds, and "#tag" finds the hashtag."""

from __future__ import annotations

import unicodedata

import pytest
from django.db import connection

from legation.listening import services
from legation.listening.search import fts5_query, parse_query, search
from legation.listening.tests.conftest import make_posts


def _ids(items):
    return sorted(items.values_list("external_id", flat=True))


def _api(client, q):
    response = client.get("/api/v1/listening/search", {"q": q})
    assert response.status_code == 200, response.content
    return sorted(item["external_id"] for item in response.json()["items"])


def _page(client, q):
    response = client.get("/listening/search/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_not_leaves_the_next_word_out_as_a_minus_does(client, bob, alice, paris_source):
    services.ingest_posts(paris_source, make_posts([
        "Veridia embassy in Paris closed", "Veridia trade fair in Lyon", "Paris floods", "Veridia: not in Paris",
        "Veridia and the road to Rome",
    ]))
    client.force_login(bob)
    for q in ("veridia NOT paris", "veridia -paris"):
        assert _api(client, q) == ["p1", "p4"], q
        page = _page(client, q)
        assert "trade fair in Lyon" in page and "embassy in Paris" not in page, q
    assert _ids(search(alice, 'veridia NOT "in paris"')) == ["p1", "p4"]
    assert _ids(search(alice, "NOT paris")) == ["p1", "p4"]  # alone, as "-paris" alone
    assert _ids(search(alice, "veridia NOT paris NOT rome")) == ["p1"]
    assert _ids(search(alice, "veridia AND rome")) == ["p4"]  # AND is what two words mean: "and" need not be there
    assert _ids(search(alice, "lyon OR rome NOT trade")) == ["p4"]
    assert _ids(search(alice, "veridia NOT")) == ["p0", "p1", "p3", "p4"]  # a last NOT, half typed, is dropped
    assert _ids(search(alice, "NOT")) == ["p3"]  # alone, it is the word
    assert _ids(search(alice, "not in paris")) == ["p3"]  # in small letters, the word
    assert fts5_query("veridia NOT paris") == ('"veridia"', '"paris"')


def test_a_possessive_or_an_elided_article_still_finds_the_word(client, bob, alice, paris_source):
    services.ingest_posts(paris_source, make_posts([
        "Protest in Benghazi today", "Benghazi's port reopens", "Benghazi’s mayor speaks",
        "Manifestation devant l'ambassade", "Une ambassade fermée", "Flood in Tripoli", "Don't go to O'Brien street",
    ]))
    client.force_login(bob)
    for q in ("Benghazi's", "Benghazi’s", "Benghaziʼs", "BENGHAZI'S", "benghazi"):
        assert _api(client, q) == ["p0", "p1", "p2"], q
    assert "Protest in <mark>Benghazi</mark> today" in _page(client, "Benghazi")
    assert "Protest in <mark>Benghazi</mark> today" in _page(client, "Benghazi's")  # marked as searched
    for q in ("l'ambassade", "L’ambassade", "ambassade", "d'ambassade"):
        assert _api(client, q) == ["p3", "p4"], q
    assert _ids(search(alice, '"devant l\'ambassade"')) == ["p3"]  # a phrase keeps its words as written
    assert _ids(search(alice, "O'Brien")) == ["p6"] and _ids(search(alice, "don't")) == ["p6"]
    assert _ids(search(alice, "tripoli -Benghazi's")) == ["p5"]
    assert [t.text for group in parse_query("Benghazi's l'ambassade dell'ambasciata qu'il")[0] for t in group] == [
        "Benghazi", "ambassade", "ambasciata", "il"]


def test_every_arabic_alef_form_folds_in_posts_and_queries(client, bob, alice, paris_source):
    services.ingest_posts(paris_source, make_posts([
        "مظاهرات في القاهرة", "ٱلقاهرة مدينة كبيرة", "إغلاق الطرق في أسوان", "القـــاهرة اليوم",
        "القَاهِرَة تحت المطر", "Cairo floods",
    ]))
    client.force_login(bob)
    everyone = ["p0", "p1", "p3", "p4"]
    for q in ("القاهرة", "ٱلقاهرة", "القـاهرة", "القَاهِرَة", "ﭐﻟﻘﺎﻫﺮﺓ"):  # plain, alef wasla, tatweel, harakat, shaped
        assert _api(client, q) == everyone, q
    assert _ids(search(alice, "ٲسوان")) == ["p2"] and _ids(search(alice, "اسوان")) == ["p2"]  # wavy hamza, bare
    page = _page(client, "ٱلقاهرة")
    assert "<mark>ٱلقاهرة</mark> مدينة كبيرة" in page and "مظاهرات في <mark>القاهرة</mark>" in page


def test_a_hashtag_finds_posts_with_the_hashtag_and_the_word_finds_both(client, bob, alice, paris_source):
    services.ingest_posts(paris_source, make_posts([
        "Floods tonight #Veridia", "Veridia embassy statement", "#veridia, #floods: roads closed",
        "Follow #VeridiaFloods for veridia news", "email me at info#veridia", "Grève à Lyon #Grève",
        "#أمل في بنغازي", "No tag here", "#VERIDIA trade fair", "Storm warning #veridia 🔥", "Pluie #Vèridia",
    ]))
    client.force_login(bob)
    tagged = ["p0", "p10", "p2", "p8", "p9"]  # any case, accents as the word search folds them
    assert _api(client, "#veridia") == tagged and _api(client, "#Veridia") == tagged
    assert _api(client, "veridia") == ["p0", "p1", "p10", "p2", "p3", "p4", "p8", "p9"]
    page = _page(client, "#veridia")
    assert "Floods tonight" in page and "embassy statement" not in page and "VeridiaFloods" not in page
    assert _ids(search(alice, "#veridia #floods")) == ["p2"]
    assert _ids(search(alice, "#veridia OR #floods")) == tagged
    assert _ids(search(alice, "#veridiafloods")) == ["p3"]
    assert _ids(search(alice, "veridia -#veridia")) == ["p1", "p3", "p4"]  # the word without the hashtag
    assert _ids(search(alice, "veridia NOT #veridia")) == ["p1", "p3", "p4"]
    assert _ids(search(alice, "-#veridia")) == ["p1", "p3", "p4", "p5", "p6", "p7"]
    assert _ids(search(alice, "#greve")) == ["p5"] and _ids(search(alice, "#grève")) == ["p5"]
    assert _ids(search(alice, "#امل")) == ["p6"] and _ids(search(alice, "#أمل")) == ["p6"]
    assert _ids(search(alice, "#tonight")) == []
    assert _ids(search(alice, "#veri*")) == _ids(search(alice, "veri*"))  # a prefix is a word's prefix


def test_a_hashtag_is_a_word_of_its_own_in_the_index(alice, paris_source):
    """A hashtag is looked up in the full-text index as a word no text can make (migration 0026), not found by
    its word and then checked in each post's text: "#food" among a million posts with "food" costs what a rare
    word costs (``bench/README.md``)."""
    long_tag = "a" * 250
    services.ingest_posts(paris_source, make_posts([
        "#veridia one", "veridia two", "#other three", f"#{long_tag} four", "#flood_relief at the port",
        "#ВЕРИДИЯ пять", "news " + b"#veridia".hex() + " \ue000" + b"veridia".hex()]))
    sql = str(search(alice, "#veridia").query)
    assert ("listening_item_fts MATCH" if connection.vendor == "sqlite" else "search_vector @@") in sql
    assert "listening_listeneditem.text" not in sql and "legation_has_hashtag" not in sql  # the text is not read
    assert _ids(search(alice, "#veridia")) == ["p0"]
    assert _ids(search(alice, "#" + long_tag)) == ["p3"] and _ids(search(alice, "#" + "a" * 200)) == ["p3"]
    assert _ids(search(alice, "#flood_relief")) == ["p4"] and _ids(search(alice, "#flood")) == []
    assert _ids(search(alice, "#веридия")) == ["p5"]
    assert _ids(search(alice, "#veridia OR #other three")) == ["p0", "p2"]
    # the index's word for a hashtag is not a word a person can type
    assert _ids(search(alice, b"#veridia".hex())) == ["p6"]
    assert _ids(search(alice, "\ue000" + b"veridia".hex())) == ["p6"]


def test_hashtags_read_alike_on_both_databases(alice, paris_source):
    # Greek capitals end in a final sigma that Python lowercases to "ς" and PostgreSQL to "σ"; a hashtag typed
    # with Arabic vowel marks is the hashtag without them, as the index folds it.
    services.ingest_posts(paris_source, make_posts([
        "#ΑΘΗΝΑΣ σήμερα", "Ταξίδι #Αθηνας", "#مصر اليوم", "مصر بلد كبير", "#مَصر غدا"]))
    assert _ids(search(alice, "#ΑΘΗΝΑΣ")) == _ids(search(alice, "#αθηνας")) == ["p0", "p1"]
    assert _ids(search(alice, "#مَصر")) == _ids(search(alice, "#مصر")) == ["p2", "p4"]
    # Devanagari and Thai write vowels as combining marks inside a word: the hashtag is the whole word
    services.ingest_posts(paris_source, make_posts(["#हिंदी दिवस", "#ह अक्षर", "#กรุงเทพ น้ำท่วม"], prefix="q"))
    assert _ids(search(alice, "#हिंदी")) == ["q0"] and _ids(search(alice, "#ह")) == ["q1"]
    assert _ids(search(alice, "#กรุงเทพ")) == ["q2"]
    from legation.listening.ingest import hashtags

    assert hashtags("#हिंदी दिवस #กรุงเทพ") == ["#हिंदी", "#กรุงเทพ"]  # the alert counters' terms too


def test_an_index_built_with_other_unicode_tables_is_built_again(alice, paris_source):
    from django.db import connection

    from legation.listening import fulltext

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL computes the index in SQL")
    services.ingest_posts(paris_source, make_posts(["#veridia one", "veridia two"]))
    connection.ensure_connection()
    raw = connection.connection
    raw.execute(f"UPDATE {fulltext.UNICODE_TABLE} SET version = '13.0.0'")  # noqa: S608
    raw.execute("INSERT INTO listening_item_fts(listening_item_fts) VALUES ('delete-all')")  # as if read otherwise
    assert _ids(search(alice, "#veridia")) == []
    assert fulltext.check_unicode(raw) is True
    stored = raw.execute(f"SELECT version FROM {fulltext.UNICODE_TABLE}").fetchone()[0]  # noqa: S608
    assert stored == unicodedata.unidata_version
    assert _ids(search(alice, "#veridia")) == ["p0"] and _ids(search(alice, "veridia")) == ["p0", "p1"]
    assert fulltext.check_unicode(raw) is False  # done once


def test_the_marks_follow_the_search_as_it_reads_the_words():
    from legation.listening.highlight import match_spans

    text = "Veridia is not Paris, and Benghazi's port reopens"
    assert [text[a:b] for a, b in match_spans(text, "veridia NOT paris")] == ["Veridia"]
    assert [text[a:b] for a, b in match_spans(text, "Benghazi's")] == ["Benghazi"]
