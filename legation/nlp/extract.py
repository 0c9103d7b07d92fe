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
# "hundreds of", "des centaines de", "مئات" ... -> lower bound of the range, marked approximate; "une
# vingtaine de", "una decena de", "una ventina di" (about twenty, ten ...) -> that number, marked approximate.
APPROXIMATE = {
    "dozens": 24, "scores": 40, "hundreds": 100, "thousands": 1000, "several": 3, "many": 10,
    "dizaines": 20, "centaines": 100, "milliers": 1000, "plusieurs": 3,
    "dizaine": 10, "douzaine": 12, "quinzaine": 15, "vingtaine": 20, "trentaine": 30, "quarantaine": 40,
    "cinquantaine": 50, "soixantaine": 60, "centaine": 100,
    "decenas": 20, "cientos": 100, "centenares": 100, "miles": 1000, "varios": 3, "varias": 3,
    "decena": 10, "docena": 12, "veintena": 20, "treintena": 30, "cincuentena": 50, "centenar": 100,
    "dezenas": 20, "centenas": 100, "milhares": 1000, "vários": 3, "várias": 3, "dezena": 10, "dúzia": 12,
    "centena": 100,
    "decine": 20, "centinaia": 100, "migliaia": 1000, "decina": 10, "dozzina": 12, "ventina": 20,
    "trentina": 30, "quarantina": 40, "cinquantina": 50, "centinaio": 100,
    "dutzende": 24, "hunderte": 100, "tausende": 1000, "mehrere": 3, "dutzend": 12,
    "десятки": 20, "сотни": 100, "тысячи": 1000, "десяток": 10, "сотня": 100,
    "عشرات": 20, "مئات": 100, "آلاف": 1000, "المئات": 100, "الآلاف": 1000,
}
PEOPLE = (
    # en
    "people|persons|person|citizens|nationals|residents|tourists|students|workers|passengers|families|"
    "children|kids|adults|women|men|pilgrims|travellers|travelers|survivors|victims|dead|injured|wounded|"
    "missing|refugees|migrants|evacuees|patients|displaced|civilians|hostages|detainees|of us|"
    # fr
    "personnes|ressortissants|citoyens|touristes|étudiants|familles|enfants|passagers|blessés|morts|"
    "disparus|réfugiés|déplacés|évacués|otages|civils|compatriotes|"
    # es / pt / it
    "personas|ciudadanos|turistas|estudiantes|familias|niños|pasajeros|heridos|muertos|desaparecidos|"
    "refugiados|desplazados|evacuados|rehenes|civiles|compatriotas|connacionales|extranjeros|"
    "españoles|españolas|rusos|sirios|turcos|griegos|alemanes|chinos|argentinos|filipinos|palestinos|chilenos|"
    "pessoas|cidadãos|famílias|crianças|passageiros|feridos|mortos|desaparecidos|desabrigados|desalojados|"
    "brasileiros|brasileiras|estrangeiros|russos|sírios|alemães|"
    "persone|cittadini|turisti|studenti|famiglie|bambini|passeggeri|feriti|morti|dispersi|connazionali|"
    "stranieri|profughi|rifugiati|sfollati|migranti|ostaggi|civili|tedeschi|russi|turchi|greci|ucraini|"
    "argentini|"
    # de (nationalities listed: German capitalises every noun, so a capital says nothing)
    "personen|menschen|bürger|touristen|studenten|familien|kinder|passagiere|verletzte|tote|vermisste|"
    "leute|flüchtlinge|geflüchtete|zivilisten|geiseln|deutsche|deutschen|türken|syrer|amerikaner|"
    "franzosen|briten|russen|ukrainer|italiener|spanier|chinesen|japaner|inder|afghanen|iraner|iraker|"
    "österreicher|schweizer|"
    # ru / uk
    "человек|людей|граждан|туристов|студентов|семей|детей|пассажиров|раненых|погибших|людей|осіб|людей|"
    "россиян|россиянина|украинцев|американцев|китайцев|иностранцев|беженцев|армян|белорусов|казахов|"
    "узбеков|таджиков|жителей|пострадавших|заложников|паломников|українців|громадян|"
    # ar (with or without the article)
    "شخصا|شخص|أشخاص|اشخاص|مواطنا|مواطن|مواطنين|عائلة|عائلات|طفل|أطفال|اطفال|طالب|طلاب|سائح|سياح|"
    "مصابا|مصابين|قتيلا|قتلى|جريحا|جرحى|مفقودا|مفقودين|نفر|لاجئا|لاجئين|نازحا|نازحين|مدنيا|مدنيين|رهائن|"
    "حجاج|عمال|الأشخاص|الاشخاص|المواطنين|الأطفال|الاطفال|الطلاب|اللاجئين|النازحين|المدنيين|الرهائن|"
    "الحجاج|العمال|"
    # hi / tr / id
    "लोग|लोगों|व्यक्ति|भारतीय|kişi|kişiyi|vatandaş|vatandaşı|vatandaşımız|vatandaşımızı|insan|yolcu|öğrenci|"
    "çocuk|mülteci|göçmen|turist|işçi|orang|warga"
)
_NUM = r"(?P<num>\d{1,3}(?:[,.\s]\d{3})+|\d{1,6})"
# "2 million displaced", "5k people", "1.5 millones de personas", "5 mil personas" (es/pt: thousand)
MULTIPLIERS = {
    "k": 1000, "thousand": 1000, "million": 1_000_000, "millions": 1_000_000, "mil": 1000, "miles": 1000,
    "millón": 1_000_000, "millones": 1_000_000, "milhão": 1_000_000, "milhões": 1_000_000, "mila": 1000,
    "milione": 1_000_000, "milioni": 1_000_000, "tausend": 1000, "millionen": 1_000_000,
    "тысяч": 1000, "тысячи": 1000, "миллиона": 1_000_000, "миллионов": 1_000_000, "ألف": 1000,
    "مليون": 1_000_000,
}
_MULT = "|".join(sorted((re.escape(k) for k in MULTIPLIERS), key=len, reverse=True))
_MNUM = rf"(?P<mnum>\d{{1,3}}(?:[.,]\d{{1,2}})?)\s*(?P<mult>{_MULT})(?!\w)"
_WORDNUM = "|".join(sorted((re.escape(k) for k in NUMBER_WORDS), key=len, reverse=True))
_APPROX = "|".join(sorted((re.escape(k) for k in APPROXIMATE), key=len, reverse=True))
# Demonyms and group nouns in English: "40 Indians", "hundreds of Filipinos", "300 Nigerian nationals".
# Case-sensitive inside the case-insensitive patterns, and never a unit of time, money or score ("5 years").
_NOT_PEOPLE = (
    "Years|Weeks|Days|Months|Hours|Minutes|Seconds|Times|Points|Goals|Votes|Likes|Retweets|Followers|Dollars|"
    "Euros|Pounds|Rupees|Miles|Kilometers|Kilometres|Things|Ways|Reasons|Tips|Steps|Photos|Pictures|Videos|"
    "Questions|Comments|Tweets|Posts|Pages|Seasons|Episodes|Games|Matches|Runs|Wickets|Laps|Ans|Jours|Mois|"
    "Heures|Minutes|Fois|Euros|Pays|Films|Livres|Années|Semaines"
)
# Accented letters only in French endings ("Français", "Québécois", "Algériens"): "Europäisches" is no group.
_CAP_PLURAL = (
    rf"(?-i:(?!(?:{_NOT_PEOPLE})\b)(?:[A-Z][a-z]+(?:ans|ese|ians|is|ers|ns|s)|[A-ZÀ-Ý][a-zß-ÿ]+(?:ais|ois|ens)))\b"
)
# Lower-case demonyms in Spanish, Portuguese and Italian by their endings ("venezolanos", "franceses",
# "estadounidenses", "marroquíes", "hondureños", "italiani", "cinesi") and Arabic nisba plurals ("المصريين",
# "سوريون"), without the common words that end so ("veranos", "intereses", "paesi", "domani", "ملايين").
_LOW_DEMONYM = (
    r"(?!(?:veranos|planos|granos|pianos|gusanos|océanos|pantanos|intereses|cipreses|sueños|pequeños|diseños|"
    r"paesi|domani|piani|oceani|vulcani|tulipani|divani|uragani|الملايين|ملايين|مليون|المليون)(?!\w))"
    r"(?:[a-záéíóúâêôãõçàèìòùñü]{2,}(?:anos|eses|enses|íes|eños|ani|esi)|(?:ال)?[\u0621-\u064a]{2,}(?:يين|يون))"
)
_LOW_DEMONYM_CHECK = re.compile(r"(?:anos|eses|enses|íes|eños|ani|esi|يين|يون)(?!\w)", re.IGNORECASE)
_HEDGE = (
    "about|around|approximately|approx|roughly|nearly|almost|over|more than|at least|some|up to|close to|"
    "environ|près de|plus de|presque|au moins|unos|unas|cerca de|casi|más de|alrededor de|aproximadamente|"
    "mais de|quase|cerca di|circa|quasi|oltre|più di|etwa|rund|fast|über|mehr als|mindestens|около|почти|"
    "более|больше|свыше|примерно|حوالي|نحو|قرابة|أكثر من|yaklaşık|sekitar|lebih dari|करीब|लगभग"
)
# A hedge right before a count makes it approximate ("about 40 people", "unos 30 españoles", "около 15").
_HEDGE_BEFORE = re.compile(rf"(?<!\w)(?:{_HEDGE})\s*~?\s*$|~\s*$", re.IGNORECASE)
_HEAD_PATTERNS = [
    # "40 of us", "forty Indians", "300 Nigerian nationals", "5k people" (see _number_patterns)
    re.compile(
        rf"(?<![\w+:/.-])(?:{_MNUM}|{_NUM}|(?P<word>{_WORDNUM}))\s+(?:(?:of|de|di|des|du|d')\s*)?"
        rf"(?:[\w-]+\s+)?(?P<group>{PEOPLE}|{_CAP_PLURAL}|{_LOW_DEMONYM})(?!\w)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<!\w)(?P<approx>{_APPROX})\s+(?:(?:of|de|di|des|d'|of the)\s*)?"
        rf"(?P<group>{PEOPLE}|{_CAP_PLURAL}|{_LOW_DEMONYM})(?!\w)",
        re.IGNORECASE,
    ),
    # "we are 40", "nous sommes 40", "somos 40", "wir sind 40", "нас 40", "نحن 30"
    re.compile(
        rf"(?<!\w)(?P<group>we are|we're|there are|nous sommes|on est|somos|siamo|wir sind|нас|нас было|نحن|عددنا)"
        rf"\s+(?:(?P<hedge>{_HEDGE})\s+)?{_NUM}(?!\s*(?:%|years|ans|años|km))",
        re.IGNORECASE,
    ),
    # Chinese, Japanese, Korean: "30个中国人", "30多名游客", "30人の日本人", "30명"
    re.compile(
        r"(?P<num>\d{1,6})\s*(?P<more>多|余|餘)?\s*(?:(?:个|個|位|名)\s*"
        r"(?P<group>[\u4e00-\u9fff]{0,4}?(?:人|公民|同胞|游客|遊客|学生|學生|乘客|儿童|兒童|孩子|家庭|侨民|僑民))|(?P<group2>人|名|명)(?![民口币幣]))"
    ),
    # "my family of 5", "une famille de 6", "familia de 4"
    re.compile(
        rf"(?<!\w)(?P<group>family|familia|famille|famiglia|família|familie|семья)\s+(?:of|de|di|von|из)\s+"
        rf"{_NUM}(?![\d%]|\s*(?:years|ans|años|anni|jahre))(?!\w)",
        re.IGNORECASE,
    ),
]
_MAX_HEADCOUNT = 100_000_000


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
_PEOPLE_WORDS = frozenset(w.lower() for phrase in PEOPLE.split("|") for w in phrase.split())
_FAMILY_TRIGGERS = frozenset(["family", "familia", "famille", "famiglia", "família", "familie", "семья"])
_CJK_COUNTERS = ("人", "名", "명")
_ANY_DIGIT = re.compile(r"\d")
# Spanish "dos" (two) is Portuguese "dos" (of the): "a maioria dos brasileiros" counts no one in a Portuguese text.
_PORTUGUESE = frozenset(["não", "você", "mais", "muito", "também", "isso", "está", "são", "nem", "pra", "com",
                         "uma", "ele", "ela", "foi", "vai", "agora", "maioria", "essas", "esses", "aqui"])


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
    start = rf"(?:\d[\w.,]*|(?i:\b(?:{words})))" if keys else r"\d[\w.,]*"
    then_capital = rf"{start}\s+(?:[\w-]+\s+)?(?:(?:of|de|di|des|du|d')\s*)?(?:[\w-]+\s+)?[A-ZÀ-Ý]"
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
        if (not words.isdisjoint(_PEOPLE_WORDS) or then_capital.search(text)
                or _LOW_DEMONYM_CHECK.search(text)):
            wanted.append(pattern)
    if not words.isdisjoint(_APPROX_TRIGGERS):
        wanted.append(_HEAD_PATTERNS[1])
    if has_digit:
        if not words.isdisjoint(_WE_TRIGGERS):
            wanted.append(_HEAD_PATTERNS[2])
        if not text.isascii() and any(c in text for c in _CJK_COUNTERS):
            wanted.append(_HEAD_PATTERNS[3])
        if not words.isdisjoint(_FAMILY_TRIGGERS):
            wanted.append(_HEAD_PATTERNS[4])
    if not wanted:
        return []
    found: list[tuple[int, HeadCount]] = []
    taken: list[tuple[int, int]] = []
    for pattern in wanted:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            parts = m.groupdict()
            approximate = bool(parts.get("hedge") or parts.get("more"))
            count: int | None
            if parts.get("mnum"):
                count = int(float(parts["mnum"].replace(",", ".")) * MULTIPLIERS[parts["mult"].lower()])
            elif parts.get("num"):
                count = _to_int(parts["num"])
            elif parts.get("word"):
                count = NUMBER_WORDS.get(parts["word"].lower())
                if parts["word"].lower() == "dos" and not words.isdisjoint(_PORTUGUESE):
                    continue
            elif parts.get("approx"):
                count, approximate = APPROXIMATE.get(parts["approx"].lower()), True
            else:
                count = None
            if count is None or count <= 0 or count > _MAX_HEADCOUNT:
                continue
            group = parts.get("group") or parts.get("group2") or ""
            if pattern is _HEAD_PATTERNS[2]:
                group = "of us"
            if not approximate and _HEDGE_BEFORE.search(text, max(0, m.start() - 25), m.start()):
                approximate = True
            taken.append((m.start(), m.end()))
            found.append((m.start(), HeadCount(count, approximate, group, m.group())))
    return [h for _, h in sorted(found, key=lambda x: x[0])]


