"""The ledger: every service write is recorded, the database refuses changes, and verify catches tampering."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from legation.network import services
from legation.records import ledger
from legation.records.models import GENESIS_HASH, Record


def test_each_service_write_appends_one_chained_record(tree, alice):
    before = Record.objects.count()
    unit = services.create_unit(alice, parent=tree.paris, name="Consulate in Lyon", kind="consulate")
    records = list(Record.objects.order_by("id")[before:])
    assert [r.action for r in records] == ["unit.created"]
    record = records[0]
    assert record.actor_label == "alice"
    assert record.unit_id == unit.pk and record.unit_path == unit.path
    assert json.loads(record.payload)["name"] == "Consulate in Lyon"
    previous = Record.objects.filter(id__lt=record.id).order_by("-id").first()
    assert record.prev_hash == (previous.hash if previous else GENESIS_HASH)
    assert ledger.verify() == (Record.objects.count(), None)


@pytest.mark.parametrize("statement", [
    "UPDATE records_record SET payload = '{}' WHERE id = %s",
    "DELETE FROM records_record WHERE id = %s",
])
def test_the_database_refuses_to_change_a_record(tree, statement):
    record = Record.objects.order_by("id").first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [record.pk])
    assert Record.objects.filter(pk=record.pk, payload=record.payload).exists()


def test_orm_delete_is_refused_too(tree):
    with pytest.raises(DatabaseError), transaction.atomic():
        Record.objects.all().delete()
    assert Record.objects.count() > 0


def _disable_triggers(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("ALTER TABLE records_record DISABLE TRIGGER USER")
    else:
        cursor.execute("DROP TRIGGER records_record_no_update")
        cursor.execute("DROP TRIGGER records_record_no_delete")


def test_verify_names_the_first_altered_record(tree):
    target = Record.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        _disable_triggers(cursor)
        cursor.execute("UPDATE records_record SET actor_label = 'mallory' WHERE id = %s", [target.pk])
    count, broken = ledger.verify()
    assert broken is not None and broken.record_id == target.pk
    assert "altered" in broken.reason


def test_verify_notices_a_removed_record(tree):
    ids = list(Record.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        _disable_triggers(cursor)
        cursor.execute("DELETE FROM records_record WHERE id = %s", [ids[3]])
    _count, broken = ledger.verify()
    assert broken is not None and broken.record_id == ids[4]
    assert "removed" in broken.reason


def test_export_jsonl_and_csv(tree, capsys):
    call_command("records", "export", "--format", "jsonl")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == Record.objects.count()
    first = json.loads(lines[0])
    assert first["action"] == "unit.created" and first["prev_hash"] == GENESIS_HASH
    call_command("records", "export", "--format", "csv", "--since", "2000-01-01")
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].startswith("id,at,actor_id") and len(rows) == Record.objects.count() + 1
    call_command("records", "export", "--format", "csv", "--since", "2999-01-01")
    assert capsys.readouterr().out.strip().splitlines() == [rows[0]]


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEGATION_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "legation.cli", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_verify_catches_an_edited_copy_of_the_database(tmp_path):
    """A copy of the SQLite file, edited with the triggers dropped, no longer verifies."""
    original = tmp_path / "site"
    assert _cli(original, "demo", "--seed-only").returncode == 0
    ok = _cli(original, "records", "verify")
    assert ok.returncode == 0 and "ledger intact" in ok.stdout
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("legation.sqlite3", "secret_key"):
        (copy / name).write_bytes((original / name).read_bytes())
    db = sqlite3.connect(copy / "legation.sqlite3")
    db.execute("DROP TRIGGER records_record_no_update")
    (victim,) = db.execute("SELECT id FROM records_record WHERE action = 'account.approved' LIMIT 1").fetchone()
    db.execute("UPDATE records_record SET actor_label = 'nobody' WHERE id = ?", [victim])
    db.commit()
    db.close()
    bad = _cli(copy, "records", "verify")
    assert bad.returncode == 1
    assert f"record #{victim}" in bad.stderr
