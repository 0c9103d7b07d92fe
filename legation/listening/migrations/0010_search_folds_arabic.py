"""Full-text search folds Arabic spelling variants: a post written "مُبارَك" (with short vowels) is found by
"مبارك", "أمل" by "امل", "مدرسة" by "مدرسه". Both indexes hold the text folded as ``search.fold`` folds a query
(the list below is a copy, frozen with this migration): short-vowel marks and tatweel dropped, hamza-carrying
alefs to bare alef, alef maqsura to yeh, teh marbuta to heh (the normalisation of Lucene's Arabic analyser).

SQLite: the FTS5 triggers index the folded text (the posts table keeps the text as written). The index no longer
equals the content column, so it must never be rebuilt with FTS5's 'rebuild' command: refill it as below.
PostgreSQL: the stored ``search_vector`` column (migration 0004) is computed from the folded text.
"""

from __future__ import annotations

from django.db import migrations

# (from, to) code points; to None drops the character. The marks are the eight short vowels, shadda and sukun
# (U+064B-U+0652), madda and hamza above and below (U+0653-U+0655) and the superscript alef. SQLite nests one
# replace() per fold and its parser refuses much deeper nesting (28 overflowed its stack), so the rarer marks
# of U+0656-U+065F are left out.
FOLDS = [(0x0623, 0x0627), (0x0625, 0x0627), (0x0622, 0x0627), (0x0649, 0x064A), (0x0629, 0x0647),
         (0x0640, None), (0x0670, None), *((mark, None) for mark in range(0x064B, 0x0656))]


def sqlite_fold(column: str) -> str:
    expression = column
    for source, target in FOLDS:
        expression = f"replace({expression}, char({source}), {f'char({target})' if target else repr('')})"
    return expression


def postgres_fold(column: str) -> str:
    sources = "".join(f"\\{source:04X}" for source, _ in FOLDS)
    targets = "".join(f"\\{target:04X}" for _, target in FOLDS if target)
    return f"translate({column}, U&'{sources}', U&'{targets}')"


def _sqlite_index(fold: bool) -> list[str]:
    text_new = sqlite_fold("new.text") if fold else "new.text"
    text_old = sqlite_fold("old.text") if fold else "old.text"
    text_row = sqlite_fold("text") if fold else "text"
    return [
        "DROP TRIGGER IF EXISTS listening_item_fts_au",
        "DROP TRIGGER IF EXISTS listening_item_fts_ad",
        "DROP TRIGGER IF EXISTS listening_item_fts_ai",
        "CREATE TRIGGER listening_item_fts_ai AFTER INSERT ON listening_listeneditem BEGIN "
        f"INSERT INTO listening_item_fts(rowid, text, language) VALUES (new.id, {text_new}, new.language); END",
        "CREATE TRIGGER listening_item_fts_ad AFTER DELETE ON listening_listeneditem BEGIN "
        "INSERT INTO listening_item_fts(listening_item_fts, rowid, text, language) "
        f"VALUES ('delete', old.id, {text_old}, old.language); END",
        "CREATE TRIGGER listening_item_fts_au AFTER UPDATE OF text, language ON listening_listeneditem BEGIN "
        "INSERT INTO listening_item_fts(listening_item_fts, rowid, text, language) "
        f"VALUES ('delete', old.id, {text_old}, old.language); "
        f"INSERT INTO listening_item_fts(rowid, text, language) VALUES (new.id, {text_new}, new.language); END",
        "INSERT INTO listening_item_fts(listening_item_fts) VALUES ('delete-all')",
        f"INSERT INTO listening_item_fts(rowid, text, language) SELECT id, {text_row}, language "
        "FROM listening_listeneditem",
    ]


def _postgres_vector(fold: bool) -> list[str]:
    text = postgres_fold("text") if fold else "text"
    return [
        "DROP INDEX IF EXISTS listening_item_search_vector",
        "ALTER TABLE listening_listeneditem DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE listening_listeneditem ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {text})) STORED",
        "CREATE INDEX listening_item_search_vector ON listening_listeneditem USING gin (search_vector)",
    ]


def _run(fold: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        statements = _sqlite_index(fold) if vendor == "sqlite" else _postgres_vector(fold) \
            if vendor == "postgresql" else []
        for statement in statements:
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0009_source_setting_bounds")]

    operations = [migrations.RunPython(_run(True), _run(False))]
