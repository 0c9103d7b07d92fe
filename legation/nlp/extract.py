"""Rule-based extraction for crisis triage: head counts, phone numbers and needs, in several languages.

Rules, not models: they are predictable, explainable to a consular officer and easy to extend per language.
Digits in Arabic-Indic and Devanagari forms are read as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import cache

import phonenumbers
import regex

from legation.nlp.text import MAX_SCAN_CHARS, as_texts, clean, normalise_digits

# Words with their combining marks (Devanagari vowel signs, Arabic harakat ...).
_TOKEN = regex.compile(r"[\w\p{M}]+")
_ASCII_TOKEN = re.compile(r"\w+")  # the same words as _TOKEN in ASCII texts

# --- head counts ---------------------------------------------------------------------------------------------

NUMBER_WORDS = {
    # en
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "hundred": 100, "a dozen": 12, "dozen": 12,
    # fr / es / pt / it / de
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "dix": 10, "vingt": 20, "trente": 30, "cent": 100,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "diez": 10, "veinte": 20, "treinta": 30, "cien": 100,
    "dois": 2, "duas": 2, "três": 3, "dez": 10, "vinte": 20, "trinta": 30, "cem": 100,
    "due": 2, "tre": 3, "dieci": 10, "venti": 20, "trenta": 30, "cento": 100,
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "zehn": 10, "zwanzig": 20, "dreißig": 30, "hundert": 100,
}
# "hundreds of", "des centaines de", "مئات" ... -> lower bound of the range, marked approximate.
APPROXIMATE = {
    "dozens": 24, "scores": 40, "hundreds": 100, "thousands": 1000, "several": 3, "many": 10,
    "dizaines": 20, "centaines": 100, "milliers": 1000, "plusieurs": 3,
    "decenas": 20, "cientos": 100, "centenares": 100, "miles": 1000, "varios": 3, "varias": 3,
    "dezenas": 20, "centenas": 100, "milhares": 1000, "vários": 3, "várias": 3,
    "decine": 20, "centinaia": 100, "migliaia": 1000,
    "dutzende": 24, "hunderte": 100, "tausende": 1000, "mehrere": 3,
    "десятки": 20, "сотни": 100, "тысячи": 1000,
    "عشرات": 20, "مئات": 100, "آلاف": 1000,
}
PEOPLE = (
    # en
    "people|persons|person|citizens|nationals|residents|tourists|students|workers|passengers|families|"
    "children|kids|adults|women|men|pilgrims|travellers|travelers|survivors|victims|dead|injured|wounded|"
    "missing|refugees|migrants|evacuees|patients|of us|"
    # fr
    "personnes|ressortissants|citoyens|touristes|étudiants|familles|enfants|passagers|blessés|morts|"
    "disparus|"
    # es / pt / it
    "personas|ciudadanos|turistas|estudiantes|familias|niños|pasajeros|heridos|muertos|desaparecidos|"
    "pessoas|cidadãos|famílias|crianças|passageiros|feridos|mortos|desaparecidos|"
    "persone|cittadini|turisti|studenti|famiglie|bambini|passeggeri|feriti|morti|dispersi|"
    # de
    "personen|menschen|bürger|touristen|studenten|familien|kinder|passagiere|verletzte|tote|vermisste|"
    # ru / uk
    "человек|людей|граждан|туристов|студентов|семей|детей|пассажиров|раненых|погибших|людей|осіб|людей|"
    # ar
    "شخصا|شخص|أشخاص|اشخاص|مواطنا|مواطن|مواطنين|عائلة|عائلات|طفل|أطفال|اطفال|طالب|طلاب|سائح|سياح|"
    "مصابا|مصابين|قتيلا|قتلى|جريحا|جرحى|مفقودا|مفقودين|نفر|"
    # hi / tr / id
    "लोग|लोगों|व्यक्ति|भारतीय|kişi|vatandaş|orang|warga"
)
_NUM = r"(?P<num>\d{1,3}(?:[,.\s]\d{3})+|\d{1,6})"
_WORDNUM = "|".join(sorted((re.escape(k) for k in NUMBER_WORDS), key=len, reverse=True))
_APPROX = "|".join(sorted((re.escape(k) for k in APPROXIMATE), key=len, reverse=True))
# Demonyms and group nouns in English: "40 Indians", "hundreds of Filipinos", "300 Nigerian nationals".
# Case-sensitive inside the case-insensitive patterns, and never a unit of time, money or score ("5 years").
_NOT_PEOPLE = (
    "Years|Weeks|Days|Months|Hours|Minutes|Seconds|Times|Points|Goals|Votes|Likes|Retweets|Followers|Dollars|"
    "Euros|Pounds|Rupees|Miles|Kilometers|Kilometres|Things|Ways|Reasons|Tips|Steps|Photos|Pictures|Videos|"
    "Questions|Comments|Tweets|Posts|Pages|Seasons|Episodes|Games|Matches|Runs|Wickets|Laps"
)
_CAP_PLURAL = rf"(?-i:(?!(?:{_NOT_PEOPLE})\b)[A-Z][a-z]+(?:ans|ese|ians|is|ers|ns|s))\b"
_HEAD_PATTERNS = [
    # "40 of us", "forty Indians", "300 Nigerian nationals" (see _number_patterns)
    re.compile(
        rf"(?<![\w+:/.-])(?:{_NUM}|(?P<word>{_WORDNUM}))\s+(?:(?:of|de|di|des|du)\s+)?"
        rf"(?:[\w-]+\s+)?(?P<group>{PEOPLE}|{_CAP_PLURAL})(?!\w)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<!\w)(?P<approx>{_APPROX})\s+(?:(?:of|de|di|des|d'|of the)\s*)?(?P<group>{PEOPLE}|{_CAP_PLURAL})(?!\w)",
        re.IGNORECASE,
    ),
    # "we are 40", "nous sommes 40", "somos 40", "wir sind 40", "нас 40", "نحن 30"
    re.compile(
        rf"(?<!\w)(?P<group>we are|we're|there are|nous sommes|on est|somos|siamo|wir sind|нас|нас было|نحن|عددنا)"
        rf"\s+(?:about\s+|environ\s+|unos\s+|cerca de\s+|около\s+|حوالي\s+)?{_NUM}(?!\s*(?:%|years|ans|años|km))",
        re.IGNORECASE,
    ),
]
_MAX_HEADCOUNT = 1_000_000


@dataclass(frozen=True)
class HeadCount:
    """A number of people mentioned in a text."""

    count: int
    approximate: bool  # "hundreds of", "dozens": count is the lower bound
    group: str  # the noun phrase counted, e.g. "Indians", "of us", "شخصا"
    text: str  # the matched span

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _to_int(raw: str) -> int | None:
    digits = re.sub(r"[,.\s]", "", raw)
    return int(digits) if digits.isdigit() else None


# Cheap checks that decide which patterns can match at all (most posts skip all three). "a dozen" needs
# "dozen", so "a" (in nearly every English post) triggers nothing by itself.
_NUMBER_TRIGGERS = frozenset(k.split()[-1] for k in NUMBER_WORDS)
_APPROX_TRIGGERS = frozenset(APPROXIMATE)
_WE_TRIGGERS = frozenset(["we", "there", "nous", "on", "somos", "siamo", "wir", "нас", "نحن", "عددنا"])
_PEOPLE_WORDS = frozenset(w for phrase in PEOPLE.split("|") for w in phrase.split())
_ANY_DIGIT = re.compile(r"\d")


def _number_patterns(present: set[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The first head-count pattern and its cheap pre-check (a number, then perhaps a word, then a capital),
    for a text whose words include the number words ``present`` (lower case, each key's last word, as in
    ``_NUMBER_TRIGGERS``) and no other. A number word only matches as a whole word (the patterns need a
    non-word before it and a space after), so the others cannot match; leaving them out of the alternation
    saves most of the time: Python's ``re`` tries every alternative at every position of the text. One
    variant per number word (compiled once, when first needed); texts with several use every word."""
    if len(present) > 1:
        return _number_patterns_for(None)
    return _number_patterns_for(next(iter(present), ""))


