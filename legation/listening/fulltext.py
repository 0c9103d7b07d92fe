"""Text as the full-text indexes hold it, and as a query is read against them (no models: migrations use it).

- Arabic spelling folds (migration 0010): short-vowel marks and tatweel dropped, hamza-carrying alefs to bare
  alef, alef maqsura to yeh, teh marbuta to heh, as Lucene's Arabic analyser does. People type without vowel
  marks or hamza; posts are written with them. Migration 0024 added alef wasla ("ٱلقاهرة" is "القاهرة"), the
  alefs with wavy hamza and the rarer marks.
- Chinese, Japanese and Korean (migration 0015): these write a sentence, or a word and its particles, without
  spaces, so both databases' tokenizers took a whole run ("北京市发生地震") as one word and "北京" found nothing.
  Both indexes now hold each such character as a word of its own, and a query's run of them is searched as the
  phrase of its characters, in order and adjacent: "北京" finds "北京市", "地震" finds "东京地震了", "서울" finds
  "서울에서". (Lucene's CJK analyser indexes pairs of characters for the same reason; single characters keep a
  one-character query possible, and the phrase keeps the characters' order.)
- Thai, Lao, Burmese and Khmer (migration 0016) also write a phrase without spaces, and their vowel and tone
  signs are combining marks, which SQLite's tokenizer (unicode61) takes for separators: a Thai run was cut into
  pieces that follow the marks, not the words, and "กรุงเทพ" (Bangkok) found nothing inside
  "น้ำท่วมกรุงเทพมหานคร". Their letters are set apart as CJK characters are, and their combining marks dropped
  (SQLite's tokenizer never kept them; PostgreSQL's does, so both drop them alike): "กรุงเทพ" is searched as the
  phrase ก ร ง เ ท พ. A word that differs from another only by its marks is found by both, as a Latin word is
  found without its accents.

SQLite's triggers (migration 0015) call :func:`index_text` as the SQL function ``legation_search_text``, which
every connection registers (:func:`register_sqlite_functions`, connected by the app's ``ready()``); a tool that
writes listened posts through another connection must register it too. PostgreSQL computes the same in SQL, in
the stored column. Changing what these functions return needs a migration that indexes every post again.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# (from, to) code points; None drops the character. A copy is frozen in migrations 0010 and 0024 for PostgreSQL.
# Alefs: with hamza above, below, madda (0010), wasla and wavy hamza above and below (0024); the marks: the short
# vowels, shadda, sukun, madda and hamza marks (U+064B-U+0655, 0010) and the rarer ones after them (U+0656-U+065F,
# 0024), the superscript alef, and tatweel.
_FOLD = {0x0623: 0x0627, 0x0625: 0x0627, 0x0622: 0x0627, 0x0671: 0x0627, 0x0672: 0x0627, 0x0673: 0x0627,
         0x0649: 0x064A, 0x0629: 0x0647, 0x0640: None, 0x0670: None, **dict.fromkeys(range(0x064B, 0x0660))}

# Iteration marks, hiragana, katakana, CJK extension A, unified ideographs, Hangul syllables, compatibility
# ideographs, half-width katakana, the supplementary ideograph planes. Migration 0015 holds a copy for PostgreSQL.
CJK_RANGES = ("\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
              "\U00020000-\U0003134f")
# Thai, Lao, Myanmar, Khmer: their letters are set apart, their combining marks (Unicode 14 categories Mn and
# Mc in those blocks, frozen here so that an index does not change with Python's Unicode tables) dropped.
# Migration 0016 holds a copy of both for PostgreSQL.
SOUTHEAST_ASIAN_RANGES = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
SOUTHEAST_ASIAN_MARKS = ("\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd\u102b-\u103e"
                         "\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d"
                         "\u108f\u109a-\u109d\u17b4-\u17d3\u17dd")
_SPLIT_CHAR = re.compile(f"([{CJK_RANGES}{SOUTHEAST_ASIAN_RANGES}])")
_MARK = re.compile(f"[{SOUTHEAST_ASIAN_MARKS}]+")


def fold(text: str) -> str:
    """Text with the Arabic folds above (everything else unchanged)."""
    return text.translate(_FOLD)


_MARKS_AFTER_LATIN = re.compile(r"([A-Za-z])[\u0300-\u036f]+")


def unaccented(text: str) -> str:
    """:func:`fold`, and the diacritics of Latin letters dropped ("grève" -> "greve"; other scripts keep theirs):
    the text as PostgreSQL's search column holds it (migration 0014), and as listened-for terms are matched."""
    decomposed = unicodedata.normalize("NFD", fold(text))
    return unicodedata.normalize("NFC", _MARKS_AFTER_LATIN.sub(r"\1", decomposed))


_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")


