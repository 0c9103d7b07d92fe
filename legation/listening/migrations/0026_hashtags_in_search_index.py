"""Hashtags are words of their own in both full-text indexes, so a search for "#food" reads the posts with the
hashtag, not every post with the word "food" (``fulltext.hashtags_of``; measured in ``bench/README.md``).

SQLite: ``legation_search_text`` (the triggers of migration 0015) now appends each hashtag of a post as the word
``fulltext.tag_token`` makes; the index is refilled. PostgreSQL: the stored ``search_vector`` adds the lexeme
"#tag" for each hashtag (the function ``listening_tag_vector``, immutable SQL: the text folded as ``tag_key``
folds it, with the folds of migration 0024; a function of its own for a very large post, ``LARGE``), and the
index over it and ``place_vector`` is created again. SQLite keeps the Unicode version of the Python that built its
index (``fulltext.check_unicode``). A post too large for a tsvector (1 MB) no longer fails its batch.
"""

from __future__ import annotations

import importlib
import unicodedata

from django.db import migrations

from legation.listening.fulltext import register_sqlite_functions

UNICODE_TABLE = "listening_search_index_unicode"  # fulltext.UNICODE_TABLE

cjk = importlib.import_module("legation.listening.migrations.0015_search_splits_cjk")
place_words = importlib.import_module("legation.listening.migrations.0019_place_words_in_search_index")
alef = importlib.import_module("legation.listening.migrations.0024_search_folds_alef_wasla")

TAG_LENGTH = 200  # fulltext.TAG_LENGTH as of this migration
# The text as fulltext.tag_key folds it: the Arabic folds, Latin diacritics dropped, lowercased, final sigma as sigma.
TAG_TEXT = (rf"replace(lower(normalize(regexp_replace(normalize({alef.postgres_fold('body')}, NFD), "
            r"'([A-Za-z])[\u0300-\u036f]+', '\1', 'g'), NFC)), 'ς', 'σ')")
FUNCTION = f"""CREATE OR REPLACE FUNCTION listening_tag_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(coalesce(array_agg(DISTINCT '#' || left(m[1], {TAG_LENGTH})), '{{}}'))
    FROM regexp_matches({TAG_TEXT}, '(?:^|[^[:alnum:]_])#([[:alnum:]_]+)', 'g') m
$$"""


def _with_tags(column: str) -> str:
    return (f"to_tsvector('simple'::regconfig, {alef.postgres_text(column)}) || "
            f"CASE WHEN strpos({column}, '#') > 0 THEN listening_tag_vector({column}) ELSE ''::tsvector END")


# A tsvector is at most 1 MB: a post under the 1 MB a post may have (``ingest.MAX_TEXT_BYTES``) but made of many
# distinct words (a log, a list of ids) made the whole batch's insert fail ("string is too long for tsvector").
# Up to LARGE octets a post's vector is far under that bound; a larger one is indexed whole where it fits, else its
# first KEPT characters (its words after them are not found on PostgreSQL; SQLite's index has no such bound).
LARGE = 200_000
KEPT = 100_000
LARGE_FUNCTION = f"""CREATE OR REPLACE FUNCTION listening_large_vector(body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE SET search_path FROM CURRENT AS $$
BEGIN
    RETURN {_with_tags('body')};
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN {_with_tags(f'left(body, {KEPT})')};
END
$$"""
WITH_TAGS = f"CASE WHEN octet_length(text) <= {LARGE} THEN {_with_tags('text')} ELSE listening_large_vector(text) END"
WITHOUT_TAGS = f"to_tsvector('simple'::regconfig, {alef.postgres_text('text')})"


def _vector(expression: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS listening_item_search_vector",
        "ALTER TABLE listening_listeneditem DROP COLUMN IF EXISTS search_vector",
        f"ALTER TABLE listening_listeneditem ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) "
        "STORED",
        place_words.INDEX_SQL,
        # The column is new to the planner: without its statistics it guessed 5,000 posts for any hashtag and
        # walked the table by id for "#food" (230 ms at a million posts) until autovacuum came by.
        "ANALYZE listening_listeneditem",
    ]


def _run(forward: bool):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            # fulltext.index_text is whatever the code now says: going back refills the index with it again
            register_sqlite_functions(schema_editor.connection.connection)
            statements = cjk._sqlite_index()
            # The Unicode tables that read the hashtags (``fulltext.check_unicode``).
            statements += [f"CREATE TABLE {UNICODE_TABLE} (version TEXT NOT NULL)",
                           f"INSERT INTO {UNICODE_TABLE} (version) VALUES ('{unicodedata.unidata_version}')"
                           ] if forward else [f"DROP TABLE IF EXISTS {UNICODE_TABLE}"]
        elif vendor == "postgresql":
            statements = [FUNCTION, LARGE_FUNCTION, *_vector(WITH_TAGS)] if forward else [
                *_vector(WITHOUT_TAGS), "DROP FUNCTION IF EXISTS listening_large_vector(text)",
                "DROP FUNCTION IF EXISTS listening_tag_vector(text)"]
        else:
            statements = []
        for statement in statements:
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0025_reread_requested_at")]

    operations = [migrations.RunPython(_run(True), _run(False))]