def extract_head_counts(texts: Iterable[object]) -> list[list[HeadCount]]:
    """Numbers of people mentioned in every text ("40 of us", "hundreds of Indians", "٣٠ شخصا")."""
    return [head_counts_in(clean(t, MAX_SCAN_CHARS)) for t in as_texts(texts)]


# --- phone numbers -------------------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d")
_MAX_PHONES = 10
# "00" is the international call prefix of most of the world ("0033 6 12 34 56 78", "00966 50 123 4567"):
# written so, a number is read as if it began with "+" (it cannot be a national number there: those start
# with one "0"). Only where no digit, letter or "+" comes before it; libphonenumber still checks the number.
_DOUBLE_ZERO = re.compile(r"(?<![\w+])00(?=[1-9])")


def phones_in(text: str, region: str | None = None) -> list[str]:
    """Valid phone numbers in one text, as E.164 strings (``+33612345678``).

    Without ``region`` only numbers written with their country code ("+33 ..." or "0033 ...") are found; with
    it (e.g. ``"FR"``) national numbers are read as that country's.
    """
    text = normalise_digits(text)
    if len(_DIGIT_RUN.findall(text)) < 7:
        return []
    if "00" in text:
        text = _DOUBLE_ZERO.sub("+", text)
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
# Word lists for the 30 or so languages most used on social media that are written with spaces between words
# (en fr es pt it de nl pl ru uk tr id/ms tl vi ar fa ur hi bn); Chinese, Japanese and Korean are matched
# differently (_CJK_NEEDS below). Thai is not covered yet.

