"""After 0003 (its own transaction, so PostgreSQL has no pending row events): the unique post constraint,
the SQLite full-text triggers again (rebuilding the table dropped them), the spike threshold's label (times the usual volume), (value, time) indexes for the language and category
filters, and on PostgreSQL a stored tsvector column carrying the GIN index, so checking one row against a
query reads the column instead of calling to_tsvector().
"""

from __future__ import annotations

from django.db import migrations, models

POSTGRES_UP = [
    "DROP INDEX IF EXISTS listening_item_text_fts",
    "ALTER TABLE listening_listeneditem ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED",
    "CREATE INDEX listening_item_search_vector ON listening_listeneditem USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS listening_item_search_vector",
    "ALTER TABLE listening_listeneditem DROP COLUMN IF EXISTS search_vector",
    "CREATE INDEX listening_item_text_fts ON listening_listeneditem USING gin (to_tsvector('simple'::regconfig, text))",
]


# SQLite rebuilds the table to change its constraints (0003 and this migration), which drops its triggers:
# the full-text triggers of 0002 are put back and the index rebuilt from the rows.
SQLITE_UP = [
    "CREATE TRIGGER IF NOT EXISTS listening_item_fts_ai AFTER INSERT ON listening_listeneditem BEGIN "
    "INSERT INTO listening_item_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS listening_item_fts_ad AFTER DELETE ON listening_listeneditem BEGIN "
    "INSERT INTO listening_item_fts(listening_item_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS listening_item_fts_au AFTER UPDATE OF text ON listening_listeneditem BEGIN "
    "INSERT INTO listening_item_fts(listening_item_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO listening_item_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO listening_item_fts(listening_item_fts) VALUES ('rebuild')",
]


def _run(statements_by_vendor: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, None)

    return run


class Migration(migrations.Migration):

    dependencies = [("listening", "0003_heard_once_per_post")]

    operations = [
        migrations.AlterField(
            model_name="listeningsource",
            name="spike_threshold",
            field=models.FloatField(default=3.0, verbose_name="spike threshold (times the usual volume)"),
        ),
        migrations.AddIndex(
            model_name="listeneditem",
            index=models.Index(fields=["language", "created_at"], name="listening_item_lang_time"),
        ),
        migrations.AddIndex(
            model_name="listeneditem",
            index=models.Index(fields=["crisis_category", "created_at"], name="listening_item_cat_time"),
        ),
        migrations.AddConstraint(
            model_name="listeneditem",
            constraint=models.UniqueConstraint(fields=("platform", "external_id"), name="one_item_per_post"),
        ),
        migrations.RunPython(_run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
                             _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_UP})),
    ]
