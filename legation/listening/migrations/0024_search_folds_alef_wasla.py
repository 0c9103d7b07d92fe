"""Full-text search folds the rarer Arabic alefs and marks too: "ٱلقاهرة" (alef wasla, as Quranic and classical
text and some keyboards write it) finds "القاهرة", and the reverse; so do the alefs with wavy hamza above and below
(U+0672, U+0673, to bare alef, as the hamza-carrying alefs of migration 0010) and the marks U+0656-U+065F (dropped
as the short vowels are; 0010 left them out for SQLite's nesting of replace(), which its index no longer uses).
``fulltext.fold`` folds queries and SQLite's index alike; PostgreSQL's stored ``search_vector`` column folds with
the copy of the list below.

SQLite: the FTS5 triggers of migration 0015 call ``legation_search_text``, which now folds these too; the index
is refilled. PostgreSQL: the stored column is computed again, and the index over it and ``place_vector``
(migration 0019) created again.
"""

from __future__ import annotations

import importlib

from django.db import migrations

from legation.listening.fulltext import register_sqlite_functions

arabic = importlib.import_module("legation.listening.migrations.0010_search_folds_arabic")
cjk = importlib.import_module("legation.listening.migrations.0015_search_splits_cjk")
southeast_asian = importlib.import_module("legation.listening.migrations.0016_search_splits_southeast_asian")
place_words = importlib.import_module("legation.listening.migrations.0019_place_words_in_search_index")

# (from, to) code points, a copy of fulltext._FOLD as of this migration; to None drops the character. Those
# dropped come last: translate() drops the characters it has no counterpart for.
FOLDS = [*((s, t) for s, t in arabic.FOLDS if t), (0x0671, 0x0627), (0x0672, 0x0627), (0x0673, 0x0627),
         *((s, t) for s, t in arabic.FOLDS if not t), *((mark, None) for mark in range(0x0656, 0x0660))]


def postgres_fold(column: str) -> str:
    sources = "".join(f"\\{source:04X}" for source, _ in FOLDS)
    targets = "".join(f"\\{target:04X}" for _, target in FOLDS if target)
    return f"translate({column}, U&'{sources}', U&'{targets}')"


def postgres_text(column: str) -> str:
    """Migration 0016's text (Arabic folds, Latin diacritics, Southeast Asian marks, letters set apart), with
    the folds above."""
    decomposed = f"normalize({postgres_fold(column)}, NFD)"
    latin = rf"normalize(regexp_replace({decomposed}, '([A-Za-z])[\u0300-\u036f]+', '\1', 'g'), NFC)"
    unmarked = rf"regexp_replace({latin}, '[{southeast_asian._PG_MARKS}]+', '', 'g')"
    return rf"regexp_replace({unmarked}, '([{cjk._PG_RANGES}{southeast_asian._PG_RANGES}])', ' \1 ', 'g')"


def _vector(text: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS listening_item_search_vector",
        "ALTER TABLE listening_listeneditem DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE listening_listeneditem ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {text})) STORED",
        place_words.INDEX_SQL,
    ]


def _run(forward: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            # fulltext.index_text is whatever the code now says: going back refills the index with it again
            register_sqlite_functions(schema_editor.connection.connection)
            statements = cjk._sqlite_index()
        elif vendor == "postgresql":
            statements = _vector(postgres_text("text") if forward else southeast_asian.postgres_text("text"))
        else:
            statements = []
        for statement in statements:
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0023_alert_email_handled")]

    operations = [migrations.RunPython(_run(True), _run(False))]