NEED_TERMS: dict[str, tuple[str, ...]] = {
    "water": (
        "water", "drinking water", "thirsty", "eau", "eau potable", "agua", "agua potable", "água",
        "água potável", "acqua", "wasser", "trinkwasser", "вода", "воды", "воду", "питьевой", "питьевая",
        "suyu", "suyumuz", "içme suyu", "air bersih", "air minum", "pani", "पानी", "ماء", "مياه",
        "الماء", "المياه", "آب", "آب آشامیدنی", "پانی", "drinkwater", "woda", "wody", "wodę", "води", "вода",
        "nước sạch", "nước uống", "tubig", "পানি", "জল",
    ),
    "food": (
        "food", "hungry", "starving", "eat", "rations", "baby formula", "nourriture", "manger", "faim",
        "comida", "alimentos", "alimento", "víveres", "hambre", "comer", "fome", "cibo", "mangiare", "fame",
        "essen", "lebensmittel", "nahrung", "hunger", "еда", "еды", "еду", "продукты", "продуктов", "голод",
        "їжа", "їжі", "їжу", "yemek", "yiyecek", "gıda", "makanan", "khana", "खाना", "भोजन", "राशन", "طعام",
        "الطعام", "غذاء", "الغذاء", "أكل", "خبز", "غذا", "خوراک", "نان", "کھانا", "کھانے", "راشن", "voedsel",
        "eten", "jedzenie", "jedzenia", "żywność", "żywności", "thức ăn", "đồ ăn", "lương thực", "thực phẩm",
        "pagkain", "bigas", "খাবার",
    ),
    "medicine": (
        "medicine", "medicines", "medication", "insulin", "doctor", "medical", "first aid", "ambulance",
        "médicaments", "médicament", "médecin", "medicamentos", "medicamento", "medicinas", "medicina",
        "médico", "remédios", "remédio", "medicinali", "farmaci", "medico", "medikamente", "arzt", "insulin",
        "лекарства", "лекарств", "медикаменты", "медикаментов", "врач", "врача", "скорая", "скорую", "ліки",
        "ліків", "лікар", "ilaç", "doktor", "obat", "dawai", "दवा", "दवाई", "डॉक्टर", "دواء", "أدوية", "ادوية",
        "طبيب", "إسعاف", "اسعاف", "الأدوية", "انسولين", "دارو", "داروها", "پزشک", "دکتر", "دوائی", "دوا",
        "ادویات", "ڈاکٹر", "medicijnen", "medicatie", "dokter", "insuline", "leki", "leków", "lekarstwa",
        "lekarz", "lekarza", "karetka", "thuốc men", "bác sĩ", "cấp cứu", "gamot", "ওষুধ", "ডাক্তার",
    ),
    "shelter": (
        "shelter", "place to stay", "somewhere to sleep", "tent", "tents", "blankets", "homeless", "abri",
        "hébergement", "logement", "tente", "refugio", "albergue", "alojamiento", "carpa", "abrigo",
        "alojamento", "rifugio", "alloggio", "unterkunft", "notunterkunft", "zelt", "убежище", "жильё",
        "жилье", "жилья", "ночлег", "укрытие", "укриття", "житло", "barınak", "çadır", "tempat tinggal",
        "tenda", "pengungsian", "आश्रय", "مأوى", "ماوى", "خيمة", "خيام", "سكن", "بطانيات", "پناهگاه",
        "سرپناه", "پناہ", "رہائش", "خیمے", "onderdak", "slaapplek", "schronienie", "schronienia", "nocleg",
        "noclegu", "chỗ ở", "nơi trú ẩn", "matutuluyan", "tirahan", "আশ্রয়",
    ),
    "transport": (
        "evacuation", "evacuate", "evacuated", "transport", "ride", "bus", "flight", "flights", "boat",
        "a way out", "get out", "stranded", "stuck", "évacuation", "évacuer", "vol", "bloqués", "bloqué",
        "evacuación", "evacuar", "transporte", "vuelo", "varados", "atrapados", "evacuação", "voo", "presos",
        "evacuazione", "trasporto", "volo", "bloccati", "evakuierung", "flug", "festsitzen", "gestrandet",
        "эвакуация", "эвакуации", "эвакуацию", "эвакуировать", "рейс", "застряли", "евакуація", "евакуації",
        "tahliye", "uçuş", "evakuasi", "निकासी", "फंसे", "إجلاء", "اجلاء", "نقل", "عالقون", "عالقين", "رحلة",
        "طيران", "تخلیه", "انخلا", "evacuatie", "vervoer", "ewakuacja", "ewakuacji", "sơ tán", "di tản",
        "paglikas",
    ),
}
# Short words that mean a need in one language and something else in another ("su": water in Turkish, "his"
# in Spanish and Italian; "nước": water and country in Vietnamese; "air": water in Indonesian), and mentions
# that are no need by themselves ("the hospital was bombed"): each counts only with one of its own cues at most
# _NEAR words away ("su lazım", "su yok", "need a hospital", "cần nước", "butuh air").
_TR_CUES = ("lazım", "yok", "ihtiyaç", "ihtiyacımız", "ihtiyacı", "gerek", "gerekiyor", "bitti", "kalmadı",
            "istiyoruz", "acil")
