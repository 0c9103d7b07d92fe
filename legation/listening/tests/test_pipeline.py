"""Pipelined ingest: the next batches are enriched in other processes while one is stored, and nothing is lost,
stored twice or marked twice, whether an enrichment process dies or the worker stops between two batches."""

from __future__ import annotations

import json
import os
import signal

import pytest

from legation.listening import pipeline, pull, services
from legation.listening.ingest import Post
from legation.listening.models import ListenedItem, ListeningSource, SourceKind
from legation.listening.pipeline import Batch, Enricher

TEXTS = [
    "The bridge at the border crossing is closed",
    "Long queues at the consulate for visas today",
    "Flooding near the harbour, ferries cancelled",
    "Festival in the old town this weekend",
    "Power cut in the east of the city",
    "The embassy will be closed on Monday",
]


def posts(start: int, stop: int, prefix: str = "p") -> list[Post]:
    return [Post(text=f"{TEXTS[i % len(TEXTS)]} ({i})", platform="mastodon", external_id=f"{prefix}{i}",
                 position=i + 1) for i in range(start, stop)]


@pytest.fixture
def one_process():
    enricher = Enricher(1)
    yield enricher
    enricher.close()


def test_batches_enriched_in_a_process_are_stored_like_one_by_one(paris_source, berlin_source, one_process):
    # Berlin heard p0-p2 already; the stream repeats posts across batches that are in flight together.
    services.ingest_posts(berlin_source, posts(0, 3))
    batches = [Batch(posts(0, 6)), Batch(posts(4, 10)), Batch(posts(8, 12) + posts(0, 2))]
    results = list(services.ingest_batches(paris_source, batches, enricher=one_process))
    assert [(r.received, r.stored, r.duplicates, r.heard_again) for r in results] == [
        (6, 3, 3, 3), (6, 4, 2, 0), (6, 2, 4, 0)]
    assert ListenedItem.objects.count() == 12
    paris, berlin = paris_source.unit.path, berlin_source.unit.path
    shared = ListenedItem.objects.filter(external_id__in=["p0", "p1", "p2"])
    assert {item.heard_by for item in shared} == {f"|{berlin}|{paris}|"}  # marked once, not once per batch
    assert {item.heard_sources for item in shared} == {f"|{berlin_source.pk}|{paris_source.pk}|"}
    # the enrichment made in the other process is stored with each post
    assert all(item.language and item.dup_signature for item in ListenedItem.objects.all())


def test_a_dead_enrichment_process_costs_time_not_posts(paris_source, one_process):
    def batches():
        yield Batch(posts(0, 4))
        yield Batch(posts(4, 8))
        # By now the process has enriched the first two batches: kill it while the rest are on their way.
        for pid in one_process.pids():  # the test plays the out-of-memory killer
            os.kill(pid, signal.SIGKILL)
        yield Batch(posts(8, 12))
        yield Batch(posts(12, 16))

    results = list(services.ingest_batches(paris_source, batches(), enricher=one_process))
    assert sum(r.stored for r in results) == 16
    assert ListenedItem.objects.count() == 16
    assert ListenedItem.objects.filter(language="").count() == 0


