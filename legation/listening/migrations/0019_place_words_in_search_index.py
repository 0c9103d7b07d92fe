"""PostgreSQL: the place filter reads the full-text index, which now holds each post's place names beside its
words, so "flood" in Misratah is one index scan that intersects the two lists.

Before, words + a place joined the GIN index of words to the table of place names (``PlaceName``, migration 0018)
and counting a common word in a common place walked one of the two sets: p95 134 ms at a million posts. Now:

- ``place_vector``, a stored generated column: the post's place names, lowercased and cut to 200 characters,
  each one lexeme as it is ("new york" is one lexeme, so "new y" matches it as a prefix and "york" does not),
  computed by the immutable SQL function ``listening_place_vector``. Posts naming no place store an empty vector.
- The GIN index ``listening_item_search_vector`` covers (``search_vector``, ``place_vector``): one index, so
  GIN intersects the lists of a word and of a place itself, and a place alone is read from the same index.
- ``PlaceName``'s triggers and rows go on PostgreSQL (SQLite keeps them: FTS5 has no such column and its place
  filter is fast with the table). Its triggers cost ingestion; the generated column costs less.

A later migration that regenerates ``search_vector`` drops this index with the column: it must create the index
over both columns again (``INDEX_SQL``).
"""

from __future__ import annotations

import importlib

from django.db import migrations

place_names = importlib.import_module("legation.listening.migrations.0018_place_names")

ITEMS = "listening_listeneditem"
FUNCTION = f"""CREATE OR REPLACE FUNCTION listening_place_vector(places jsonb) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(coalesce(array_agg(DISTINCT left(lower(p->>'name'), 200)), '{{}}'))
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(places) = 'array' THEN places ELSE '[]'::jsonb END) p
    WHERE coalesce(p->>'name', '') <> ''
$$"""
INDEX_SQL = f"CREATE INDEX listening_item_search_vector ON {ITEMS} USING gin (search_vector, place_vector)"
FORWARD = [
    FUNCTION,
    # Nine posts in ten name no place: they skip the function.
    f"ALTER TABLE {ITEMS} ADD COLUMN place_vector tsvector GENERATED ALWAYS AS (CASE WHEN places = '[]'::jsonb "
    "THEN ''::tsvector ELSE listening_place_vector(places) END) STORED",
    "DROP INDEX IF EXISTS listening_item_search_vector",
    INDEX_SQL,
    *place_names.POSTGRES_REVERSE,
    f"DELETE FROM {place_names.NAMES}",
]
BACKWARD = [
    "DROP INDEX IF EXISTS listening_item_search_vector",
    f"ALTER TABLE {ITEMS} DROP COLUMN IF EXISTS place_vector",
    "DROP FUNCTION IF EXISTS listening_place_vector(jsonb)",
    f"CREATE INDEX listening_item_search_vector ON {ITEMS} USING gin (search_vector)",
    *place_names.POSTGRES,
]


def _run(forward: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in FORWARD if forward else BACKWARD:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0018_place_names")]

    operations = [migrations.RunPython(_run(True), _run(False))]