@cache
def _number_patterns_for(word: str | None) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """:func:`_number_patterns` for one number word (``""``: none, ``None``: every one)."""
    keys = [k for k in NUMBER_WORDS if word is None or k.split()[-1] == word]
    words = "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True)) or "(?!)"
    full = _HEAD_PATTERNS[0].pattern.replace(f"(?P<word>{_WORDNUM})", f"(?P<word>{words})")
    start = rf"(?:\d|(?i:\b(?:{words})))" if keys else r"\d"
    then_capital = rf"{start}\s+(?:of\s+)?(?:[\w-]+\s+)?[A-Z]"
    return re.compile(full, re.IGNORECASE), re.compile(then_capital)


def head_counts_in(text: str, words: set[str] | None = None) -> list[HeadCount]:
    """Head counts in one (clean) text, in order of appearance; ``words``, when the caller has them, are the
    lower-cased words of an ASCII text (``\\w+``)."""
    text = normalise_digits(text)
    has_digit = _ANY_DIGIT.search(text) is not None
    if words is None:
        low = text.lower()
        words = set(_ASCII_TOKEN.findall(low) if low.isascii() else _TOKEN.findall(low))
    wanted = []
    number_words = words & _NUMBER_TRIGGERS
    if has_digit or number_words:
        pattern, then_capital = _number_patterns(number_words)
        if not words.isdisjoint(_PEOPLE_WORDS) or then_capital.search(text):
            wanted.append(pattern)
    if not words.isdisjoint(_APPROX_TRIGGERS):
        wanted.append(_HEAD_PATTERNS[1])
    if has_digit and not words.isdisjoint(_WE_TRIGGERS):
        wanted.append(_HEAD_PATTERNS[2])
    if not wanted:
        return []
    found: list[tuple[int, HeadCount]] = []
    taken: list[tuple[int, int]] = []
    for pattern in wanted:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            parts = m.groupdict()
            approximate = False
            if parts.get("num"):
                count = _to_int(parts["num"])
            elif parts.get("word"):
                count = NUMBER_WORDS.get(parts["word"].lower())
            elif parts.get("approx"):
                count, approximate = APPROXIMATE.get(parts["approx"].lower()), True
            else:
                count = None
            if count is None or count <= 0 or count > _MAX_HEADCOUNT:
                continue
            group = parts.get("group") or ""
            if pattern is _HEAD_PATTERNS[2]:
                group = "of us"
            taken.append((m.start(), m.end()))
            found.append((m.start(), HeadCount(count, approximate, group, m.group())))
    return [h for _, h in sorted(found, key=lambda x: x[0])]