def test_a_worker_stopped_between_chunks_resumes_from_its_cursor(tree, monkeypatch, tmp_path, settings):
    settings.LISTENING_FILES_DIR = tmp_path
    settings.LISTENING_ENRICH_PROCESSES = 0
    lines = [json.dumps({"text": f"{TEXTS[i % len(TEXTS)]} ({i})", "id": f"f{i}"}) for i in range(10)]
    lines[5] = "{broken"
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = services.create_source(None, unit=tree.paris, name="File", kind=SourceKind.FILE, platform="file",
                                    query="posts.jsonl", batch_size=100)
    monkeypatch.setattr(pull, "CHUNK", 4)
    commit = services._commit  # noqa: SLF001
    calls = []

    def dies_on_the_second_chunk(*args):  # the worker is killed while it writes the second chunk
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("killed")
        return commit(*args)

    monkeypatch.setattr(services, "_commit", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        pull.pull_source(source)
    source = ListeningSource.objects.get(pk=source.pk)
    assert source.cursor == "4" and ListenedItem.objects.count() == 4
    monkeypatch.setattr(services, "_commit", commit)
    result = pull.pull_source(source)
    assert (result.received, result.stored, result.duplicates) == (6, 5, 0)
    assert [r.position for r in result.rejected] == [6]
    source.refresh_from_db()
    assert source.cursor == "10"
    assert sorted(ListenedItem.objects.values_list("external_id", flat=True)) == sorted(
        f"f{i}" for i in range(10) if i != 5)


def test_one_batch_is_enriched_here(paris_source, monkeypatch):
    monkeypatch.setattr(pipeline, "shared_enricher", lambda: pytest.fail("no process for a single batch"))
    [result] = services.ingest_batches(paris_source, [Batch(posts(0, 3), cursor="3")])
    paris_source.refresh_from_db()
    assert result.stored == 3 and paris_source.cursor == "3"


def test_a_post_stored_by_another_worker_meanwhile_is_marked_heard_not_stored_twice(paris_source, berlin_source):
    from legation.listening.enrichment import enrich_batch
    from legation.listening.ingest import prepare, write

    batch = prepare(paris_source, posts(0, 3))  # read before Berlin's worker stores p1 and p2
    services.ingest_posts(berlin_source, posts(1, 3))
    result = write(paris_source, batch, enrich_batch(batch.texts))
    assert (result.stored, result.duplicates, result.heard_again) == (1, 2, 2)
    assert ListenedItem.objects.count() == 3
    both = f"|{berlin_source.unit.path}|{paris_source.unit.path}|"
    assert set(ListenedItem.objects.filter(external_id__in=["p1", "p2"]).values_list("heard_by", flat=True)) == {both}
    assert ListenedItem.objects.get(external_id="p0").heard_by == f"|{paris_source.unit.path}|"


def test_a_story_is_named_by_whole_words_in_scripts_with_vowel_signs():
    from legation.listening.enrichment import story_terms

    # Devanagari vowel signs are combining marks: the words must keep them (before, no Hindi word was found)
    assert story_terms("दिल्ली में भारी बाढ़, सैकड़ों लोग फंसे") == ["सैकड़ों", "दिल्ली", "फंसे"]
    assert story_terms("வெள்ளம் சென்னையில்") == ["சென்னையில்", "வெள்ளம்"]  # Tamil: a flood in Chennai
    assert story_terms("Flooding in Derna: hundreds stranded") == ["flooding", "hundreds", "stranded"]


def test_enrichment_processes_leave_when_their_parent_is_killed(tmp_path):
    """A worker killed with SIGKILL never shuts its pool down: its enrichment processes (models loaded, hundreds
    of MB) must not live on as orphans."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import django, os, sys\n"
        "django.setup()\n"
        "from legation.listening.pipeline import Enricher\n"
        "enricher = Enricher(1)\n"
        "enricher.submit(['hello'], 'fast')\n"
        "print(*enricher.pids(), flush=True)\n"
        "import time; time.sleep(600)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "legation.settings", "LEGATION_DATA_DIR": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        [child] = [int(pid) for pid in parent.stdout.readline().split()]  # type: ignore[union-attr]
        os.kill(child, 0)  # running
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
                with open(f"/proc/{child}/stat") as stat:  # exited, not yet reaped by whoever adopted it
                    if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except (ProcessLookupError, FileNotFoundError):
                break
            with contextlib.suppress(ChildProcessError):  # reap it if it became ours (a subreaper)
                os.waitpid(child, os.WNOHANG)
            time.sleep(0.2)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("the enrichment process outlived its killed parent")
    finally:
        if parent.poll() is None:
            parent.kill()