_VI_CUES = ("cần", "thiếu", "hết", "không có", "cần gấp")
_ID_CUES = ("butuh", "perlu", "kekurangan", "habis", "tidak ada", "kehabisan", "membutuhkan")
_NEED_VERBS = ("need", "needs", "needed", "require", "necesitamos", "necesita", "necesitan", "necesito",
               "precisamos", "precisa", "precisam", "preciso")
NEAR_TERMS: dict[str, dict[str, tuple[str, ...]]] = {
    "water": {"su": _TR_CUES, "suya": _TR_CUES, "nước": _VI_CUES, "air": _ID_CUES},
    "medicine": {"hospital": _NEED_VERBS, "thuốc": _VI_CUES},
}
# A need is reported only where the text also asks or lacks something; "water levels rising" is no need.
# Requests and lacks count anywhere in the text ...
NEED_CUES = (
    "need", "needs", "needed", "require", "urgent", "urgently", "please", "help", "run out", "ran out",
    "running out", "lack", "short of", "shortage", "send", "sos", "asap",
    "besoin", "manque", "manquons", "manquent", "il nous faut", "urgence", "aidez", "s'il vous plaît", "svp",
    "necesita", "necesitamos", "necesitan", "necesito", "falta", "faltan", "se acabó", "se acabaron",
    "escasez", "urge", "urgente", "ayuda", "por favor",
    "precisa", "precisamos", "precisam", "preciso", "faltam", "acabou", "acabaram", "socorro", "ajuda",
    "bisogno", "serve", "servono", "aiuto", "mancano", "manca", "finita", "finito",
    "brauchen", "benötigen", "dringend", "hilfe", "fehlt", "fehlen", "ausgegangen",
    "нужна", "нужны", "нужно", "нужен", "помогите", "помощь", "срочно", "закончилась", "закончились",
    "закончился", "кончилась", "кончились", "не хватает", "нехватка",
    "потрібна", "потрібні", "потрібно", "потрібен", "допоможіть", "терміново", "закінчилась", "закінчилися",
    "не вистачає",
    "lazım", "ihtiyaç", "ihtiyacımız", "acil", "yardım", "butuh", "perlu", "tolong", "kekurangan", "bantuan",
    "kehabisan", "membutuhkan",
    "चाहिए", "ज़रूरत", "जरूरत", "मदद", "बचाओ",
    "نحتاج", "بحاجة", "نريد", "محتاج", "محتاجين", "ساعدونا", "مساعدة", "عاجل", "نقص", "نفد", "انقطاع",
    "نیاز", "نیازمند", "کمک", "فوری", "لطفا", "کمبود", "چاہیے", "ضرورت", "مدد", "براہ کرم", "کمی",
    "nodig", "tekort", "hulp", "alsjeblieft", "dringend",
    "potrzebujemy", "potrzebne", "potrzebna", "potrzeba", "brakuje", "skończyła", "skończyło", "skończyły",
    "pomocy", "pomoc", "pomóżcie", "pilnie",
    "cần", "thiếu", "giúp", "cứu", "khẩn cấp",
    "kailangan", "tulong", "tulungan", "saklolo", "kulang", "naubos", "ubos",
    "দরকার", "প্রয়োজন", "সাহায্য",
)
# ... words of negation and absence only next to the need word ("no food", "sin agua", "bez wody"): "No news
# from my brother in the hospital", "no me tiene piedad cuando ando en bus" are no needs.
NEED_NEGATIONS = (
    "no", "without", "out of", "sans", "plus de", "sin", "sem", "senza", "ohne", "kein", "keine", "нет",
    "без", "немає", "yok", "tidak ada", "habis", "नहीं", "खत्म", "لا يوجد", "بدون", "نداریم", "نہیں", "ختم",
    "geen", "zonder", "brak", "nie ma", "bez", "không có", "hết", "wala", "walang", "নেই",
)
_NEAR = 3  # words between a negation (or a near term's cue) and the need word, at most