def extract_head_counts(texts: Iterable[object]) -> list[list[HeadCount]]:
    """Numbers of people mentioned in every text ("40 of us", "hundreds of Indians", "٣٠ شخصا")."""
    return [head_counts_in(clean(t, MAX_SCAN_CHARS)) for t in as_texts(texts)]


# --- phone numbers -------------------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d")
_MAX_PHONES = 10


def phones_in(text: str, region: str | None = None) -> list[str]:
    """Valid phone numbers in one text, as E.164 strings (``+33612345678``).

    Without ``region`` only numbers written with their country code are found; with it (e.g. ``"FR"``)
    national numbers are read as that country's.
    """
    text = normalise_digits(text)
    if len(_DIGIT_RUN.findall(text)) < 7:
        return []
    out: list[str] = []
    try:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in out:
                out.append(e164)
            if len(out) >= _MAX_PHONES:
                break
    except Exception:  # noqa: BLE001 - a library error on one odd text must not fail the batch
        return out
    return out


def extract_phone_numbers(texts: Iterable[object], region: str | None = None) -> list[list[str]]:
    """Phone numbers in every text, E.164 formatted (see :func:`phones_in`)."""
    return [phones_in(clean(t, MAX_SCAN_CHARS), region) for t in as_texts(texts)]


# --- needs ---------------------------------------------------------------------------------------------------

