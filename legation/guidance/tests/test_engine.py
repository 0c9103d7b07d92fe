"""The check engine, rule kind by rule kind, in the languages missions write in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from legation.guidance.engine import (
    ActiveCrisis,
    CheckContext,
    DraftText,
    PostDraft,
    RuleSpec,
    Severity,
    TargetAccount,
    check,
    verdict,
)

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)  # a Monday, 12:00 in Paris


def post(text: str, language: str = "en", *variants: tuple[str, str], **kwargs) -> PostDraft:
    return PostDraft(source=DraftText(text, language), variants=tuple(DraftText(b, lang) for b, lang in variants),
                     **kwargs)


def blocked(*terms: str, **config) -> RuleSpec:
    return RuleSpec.build(id=1, kind="blocked_terms", config={"terms": list(terms), **config}, name="Blocked",
                          unit_id=1, unit_name="Ministry")


def matched(text: str, rule: RuleSpec, language: str = "en", **kwargs) -> list[str]:
    return [f.matched for f in check(post(text, language, **kwargs), [rule], NOW)]


# Blocked terms, across languages and disguises


@pytest.mark.parametrize(("term", "text", "language"), [
    ("propaganda", "This is pure propaganda.", "en"),
    ("propaganda", "PROPAGANDA!", "en"),
    ("propaganda", "pr0p@g4nda", "en"),
    ("propaganda", "p.r.o.p.a.g.a.n.d.a", "en"),
    ("propaganda", "p r o p a g a n d a", "en"),
    ("propaganda", "prop\u200bag\u200dan\u2060da", "en"),
    ("propaganda", "prоpаgаndа", "en"),  # Cyrillic о and а
    ("propaganda", "ｐｒｏｐａｇａｎｄａ", "en"),  # full-width
    ("propaganda", "\u202epropaganda\u202c", "en"),  # bidi override
    ("mensonge", "C'est un MENSONGE éhonté", "fr"),
    ("élection truquée", "une election  truquee", "fr"),
    ("é", "é", "fr"),
    ("فساد", "هذا فَسَادٌ كبير", "ar"),  # tashkeel
    ("فساد", "هذا فســـاد كبير", "ar"),  # tatweel
    ("فساد", "والفساد في كل مكان", "ar"),  # clitics "and the"
    ("مدينة", "مدينه جميلة", "ar"),  # teh marbuta written as heh
    ("إسرائيل", "اسرائيل", "ar"),  # hamza on alef dropped
    ("کشور", "كشور ما", "fa"),  # Arabic kaf for Persian kaf
    ("یکی", "يكي", "fa"),  # Arabic yeh and kaf
    ("می‌خواهم", "میخواهم", "fa"),  # with and without the zero-width non-joiner
    ("взрыв*", "Сильным взрывом разрушен дом", "ru"),
    ("ложь", "Это ЛОЖЬ", "ru"),
    ("ёлка", "елка", "ru"),
    ("台湾", "我们支持台湾的朋友", "zh"),
    ("台湾", "我们支持台\u200b湾", "zh"),
    ("暴動", "昨日の暴動について", "ja"),
    ("バカ", "あいつはﾊﾞｶだ", "ja"),  # half-width katakana
])
def test_blocked_terms_are_found_in_every_language_and_disguise(term, text, language):
    assert matched(text, blocked(term), language), f"{term!r} not found in {text!r}"


@pytest.mark.parametrize(("term", "text"), [
    ("ass", "A classic class of assets"),
    ("war", "Two arrows; software awards"),
    ("bad", "Baden-Baden is lovely; badge"),
    ("سري", "قطار سريع"),  # "secret" is not in "fast"
    ("ложь", "положение"),
    ("ガス", "カス"),  # voicing marks matter in Japanese
])
def test_blocked_terms_do_not_fire_inside_other_words(term, text):
    assert matched(text, blocked(term)) == []


def test_the_span_points_at_the_text_as_written():
    text = "Our view: p-r-o-p-a-g-a-n-d-a, nothing else"
    [finding] = check(post(text), [blocked("propaganda")], NOW)
    assert text[finding.start:finding.end] == "p-r-o-p-a-g-a-n-d-a"
    assert finding.severity == Severity.BLOCK
    assert "disguised" in finding.explanation
    assert finding.rule_name == "Blocked" and finding.unit_name == "Ministry"


def test_a_term_found_in_a_variant_names_the_variant():
    [finding] = check(post("Hello", "en", ("Quelle propagande !", "fr")), [blocked("propagande")], NOW)
    assert finding.location == "variant 1 (fr)" and finding.text_index == 1


def test_whole_words_can_be_turned_off():
    assert matched("megapropagandashow", blocked("propaganda", whole_words=False)) == ["propaganda"]


def test_multi_word_terms_match_across_spaces_and_punctuation():
    assert matched("The Human-Rights  Watch report", blocked("human rights watch")) == ["Human-Rights  Watch"]


# Sensitive topics and clearance


def norland_rule(**kwargs) -> RuleSpec:
    return RuleSpec.build(id=2, kind="sensitive_topic", config={"terms": ["Norland", "نورلاند", "Норланд"]},
                          name="Naming Norland", unit_id=1, unit_name="Ministry", clearance_role="approver",
                          **kwargs)


@pytest.mark.parametrize(("text", "language"), [
    ("Our minister met Norland's envoy", "en"),
    ("La Norland et nous", "fr"),
    ("التقى الوزير بسفير نورلاند", "ar"),
    ("Министр встретился с послом Норланд", "ru"),
])
def test_naming_a_sensitive_country_needs_an_approver_at_headquarters(text, language):
    [finding] = check(post(text, language), [norland_rule()], NOW)
    assert finding.severity == Severity.NEEDS_CLEARANCE
    assert (finding.clearance_role, finding.clearance_unit_id) == ("approver", 1)
    assert "approver at Ministry" in finding.explanation
    result = verdict([finding])
    assert not result.blocked and not result.clear
    assert [(c.role, c.unit_id) for c in result.clearances] == [("approver", 1)]


def test_clearance_can_be_asked_of_another_unit():
    rule = norland_rule(clearance_unit_id=7, clearance_unit_name="Europe")
    [finding] = check(post("Norland"), [rule], NOW)
    assert finding.clearance_unit_id == 7 and "at Europe" in finding.explanation


def test_a_clean_post_is_clear():
    result = verdict(check(post("The embassy is open on Monday."), [norland_rule(), blocked("propaganda")], NOW))
    assert result.clear and result.warnings == 0


# Personal data


def pii(**config) -> RuleSpec:
    return RuleSpec.build(id=3, kind="personal_data", config=config, name="Personal data", unit_id=1)


def test_phone_numbers_are_found_in_the_missions_region_and_internationally():
    text = "Call Jean on 06 12 34 56 78 or +49 30 1234567"
    found = check(post(text, "fr"), [pii()], NOW, CheckContext(country="FR"))
    assert [f.matched for f in found] == ["06 12 34 56 78", "+49 30 1234567"]
    assert "+33612345678" in found[0].explanation


def test_phone_numbers_in_arabic_digits_and_with_invisible_characters():
    found = check(post("اتصل على +٩٧١ ٥٠ ١٢٣ ٤٥٦٧", "ar"), [pii()], NOW)
    assert len(found) == 1 and "+971501234567" in found[0].explanation
    found = check(post("call +33\u200b6 12 34 56 78"), [pii()], NOW)
    assert len(found) == 1


def test_the_missions_own_published_numbers_and_addresses_are_allowed():
    rule = pii(allow=["+33 1 23 45 67 89", "@veridia.gov", "press@example.org"])
    text = "Consular line +33 1 23 45 67 89, consular@paris.veridia.gov, press@example.org"
    assert check(post(text), [rule], NOW, CheckContext(country="FR")) == []


def test_email_addresses_plain_and_spelled_out():
    found = check(post("Write to jean.dupont@gmail.com or marie [at] mail [dot] fr"), [pii()], NOW)
    assert [f.matched for f in found] == ["jean.dupont@gmail.com", "marie [at] mail [dot] fr"]


@pytest.mark.parametrize("text", [
    "His passport number is X1234567.",
    "Passeport n° 12AB34567",
    "паспорт 45 06 123456",
])
def test_passport_like_numbers(text):
    found = check(post(text), [pii(phones=False)], NOW)
    assert len(found) == 1 and found[0].explanation.startswith("Passport-like number")


def test_ordinary_numbers_are_not_personal_data():
    text = "In 2024 we issued 12,500 visas; flight AF1234 lands at 10:30; see https://x.org/AB1234567"
    assert check(post(text), [pii()], NOW, CheckContext(country="FR")) == []


# Classification markings


def markings() -> RuleSpec:
    return RuleSpec.build(id=4, kind="classification", unit_id=1, name="Markings", config={
        "terms": ["RESTRICTED", "CONFIDENTIEL", "СЕКРЕТНО"],
        "patterns": [r"\bسري(?:\s+للغاية)?\b", r"\bNOFORN\b", r"秘密"],
    })


@pytest.mark.parametrize(("text", "language"), [
    ("RESTRICTED - internal", "en"),
    ("R E S T R I C T E D", "en"),
    ("RЕSTRICTED", "en"),  # Cyrillic Е
    ("Diffusion restreinte — Confidentiel", "fr"),
    ("CONFIDENTIEL DÉFENSE", "fr"),
    ("وثيقة سري للغاية", "ar"),
    ("وثيقة سرّي", "ar"),  # shadda
    ("Совершенно секретно", "ru"),
    ("SECRET//NOFORN", "en"),
    ("これは秘密です", "ja"),
])
def test_classification_markings(text, language):
    found = check(post(text, language), [markings()], NOW)
    assert found and all(f.severity == Severity.BLOCK for f in found)


def test_words_near_markings_are_not_markings():
    assert check(post("قطار سريع", "ar"), [markings()], NOW) == []
    assert check(post("Restrictions apply at the border", "en"), [markings()], NOW) == []


# Link domains


def links(mode: str, *domains: str) -> RuleSpec:
    return RuleSpec.build(id=5, kind="link_domains", unit_id=1, name="Links", config={"mode": mode,
                                                                                      "domains": list(domains)})


def test_refused_domains_include_their_subdomains_and_look_alikes():
    rule = links("refuse", "fakenews.example", "paypal.com")
    text = "See https://www.FakeNews.example/story, fakenews.example/x, https://раураl.com and https://paypal.com.evil.org"
    found = check(post(text), [rule], NOW)
    assert [f.matched for f in found] == ["https://www.FakeNews.example/story", "fakenews.example/x",
                                          "https://раураl.com"]
    assert "imitates the refused domain paypal.com" in found[2].explanation


def test_international_domain_names_are_compared_in_punycode():
    rule = links("refuse", "bücher.example")
    found = check(post("x", links=("https://xn--bcher-kva.example/a", "http://BÜCHER.example")), [rule], NOW)
    assert len(found) == 2 and all(f.location == "link" for f in found)


def test_allowed_domains_refuse_everything_else():
    rule = links("allow", "veridia.gov", "europa.eu")
    text = "Read https://mfa.veridia.gov/news and https://ec.europa.eu but not https://veridia.gov.attacker.net"
    found = check(post(text, links=("https://vеridia.gov/x",)), [rule], NOW)
    assert sorted(f.matched for f in found) == ["https://veridia.gov.attacker.net", "https://vеridia.gov/x"]
    assert any("imitates veridia.gov" in f.explanation for f in found)


# Languages per account


def test_a_text_sent_to_an_account_in_a_language_it_does_not_publish_in():
    rule = RuleSpec.build(id=6, kind="languages", unit_id=1, config={})
    draft = PostDraft(
        source=DraftText("Hello everyone, welcome to the embassy", "en", account_ids=(1,)),
        variants=(DraftText("Bonjour à tous, bienvenue à l'ambassade", "fr", account_ids=(2,)),),
        accounts=(TargetAccount("mastodon", "@ambfr", 1, ("fr",)), TargetAccount("bluesky", "amb.fr", 2, ("fr",))),
    )
    found = check(draft, [rule], NOW)
    assert len(found) == 2 and {f.location for f in found} == {"account mastodon:@ambfr"}


def test_an_account_with_no_text_in_its_languages_and_rule_level_account_limits():
    rule = RuleSpec.build(id=6, kind="languages", unit_id=1, config={"accounts": {"mastodon:@ar": ["ar"]}})
    draft = PostDraft(source=DraftText("Hello", "en"), accounts=(TargetAccount("mastodon", "@ar", 9),))
    [finding] = check(draft, [rule], NOW)
    assert "No text in a language mastodon:@ar publishes in (ar)" in finding.explanation


def test_a_text_declared_arabic_but_written_in_latin_letters():
    rule = RuleSpec.build(id=6, kind="languages", unit_id=1, config={})
    [finding] = check(post("Marhaba bikum fi al-sifara", "ar"), [rule], NOW)
    assert "Latin script" in finding.explanation
    assert check(post("مرحبا بكم في السفارة اليوم", "ar"), [rule], NOW) == []
    assert check(post("Добро пожаловать в посольство", "ru"), [rule], NOW) == []


# Quiet hours and embargoes


def quiet(**config) -> RuleSpec:
    return RuleSpec.build(id=7, kind="quiet_hours", unit_id=1, config={"start": "22:00", "end": "07:00", **config})


def test_quiet_hours_are_read_in_the_missions_time_zone():
    late_in_paris = datetime(2025, 6, 2, 21, 30, tzinfo=UTC)  # 23:30 in Paris, 04:30 in Jakarta
    draft = post("Good night", scheduled_at=late_in_paris, time_zone="Europe/Paris")
    [finding] = check(draft, [quiet()], NOW)
    assert "23:30 (Europe/Paris)" in finding.explanation and finding.severity == Severity.WARN
    assert check(post("Pagi", scheduled_at=datetime(2025, 6, 2, 2, 0, tzinfo=UTC), time_zone="Asia/Jakarta"),
                 [quiet()], NOW) == []  # 09:00 in Jakarta


def test_quiet_hours_on_some_weekdays_only_and_publishing_now():
    assert check(post("x", time_zone="Europe/Paris"), [quiet(start="11:00", end="13:00")], NOW)
    assert check(post("x", time_zone="Europe/Paris"), [quiet(start="11:00", end="13:00", weekdays=[5, 6])], NOW) == []


def test_embargo_on_every_post_and_on_a_topic():
    until = NOW + timedelta(hours=2)
    everything = RuleSpec.build(id=8, kind="embargo", unit_id=1, config={"until": until.isoformat()})
    topic = RuleSpec.build(id=9, kind="embargo", unit_id=1, config={"until": until.isoformat(),
                                                                   "terms": ["trade agreement"]})
    assert len(check(post("Anything"), [everything], NOW)) == 1
    assert check(post("Anything", scheduled_at=until), [everything], NOW) == []
    assert check(post("Anything"), [topic], NOW) == []
    [finding] = check(post("The Trade Agreement is signed"), [topic], NOW)
    assert "embargoed until" in finding.explanation


# Crises


def test_posts_about_a_declared_crisis_need_the_crisis_cells_clearance():
    crisis = ActiveCrisis(id=3, name="Floods in Port Amel", terms=("flood*", "فيضان"), places=("Port Amel",),
                          cell_unit_id=42, cell_unit_name="Crisis cell")
    context = CheckContext(crises=(crisis,))
    found = check(post("Flooding in Port-Amel: stay indoors"), [], NOW, context)
    assert [f.matched for f in found] == ["Flooding", "Port-Amel"]
    assert all(f.severity == Severity.NEEDS_CLEARANCE and f.crisis_id == 3 for f in found)
    assert [(c.role, c.unit_id) for c in verdict(found).clearances] == [("approver", 42)]
    assert check(post("الفيضان", "ar"), [], NOW, context)
    assert check(post("Visa appointments are open"), [], NOW, context) == []


# Configuration


@pytest.mark.parametrize(("kind", "config", "field"), [
    ("blocked_terms", {"terms": []}, "terms"),
    ("blocked_terms", {"terms": ["..."]}, "terms"),
    ("blocked_terms", {"terms": ["x"], "wholewords": True}, "wholewords"),
    ("classification", {"patterns": ["(unclosed"]}, "patterns"),
    ("link_domains", {"mode": "maybe", "domains": ["x.org"]}, "mode"),
    ("quiet_hours", {"start": "25:00", "end": "07:00"}, "start"),
    ("quiet_hours", {"start": "22:00", "end": "07:00", "time_zone": "Mars/Olympus"}, "time_zone"),
    ("embargo", {"until": "2025-01-01T00:00:00"}, "until"),
    ("languages", {"languages": ["not a language"]}, "languages"),
])
def test_bad_configuration_names_the_field(kind, config, field):
    with pytest.raises(ValidationError) as excinfo:
        RuleSpec.build(kind=kind, config=config)
    assert any(field in map(str, error["loc"]) for error in excinfo.value.errors())


def test_findings_are_ordered_block_first_and_serialise():
    rules = [quiet(start="00:00", end="23:59"), blocked("propaganda"), norland_rule()]
    found = check(post("Norland propaganda", time_zone="UTC"), rules, NOW)
    assert [f.severity for f in found] == [Severity.BLOCK, Severity.NEEDS_CLEARANCE, Severity.WARN]
    assert found[0].as_dict()["severity"] == "block"
