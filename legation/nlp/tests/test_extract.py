from __future__ import annotations

from legation.nlp import extract_head_counts, extract_needs, extract_phone_numbers


def _counts(text: str) -> list[tuple[int, bool]]:
    return [(h.count, h.approximate) for h in extract_head_counts([text])[0]]


def test_head_counts_in_several_languages_and_digit_systems():
    assert _counts("There are 40 of us stuck at the airport") == [(40, False)]
    assert _counts("hundreds of Indians stranded in Kyiv") == [(100, True)]
    assert _counts("نحن ٣٠ شخصا عالقون في المطار") == [(30, False)]
    assert _counts("Nous sommes 12 ressortissants bloqués") == [(12, False)]
    assert _counts("somos 25 personas sin agua") == [(25, False)]
    assert _counts("нас 15 человек") == [(15, False)]
    assert _counts("three families need shelter") == [(3, False)]


def test_numbers_that_are_not_people_are_ignored():
    assert _counts("In 2019 we had 5% growth and 300 km of new roads") == []


def test_head_count_keeps_the_group_noun():
    (h,) = extract_head_counts(["hundreds of Indians stranded"])[0]
    assert h.group == "Indians"


def test_phone_numbers_are_returned_in_e164():
    got = extract_phone_numbers(["Call +33 6 12 34 56 78 or +1 (202) 555-0143", "واتساب +٩٦٦٥٠٥١٢٣٤٥٦"])
    assert got == [["+33612345678", "+12025550143"], ["+966505123456"]]


def test_national_numbers_need_a_region():
    assert extract_phone_numbers(["appelez le 06 12 34 56 78"]) == [[]]
    assert extract_phone_numbers(["appelez le 06 12 34 56 78"], region="FR") == [["+33612345678"]]


def test_needs_in_several_languages_need_a_request_or_lack():
    got = extract_needs(
        [
            "we need insulin and a bus to get out",
            "somos 25 personas sin agua ni comida",
            "نحتاج ماء وطعام",
            "нужна вода",
            "water levels rising in the river",
        ]
    )
    assert got == [["medicine", "transport"], ["water", "food"], ["water", "food"], ["water"], []]


def test_units_of_time_and_things_are_not_people_and_spelled_numbers_count_nationalities():
    from legation.nlp import extract_head_counts

    none = ["5 years later we are back", "two weeks ago", "One of many things to do", "In 5 Years",
            "10 Points to remember about the visa"]
    assert extract_head_counts(none) == [[] for _ in none]
    found = extract_head_counts(["forty Indians stranded at the port", "2 stranded Britons", "Three Americans"])
    assert [[(h.count, h.group) for h in hs] for hs in found] == [
        [(40, "Indians")], [(2, "Britons")], [(3, "Americans")]]


def test_turkish_su_is_water_only_next_to_a_turkish_cue():
    got = extract_needs(["Por favor, ayuda a su familia", "Necesitamos ayuda con su pasaporte",
                         "Acil su ve gıda lazım", "su yok"])
    assert got == [[], [], ["water", "food"], ["water"]]


def test_we_lack_and_we_ran_out_in_several_languages():
    got = extract_needs(["Nos faltan medicinas", "Faltan alimentos y agua", "Nos faltan medicinas y transporte",
                         "Nous manquons de nourriture", "Mancano acqua e cibo", "Faltam água e comida",
                         "Es fehlt Wasser", "У нас закончилась вода и еда"])
    assert got == [["medicine"], ["water", "food"], ["medicine", "transport"], ["food"], ["water", "food"],
                   ["water", "food"], ["water"], ["water", "food"]]


def test_a_hospital_mention_is_no_need_and_negations_count_only_next_to_the_need():
    got = extract_needs(["No news from my brother in the hospital", "Urgent: the hospital was bombed",
                         "we need a hospital", "no food, water or medicine",
                         "La lluvia no me tiene piedad cuando ando en bus"])
    assert got == [[], [], ["medicine"], ["water", "food", "medicine"], []]


def test_needs_in_asian_and_other_languages():
    texts = ["我们需要水和食物", "水が必要です", "食べ物がない", "음식과 약이 필요합니다",
             "Chúng tôi cần nước và thức ăn", "Kailangan namin ng tubig at pagkain", "Potrzebujemy wody i jedzenia",
             "We hebben water en eten nodig",
             "ہمیں پانی اور کھانا چاہیے", "ما نیاز به آب و غذا داریم", "Нам потрібна вода",
             "Kami butuh air bersih",
             "洪水来了，需要帮助", "আমাদের খাবার দরকার"]
    assert extract_needs(texts) == [["water", "food"], ["water"], ["food"], ["food", "medicine"],
                                    ["water", "food"], ["water", "food"], ["water", "food"], ["water", "food"],
                                    ["water", "food"], ["water", "food"], ["water"], ["water"], [], ["food"]]


def _groups(text: str) -> list[tuple[int, bool, str]]:
    return [(h.count, h.approximate, h.group) for h in extract_head_counts([text])[0]]


def test_lower_case_group_nouns_and_nationalities_in_other_languages():
    assert _groups("cientos de venezolanos") == [(100, True, "venezolanos")]
    assert _groups("unos 30 españoles") == [(30, True, "españoles")]
    assert _groups("centinaia di italiani") == [(100, True, "italiani")]
    assert _groups("عشرات المصريين") == [(20, True, "المصريين")]
    assert _groups("مئات اللاجئين") == [(100, True, "اللاجئين")]
    assert _groups("десятки россиян") == [(20, True, "россиян")]
    assert _groups("30 Deutsche") == [(30, False, "Deutsche")]
    assert _groups("50 Türk vatandaşı") == [(50, False, "vatandaşı")]
    assert _groups("une cinquantaine de Français") == [(50, True, "Français")]
    assert _groups("une vingtaine de personnes") == [(20, True, "personnes")]


def test_chinese_japanese_korean_multipliers_and_families():
    assert _groups("我们有30个中国人") == [(30, False, "中国人")]
    assert _groups("30人の日本人") == [(30, False, "人")]
    assert _groups("30명이 고립되어 있습니다") == [(30, False, "명")]
    assert _groups("2 million displaced") == [(2_000_000, False, "displaced")]
    assert _groups("5k people") == [(5000, False, "people")]
    assert _groups("estiman 50 mil muertos") == [(50_000, False, "muertos")]
    assert _groups("my family of 5") == [(5, False, "family")]


def test_hedges_make_a_count_approximate():
    for text in ["about 40 people", "more than 200 Britons", "nearly 50 students", "environ 30 personnes",
                 "unos 30 españoles", "حوالي 30 شخصا", "около 15 человек", "we are about 40"]:
        assert [a for _, a, _ in _groups(text)] == [True], text


def test_common_words_with_demonym_endings_are_no_people():
    none = ["30 años", "cientos de años", "30 semanas", "Les 30 Jours", "عشرات الملايين", "120 مليون دولار",
            "family of 4 years", "my family 4 votes", "40 Jahre Europäisches Patentübereinkommen",
            "nem o mais interiorano dos interioranos"]
    assert extract_head_counts(none) == [[] for _ in none]


def test_double_zero_international_prefix_needs_no_region():
    got = extract_phone_numbers(
        ["0033 6 12 34 56 78", "00966501234567", "00249 912 345 678", "at 00:30, ref 2000 1234567"])
    assert got == [["+33612345678"], ["+966501234567"], ["+249912345678"], []]
