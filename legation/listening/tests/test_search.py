"""Search: full text on the database's own engine, filters, and only what the person may see."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from legation.listening import services
from legation.listening.ingest import Post
from legation.listening.search import Filters, capped_count, fts5_query, search
from legation.listening.tests.conftest import make_posts


def _ids(items):
    return sorted(items.values_list("external_id", flat=True))


def test_full_text_finds_every_word_and_ignores_the_rest(paris_source, alice):
    services.ingest_posts(paris_source, make_posts([
        "Flooding near the embassy, roads closed",
        "The embassy hosts a concert tonight",
        "Roads closed after flooding in the north",
        "Crème brûlée festival",
    ]))
    assert _ids(search(alice, "flooding roads")) == ["p0", "p2"]
    assert _ids(search(alice, "embassy")) == ["p0", "p1"]
    assert _ids(search(alice, '"roads closed"')) == ["p0", "p2"]
    assert _ids(search(alice, "concert OR festival")) == ["p1", "p3"]
    assert _ids(search(alice, "creme")) == ["p3"]  # accents folded on both databases (PostgreSQL: migration 0014)
    assert _ids(search(alice, 'unbalanced "quote AND (')) == []  # odd syntax never errors


def test_filters_narrow_by_field_and_time(paris_source, alice):
    now = timezone.now()
    services.ingest_posts(paris_source, [
        Post(text="old news about Veridia", platform="mastodon", external_id="old",
             created_at=now - timedelta(days=10)),
        Post(text="fresh news about Veridia", platform="mastodon", external_id="new", created_at=now),
    ])
    from legation.listening.models import ListenedItem

    ListenedItem.objects.filter(external_id="old").update(language="en", sentiment="neutral",
                                                          crisis_category="not_humanitarian")
    ListenedItem.objects.filter(external_id="new").update(language="fr", sentiment="negative",
                                                          crisis_category="caution_and_advice", countries=",FR,",
                                                          places=[{"name": "Paris", "country": "FR"}])
    assert _ids(search(alice, "", Filters(since=now - timedelta(days=1)))) == ["new"]
    assert _ids(search(alice, "", Filters(until=now - timedelta(days=1)))) == ["old"]
    assert _ids(search(alice, "news", Filters(language="fr"))) == ["new"]
    assert _ids(search(alice, "", Filters(sentiment="negative", category="caution_and_advice"))) == ["new"]
    assert _ids(search(alice, "", Filters(country="FR"))) == ["new"]
    assert _ids(search(alice, "", Filters(place="paris"))) == ["new"]
    assert _ids(search(alice, "", Filters(platform="x"))) == []
    assert _ids(search(alice, "", Filters(source=paris_source.pk))) == ["new", "old"]
    params = Filters(language="fr", since=now - timedelta(days=1)).as_params()
    assert Filters.from_params(params).language == "fr"
    assert capped_count(search(alice, "")) == (2, False)


def test_a_person_sees_only_items_of_units_they_may_view(paris_source, berlin_source, alice, bob, charlie):
    services.ingest_posts(paris_source, make_posts(["Veridia in Paris"], prefix="paris"))
    services.ingest_posts(berlin_source, make_posts(["Veridia in Berlin"], prefix="berlin"))
    assert _ids(search(alice, "veridia")) == ["berlin0", "paris0"]
    assert _ids(search(bob, "veridia")) == ["paris0"]
    assert _ids(search(charlie, "veridia")) == ["berlin0"]
    # asking for another unit's items by filter gives nothing more
    assert _ids(search(bob, "", Filters(unit=berlin_source.unit.pk))) == []


def test_fts5_query_quotes_everything():
    assert fts5_query('flood "roads closed" OR rain*') == ('"flood" "roads closed" OR "rain"*', "")
    assert fts5_query("NEAR( col:x ^y") == ('"NEAR" "col x" "y"', "")
    assert fts5_query("OR OR") == ("\"OR\"", "")  # a leading OR is a word
    assert fts5_query('Benghazi -flood -"road closed" e-mail -') == ('"Benghazi" "e mail"', '"flood" OR "road closed"')


def test_words_with_a_language_filter_find_only_that_language_newest_first(paris_source, alice):
    from legation.listening.models import ListenedItem

    services.ingest_posts(paris_source, make_posts([
        "water cut in the old town", "water cut near the port", "no water since Monday", "en route to the port",
    ]))
    for external_id, language in (("p0", "sw"), ("p1", "en"), ("p2", "sw"), ("p3", "fr")):
        ListenedItem.objects.filter(external_id=external_id).update(language=language)
    found = search(alice, "water", Filters(language="sw"))
    assert list(found.values_list("external_id", flat=True)) == ["p2", "p0"]  # newest heard first
    assert capped_count(found) == (2, False)
    assert _ids(search(alice, "water OR port", Filters(language="en"))) == ["p1"]
    # a word that is also a language code matches the text only, not every post in that language
    assert _ids(search(alice, "en")) == ["p3"]
    assert _ids(search(alice, "sw")) == []


def test_until_a_day_includes_that_day_and_impossible_dates_are_ignored(paris_source, alice):
    from legation.listening.search import parse_moment

    day = timezone.now().replace(hour=15, minute=0, second=0, microsecond=0)
    services.ingest_posts(paris_source, [Post(text="afternoon post", platform="mastodon", external_id="pm",
                                              created_at=day)])
    today = day.date().isoformat()
    assert _ids(search(alice, "", Filters.from_params({"since": today, "until": today}))) == ["pm"]
    assert Filters.from_params({"until": today}).as_params()["until"].startswith(today + "T23:59:59")
    assert Filters.from_params({"since": "2026-13-45", "until": "2026-02-30"}) == Filters()
    for bad in ("2026-02-30", "2026-11-23T99:00", "yesterday"):
        try:
            parse_moment(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was read as a date")


def test_minus_leaves_words_out_and_a_query_with_nothing_to_search_finds_nothing(paris_source, alice):
    services.ingest_posts(paris_source, make_posts([
        "Benghazi flood: roads closed", "Benghazi market reopens", "Flood warning in Derna",
    ]))
    assert _ids(search(alice, "Benghazi -flood")) == ["p1"]
    assert _ids(search(alice, "-Benghazi")) == ["p2"]
    assert _ids(search(alice, "-benghazi -derna")) == []
    assert _ids(search(alice, "🙏")) == []


def test_the_place_filter_looks_at_place_names_only(paris_source, alice):
    from legation.listening.models import ListenedItem

    services.ingest_posts(paris_source, make_posts(["post one", "post two"]))
    ListenedItem.objects.filter(external_id="p0").update(
        places=[{"name": "Benghazi", "country": "LY", "lat": 32.1, "lon": 20.1}], countries=",LY,")
    ListenedItem.objects.filter(external_id="p1").update(
        places=[{"name": "بنغازي", "country": "LY", "lat": 32.1, "lon": 20.1}], countries=",LY,")
    assert _ids(search(alice, "", Filters(place="benghazi"))) == ["p0"]
    # Typed in Arabic: the name as stored, and the gazetteer's name for it (the one ingestion stores).
    assert sorted(_ids(search(alice, "", Filters(place="بنغازي")))) == ["p0", "p1"]
    assert _ids(search(alice, "", Filters(place="lat"))) == []
    assert _ids(search(alice, "", Filters(place="country"))) == []


def test_a_place_typed_in_another_script_or_language_finds_the_posts_that_name_it(paris_source, alice):
    services.ingest_posts(paris_source, make_posts([
        "فيضانات في بنغازي والطرق مغلقة", "Flood in Benghazi, roads closed", "Protest in Cairo today",
    ]))
    assert sorted(_ids(search(alice, "", Filters(place="بنغازي")))) == ["p0", "p1"]
    assert _ids(search(alice, "", Filters(place="القاهرة"))) == ["p2"]
    assert _ids(search(alice, "", Filters(place="Le Caire"))) == ["p2"]
    assert _ids(search(alice, "", Filters(place="Derna"))) == []


def test_arabic_is_found_with_or_without_vowel_marks_hamza_and_final_forms(paris_source, alice):
    from legation.listening.models import ListenedItem

    services.ingest_posts(paris_source, make_posts([
        "تهانينا مُبارَك للفائزين",  # short vowels written
        "مبارك يا شباب",  # none
        "أمل جديد في المدرسة",  # hamza on the alef, teh marbuta
        "امل المدرسه",  # typed without
        "نتمنى السلامة للجميع",  # alef maqsura
        "كل عامٍ وأنتم بخير",
    ]))
    assert _ids(search(alice, "مبارك")) == ["p0", "p1"]
    assert _ids(search(alice, "مُبارَك")) == ["p0", "p1"]
    assert _ids(search(alice, "امل المدرسة")) == ["p2", "p3"]
    assert _ids(search(alice, "أمل")) == ["p2", "p3"]
    assert _ids(search(alice, "نتمني")) == ["p4"]
    assert _ids(search(alice, '"عام وانتم"')) == ["p5"]
    assert _ids(search(alice, "مبارك -شباب")) == ["p0"]
    # Pasted in presentation forms (the shaped letters of a legacy PDF), a word is read as its letters.
    assert "\ufe8e" in "ﻣﺒﺎﺭﻙ" and _ids(search(alice, "ﻣﺒﺎﺭﻙ")) == ["p0", "p1"]
    # The post is shown as written, marks and all; only the index is folded.
    assert ListenedItem.objects.get(external_id="p0").text == "تهانينا مُبارَك للفائزين"
    # An edited text is indexed again, folded; a deleted post leaves the index.
    ListenedItem.objects.filter(external_id="p1").update(text="مَبْروك")
    assert _ids(search(alice, "مبروك")) == ["p1"]
    assert _ids(search(alice, "مبارك")) == ["p0"]
    ListenedItem.objects.filter(external_id="p0").delete()
    assert _ids(search(alice, "مبارك")) == []


def test_chinese_japanese_and_korean_words_are_found_inside_a_run_of_characters(paris_source, alice):
    from legation.listening.models import ListenedItem

    services.ingest_posts(paris_source, make_posts([
        "北京市发生地震，请大家注意安全",  # Beijing city: an earthquake; everyone please stay safe
        "东京地震了，电车停运",  # Tokyo: an earthquake, trains stopped
        "京北地区天气晴朗",  # the same two characters as 北京, the other way round
        "東京駅で大きな地震がありました。皆さん気をつけて",  # Japanese
        "서울에서 지진이 발생했습니다",  # Korean: an earthquake in Seoul
        "Embassy of Veridia: 北京 office closed today",  # a mixed post
    ]))
    assert _ids(search(alice, "北京")) == ["p0", "p5"]
    assert _ids(search(alice, "地震")) == ["p0", "p1", "p3"]  # "earthquake" in Chinese and Japanese
    assert _ids(search(alice, "北京 地震")) == ["p0"]
    assert _ids(search(alice, "京北")) == ["p2"]  # the characters' order is kept
    assert _ids(search(alice, "東京駅")) == ["p3"]
    assert _ids(search(alice, "気をつけて")) == ["p3"]  # hiragana inside a sentence
    assert _ids(search(alice, "서울")) == ["p4"]  # Korean particles are written onto the word
    assert _ids(search(alice, "지진")) == ["p4"]
    assert _ids(search(alice, '"北京 office"')) == ["p5"]
    assert _ids(search(alice, "地震 -北京")) == ["p1", "p3"]
    assert _ids(search(alice, "电车 OR 서울")) == ["p1", "p4"]
    assert _ids(search(alice, "地*")) == ["p0", "p1", "p2", "p3"]  # a prefix of one character is that character
    assert _ids(search(alice, "上海")) == []
    # The post is shown as written; an edited post is indexed again, a deleted one leaves the index.
    assert ListenedItem.objects.get(external_id="p0").text == "北京市发生地震，请大家注意安全"
    ListenedItem.objects.filter(external_id="p2").update(text="上海地区天气晴朗")
    assert _ids(search(alice, "上海")) == ["p2"]
    assert _ids(search(alice, "京北")) == []
    ListenedItem.objects.filter(external_id="p0").delete()
    assert _ids(search(alice, "北京")) == ["p5"]


def test_thai_lao_burmese_and_khmer_words_are_found_inside_a_run_of_letters(paris_source, alice):
    from legation.listening.models import ListenedItem

    services.ingest_posts(paris_source, make_posts([
        "น้ำท่วมกรุงเทพมหานคร",  # Thai: a flood in Bangkok, written without spaces and with vowel and tone marks
        "สถานทูตปิดทำการวันนี้",  # the embassy is closed today
        "แผ่นดินไหวที่เชียงใหม่",  # an earthquake in Chiang Mai
        "ရန်ကုန်မြို့တွင် ရေကြီးနေသည်",  # Burmese: flooding in Yangon
        "ទឹកជំនន់នៅភ្នំពេញ",  # Khmer: a flood in Phnom Penh
        "ນ້ຳຖ້ວມຢູ່ວຽງຈັນ",  # Lao: a flood in Vientiane
        "Embassy of Veridia: กรุงเทพ office closed",  # a mixed post
    ]))
    assert _ids(search(alice, "กรุงเทพ")) == ["p0", "p6"]
    assert _ids(search(alice, "น้ำท่วม")) == ["p0"]  # "flood", the marks typed as written
    assert _ids(search(alice, "แผ่นดินไหว")) == ["p2"]
    assert _ids(search(alice, "เชียงใหม่")) == ["p2"]
    assert _ids(search(alice, "สถานทูต")) == ["p1"]
    assert _ids(search(alice, "ရန်ကုန်")) == ["p3"]
    assert _ids(search(alice, "ភ្នំពេញ")) == ["p4"]
    assert _ids(search(alice, "ວຽງຈັນ")) == ["p5"]
    assert _ids(search(alice, '"กรุงเทพ office"')) == ["p6"]
    assert _ids(search(alice, "กรุงเทพ -office")) == ["p0"]
    assert _ids(search(alice, "กรุง*")) == ["p0", "p6"]
    assert _ids(search(alice, "ภูเก็ต")) == []  # Phuket: in no post
    assert ListenedItem.objects.get(external_id="p0").text == "น้ำท่วมกรุงเทพมหานคร"
    ListenedItem.objects.filter(external_id="p1").update(text="ภูเก็ตฝนตกหนัก")
    assert _ids(search(alice, "ภูเก็ต")) == ["p1"]
    assert _ids(search(alice, "สถานทูต")) == []
    ListenedItem.objects.filter(external_id="p0").delete()
    assert _ids(search(alice, "กรุงเทพ")) == ["p6"]
