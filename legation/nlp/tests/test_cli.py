from __future__ import annotations

import io
import json
import subprocess
import sys

from legation.nlp.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_predict_writes_one_label_per_line_in_input_order(tmp_path):
    src = tmp_path / "posts.txt"
    lines = ["Bonjour à tous, merci pour votre aide", "The embassy is closed tomorrow, I love it!", "", "مرحبا بكم"]
    src.write_text("\n".join(lines) + "\n", "utf-8")
    status, out, _ = run("predict", "--task", "language", "--input", str(src))
    assert status == 0
    assert out.splitlines() == ["fr", "en", "und", "ar"]
    status, out, _ = run("predict", "--task", "sentiment", "--tier", "accurate", "--input", str(src))
    assert status == 0 and out.splitlines()[1] == "positive" and len(out.splitlines()) == 4


def test_predict_places_as_json_from_jsonl_keeps_each_bad_line_in_place(tmp_path):
    src = tmp_path / "posts.jsonl"
    lines = ['{"text": "Flooding in Houston"}', "not json", '{"text": null}', "", '{"text": "انفجار في بيروت"}']
    src.write_text("\n".join(lines) + "\n", "utf-8")
    status, out, err = run("predict", "--task", "places", "--jsonl", "--input", str(src))
    assert status == 0
    lines = out.split("\n")[:-1]
    assert len(lines) == 5  # one result per input line, so results still line up with the posts
    assert json.loads(lines[0])[0]["country_code"] == "US" and json.loads(lines[4])[0]["country_code"] == "LB"
    assert lines[1:4] == ["", "", ""]
    assert ":2: not valid JSON" in err and ":3: 'text' is NoneType, not a string" in err


def test_input_with_a_byte_order_mark_or_in_utf16_reads_as_text(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes('{"text": "Bonjour à tous, merci pour votre aide"}\n'.encode("utf-8-sig"))
    status, out, err = run("predict", "--task", "language", "--jsonl", "--input", str(bom))
    assert (status, out, err) == (0, "fr\n", "")
    utf16 = tmp_path / "windows.txt"
    utf16.write_text("Bonjour à tous, merci pour votre aide\r\nمرحبا بكم في السفارة\r\n", "utf-16")
    status, out, _ = run("predict", "--task", "language", "--input", str(utf16))
    assert out.splitlines() == ["fr", "ar"]


def test_user_errors_are_one_line_not_a_traceback(tmp_path, capsys):
    status, _, err = run("predict", "--task", "language", "--input", str(tmp_path))
    assert status == 2 and err == f"error: {tmp_path}: is a folder, not a file\n"
    not_model = tmp_path / "model.txt"
    not_model.write_text("hello", "utf-8")
    src = tmp_path / "posts.txt"
    src.write_text("hello\n", "utf-8")
    status, _, err = run("predict", "--task", "sentiment", "--model", str(not_model), "--input", str(src))
    assert status == 2 and "not a model written by 'legation nlp train'" in err and "Traceback" not in err
    status, _, _ = run("bench", "--n", "0")
    assert status == 2 and "argument --n: 0 is not a positive number" in capsys.readouterr().err  # argparse's own
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    status, _, err = run("bench", "--input", str(empty))
    assert status == 2 and "no texts to measure" in err


def test_evaluate_refuses_unknown_labels_and_leaves_unreadable_lines_out(tmp_path):
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "I love this!"}\n{"text": "This is awful and I hate it"}\nbroken\n', "utf-8")
    labels = tmp_path / "l.txt"
    labels.write_bytes("positive\nPostive\nneutral\n".encode("utf-8-sig"))
    status, _, err = run("evaluate", "--task", "sentiment", "--jsonl", "--texts", str(texts), "--labels", str(labels))
    assert status == 2
    assert "line 2: 'Postive'" in err and "the labels are negative, neutral, positive" in err
    labels.write_bytes("positive\nnegative\nneutral\n".encode("utf-8-sig"))
    status, out, err = run("evaluate", "--task", "sentiment", "--jsonl", "--texts", str(texts), "--labels", str(labels))
    assert status == 0, err
    report = json.loads(out)
    assert report["n"] == 2 and report["accuracy"] == 1.0  # the BOM is not part of the first label
    assert ":3: not valid JSON" in err and "1 lines without a text" in err


def test_language_prediction_follows_the_tier():
    from legation.nlp.language import detect_languages_scored

    texts = ["super", "Bonjour à tous"]
    for tier in ("fast", "accurate"):
        expected = [code for code, _ in detect_languages_scored(texts, tier != "fast")]
        status, out, _ = run_stdin(texts, "predict", "--task", "language", "--tier", tier, "--input", "-")
        assert out.splitlines() == expected


