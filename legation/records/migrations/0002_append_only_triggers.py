"""The database itself refuses UPDATE and DELETE on the ledger, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER records_record_no_update BEFORE UPDATE ON records_record
       BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER records_record_no_delete BEFORE DELETE ON records_record
       BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused'); END""",
]
SQLITE_DROP = ["DROP TRIGGER records_record_no_update", "DROP TRIGGER records_record_no_delete"]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION records_record_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the ledger is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER records_record_no_change BEFORE UPDATE OR DELETE ON records_record
       FOR EACH ROW EXECUTE FUNCTION records_record_refuse()""",
    """CREATE TRIGGER records_record_no_truncate BEFORE TRUNCATE ON records_record
       FOR EACH STATEMENT EXECUTE FUNCTION records_record_refuse()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER records_record_no_truncate ON records_record",
    "DROP TRIGGER records_record_no_change ON records_record",
    "DROP FUNCTION records_record_refuse()",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, None)  # None: no client-side %-interpolation of the SQL

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
