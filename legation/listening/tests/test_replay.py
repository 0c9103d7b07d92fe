"""`legation listen replay`: a file goes through the whole pipeline; bad lines are reported by number."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from legation.listening.models import ListenedItem, ListeningSource


def test_replay_jsonl_keeps_good_lines_and_reports_bad_ones(tree, alice, tmp_path):
    lines = [
        json.dumps({"text": "Veridia opens a consulate", "id": "a1", "author": "x"}),
        "{not json",
        json.dumps({"id": "a2"}),
        '{"text": "broken json',
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
        "line 2: not valid JSON (Expecting property name enclosed in double quotes: character 2)",
        "line 3: no text field",
        "line 4: not valid JSON (Unterminated string starting at: character 10)",
        "line 5: empty text",
        "line 8: not a JSON object",
        "line 9: created_at 'yesterday' is not a date and time",
    ]
    assert "2 stored, 1 duplicates, 6 refused" in out.getvalue()
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


def test_replay_keeps_posts_whose_author_or_link_hold_stray_characters(tree, alice, tmp_path):
    # A lone surrogate (valid in JSON, not in UTF-8) and NUL (refused by PostgreSQL) in short fields: the post
    # is kept without the character; an id that holds one is refused by line, since cleaning could make it
    # another post's id. The rest of the batch is stored on both databases.
    lines = [
        '{"id": "s1", "text": "first good post"}',
        '{"id": "s2", "text": "author with a lone surrogate", "author": "lone \\ud800 author"}',
        '{"id": "s3", "text": "author with NUL", "author": "bad\\u0000author", "url": "https://x.test/\\u0000p"}',
        '{"id": "bad\\u0000id", "text": "id with NUL"}',
        '{"id": "s5", "text": "last good post"}',
    ]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("listen", "replay", str(path), "--unit", str(tree.paris.pk), stdout=out, stderr=err)
    assert err.getvalue().splitlines() == ["line 4: id or platform holds control characters or unpaired surrogates"]
    assert "4 stored, 0 duplicates, 1 refused" in out.getvalue()
    stored = {i.external_id: i for i in ListenedItem.objects.all()}
    assert sorted(stored) == ["s1", "s2", "s3", "s5"]
    assert stored["s2"].author == "lone \ufffd author"
    assert (stored["s3"].author, stored["s3"].url) == ("badauthor", "https://x.test/p")


def test_replay_reads_spreadsheet_csv_tsv_and_reports_an_unclosed_quote_keeping_the_lines_after_it(
        tree, alice, tmp_path):
    bom = tmp_path / "excel.csv"  # Excel's "CSV UTF-8" starts with a byte-order mark
    bom.write_bytes("text,id\nHello from Excel,e1\n".encode("utf-8-sig"))
    tsv = tmp_path / "posts.tsv"
    tsv.write_text("id\ttext\nt1\tHello, with a comma\n", encoding="utf-8")
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('id,text\nm1,fine\nm4,"never closed\nm5,after it\n', encoding="utf-8")
    reports = []
    for path in (bom, tsv, unclosed):
        out, err = StringIO(), StringIO()
        call_command("listen", "replay", str(path), "--unit", str(tree.paris.pk), stdout=out, stderr=err)
        reports.append(err.getvalue().strip())
    assert reports == ["", "", "line 3: a quote opened here is never closed"]
    texts = dict(ListenedItem.objects.values_list("external_id", "text"))
    assert texts == {"e1": "Hello from Excel", "t1": "Hello, with a comma", "m1": "fine", "m5": "after it"}


def test_a_long_replay_raises_alerts_while_it_runs_not_only_at_its_end(tree, alice, tmp_path, monkeypatch,
                                                                         settings):
    from legation.listening import replay as replay_module
    from legation.listening import services
    from legation.listening.models import FILE_PLATFORM, Alert, SourceKind

    settings.LISTENING_ENRICH_PROCESSES = 0
    monkeypatch.setattr(replay_module, "ALERT_EVERY", 0.0)  # a check after every batch, not every minute
    # A story breaks in the first posts of the file; the rest is ordinary chatter.
    burst = [{"id": f"b{n}", "text": f"URGENT port of Misratah: families stranded need water, call now {n % 3}"}
             for n in range(30)]
    chatter = [{"id": f"c{n}", "text": f"Embassy cultural week, concert number {n}"} for n in range(40)]
    path = tmp_path / "live.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in burst + chatter), encoding="utf-8")
    source = services.create_source(None, unit=tree.paris, name="replay", kind=SourceKind.FILE,
                                    platform=FILE_PLATFORM, query=str(path), active=False)
    open_alerts_seen: list[int] = []
    report = replay_module.replay(path, source, batch=10,
                                  progress=lambda _total: open_alerts_seen.append(Alert.objects.count()))
    assert report.result.stored == 70
    # The alerts were there while the chatter was still being read, and each is counted once in the report.
    assert open_alerts_seen[-1] >= 1 and open_alerts_seen[3] >= 1
    assert report.alerts == Alert.objects.filter(unit=tree.paris).count()


def test_a_unit_that_only_replays_files_alerts_by_its_replay_sources_thresholds(tree, alice, tmp_path, settings):
    from legation.listening import services
    from legation.listening.models import Alert

    settings.LISTENING_ENRICH_PROCESSES = 0
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{n}", "text": "URGENT Misratah port: families stranded, need "
                                        f"water {n % 2}"}) + "\n" for n in range(4)), encoding="utf-8")
    call_command("listen", "replay", str(path), "--unit", str(tree.paris.pk), stdout=StringIO(), stderr=StringIO())
    assert not Alert.objects.filter(unit=tree.paris, kind="new_story").exists()  # 4 posts: under the default 8
    source = ListeningSource.objects.get(unit=tree.paris, name="replay")
    assert source.active is False  # a replay's source is never pulled by the worker
    services.update_source(alice, source, story_min_size=3)  # the analyst lowers the bar on that source
    path.write_text("".join(json.dumps({"id": f"s{n}", "text": "URGENT Misratah port: families stranded, need "
                                        f"water {n % 2}"}) + "\n" for n in range(2)), encoding="utf-8")
    out = StringIO()
    call_command("listen", "replay", str(path), "--unit", str(tree.paris.pk), stdout=out, stderr=StringIO())
    assert Alert.objects.filter(unit=tree.paris, kind="new_story").count() == 1, out.getvalue()


def test_a_burst_a_replay_stored_before_it_stopped_still_alerts(tree, alice, tmp_path, monkeypatch, settings):
    """The replay stored its posts, then was killed before it checked the alerts: the worker's round of
    recent units raises them."""
    from legation.listening import alerts, tasks
    from legation.listening.models import Alert

    settings.LISTENING_ENRICH_PROCESSES = 0
    path = tmp_path / "burst.jsonl"
    path.write_text("".join(json.dumps({"id": f"k{n}", "text": f"URGENT port of Misratah: families stranded need "
                                                                   f"water, call now {n % 3}"}) + "\n"
                            for n in range(30)), encoding="utf-8")
    evaluate = alerts.evaluate

    def killed(_unit, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(alerts, "evaluate", killed)
    with pytest.raises(KeyboardInterrupt):
        call_command("listen", "replay", str(path), "--unit", str(tree.paris.pk), stdout=StringIO())
    assert not Alert.objects.exists()
    monkeypatch.setattr(alerts, "evaluate", evaluate)
    assert tasks.evaluate_recent_alerts.call() >= 1
    assert Alert.objects.filter(unit=tree.paris).exists()
    raised = Alert.objects.count()
    tasks.evaluate_recent_alerts.call()
    assert Alert.objects.count() == raised  # once