def plain_letters(text: str) -> str:
    """Arabic presentation forms (the shaped letters of legacy encodings and PDFs: "ﺑﻨﻐﺎﺯﻱ") as the letters they
    show ("بنغازي"), by their Unicode compatibility mapping; everything else unchanged. Read into a query, so
    that a name pasted from such a document finds the posts."""
    return _PRESENTATION_FORMS.sub(lambda forms: unicodedata.normalize("NFKC", forms.group()), text)


def spaced(text: str) -> str:
    """Each Chinese, Japanese, Korean, Thai, Lao, Burmese or Khmer letter set apart by spaces, a word of its
    own; the combining marks of the last four dropped."""
    if not _SPLIT_CHAR.search(text):
        return text
    return _SPLIT_CHAR.sub(r" \1 ", _MARK.sub("", text))


def index_text(text: str | None) -> str | None:
    """What SQLite's full-text index holds for a post's text: folded, CJK and Southeast Asian letters set apart;
    then its hashtags, each as the word :func:`tag_token` makes (migration 0026)."""
    if text is None:
        return None
    tags = hashtags_of(text)
    held = spaced(fold(text))
    if _TAG_MARK in held:  # a text cannot make the word of a hashtag
        held = held.replace(_TAG_MARK, " ")
    return held + ("".join(" " + tag_token(tag) for tag in tags) if tags else "")


# Apostrophes people type: ASCII, right and left single quotation marks (what phones and word processors put),
# the modifier letter apostrophe, grave and acute accents, prime, full-width.
APOSTROPHES = "'\u2019\u2018\u02bc`\u00b4\u2032\uff07"
_POSSESSIVE = re.compile(f"(?<=\\w)[{APOSTROPHES}][sS]$")
# French and Italian elisions: l'ambassade, d'Alger, qu'il, jusqu'à, dell'ambasciata, un'altra.
_ELISION = re.compile(f"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu|dell|nell|dall|all|sull|coll|quell|un)"
                      f"[{APOSTROPHES}](?=\\w)", re.IGNORECASE)


def without_elision(word: str) -> str:
    """A typed word without an English possessive or a French or Italian elided article: "Benghazi's" ->
    "Benghazi", "l'ambassade" -> "ambassade", with any apostrophe (' ’ ʼ ...). The indexes hold "Benghazi's" as
    the words "benghazi" and "s", so the word alone finds it, and finds "Benghazi" too. Other apostrophes stay
    (the indexes take "O'Brien" as the phrase "o brien")."""
    return _ELISION.sub("", _POSSESSIVE.sub("", word))


def tag_key(text: str) -> str:
    """Text as hashtags are compared: :func:`unaccented`, lowercase, the Greek final sigma as sigma (Python's
    ``lower()`` writes "ς" at a word's end, PostgreSQL's "σ": "#ΑΘΗΝΑΣ" and "#Αθήνας" are one tag on both)."""
    return unaccented(text).lower().replace("ς", "σ")


# Hashtags in the indexes (migration 0026). Both tokenizers take "#" for a separator, so "#veridia" was the word
# "veridia", and a search for "#food" read every post with the word "food" to keep the few with the hashtag
# (900 ms at a million posts on PostgreSQL). Now each index also holds every hashtag of a post as a word no text
# can make: SQLite's a private-use mark and the tag's UTF-8 in hex (one token of the unicode61 tokenizer
# whatever the tag's script), PostgreSQL's the lexeme "#tag" (its parser never makes a lexeme with "#"). A
# hashtag is cut to TAG_LENGTH characters (PostgreSQL's lexemes are bounded), in the query as in the index.
TAG_LENGTH = 200
_TAG_MARK = "\ue000"


def _combining_marks() -> str:
    """A regular-expression class body of the combining marks (Unicode categories Mn, Mc, Me, in this Python's
    tables): Devanagari, Bengali, Thai ... write their vowels with them, inside a word, where ``\\w`` stops."""
    marks = [c for c in range(0x300, 0x20000) if unicodedata.category(chr(c))[0] == "M"]
    marks += range(0xE0100, 0xE01F0)  # variation selectors supplement
    ranges: list[list[int]] = []
    for c in marks:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


_MARKS = _combining_marks()
# A hashtag: "#" after no letter, digit, "_" or mark, then a letter, digit or "_" and any more of those or marks
# ("#हिंदी" whole, as PostgreSQL's [[:alnum:]] reads it, not "#ह"). The search (``search.parse_query``) and the
# alert counters (``ingest.HASHTAG``) read hashtags with the same pieces.
TAG_BODY = f"\\w[\\w{_MARKS}]*"
NOT_AFTER_WORD = f"(?<![\\w{_MARKS}])"
_TAG = re.compile(f"{NOT_AFTER_WORD}#({TAG_BODY})")
_WITH_HASH = re.compile(r"\S*#\S*")


