"""What `legation listen replay` makes of doubtful input: posts without ids, nonsense dates, a bad --rate,
a CSV quote left open. Each is refused by line, or read, never silently lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from legation.listening import pull, services
from legation.listening.models import ListenedItem, ListeningSource, SourceKind


def _replay(path, *options):
    out, err = StringIO(), StringIO()
    call_command("listen", "replay", str(path), *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue().splitlines()


def _jsonl(path, *records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_posts_without_ids_from_same_named_files_in_two_folders_are_all_kept(tree, alice, tmp_path):
    day1 = _jsonl(tmp_path / "day1" / "posts.jsonl", {"text": "Day one: queues at the consulate", "author": "a"},
                  {"text": "Day one: visa fees rise"})
    day2 = _jsonl(tmp_path / "day2" / "posts.jsonl", {"text": "Day two: the consulate opens late", "author": "a"},
                  {"text": "Day two: flights cancelled"}, {"text": "Given id", "id": "g1"})
    assert "2 read, 2 stored, 0 duplicates" in _replay(day1)[0]
    assert "3 read, 3 stored, 0 duplicates" in _replay(day2)[0]
    assert "2 read, 0 stored, 2 duplicates" in _replay(day1)[0]  # the same posts again are the same posts
    assert ListenedItem.objects.count() == 5
    ids = set(ListenedItem.objects.values_list("external_id", flat=True))
    assert "g1" in ids  # an id given in the file is kept as it is


def test_the_same_text_by_another_author_or_at_another_time_is_another_post(tree, alice, tmp_path):
    path = _jsonl(tmp_path / "posts.jsonl", {"text": "Long queues today", "author": "a"},
                  {"text": "Long queues today", "author": "b"},
                  {"text": "Long queues today", "author": "a", "created_at": "2025-01-02T03:04:05Z"},
                  {"text": "Long queues today", "author": "a", "created_at": 1735787045})  # the same moment
    out, err = _replay(path)
    assert err == []
    assert "4 read, 3 stored, 1 duplicates" in out


def test_nonsense_dates_refuse_their_line_and_the_good_lines_are_kept(tree, alice, tmp_path):
    soon = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
    path = _jsonl(tmp_path / "dates.jsonl",
                  {"id": "d1", "text": "From the far future", "created_at": "2999-01-01T00:00:00Z"},
                  {"id": "d2", "text": "A boolean date", "created_at": True},
                  {"id": "d3", "text": "Before 1970", "created_at": -5},
                  {"id": "d4", "text": "Good", "created_at": "2024-06-01T12:00:00Z"},
                  {"id": "d5", "text": "Before the first tweet", "created_at": "2006-03-20T23:59:59Z"},
                  {"id": "d6", "text": "Twelve hours ahead: clocks and time zones differ", "created_at": soon},
                  {"id": "d7", "text": "Unix seconds", "created_at": 1717243200})
    out, err = _replay(path)
    assert err == [
        "line 1: created_at '2999-01-01T00:00:00Z' is more than a day in the future",
        "line 2: created_at true is not a date and time",
        "line 3: created_at -5 (1969-12-31 23:59 UTC) is before 2006-03-21, the day of the first tweet",
        "line 5: created_at '2006-03-20T23:59:59Z' is before 2006-03-21, the day of the first tweet",
    ]
    assert "7 read, 3 stored, 0 duplicates, 4 refused" in out
    years = dict(ListenedItem.objects.values_list("external_id", "created_at__year"))
    assert years == {"d4": 2024, "d6": int(soon[:4]), "d7": 2024}


def test_a_csv_date_of_zero_seconds_is_refused_with_its_day(tree, alice, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("id,text,created_at\nz1,Zero,0\nz2,Fine,1717243200\n", encoding="utf-8")
    out, err = _replay(path)
    assert err == ["line 2: created_at '0' (1970-01-01 00:00 UTC) is before 2006-03-21, the day of the first tweet"]
    assert list(ListenedItem.objects.values_list("external_id", flat=True)) == ["z2"]


@pytest.mark.parametrize("rate", ["nan", "inf", "-1"])
def test_a_rate_that_is_not_posts_per_second_is_refused(tree, alice, tmp_path, capsys, rate):
    path = _jsonl(tmp_path / "posts.jsonl", {"id": "r1", "text": "Hello"})
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["legation", "listen", "replay", str(path), "--rate", rate])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"legation listen replay: error: argument --rate: {rate} is not a number of posts per second above 0 "
        "(or 0: no limit)")
    with pytest.raises(CommandError, match="argument --rate"):
        call_command("listen", "replay", str(path), "--rate", rate)
    assert not ListenedItem.objects.exists()
    assert not ListeningSource.objects.filter(name="replay").exists()


@pytest.mark.parametrize("batch", ["0", "-5", "10001", "many"])
def test_a_batch_size_out_of_bounds_is_refused(tree, alice, tmp_path, capsys, batch):
    path = _jsonl(tmp_path / "posts.jsonl", {"id": "b1", "text": "Hello"})
    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["legation", "listen", "replay", str(path), "--batch", batch])
    assert exit_.value.code == 2
    assert "error: argument --batch:" in capsys.readouterr().err.splitlines()[-1]
    assert not ListenedItem.objects.exists()


def test_a_rate_of_zero_means_no_limit(tree, alice, tmp_path):
    path = _jsonl(tmp_path / "posts.jsonl", {"id": "r1", "text": "Hello"})
    assert "1 read, 1 stored" in _replay(path, "--rate", "0")[0]


def test_a_csv_quote_never_closed_loses_no_line_after_it(tree, alice, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text('id,text\nc1,one\nc2,two\nc3,three\nc4,four\nc5,five\nc6,"never closed\nc7,seven\n',
                    encoding="utf-8")
    out, err = _replay(path)
    assert err == ["line 7: a quote opened here is never closed"]
    assert "7 read, 6 stored, 0 duplicates, 1 refused" in out
    assert ListenedItem.objects.get(external_id="c7").text == "seven"


def test_a_csv_quote_left_open_up_to_a_later_quote_loses_no_line_between(tree, alice, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text('id,text\nq1,"left open\nq2,between\nq3,"quoted, with a comma"\nq4,"two\nlines"\n',
                    encoding="utf-8")
    out, err = _replay(path)
    assert err == ["line 2: a quote opened here runs on to line 4, where the CSV is unreadable "
                   "(',' expected after '\"')"]
    texts = dict(ListenedItem.objects.values_list("external_id", "text"))
    assert texts == {"q2": "between", "q3": "quoted, with a comma", "q4": "two\nlines"}
    assert "4 read, 3 stored, 0 duplicates, 1 refused" in out


def test_a_file_source_resumes_after_an_unreadable_csv_line_without_skipping_a_post(tree, settings, tmp_path):
    settings.LISTENING_FILES_DIR = tmp_path
    settings.LISTENING_ENRICH_PROCESSES = 0
    (tmp_path / "posts.csv").write_text('id,text\nb1,one\nb2,"bad"quote\nb3,three\nb4,four\nb5,five\n',
                                        encoding="utf-8")
    source = services.create_source(None, unit=tree.paris, name="File", kind=SourceKind.FILE, platform="file",
                                    query="posts.csv", batch_size=2)
    refused = []
    for _pull in range(3):
        result = pull.pull_source(source)
        refused += [(r.position, r.reason) for r in result.rejected]
        source.refresh_from_db()
    assert refused == [(3, "unreadable CSV (',' expected after '\"')")]
    assert sorted(ListenedItem.objects.values_list("external_id", flat=True)) == ["b1", "b3", "b4", "b5"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_utf16_file_from_a_spreadsheet_is_read(tree, alice, tmp_path, suffix):
    path = tmp_path / f"posts{suffix}"
    if suffix == ".csv":
        body = 'id,text\nu1,"سلام دوستان، اوضاع در تهران خوب است"\nu2,"Grève à Paris"\n'
    else:
        body = '{"id": "u1", "text": "سلام دوستان، اوضاع در تهران خوب است"}\n{"id": "u2", "text": "Grève à Paris"}\n'
    path.write_bytes(body.encode("utf-16"))  # with its byte-order mark, as Windows writes "Unicode text"
    out, err = _replay(path)
    assert "2 read, 2 stored" in out and err == []
    assert ListenedItem.objects.get(external_id="u2").text == "Grève à Paris"


def test_a_folder_a_long_source_name_and_a_text_file_get_clear_messages(tree, alice, tmp_path):
    with pytest.raises(CommandError, match="is a folder; give a CSV, TSV or JSONL file"):
        call_command("listen", "replay", str(tmp_path))
    path = _jsonl(tmp_path / "posts.jsonl", {"id": "s1", "text": "Hello"})
    with pytest.raises(CommandError, match=r"^--source: .*200"):
        call_command("listen", "replay", str(path), "--source", "s" * 300)
    assert not ListenedItem.objects.exists()
    plain = tmp_path / "posts.txt"
    plain.write_text("Hello from a plain text file\n", "utf-8")
    out, err = _replay(plain)
    assert err[0] == "posts.txt: read as JSON lines, one post a line (a CSV or TSV file must be named .csv or .tsv)"
    assert err[1].startswith("line 1: not valid JSON") and "0 stored" in out


def test_a_json_line_python_cannot_read_is_refused_by_number_and_the_rest_kept(tree, alice, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "before", "id": "c1"}\n'
                    '{"text": "big", "id": 1' + "0" * 5000 + '}\n'
                    '{"text": "deep", "a": ' + "[" * 100_000 + "]" * 100_000 + '}\n'
                    '{"text": "after", "id": "c4"}\n', encoding="utf-8")
    out, err = _replay(path)
    assert "4 read, 2 stored, 0 duplicates, 2 refused" in out
    assert err[0] == "line 2: not valid JSON here (a number with too many digits)"
    assert err[1] == "line 3: not valid JSON here (nested too deeply)"
    assert sorted(ListenedItem.objects.values_list("external_id", flat=True)) == ["c1", "c4"]


def test_ids_too_long_to_store_stay_distinct_posts_and_a_platform_too_long_is_refused(tree, alice, tmp_path):
    long_id = "https://example.org/track?" + "x" * 300
    path = _jsonl(tmp_path / "posts.jsonl", {"text": "one", "id": long_id + "a"}, {"text": "two", "id": long_id + "b"},
                  {"text": "three", "id": "p3", "platform": "p" * 21}, {"text": "four", "id": "x" * 255})
    out, err = _replay(path)
    assert "4 read, 3 stored, 0 duplicates, 1 refused" in out
    assert err == ["line 3: platform name longer than 20 characters"]
    stored = {item.text: item.external_id for item in ListenedItem.objects.all()}
    assert len(stored["one"]) == len(stored["two"]) == 255 and stored["one"] != stored["two"]
    assert stored["one"].startswith("https://example.org/track?x") and stored["four"] == "x" * 255
    out, _err = _replay(path)  # the same long ids again: the same posts
    assert "4 read, 0 stored, 3 duplicates, 1 refused" in out


def test_a_spreadsheet_csv_separated_by_semicolons_with_capitalised_names_is_read(tree, alice, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Text;ID;Author\nGrève à Paris, les gares fermées;s1;a\nManifestation à Lyon;s2;b\n", "utf-8")
    out, err = _replay(path)
    assert "2 read, 2 stored" in out and err == []
    assert ListenedItem.objects.get(external_id="s1").text == "Grève à Paris, les gares fermées"


def test_a_csv_without_a_text_column_is_refused_once_for_the_file(tree, alice, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("body,id\n" + "".join(f"post {i},n{i}\n" for i in range(500)), "utf-8")
    out, err = _replay(path)
    assert err == ["line 1: the header line names no text column, so the file is not read (it names 'body', "
                   "'id'); the columns are text, id, author, created_at, url, platform"]
    assert not ListenedItem.objects.exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_log_read_while_a_line_is_being_appended_loses_nothing(tree, settings, tmp_path, suffix):
    settings.LISTENING_FILES_DIR = tmp_path
    settings.LISTENING_ENRICH_PROCESSES = 0
    path = tmp_path / f"log{suffix}"
    if suffix == ".csv":
        first, rest = 'id,text\nap1,one\nap2,"two about Misr', 'atah"\nap3,three\n'
    else:
        first = '{"text": "one", "id": "ap1"}\n{"text": "two about Misr'
        rest = 'atah", "id": "ap2"}\n{"text": "three", "id": "ap3"}\n'
    path.write_text(first, encoding="utf-8")
    source = services.create_source(None, unit=tree.paris, name="Log", kind=SourceKind.FILE, platform="file",
                                    query=path.name)
    result = pull.pull_source(source)
    assert (result.stored, result.rejected) == (1, [])  # the half-written line is left for the next pull
    with path.open("a", encoding="utf-8") as log:
        log.write(rest)
    source.refresh_from_db()
    result = pull.pull_source(source)
    assert (result.stored, result.rejected) == (2, [])
    assert ListenedItem.objects.get(external_id="ap2").text == "two about Misratah"


def test_a_last_line_left_unfinished_long_ago_is_read(tree, settings, tmp_path):
    import os
    import time

    settings.LISTENING_FILES_DIR = tmp_path
    settings.LISTENING_ENRICH_PROCESSES = 0
    path = tmp_path / "export.jsonl"
    path.write_text('{"text": "one", "id": "e1"}\n{"text": "two", "id": "e2"}', encoding="utf-8")
    past = time.time() - pull.UNFINISHED_WAIT_S - 5
    os.utime(path, (past, past))
    source = services.create_source(None, unit=tree.paris, name="Export", kind=SourceKind.FILE, platform="file",
                                    query=path.name)
    assert pull.pull_source(source).stored == 2


def test_an_empty_source_name_is_refused_not_taken_for_replay(tree, alice, tmp_path):
    path = _jsonl(tmp_path / "posts.jsonl", {"id": "e1", "text": "Hello"})
    with pytest.raises(CommandError, match=r"^--source: give the source's name"):
        call_command("listen", "replay", str(path), "--source", "  ")
    assert not ListenedItem.objects.exists()


def test_a_file_replayed_again_counts_its_refused_lines_once(tree, alice, tmp_path):
    path = _jsonl(tmp_path / "posts.jsonl", {"id": "r1", "text": "Hello"}, {"id": "r2"}, {"id": "r3", "text": ""})
    for _run in range(3):
        _replay(path, "--source", "rep")
    source = ListeningSource.objects.get(name="rep")
    assert source.refused_count == 2 and [r["position"] for r in source.refused] == [2, 3]


def test_a_replay_stopped_half_way_is_on_the_ledger(tree, alice, tmp_path, monkeypatch):
    from legation.listening import alerts
    from legation.records.models import Record

    path = _jsonl(tmp_path / "posts.jsonl", {"id": "h1", "text": "Hello"})

    def killed(_unit):
        raise KeyboardInterrupt

    monkeypatch.setattr(alerts, "evaluate", killed)
    with pytest.raises(KeyboardInterrupt):
        _replay(path)
    [started] = Record.objects.filter(action="listening.import_started")
    assert json.loads(started.payload) == {"file": "posts.jsonl"}
    assert not Record.objects.filter(action="listening.imported").exists()
    monkeypatch.undo()
    _replay(path)
    assert Record.objects.filter(action="listening.import_started").count() == 2
    assert json.loads(Record.objects.get(action="listening.imported").payload)["received"] == 1
