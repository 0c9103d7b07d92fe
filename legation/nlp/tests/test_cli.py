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


def test_predict_places_as_json_from_jsonl_reports_bad_lines(tmp_path):
    src = tmp_path / "posts.jsonl"
    src.write_text('{"text": "Flooding in Houston"}\nnot json\n{"text": "انفجار في بيروت"}\n', "utf-8")
    status, out, err = run("predict", "--task", "places", "--jsonl", "--input", str(src))
    assert status == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r[0]["country_code"] for r in rows] == ["US", "LB"]
    assert ":2: skipped" in err


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
    assert ":62: skipped" in err
    src = tmp_path / "new.txt"
    src.write_text("when can I renew my passport?\nwhat a great speech, congratulations\n", "utf-8")
    status, out, _ = run("predict", "--task", "crisis", "--model", str(model), "--input", str(src))
    assert out.splitlines() == ["consular", "praise"]


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
