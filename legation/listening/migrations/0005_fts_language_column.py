"""SQLite: the full-text index also holds each post's language (a second FTS5 column), so a search with words
and a language filter is one FTS5 query whose two lists FTS5 intersects, newest first, instead of walking every
match of a common word to find the few in a rare language. PostgreSQL is unchanged (its planner picks between
the GIN index and the language index by itself).
"""

from __future__ import annotations

from django.db import migrations

_CREATE = ("CREATE VIRTUAL TABLE listening_item_fts USING fts5({columns}, content='listening_listeneditem', "
           "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
_DROP = [
    "DROP TRIGGER IF EXISTS listening_item_fts_au",
    "DROP TRIGGER IF EXISTS listening_item_fts_ad",
    "DROP TRIGGER IF EXISTS listening_item_fts_ai",
    "DROP TABLE IF EXISTS listening_item_fts",
]


def _index(columns: list[str]) -> list[str]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        *_DROP,
        _CREATE.format(columns=names),
        "CREATE TRIGGER listening_item_fts_ai AFTER INSERT ON listening_listeneditem BEGIN "
        f"INSERT INTO listening_item_fts(rowid, {names}) VALUES (new.id, {new}); END",
        "CREATE TRIGGER listening_item_fts_ad AFTER DELETE ON listening_listeneditem BEGIN "
        f"INSERT INTO listening_item_fts(listening_item_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER listening_item_fts_au AFTER UPDATE OF {names} ON listening_listeneditem BEGIN "
        f"INSERT INTO listening_item_fts(listening_item_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO listening_item_fts(rowid, {names}) VALUES (new.id, {new}); END",
        "INSERT INTO listening_item_fts(listening_item_fts) VALUES ('rebuild')",
    ]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("listening", "0004_post_constraint_and_indexes")]

    operations = [
        migrations.RunPython(_run(_index(["text", "language"])), _run(_index(["text"]))),
    ]
