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
