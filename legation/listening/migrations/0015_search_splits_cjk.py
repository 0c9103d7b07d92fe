"""Full-text search finds Chinese, Japanese and Korean words inside a run of characters: "北京" finds a post
"北京市发生地震", "서울" finds "서울에서" (``legation.listening.fulltext``). Both indexes hold each such character as a
word of its own; a query's run of them is searched as the phrase of its characters.

SQLite: the FTS5 triggers index ``legation_search_text(text)``, the Python function ``fulltext.index_text``
(Arabic folds and CJK characters set apart), which every connection registers; the index is refilled.
PostgreSQL: the stored ``search_vector`` column (migrations 0004, 0010, 0014) also puts spaces around each such
character (``regexp_replace`` over a copy of ``fulltext.CJK_RANGES``).
"""

from __future__ import annotations

import importlib

from django.db import migrations

from legation.listening.fulltext import register_sqlite_functions

arabic = importlib.import_module("legation.listening.migrations.0010_search_folds_arabic")
latin = importlib.import_module("legation.listening.migrations.0014_search_folds_latin_diacritics")

# A copy of fulltext.CJK_RANGES as of this migration, in PostgreSQL's regular-expression escapes.
_PG_RANGES = (r"\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
              r"\U00020000-\U0003134f")


def _sqlite_index() -> list[str]:
    new, old = "legation_search_text(new.text)", "legation_search_text(old.text)"
    return [
        "DROP TRIGGER IF EXISTS listening_item_fts_au",
        "DROP TRIGGER IF EXISTS listening_item_fts_ad",
        "DROP TRIGGER IF EXISTS listening_item_fts_ai",
        "CREATE TRIGGER listening_item_fts_ai AFTER INSERT ON listening_listeneditem BEGIN "
        f"INSERT INTO listening_item_fts(rowid, text, language) VALUES (new.id, {new}, new.language); END",
        "CREATE TRIGGER listening_item_fts_ad AFTER DELETE ON listening_listeneditem BEGIN "
        "INSERT INTO listening_item_fts(listening_item_fts, rowid, text, language) "
        f"VALUES ('delete', old.id, {old}, old.language); END",
        "CREATE TRIGGER listening_item_fts_au AFTER UPDATE OF text, language ON listening_listeneditem BEGIN "
        "INSERT INTO listening_item_fts(listening_item_fts, rowid, text, language) "
        f"VALUES ('delete', old.id, {old}, old.language); "
        f"INSERT INTO listening_item_fts(rowid, text, language) VALUES (new.id, {new}, new.language); END",
        "INSERT INTO listening_item_fts(listening_item_fts) VALUES ('delete-all')",
        "INSERT INTO listening_item_fts(rowid, text, language) "
        "SELECT id, legation_search_text(text), language FROM listening_listeneditem",
    ]


def postgres_text(column: str) -> str:
    return rf"regexp_replace({latin.postgres_fold(column)}, '([{_PG_RANGES}])', ' \1 ', 'g')"


def _run(split: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            # The 'delete' of the old triggers must see the text as they indexed it: refill from scratch.
            register_sqlite_functions(schema_editor.connection.connection)
            statements = _sqlite_index() if split else arabic._sqlite_index(True)
        elif vendor == "postgresql":
            statements = latin._vector(postgres_text("text") if split else latin.postgres_fold("text"))
        else:
            statements = []
        for statement in statements:
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0014_search_folds_latin_diacritics")]

    operations = [migrations.RunPython(_run(True), _run(False))]
