"""PostgreSQL's full-text search drops Latin diacritics, as SQLite's FTS5 tokenizer (unicode61) always did: a
post written "grève" or "Ünlü" is found by "greve" or "unlu" on both databases. The stored ``search_vector``
column (migrations 0004 and 0010) is computed from the text with the Arabic folds of 0010, then decomposed (NFD),
stripped of the combining marks that follow an ASCII letter, and recomposed (NFC); ``search.postgres_fold`` does
the same to the queries. Other scripts keep their marks ("й"). All three functions are immutable, as a generated
column needs; the cost is about 12 ms of server time per 1,000 posts stored (a table of single-letter
``translate`` pairs cost 85 ms). SQLite is unchanged.
"""

from __future__ import annotations

import importlib

from django.db import migrations

arabic = importlib.import_module("legation.listening.migrations.0010_search_folds_arabic")


def postgres_fold(column: str) -> str:
    inner = arabic.postgres_fold(column)
    return rf"normalize(regexp_replace(normalize({inner}, NFD), '([A-Za-z])[\u0300-\u036f]+', '\1', 'g'), NFC)"


def _vector(text: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS listening_item_search_vector",
        "ALTER TABLE listening_listeneditem DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE listening_listeneditem ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {text})) STORED",
        "CREATE INDEX listening_item_search_vector ON listening_listeneditem USING gin (search_vector)",
    ]


def _run(latin: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        text = postgres_fold("text") if latin else arabic.postgres_fold("text")
        for statement in _vector(text):
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0013_item_read_accurately")]

    operations = [migrations.RunPython(_run(True), _run(False))]
