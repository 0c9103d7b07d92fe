"""Text as the full-text indexes hold it, and as a query is read against them (no models: migrations use it).

- Arabic spelling folds (migration 0010): short-vowel marks and tatweel dropped, hamza-carrying alefs to bare
  alef, alef maqsura to yeh, teh marbuta to heh, as Lucene's Arabic analyser does. People type without vowel
  marks or hamza; posts are written with them.
- Chinese, Japanese and Korean (migration 0015): these write a sentence, or a word and its particles, without
  spaces, so both databases' tokenizers took a whole run ("北京市发生地震") as one word and "北京" found nothing.
  Both indexes now hold each such character as a word of its own, and a query's run of them is searched as the
  phrase of its characters, in order and adjacent: "北京" finds "北京市", "地震" finds "东京地震了", "서울" finds
  "서울에서". (Lucene's CJK analyser indexes pairs of characters for the same reason; single characters keep a
  one-character query possible, and the phrase keeps the characters' order.) Thai, also written without spaces,
  is not split: a Thai word is found only where the post separates it.

SQLite's triggers (migration 0015) call :func:`index_text` as the SQL function ``legation_search_text``, which
every connection registers (:func:`register_sqlite_functions`, connected by the app's ``ready()``); a tool that
writes listened posts through another connection must register it too. PostgreSQL computes the same in SQL, in
the stored column. Changing what these functions return needs a migration that indexes every post again.
"""

from __future__ import annotations

import re
from typing import Any

# (from, to) code points; None drops the character. A copy is frozen in migration 0010 for PostgreSQL.
_FOLD = {0x0623: 0x0627, 0x0625: 0x0627, 0x0622: 0x0627, 0x0649: 0x064A, 0x0629: 0x0647, 0x0640: None,
         0x0670: None, **dict.fromkeys(range(0x064B, 0x0656))}

# Iteration marks, hiragana, katakana, CJK extension A, unified ideographs, Hangul syllables, compatibility
# ideographs, half-width katakana, the supplementary ideograph planes. Migration 0015 holds a copy for PostgreSQL.
CJK_RANGES = ("\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
              "\U00020000-\U0003134f")
_CJK_CHAR = re.compile(f"([{CJK_RANGES}])")


def fold(text: str) -> str:
    """Text with the Arabic folds above (everything else unchanged)."""
    return text.translate(_FOLD)


def spaced(text: str) -> str:
    """Each Chinese, Japanese or Korean character set apart by spaces, a word of its own."""
    return _CJK_CHAR.sub(r" \1 ", text) if _CJK_CHAR.search(text) else text


def index_text(text: str | None) -> str | None:
    """What SQLite's full-text index holds for a post's text: folded, CJK characters set apart."""
    return None if text is None else spaced(fold(text))


def register_sqlite_functions(connection: Any) -> None:
    """Give a sqlite3 connection the ``legation_search_text`` function its full-text triggers call."""
    connection.create_function("legation_search_text", 1, index_text, deterministic=True)


def on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: register the function on every new SQLite connection."""
    if connection.vendor == "sqlite":
        register_sqlite_functions(connection.connection)