_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ل", "ف")


def _split_terms(terms: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Single words (matched as whole words) and phrases (matched as substrings) of a term list."""
    words = {t.strip().lower() for t in terms if len(_TOKEN.findall(t.strip().lower())) == 1}
    phrases = {t.strip().lower() for t in terms if len(_TOKEN.findall(t.strip().lower())) > 1}
    return frozenset(words), tuple(sorted(phrases))


def _seqs(terms: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_TOKEN.findall(t.lower())) for t in terms)


_NEED_INDEX = {
    need: _split_terms((*terms, *NEAR_TERMS.get(need, {}))) for need, terms in NEED_TERMS.items()
}
_CUE_WORDS, _CUE_PHRASES = _split_terms((*NEED_CUES, *NEED_NEGATIONS, *_TR_CUES, *_VI_CUES, *_ID_CUES))


SeqIndex = dict[str, tuple[tuple[str, ...], ...]]


def _by_first(seqs: Iterable[tuple[str, ...]]) -> SeqIndex:
    """Word sequences by their first word: a text is scanned once, at the positions of those first words."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for seq in seqs:
        if seq:
            index.setdefault(seq[0], []).append(seq)
    return {first: tuple(found) for first, found in index.items()}


_CALL_SEQS = _by_first(_seqs(NEED_CUES))
_NEG_SEQS = _by_first(_seqs(NEED_NEGATIONS))
_TERM_SEQS = {need: _by_first(_seqs(terms)) for need, terms in NEED_TERMS.items()}
_NEAR_SEQS = {need: [(_by_first(_seqs([t])), _by_first(_seqs(cues))) for t, cues in near.items()]
              for need, near in NEAR_TERMS.items()}

# Chinese, Japanese and Korean: a need word and a cue at most 6 characters apart in the same clause
# ("我们需要水和食物", "水が必要です", "물이 필요해요"). "水" alone only outside common words (洪水 flood,
# 薪水 salary, 水平 level ...).
_CJK_CUES = (
    "需要|急需|缺少|缺乏|缺|没有|沒有|没了|用完|断了|不够|求助|救命|紧急|必要|ください|下さい|足りない|不足|ない|無い|"
    "欲しい|助けて|切れ|필요|없어|없습니다|없다|부족|주세요|떨어졌|떨어져|도와|구해|급해|급합니다"
)
_CJK_TERMS = {
    "water": r"饮用水|飲料水|飲み水|(?<![薪洪口泪涙汗香山风風雨墨胶潜下])水(?![平果准泥库庫族手晶彩曜道])|"
             r"(?<![가-힣])(?:식수|생수|마실 ?물|물(?=[이을과도]|\s|$))",
    "food": r"食物|食品|粮食|食粮|吃的|奶粉|食べ物|食料|食糧|ご飯|ミルク|"
            r"(?<![가-힣])(?:음식|식량|먹을 ?것|식료품|분유)",
    "medicine": r"药品|药物|藥|药|医生|医疗|胰岛素|医薬品|薬|医者|インスリン|"
                r"(?<![가-힣])(?:의약품|약품|약(?=[이을과도]|\s)|의사|인슐린|구급차)",
    "shelter": r"住所|住处|避难所|庇护所|帐篷|毯子|避難所|テント|毛布|"
               r"(?<![가-힣])(?:대피소|피난처|쉼터|텐트|담요|잘 ?곳|숙소)",
    "transport": r"撤离|撤侨|交通工具|车辆|航班|避難(?!所)|交通手段|移動手段|"
                 r"(?<![가-힣])(?:대피(?!소)|탈출|교통편|항공편)",
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_CJK_NEEDS = {
    need: re.compile(rf"(?:{_CJK_CUES})[^\s。，！？、,.!?]{{0,6}}?(?:{terms})"
                     rf"|(?:{terms})[^。，！？、,.!?]{{0,6}}?(?:{_CJK_CUES})")
    for need, terms in _CJK_TERMS.items()
}


def _substring_search(phrases: tuple[str, ...]) -> Callable[[str], object]:
    """One regex that finds any of ``phrases`` as a substring (same answer as ``any(p in text ...)``)."""
    if not phrases:
        return lambda _text: None
    return re.compile("|".join(re.escape(p) for p in phrases)).search


_CUE_SEARCH = _substring_search(_CUE_PHRASES)
_NEED_SEARCH = {need: (terms, _substring_search(phrases)) for need, (terms, phrases) in _NEED_INDEX.items()}
# A phrase can count only where its first word is one of the text's words: the phrase searches run only then.
_CUE_FIRST = frozenset(_TOKEN.findall(p)[0] for p in _CUE_PHRASES)
_NEED_FIRST = {need: frozenset(_TOKEN.findall(p)[0] for p in phrases) for need, (_, phrases) in _NEED_INDEX.items()}


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


def _forms(text_lower: str) -> list[frozenset[str]]:
    """The words of a text in order, each with its forms without Arabic proclitics."""
    tokens = _ASCII_TOKEN.findall(text_lower) if text_lower.isascii() else _TOKEN.findall(text_lower)
    if not _ARABIC.search(text_lower):
        return [frozenset((t,)) for t in tokens]
    return [frozenset([t] + [t[len(p):] for p in _ARABIC_PREFIXES if t.startswith(p) and len(t) - len(p) >= 2])
            for t in tokens]


def _positions(forms: list[frozenset[str]]) -> dict[str, list[int]]:
    """Where each word form of a text stands."""
    where: dict[str, list[int]] = {}
    for i, here in enumerate(forms):
        for form in here:
            where.setdefault(form, []).append(i)
    return where


def _spans(forms: list[frozenset[str]], where: dict[str, list[int]], index: SeqIndex) -> list[tuple[int, int]]:
    """(first, last) word positions of every occurrence of the word sequences of ``index`` (``_by_first``),
    looked for only where their first word stands (``where``, ``_positions``)."""
    out = []
    for first in index.keys() & where.keys():
        for seq in index[first]:
            n = len(seq)
            for i in where[first]:
                if i + n <= len(forms) and all(seq[k] in forms[i + k] for k in range(1, n)):
                    out.append((i, i + n - 1))
    return out


def _close(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(s1 - e2 <= _NEAR + 1 and s2 - e1 <= _NEAR + 1 for s1, e1 in a for s2, e2 in b)


def _needs_by_words(low: str, require_cue: bool) -> list[str]:
    """The needs of a text that passed the cheap checks, with word positions: each need word with a request
    anywhere, or a negation (or, for a near term, its own cue) at most _NEAR words away."""
    forms = _forms(low)
    where = _positions(forms)
    found = {need: _spans(forms, where, seqs) for need, seqs in _TERM_SEQS.items()}
    near_hit = {need for need, near in _NEAR_SEQS.items()
                if any(_close(_spans(forms, where, term), _spans(forms, where, cues)) for term, cues in near)}
    if not require_cue or _spans(forms, where, _CALL_SEQS):
        return [need for need in NEED_TERMS if found[need] or need in near_hit]
    # Negations only: the need words next to one, and those listed right after them ("no food, water or
    # medicine").
    cued = _spans(forms, where, _NEG_SEQS)
    hit = set(near_hit)
    grew = True
    while grew:
        grew = False
        for need, spans in found.items():
            if need not in hit and spans and cued and _close(spans, cued):
                hit.add(need)
                cued = cued + spans
                grew = True
    return [need for need in NEED_TERMS if need in hit]


def needs_in(
    text: str, require_cue: bool = True, low: str | None = None, words: set[str] | None = None
) -> list[str]:
    """Needs (water, food, medicine, shelter, transport) expressed in one text; ``low`` and ``words``, when
    the caller has them, are the lower-cased ASCII text and its words (``\\w+``)."""
    if low is None or words is None:
        low = text.lower()
        words = _words(low)
    cjk = not low.isascii() and _CJK.search(low) is not None
    if (require_cue and words.isdisjoint(_CUE_WORDS) and not cjk
            and (words.isdisjoint(_CUE_FIRST) or not _CUE_SEARCH(low))):
        return []
    candidates = [need for need, (terms, search) in _NEED_SEARCH.items()
                  if not words.isdisjoint(terms) or (not words.isdisjoint(_NEED_FIRST[need]) and search(low))]
    out = _needs_by_words(low, require_cue) if candidates else []
    if cjk:
        out += [need for need, pattern in _CJK_NEEDS.items() if need not in out and pattern.search(low)]
        out = [need for need in NEED_TERMS if need in out]
    return out


def extract_needs(texts: Iterable[object], require_cue: bool = True) -> list[list[str]]:
    """Needs expressed in every text; with ``require_cue`` a need word counts only with a request anywhere in
    the text, or a negation next to it ("no food"); short ambiguous words need their own language's cue next
    to them ("su lazım")."""
    return [needs_in(clean(t, MAX_SCAN_CHARS), require_cue) for t in as_texts(texts)]