def run_stdin(lines: list[str], *argv: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "legation.nlp", *argv], input="\n".join(lines) + "\n",
                          capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def test_evaluate_prints_scores_and_confusion_matrix(tmp_path):
    texts = tmp_path / "t.txt"
    labels = tmp_path / "l.txt"
    texts.write_text("I love this!\nThis is awful and I hate it\nThe meeting is at 10am on Tuesday\n", "utf-8")
    labels.write_text("positive\nnegative\nneutral\n", "utf-8")
    status, out, _ = run("evaluate", "--task", "sentiment", "--texts", str(texts), "--labels", str(labels))
    report = json.loads(out)
    assert status == 0
    assert report["n"] == 3 and report["accuracy"] >= 2 / 3
    assert report["labels"] == ["negative", "neutral", "positive"]
    assert len(report["confusion_matrix"]) == 3 and "f1" in report["per_class"]["positive"]


def test_train_on_own_posts_then_predict_with_that_model(tmp_path):
    data = tmp_path / "mine.tsv"
    rows = ["text\tlabel"]
    for i in range(30):
        rows.append(f"visa appointment question number {i} about passport renewal\tconsular")
        rows.append(f"great speech by the ambassador at the gala {i} congratulations\tpraise")
    rows.append("a line without a tab")
    data.write_text("\n".join(rows) + "\n", "utf-8")
    model = tmp_path / "model.npz"
    status, out, err = run("train", "--task", "crisis", "--data", str(data), "--output", str(model))
    assert status == 0, err
    summary = json.loads(out)
    assert summary["rows"] == 60 and summary["holdout"]["accuracy"] == 1.0
    assert ":62: skipped (no tab between the text and its label)" in err
    src = tmp_path / "new.txt"
    src.write_text("when can I renew my passport?\nwhat a great speech, congratulations\n", "utf-8")
    status, out, _ = run("predict", "--task", "crisis", "--model", str(model), "--input", str(src))
    assert out.splitlines() == ["consular", "praise"]


def test_train_writes_where_it_says_and_reads_tsv_texts_that_start_with_a_brace(tmp_path):
    data = tmp_path / "mine.tsv"
    rows = [f"{{URGENT}} bridge {i} closed, take the ferry\tcaution" for i in range(12)]
    rows += [f"thank you embassy for the help {i}\tpraise" for i in range(12)]
    data.write_text("\n".join(rows) + "\n", "utf-8")
    status, out, err = run("train", "--task", "crisis", "--data", str(data), "--output", str(tmp_path / "noext"))
    assert status == 0 and err == ""
    summary = json.loads(out)
    assert summary["rows"] == 24 and summary["model"] == str(tmp_path / "noext.npz")
    src = tmp_path / "new.txt"
    src.write_text("{URGENT} bridge closed\n", "utf-8")
    status, out, _ = run("predict", "--task", "crisis", "--model", summary["model"], "--input", str(src))
    assert (status, out) == (0, "caution\n")
    folder = tmp_path / "models"
    folder.mkdir()
    status, out, _ = run("train", "--task", "crisis", "--data", str(data), "--output", str(folder))
    assert json.loads(out)["model"] == str(folder / "crisis.npz") and (folder / "crisis.npz").is_file()


def test_bench_prints_speeds_per_stage_and_tier():
    status, out, _ = run("bench", "--n", "300")
    figures = json.loads(out)
    assert status == 0
    assert set(figures["posts_per_s"]["enrich"]) == {"fast", "accurate"}
    assert figures["posts_per_s"]["enrich"]["fast"]["second_pass_warm_caches"] > 100
    assert figures["posts_per_s"]["stages"]["language"] > 100
    assert figures["max_rss_mb"] > 0


def test_python_dash_m_entry_point_runs_without_django():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, runpy; sys.argv=['x','--help']; runpy.run_module('legation.nlp')"],
        capture_output=True, text=True,
    )
    assert "predict" in done.stdout


