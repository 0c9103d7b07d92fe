"""`legation listen replay`: a file goes through the whole pipeline; bad lines are reported by number."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from legation.listening.models import ListenedItem, ListeningSource


def test_replay_jsonl_keeps_good_lines_and_reports_bad_ones(tree, alice, tmp_path):
    lines = [
        json.dumps({"text": "Veridia opens a consulate", "id": "a1", "author": "x"}),
        "{not json",
        json.dumps({"id": "a2"}),
        json.dumps({"text": "", "id": "a3"}),
        "",
        json.dumps({"text": "Second good post", "created_at": "2025-01-02T03:04:05Z", "platform": "x"}),
        json.dumps(["a list"]),
        json.dumps({"text": "Bad date", "created_at": "yesterday"}),
        json.dumps({"text": "Veridia opens a consulate", "id": "a1", "author": "x"}),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("listen", "replay", str(path), "--rate", "0", "--unit", str(tree.paris.pk), stdout=out, stderr=err)
    assert err.getvalue().splitlines() == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 3: no text field",
        "line 4: empty text",
        "line 7: not a JSON object",
        "line 8: created_at 'yesterday' is not a date and time",
    ]
    assert "2 stored, 1 duplicates, 5 refused" in out.getvalue()
    assert ListenedItem.objects.filter(unit=tree.paris).count() == 2
    assert ListenedItem.objects.get(platform="x").created_at.year == 2025
    assert ListeningSource.objects.get(unit=tree.paris, name="replay").kind == "file"


def test_replay_csv_at_a_rate(tree, alice, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text('text,id,author\n"Hello, Veridia",1,a\n"second",2,b\nthird,3,c,extra\n', encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("listen", "replay", str(path), "--rate", "100", "--source", "csv", stdout=out, stderr=err)
    assert err.getvalue().strip() == "line 4: more fields than the header names"
    assert ListenedItem.objects.count() == 2
