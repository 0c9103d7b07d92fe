"""Full-text index of listened posts: SQLite FTS5 (external content, kept by triggers) or a PostgreSQL GIN index."""

from __future__ import annotations

from django.db import migrations

SQLITE_UP = [
    "CREATE VIRTUAL TABLE listening_item_fts USING fts5("
    "text, content='listening_listeneditem', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER listening_item_fts_ai AFTER INSERT ON listening_listeneditem BEGIN "
    "INSERT INTO listening_item_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER listening_item_fts_ad AFTER DELETE ON listening_listeneditem BEGIN "
    "INSERT INTO listening_item_fts(listening_item_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER listening_item_fts_au AFTER UPDATE OF text ON listening_listeneditem BEGIN "
    "INSERT INTO listening_item_fts(listening_item_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO listening_item_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS listening_item_fts_au",
    "DROP TRIGGER IF EXISTS listening_item_fts_ad",
    "DROP TRIGGER IF EXISTS listening_item_fts_ai",
    "DROP TABLE IF EXISTS listening_item_fts",
]
# The expression must match the one search() uses, word for word, for the planner to use the index.
POSTGRES_UP = [
    "CREATE INDEX listening_item_text_fts ON listening_listeneditem "
    "USING gin (to_tsvector('simple'::regconfig, text))",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS listening_item_text_fts"]


def _run(statements_by_vendor: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