def test_a_model_is_refused_for_a_task_it_was_not_trained_for(tmp_path):
    data = tmp_path / "mine.tsv"
    rows = [f"I love the new embassy website {i}\tPOSITIVE" for i in range(12)]  # any case: the shipped label
    rows += [f"the visa office never answers {i}\tnegative" for i in range(12)]
    rows += ["\tnegative"]  # no text
    data.write_text("\n".join(rows) + "\n", "utf-8")
    model = tmp_path / "sentiment.npz"
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(model))
    assert status == 0, err
    assert json.loads(out)["labels"] == ["negative", "positive"] and json.loads(out)["rows"] == 24
    assert ":25: skipped (empty text)" in err
    src = tmp_path / "new.txt"
    src.write_text("what a lovely website\n", "utf-8")
    status, out, err = run("predict", "--task", "crisis", "--model", str(model), "--input", str(src))
    assert status == 2 and out == "" and f"{model}: a model trained for sentiment, not crisis" in err
    status, out, err = run("predict", "--task", "language", "--model", str(model), "--input", str(src))
    assert status == 2 and "--model applies to sentiment and crisis" in err
    status, out, _ = run("predict", "--task", "sentiment", "--model", str(model), "--input", str(src))
    assert (status, out) == (0, "positive\n")


def test_evaluate_says_when_there_is_nothing_to_score(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    status, out, err = run("evaluate", "--task", "sentiment", "--texts", str(empty), "--labels", str(empty))
    assert status == 2 and out == "" and "holds no text to score" in err
    status, _, err = run_stdin([], "evaluate", "--task", "places", "--texts", str(empty), "--labels", str(empty))
    assert status == 2 and "invalid choice: 'places'" in err


def sentiment_data(tmp_path, name="mine.tsv"):
    data = tmp_path / name
    rows = [f"I love the new embassy website {i}\tpositive" for i in range(12)]
    rows += [f"the visa office never answers {i}\tnegative" for i in range(12)]
    data.write_text("\n".join(rows) + "\n", "utf-8")
    return data


def test_train_refuses_a_c_that_is_not_a_positive_finite_number(tmp_path, capsys):
    data = sentiment_data(tmp_path)
    for c in ("-1", "0", "nan", "inf"):
        status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--c", c,
                               "--output", str(tmp_path / "m.npz"))
        assert (status, out, err) == (2, "", "")
        assert f"argument --c: {c} is not a positive finite number" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()
    status, _, _ = run("train", "--task", "sentiment", "--data", str(data), "--c", "lots")
    assert status == 2 and "argument --c: 'lots' is not a number" in capsys.readouterr().err


def test_train_says_when_min_df_leaves_no_feature_and_refuses_one_below_1(tmp_path, capsys):
    data = sentiment_data(tmp_path)
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--min-df", "100000",
                           "--output", str(tmp_path / "m.npz"))
    assert (status, out) == (2, "")
    assert err == ("error: no word or feature is frequent enough: none is in at least --min-df 100000 of the 22 texts"
                   " trained on; lower --min-df\n")
    for min_df in ("0", "-3"):
        status, _, _ = run("train", "--task", "sentiment", "--data", str(data), "--min-df", min_df,
                           "--output", str(tmp_path / "m.npz"))
        assert status == 2 and f"argument --min-df: {min_df} is not a positive number" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


DEEP_JSON = '{"text": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}"
HUGE_NUMBER_JSON = '{"text": "x", "id": 1' + "0" * 5000 + "}"


def test_predict_reports_json_nested_too_deeply_or_with_a_huge_number_as_not_valid(tmp_path):
    src = tmp_path / "posts.jsonl"
    lines = ['{"text": "Bonjour à tous, merci pour votre aide"}', DEEP_JSON, HUGE_NUMBER_JSON, '{"text": "مرحبا بكم"}']
    src.write_text("\n".join(lines) + "\n", "utf-8")
    status, out, err = run("predict", "--task", "language", "--jsonl", "--input", str(src))
    assert (status, out) == (0, "fr\n\n\nar\n")
    assert err == (f"{src}:2: not valid JSON (nested too deeply); its result is left empty\n"
                   f"{src}:3: not valid JSON (a number with too many digits); its result is left empty\n")


def test_train_skips_json_lines_nested_too_deeply_with_a_huge_number_or_not_an_object(tmp_path):
    data = tmp_path / "mine.jsonl"
    rows = [json.dumps({"text": f"I love the new embassy website {i}", "label": "positive"}) for i in range(12)]
    rows += [json.dumps({"text": f"the visa office never answers {i}", "label": "negative"}) for i in range(12)]
    data.write_text("\n".join([DEEP_JSON, HUGE_NUMBER_JSON, '["text", "label"]', *rows]) + "\n", "utf-8")
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(tmp_path / "m.npz"))
    assert status == 0 and json.loads(out)["rows"] == 24
    assert err == (f"{data}:1: skipped (not valid JSON (nested too deeply))\n"
                   f"{data}:2: skipped (not valid JSON (a number with too many digits))\n"
                   f"{data}:3: skipped (not a JSON object)\n")