NEED_TERMS: dict[str, tuple[str, ...]] = {
    "water": (
        "water", "drinking water", "thirsty", "eau", "eau potable", "agua", "água", "acqua", "wasser",
        "вода", "воды", "питьевой", "вода", "su", "air bersih", "pani", "पानी", "ماء", "مياه", "الماء", "المياه",
        "آب",
    ),
    "food": (
        "food", "hungry", "starving", "eat", "rations", "baby formula", "nourriture", "manger", "faim",
        "comida", "alimentos", "hambre", "comer", "comida", "alimentos", "fome", "cibo", "mangiare", "fame",
        "essen", "lebensmittel", "hunger", "еда", "еды", "продукты", "голод", "yemek", "gıda", "makanan",
        "khana", "खाना", "भोजन", "طعام", "الطعام", "غذاء", "الغذاء", "أكل", "خبز", "غذا",
    ),
    "medicine": (
        "medicine", "medicines", "medication", "insulin", "doctor", "medical", "first aid", "ambulance",
        "hospital", "médicaments", "médicament", "médecin", "medicamentos", "medicinas", "médico",
        "remédios", "medicinali", "farmaci", "medico", "medikamente", "arzt", "insulin", "лекарства",
        "врач", "скорая", "ilaç", "doktor", "obat", "dawai", "दवा", "दवाई", "डॉक्टर", "دواء", "أدوية",
        "ادوية", "طبيب", "إسعاف", "اسعاف", "الأدوية", "انسولين", "دارو",
    ),
    "shelter": (
        "shelter", "place to stay", "somewhere to sleep", "tent", "tents", "blankets", "homeless", "abri",
        "hébergement", "logement", "tente", "refugio", "albergue", "alojamiento", "carpa", "abrigo",
        "alojamento", "rifugio", "alloggio", "unterkunft", "notunterkunft", "zelt", "убежище", "жильё",
        "жилье", "ночлег", "barınak", "çadır", "tempat tinggal", "आश्रय", "مأوى", "ماوى", "خيمة", "خيام",
        "سكن", "بطانيات", "پناهگاه",
    ),
    "transport": (
        "evacuation", "evacuate", "evacuated", "transport", "ride", "bus", "flight", "flights", "boat",
        "a way out", "get out", "stranded", "stuck", "évacuation", "évacuer", "vol", "bloqués", "bloqué",
        "evacuación", "evacuar", "vuelo", "varados", "atrapados", "evacuação", "voo", "presos",
        "evacuazione", "volo", "bloccati", "evakuierung", "flug", "festsitzen", "gestrandet",
        "эвакуация", "эвакуировать", "рейс", "застряли", "tahliye", "uçuş", "evakuasi", "निकासी", "फंसे",
        "إجلاء", "اجلاء", "نقل", "عالقون", "عالقين", "رحلة", "طيران",
    ),
}
# A need is reported only where the text also asks or lacks something; "water levels rising" is no need.
NEED_CUES = (
    "need", "needs", "needed", "require", "urgent", "urgently", "please", "help", "no ", "without", "out of",
    "run out", "ran out", "running out", "lack", "short of", "shortage", "send", "sos", "asap",
    "besoin", "manque", "urgent", "aidez", "sans ", "plus de", "s'il vous plaît", "svp",
    "necesita", "necesitamos", "necesitan", "falta", "urge", "ayuda", "sin ", "por favor",
    "precisa", "precisamos", "precisam", "socorro", "sem ", "ajuda", "falta",
    "bisogno", "serve", "servono", "aiuto", "senza", "mancano", "manca",
    "brauchen", "benötigen", "dringend", "hilfe", "ohne", "kein", "keine",
    "нужна", "нужны", "нужно", "нужен", "помогите", "срочно", "нет ", "без ",
    "lazım", "ihtiyaç", "acil", "yardım", "yok", "butuh", "perlu", "tolong",
    "चाहिए", "ज़रूरत", "जरूरत", "मदद", "नहीं",
    "نحتاج", "بحاجة", "نريد", "محتاج", "محتاجين", "ساعدونا", "مساعدة", "عاجل", "لا يوجد", "بدون", "نقص",
    "نفد", "انقطاع",
)


_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف")


def _split_terms(terms: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Single words (matched as whole words) and phrases (matched as substrings) of a term list."""
    words = {t.strip().lower() for t in terms if len(_TOKEN.findall(t.strip().lower())) == 1}
    phrases = {t.strip().lower() for t in terms if len(_TOKEN.findall(t.strip().lower())) > 1}
    return frozenset(words), tuple(sorted(phrases))


_NEED_INDEX = {need: _split_terms(terms) for need, terms in NEED_TERMS.items()}
_CUE_WORDS, _CUE_PHRASES = _split_terms(NEED_CUES)


def _substring_search(phrases: tuple[str, ...]) -> Callable[[str], object]:
    """One regex that finds any of ``phrases`` as a substring (same answer as ``any(p in text ...)``)."""
    if not phrases:
        return lambda _text: None
    return re.compile("|".join(re.escape(p) for p in phrases)).search


_CUE_SEARCH = _substring_search(_CUE_PHRASES)
_NEED_SEARCH = {need: (terms, _substring_search(phrases)) for need, (terms, phrases) in _NEED_INDEX.items()}


def _words(text_lower: str) -> set[str]:
    if text_lower.isascii():
        return set(_ASCII_TOKEN.findall(text_lower))
    words = set(_TOKEN.findall(text_lower))
    if _ARABIC.search(text_lower):  # peel proclitics: ونحتاج -> نحتاج, بالماء -> ماء
        for w in list(words):
            for prefix in _ARABIC_PREFIXES:
                if w.startswith(prefix) and len(w) - len(prefix) >= 2:
                    words.add(w[len(prefix) :])
    return words


def needs_in(
    text: str, require_cue: bool = True, low: str | None = None, words: set[str] | None = None
) -> list[str]:
    """Needs (water, food, medicine, shelter, transport) expressed in one text; ``low`` and ``words``, when
    the caller has them, are the lower-cased ASCII text and its words (``\\w+``)."""
    if low is None or words is None:
        low = text.lower()
        words = _words(low)
    if require_cue and words.isdisjoint(_CUE_WORDS) and not _CUE_SEARCH(low):
        return []
    return [need for need, (terms, search) in _NEED_SEARCH.items()
            if not words.isdisjoint(terms) or search(low)]


def extract_needs(texts: Iterable[object], require_cue: bool = True) -> list[list[str]]:
    """Needs expressed in every text; with ``require_cue`` a need word counts only next to a request/lack cue."""
    return [needs_in(clean(t, MAX_SCAN_CHARS), require_cue) for t in as_texts(texts)]