def hashtags_of(text: str | None) -> list[str]:
    """The hashtags of ``text`` as :func:`tag_key` folds them, distinct, in order, each cut to TAG_LENGTH: whole
    ("floods #Veridia!" has "veridia"; "#VeridiaFloods" has "veridiafloods", not "veridia"; "a#b" has none)."""
    if not text or "#" not in text:
        return []
    # Only the pieces of text with a "#" are folded (a long post is mostly other words).
    pieces = [text.lower()] if text.isascii() else [tag_key(piece) for piece in _WITH_HASH.findall(text)]
    found: dict[str, None] = {}
    for piece in pieces:
        for match in _TAG.finditer(piece):
            found.setdefault(match.group(1)[:TAG_LENGTH], None)
    return list(found)


def tag_token(tag: str) -> str:
    """SQLite: the word its index holds for the hashtag ``#tag`` (``tag`` as :func:`tag_key` gives it)."""
    return _TAG_MARK + tag[:TAG_LENGTH].encode("utf-8").hex()


def tag_lexeme(tag: str) -> str:
    """PostgreSQL: the tsquery literal of the lexeme its index holds for the hashtag ``#tag``."""
    quoted = ("#" + tag[:TAG_LENGTH]).replace("\\", "\\\\").replace("'", "''")
    return f"'{quoted}'"


PLACE_KEY_LENGTH = 200  # PlaceName.name_key's max_length


def place_key(name: object) -> str | None:
    """A place's name as ``PlaceName`` holds it on SQLite (lowercased, cut to its column), and as a typed place
    is looked up there; None for no name."""
    return None if name is None else str(name).lower()[:PLACE_KEY_LENGTH]


def register_sqlite_functions(connection: Any) -> None:
    """Give a sqlite3 connection the functions its triggers call: ``legation_search_text`` (full-text index)
    and ``legation_place_key`` (place names)."""
    connection.create_function("legation_search_text", 1, index_text, deterministic=True)
    connection.create_function("legation_place_key", 1, place_key, deterministic=True)


def on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: register the function on every new SQLite connection; the first of a
    process also checks that the index was built with this Python's Unicode tables (:func:`check_unicode`)."""
    if connection.vendor == "sqlite":
        register_sqlite_functions(connection.connection)
        if not _unicode_checked:
            check_unicode(connection.connection)


# Hashtags are read with Python's Unicode tables (what is a letter, lowercase, normalisation): a Python of another
# Unicode version may read a stored post's hashtags differently, and FTS5's 'delete' of an external-content index
# must be given the words that were indexed (else "database disk image is malformed"). The version that built
# SQLite's index is kept beside it (migration 0026); a process that finds another one indexes every post again.
UNICODE_TABLE = "listening_search_index_unicode"
_unicode_checked = False


def check_unicode(raw: Any) -> bool:
    """Index every post again (``refill``) when SQLite's index was built with other Unicode tables than this
    Python's; True when it did. Nothing before migration 0026 made the table."""
    global _unicode_checked
    import logging

    try:
        row = raw.execute(f"SELECT version FROM {UNICODE_TABLE}").fetchone()  # noqa: S608 - our table's name
    except Exception:  # noqa: BLE001 - not migrated yet (or not a listening database)
        return False
    _unicode_checked = True
    if row is None or row[0] == unicodedata.unidata_version:
        return False
    logging.getLogger(__name__).warning("search index built with Unicode %s, this Python has %s: indexing every "
                                        "post again", row[0], unicodedata.unidata_version)
    # One writer: another process waits, then finds the version done. Inside a transaction already, a savepoint.
    begin, commit, undo = (("SAVEPOINT unicode_check", "RELEASE unicode_check", "ROLLBACK TO unicode_check")
                           if raw.in_transaction else ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"))
    raw.execute(begin)
    try:
        if raw.execute(f"SELECT version FROM {UNICODE_TABLE}").fetchone()[0] == unicodedata.unidata_version:  # noqa: S608
            raw.execute(commit)
            return False
        refill(raw)
        raw.execute(f"UPDATE {UNICODE_TABLE} SET version = ?", [unicodedata.unidata_version])  # noqa: S608
    except BaseException:
        raw.execute(undo)
        if commit.startswith("RELEASE"):
            raw.execute(commit)
        raise
    raw.execute(commit)
    return True


def refill(cursor: Any) -> None:
    """Index every stored post again on SQLite, as the triggers do (``legation_search_text``)."""
    cursor.execute("INSERT INTO listening_item_fts(listening_item_fts) VALUES ('delete-all')")
    cursor.execute("INSERT INTO listening_item_fts(rowid, text, language) "
                   "SELECT id, legation_search_text(text), language FROM listening_listeneditem")