def test_evaluate_reads_labels_in_any_case_as_train_does(tmp_path):
    texts = tmp_path / "t.txt"
    labels = tmp_path / "l.txt"
    texts.write_text("I love this!\nThis is awful and I hate it\nThe meeting is at 10am on Tuesday\n", "utf-8")
    labels.write_text(" POSITIVE \nNegative\nneutral\n", "utf-8")
    status, out, err = run("evaluate", "--task", "sentiment", "--texts", str(texts), "--labels", str(labels))
    assert status == 0, err
    report = json.loads(out)
    assert report["labels"] == ["negative", "neutral", "positive"] and report["n"] == 3
    assert report["per_class"]["positive"]["support"] == 1


def test_train_never_holds_out_the_last_texts_of_a_label(tmp_path):
    data = tmp_path / "mine.tsv"
    rows = [f"I love the new embassy website {i}\tpositive" for i in range(10)]
    rows[3] = "the visa office never answers\tnegative"  # its label's only text: it is trained on, not held out
    data.write_text("\n".join(rows) + "\n", "utf-8")
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(tmp_path / "m.npz"))
    assert status == 0, err
    result = json.loads(out)
    assert result["labels"] == ["negative", "positive"] and result["holdout"]["n"] == 1
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--no-holdout",
                           "--output", str(tmp_path / "m.npz"))
    assert status == 0 and err == "" and json.loads(out)["labels"] == ["negative", "positive"]


def test_train_says_when_the_model_cannot_be_written(tmp_path):
    data = sentiment_data(tmp_path)
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(data / "m.npz"))
    assert (status, out) == (2, "")
    assert err == f"error: {data}: cannot be made a folder for the model (File exists)\n"
    taken = tmp_path / "taken.npz"
    taken.mkdir()
    (taken / "sentiment.npz").mkdir()  # a folder where the model file would go
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(taken))
    assert (status, out) == (2, "") and err.startswith(f"error: {taken / 'sentiment.npz'}: cannot be written (")


def test_ctrl_c_stops_without_a_traceback(tmp_path, monkeypatch):
    from legation.nlp import cli

    def interrupted(*_args):
        raise KeyboardInterrupt

    src = tmp_path / "posts.txt"
    src.write_text("hello\n", "utf-8")
    monkeypatch.setattr(cli, "predict_lines", interrupted)
    assert run("predict", "--task", "language", "--input", str(src)) == (130, "", "interrupted\n")


def test_files_in_another_encoding_are_read_or_said_not_guessed_silently(tmp_path):
    no_bom = tmp_path / "utf16.txt"  # "Unicode" text saved by a program that writes no byte-order mark
    no_bom.write_bytes("Bonjour à tous, merci pour votre aide\nHello everyone at the embassy\n".encode("utf-16-le"))
    status, out, err = run("predict", "--task", "language", "--input", str(no_bom))
    assert (status, out.splitlines(), err) == (0, ["fr", "en"], "")
    latin = tmp_path / "cp1252.txt"
    latin.write_bytes("Très déçu, personne ne répond à l'ambassade\nHello everyone\n".encode("cp1252"))
    status, out, err = run("predict", "--task", "language", "--input", str(latin))
    assert status == 0 and len(out.splitlines()) == 2
    assert f"{latin}: 1 lines are not valid UTF-8 (the first is line 1)" in err and "--encoding" in err
    status, out, err = run("predict", "--task", "places", "--input", str(latin), "--encoding", "cp1252")
    assert status == 0 and err == ""
    status, out, err = run("predict", "--task", "places", "--input", str(latin), "--encoding", "klingon")
    assert status == 2


def test_an_empty_model_file_and_an_output_that_cannot_be_written_are_errors_not_traces(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    src = tmp_path / "posts.txt"
    src.write_text("hello\n", "utf-8")
    status, _, err = run("predict", "--task", "sentiment", "--model", str(empty), "--input", str(src))
    assert status == 2 and "not a model written by 'legation nlp train' (EOFError)" in err
    with open("/dev/full", "w") as device:  # a disk that is full
        full = subprocess.run([sys.executable, "-m", "legation.nlp", "predict", "--task", "language", "--input",
                               str(src)], stdout=device, stderr=subprocess.PIPE, text=True, check=False)
    assert full.returncode == 1 and "error: the output cannot be written (No space left on device)" in full.stderr
    assert "Traceback" not in full.stderr


def test_copies_of_a_text_stay_on_one_side_of_the_held_out_split(tmp_path):
    import random

    rng = random.Random(5)
    data = tmp_path / "retweets.tsv"  # 60 texts with random labels, each posted 10 times
    rows = [f"message number {n} about the consulate {rng.random()}\t{rng.choice(['positive', 'negative'])}"
            for n in range(60)]
    data.write_text("\n".join(row for row in rows for _ in range(10)) + "\n", "utf-8")
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(tmp_path / "m"),
                           "--min-df", "1")
    assert status == 0, err
    held = json.loads(out)["holdout"]
    assert held["accuracy"] < 0.8  # random labels cannot be learnt; with copies on both sides it said 0.98
    assert "540 texts are copies of others" in err


def test_train_refuses_swapped_columns_and_csv_and_notes_a_tiny_hold_out(tmp_path):
    swapped = tmp_path / "swapped.tsv"
    swapped.write_text("".join(f"{('positive', 'negative')[n % 2]}\tthe embassy helped me number {n}\n"
                               for n in range(40)), "utf-8")
    status, _, err = run("train", "--task", "sentiment", "--data", str(swapped), "--output", str(tmp_path / "m"))
    assert status == 2 and "40 different labels for 40 texts, most of them given once" in err
    assert "a tab, then its label" in err
    csv = tmp_path / "mine.csv"
    csv.write_text("text,label\n" + "".join(f"post {n},positive\n" for n in range(20)), "utf-8")
    status, _, err = run("train", "--task", "sentiment", "--data", str(csv), "--output", str(tmp_path / "m"))
    assert status == 2 and err.count("\n") == 1 and "looks comma-separated" in err
    status, out, err = run("train", "--task", "sentiment", "--data", str(sentiment_data(tmp_path)),
                           "--output", str(tmp_path / "m"), "--min-df", "1")
    assert status == 0 and "says little" in json.loads(out)["holdout"]["note"]
    assert json.loads(out)["use"] == f"legation nlp predict --task sentiment --model {tmp_path / 'm.npz'} --input FILE"


def test_evaluate_reads_language_codes_as_people_write_them(tmp_path):
    texts = tmp_path / "t.txt"
    texts.write_text("Bonjour à tous, merci pour votre aide\n" * 3 + "Magandang umaga sa inyong lahat mga kaibigan\n",
                     "utf-8")
    labels = tmp_path / "gold.txt"
    labels.write_text("fr-FR\nfra\nFR\nfil\n", "utf-8")
    status, out, err = run("evaluate", "--task", "language", "--texts", str(texts), "--labels", str(labels))
    assert status == 0, err
    assert json.loads(out)["accuracy"] == 1.0
    labels.write_text("fr\nfrench\nfr\ntl\n", "utf-8")
    status, out, err = run("evaluate", "--task", "language", "--texts", str(texts), "--labels", str(labels))
    assert status == 2 and "line 2: 'french'" in err and "ISO 639 code" in err


def test_a_tier_given_with_a_model_file_is_said_to_be_unused(tmp_path):
    model = tmp_path / "m.npz"
    run("train", "--task", "sentiment", "--data", str(sentiment_data(tmp_path)), "--output", str(model),
        "--min-df", "1")
    src = tmp_path / "posts.txt"
    src.write_text("I love the new embassy website\n", "utf-8")
    status, out, err = run("predict", "--task", "sentiment", "--tier", "accurate", "--model", str(model),
                           "--input", str(src))
    assert status == 0 and out == "positive\n" and "--tier accurate is not used with --model" in err


def test_evaluate_reads_iso_639_3_codes_the_detector_gives_or_maps(tmp_path):
    from legation.nlp.cli import language_code

    assert [language_code(c) for c in ("arz", "ckb", "yue", "ceb", "sco", "fil", "xx1")] == [
        "ar", "ku", "zh", "tl", "sco", "tl", None]


def test_one_text_copied_many_times_does_not_take_the_whole_held_out_part(tmp_path):
    data = tmp_path / "copies.tsv"
    rows = ["the visa office never answers\tnegative"] * 50 + [
        f"I love the new embassy website {n}\tpositive" for n in range(5)]
    data.write_text("\n".join(rows) + "\n", "utf-8")
    status, out, err = run("train", "--task", "sentiment", "--data", str(data), "--output", str(tmp_path / "m"),
                           "--min-df", "1")
    assert status == 0, err
    assert json.loads(out)["holdout"]["n"] <= 8
