"""Listening benchmark: ingest throughput (enrich + store + index) and full-text search latency, with baselines.

Prints one JSON object. Each database runs in its own subprocess on a fresh, throw-away database:
SQLite in a temporary directory, PostgreSQL in a temporary database on DATABASE_URL (skipped when unset).

Ingest is measured over the same kind of posts, in batches of 1,000: the whole pipeline (enrich + store + index)
as replay and file pulls run it (``services.ingest_batches``: the next batches enriched in a pool of processes
while one is stored; the pool started and the models loaded before timing), the same one batch after the other
in one process (``services.ingest_posts``), the store path alone (enrichment computed beforehand and handed in),
and enrichment alone; plus a naive baseline (one ORM save per post). The peak memory of a process that only enriches is
measured in a subprocess. Then the table is filled up to --rows with bulk SQL (SQLite: executemany with the
full-text trigger off and the index refilled at the end; PostgreSQL: COPY, GIN index built afterwards) and
searches of several kinds are timed, beside a LIKE scan as the baseline.

    python bench/listening_ingest.py [--rows 1000000] [--ingest 20000] [--queries 40] [--db sqlite,postgres]
                                     [--processes N]
    python bench/listening_ingest.py --alerts N      # alert evaluation with N recent posts stored
    python bench/listening_ingest.py --terms N       # trends of terms, N distinct terms counted a minute
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "flood", "water", "road", "closed", "embassy", "visa", "protest", "storm", "fire", "border", "bridge",
    "market", "school", "hospital", "power", "train", "airport", "festival", "concert", "minister", "election",
    "strike", "queue", "delay", "rescue", "shelter", "food", "medicine", "evacuate", "tourist", "consulate",
    "passport", "police", "crowd", "rain", "heat", "earthquake", "harbour", "ferry",
]
RARE = [f"term{i}" for i in range(2000)]
LANGUAGES = ["en"] * 40 + ["fr"] * 15 + ["ar"] * 15 + ["es"] * 12 + ["id"] * 10 + ["de"] * 5 + ["sw"] * 2 + ["ps"]
CATEGORIES = ["not_humanitarian"] * 80 + ["other_relevant_information"] * 10 + ["caution_and_advice"] * 5 + [
    "infrastructure_and_utility_damage"] * 3 + ["requests_or_urgent_needs", "missing_or_found_people"]
COUNTRIES = ["", "", "", "", ",FR,", ",DE,", ",ID,", ",LB,", ",KE,"]
PLATFORMS = ["x"] * 6 + ["mastodon"] * 2 + ["bluesky", "telegram"]
# One post in ten names a place (as the gazetteer stores it); a few places are much rarer than others.
PLACES = ["Paris"] * 30 + ["Nairobi"] * 20 + ["Beirut"] * 20 + ["Jakarta"] * 20 + ["Misratah"] * 2 + ["Tripoli"] * 8
PLACE_COUNTRY = {"Paris": "FR", "Nairobi": "KE", "Beirut": "LB", "Jakarta": "ID", "Misratah": "LY", "Tripoli": "LY"}


# Hashtags: one post in twenty carries one of a few campaign tags; one in 200 has a common word as a hashtag
# ("#food"): the search for "#food" finds the word in a quarter of the posts and the hashtag in about 130 of a
# million: the worst case of a hashtag search before the indexes held hashtags as words (migration 0026).
TAGS = ["floodrelief", "consularhelp", "veridia"]


def synthetic_text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 18)) + rng.choices(RARE, k=2)
    if rng.random() < 0.005:
        words[0] = "#" + words[0]
    if rng.random() < 0.05:
        words.append("#" + rng.choice(TAGS))
    return " ".join(words)


def run_one(vendor: str, rows: int, ingest_n: int, queries: int) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from legation.listening import pipeline, services
    from legation.listening.enrichment import enrich_batch
    from legation.listening.ingest import Post, ingest
    from legation.listening.models import ListenedItem
    from legation.listening.pipeline import Batch
    from legation.listening.search import Filters, capped_count, refill_sqlite_index, search
    from legation.listening.views import language_choices
    from legation.network import services as network_services

    call_command("migrate", verbosity=0, interactive=False)
    from legation.listening.models import ListeningSource
    from legation.network.models import Person, Unit

    root = Unit.objects.filter(parent=None, name="Bench ministry").first()
    if root:  # a database kept from an earlier run (``--one`` with DATABASE_URL): its posts are searched again
        person, viewer = Person.objects.get(username="bench"), Person.objects.get(username="viewer")
        region = Unit.objects.get(parent=root, name="Region")
        source, other = (ListeningSource.objects.get(unit=root, name=name) for name in ("bench", "second"))
    else:
        root = network_services.create_root_unit(name="Bench ministry")
        person = network_services.create_first_admin(unit=root, username="bench", password="bench-password-123")
        region = network_services.create_unit(person, parent=root, name="Region", kind="embassy")
        viewer = network_services.create_person(person, unit=region, username="viewer", role="viewer",
                                                password="viewer-password-123")
        # A file source: the bench hands posts in itself (a keyword source on X would need one of our accounts).
        source = services.create_source(None, unit=root, name="bench", kind="file", platform="file",
                                        query="bench.jsonl")
        other = services.create_source(None, unit=root, name="second", kind="file", platform="file",
                                       query="b2.jsonl")
    rng = random.Random(1)
    result: dict[str, object] = {"vendor": vendor}
    try:
        import legation.nlp as nlp

        result["enrichment"] = "legation.nlp.enrich" if hasattr(nlp, "enrich") else "stand-in (nlp.enrich missing)"
    except ImportError:
        result["enrichment"] = "stand-in (nlp missing)"

    # Ingest, three ways over batches of 1,000 posts (distinct ids each time, so nothing is a duplicate).
    run = secrets.token_hex(3)  # a database kept from an earlier run has that run's ids

    def batches(prefix: str) -> list[list[Post]]:
        posts = [Post(text=synthetic_text(rng), platform="x", external_id=f"{prefix}{run}-{i}", author="a")
                 for i in range(ingest_n)]
        return [posts[start : start + 1000] for start in range(0, ingest_n, 1000)]

    # The models load once per process, before timing: in this process, and in the enrichment pool's processes.
    started = time.perf_counter()
    enrich_batch(["warm up"])
    result["models_load_s"] = round(time.perf_counter() - started, 2)
    if os.environ.get("BENCH_ENRICH_PROCESSES"):
        from django.conf import settings

        settings.LISTENING_ENRICH_PROCESSES = int(os.environ["BENCH_ENRICH_PROCESSES"])
    enricher = pipeline.shared_enricher()
    started = time.perf_counter()
    enricher.submit(["warm up"] * 2, "fast")()
    if enricher.processes > 1:  # every process of the pool loads its models
        waits = [enricher.submit(["warm up"] * 2, "fast") for _ in range(4 * enricher.processes)]
        [wait() for wait in waits]
    result["enrich_processes"] = enricher.processes
    result["enrich_pool_start_s"] = round(time.perf_counter() - started, 2)

    # CPU seconds of the processes doing the work (this one, the pool's, PostgreSQL's backend), so the figures say
    # what the work costs whatever else the (shared) machine runs: wall-clock rates move with the load.
    backend = None
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]

    def cpu_now() -> dict[str, float]:
        return {"main": time.process_time(), "enrich": sum(_cpu_seconds(pid) for pid in enricher.pids()),
                "database": _cpu_seconds(backend) if backend else 0.0}

    def cpu_since(before: dict[str, float]) -> dict[str, float]:
        return {name: round((value - before[name]) * 1000 / (ingest_n / 1000), 1) for name, value in cpu_now().items()}

    # Whole pipeline as replay and file pulls run it: the next batches enriched in the pool while one is stored.
    whole = batches("i")
    started, cpu = time.perf_counter(), cpu_now()
    for _result in services.ingest_batches(source, [Batch(batch) for batch in whole], enricher=enricher):
        pass
    result["ingest_posts_per_s"] = round(ingest_n / (time.perf_counter() - started))
    spent = cpu_since(cpu)
    result["ingest_cpu_ms_per_1000"] = spent
    # The writer (this process, then the database backend, one after the other) against the pool (in parallel):
    # the rate the pipeline reaches when each has its own core(s).
    writer, enrich_ms = spent["main"] + spent["database"], spent["enrich"] / max(enricher.processes, 1)
    result["ingest_cpu_bound_posts_per_s"] = round(1000 / max(writer, enrich_ms) * 1000) if writer else None
    # The same, one batch after the other in this process (a single pull, or LISTENING_ENRICH_PROCESSES = 0).
    serial = batches("j")
    started = time.perf_counter()
    for batch in serial:
        services.ingest_posts(source, batch)
    result["ingest_in_one_process_posts_per_s"] = round(ingest_n / (time.perf_counter() - started))

    store = batches("s")
    started, cpu_enrich = time.perf_counter(), time.process_time()
    enriched = [enrich_batch([str(p.text) for p in batch]) for batch in store]
    enrich_seconds = time.perf_counter() - started
    result["enrich_only_posts_per_s"] = round(ingest_n / enrich_seconds)
    result["enrich_only_cpu_ms_per_1000"] = round((time.process_time() - cpu_enrich) * 1000 / (ingest_n / 1000), 1)
    started, cpu = time.perf_counter(), cpu_now()
    for batch, records in zip(store, enriched, strict=True):
        with transaction.atomic():
            ingest(source, batch, enrich=lambda texts, tier="fast", records=records: records)
    result["store_path_posts_per_s"] = round(ingest_n / (time.perf_counter() - started))
    spent = cpu_since(cpu)
    result["store_path_cpu_ms_per_1000"] = {"main": spent["main"], "database": spent["database"]}

    # Baseline: one ORM save per post, no enrichment (how a naive importer stores).
    sample = 2000
    started = time.perf_counter()
    for i in range(sample):
        ListenedItem.objects.create(source=source, unit=root, unit_path=root.path, heard_by=f"|{root.path}|",
                                    heard_sources=f"|{source.pk}|", platform="base", external_id=f"b{run}-{i}",
                                    text=synthetic_text(rng), created_at=timezone.now())
    result["baseline_row_by_row_posts_per_s"] = round(sample / (time.perf_counter() - started))

    # Fill up to --rows with bulk SQL, posted over the last 30 days, 10 % heard by the region only.
    started = time.perf_counter()
    now = timezone.now()
    have = ListenedItem.objects.count()
    table = ListenedItem._meta.db_table
    columns = ("source_id", "unit_id", "unit_path", "heard_by", "heard_sources", "platform", "external_id", "kind",
               "text", "author", "url", "created_at", "ingested_at", "language", "sentiment", "crisis_category",
               "places", "countries", "phones", "needs", "dup_signature")
    todo = max(rows - have, 0)
    span = 30 * 86400

    def generated(start: int, count: int):  # type: ignore[no-untyped-def]
        for i in range(start, start + count):
            unit, path = (region, region.path) if i % 10 == 0 else (root, root.path)
            when = now - timedelta(seconds=span * (todo - i) / max(todo, 1))
            heard = other if i % 7 == 0 else source  # a seventh of the posts heard by a second source
            place = rng.choice(PLACES) if i % 10 == 3 else ""
            places = json.dumps([{"name": place, "country": PLACE_COUNTRY[place], "lat": 0.0, "lon": 0.0}]
                                ) if place else "[]"
            yield (heard.pk, unit.pk, path, f"|{path}|", f"|{heard.pk}|", rng.choice(PLATFORMS), f"m{i}", "post",
                   synthetic_text(rng), "a", "", when, now, rng.choice(LANGUAGES),
                   rng.choice(("negative", "neutral", "positive")), rng.choice(CATEGORIES), places,
                   f",{PLACE_COUNTRY[place]}," if place else rng.choice(COUNTRIES), "[]", "[]", "")

    chunk = 50_000
    if vendor == "sqlite":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'listening_item_fts_ai'")
            trigger = cursor.fetchone()[0]
            cursor.execute("DROP TRIGGER listening_item_fts_ai")
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 - our names
            adapt = connection.ops.adapt_datetimefield_value
            for start in range(0, todo, chunk):
                cursor.executemany(sql, [(*row[:11], adapt(row[11]), adapt(row[12]), *row[13:])
                                         for row in generated(start, min(chunk, todo - start))])
            result["bulk_insert_seconds"] = round(time.perf_counter() - started, 1)
            refill_sqlite_index(cursor)
            cursor.execute("INSERT INTO listening_item_fts(listening_item_fts) VALUES ('optimize')")
            cursor.execute(trigger)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    elif todo:
        raw = connection.connection  # psycopg 3
        with transaction.atomic(), raw.cursor() as cursor:
            # The full-text index goes during the COPY and comes back as the migrations made it.
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'listening_item_search_vector'")
            index_sql = cursor.fetchone()[0]
            cursor.execute("DROP INDEX listening_item_search_vector")
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in generated(0, todo):
                    copy.write_row(row)
        result["bulk_insert_seconds"] = round(time.perf_counter() - started, 1)
        with transaction.atomic(), raw.cursor() as cursor:  # after the COPY's commit: its foreign-key checks ran
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(index_sql)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    result["stored_rows"] = ListenedItem.objects.count()
    result["bulk_load_seconds"] = round(time.perf_counter() - started, 1)

    def page(items) -> None:  # type: ignore[no-untyped-def]
        list(items[:50])
        capped_count(items)

    week_ago = now - timedelta(days=7)
    kinds = {
        "words_rare": lambda i: page(search(person, RARE[(i * 37) % len(RARE)], Filters(unit=root.pk))),
        "words_common": lambda i: page(search(person, WORDS[i % len(WORDS)], Filters(unit=root.pk))),
        "two_words": lambda i: page(search(person, f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7 + 3) % len(WORDS)]}",
                                           Filters(unit=root.pk))),
        "words_and_language": lambda i: page(search(person, WORDS[i % len(WORDS)],
                                                    Filters(unit=root.pk, language=("fr", "ar", "sw")[i % 3]))),
        "rare_words_last_week": lambda i: page(search(person, RARE[(i * 53) % len(RARE)],
                                                      Filters(unit=root.pk, since=week_ago))),
        "filters_only_category_country": lambda i: page(search(person, "", Filters(
            unit=root.pk, category=CATEGORIES[-1 - i % 3], country=("FR", "KE", "LB")[i % 3]))),
        "filters_only_language": lambda i: page(search(person, "", Filters(unit=root.pk,
                                                                           language=("ps", "sw", "de")[i % 3]))),
        "words_as_region_viewer": lambda i: page(search(viewer, (RARE[(i * 11) % len(RARE)], WORDS[i % len(WORDS)])
                                                        [i % 2], Filters(unit=region.pk))),
        "filters_only_place": lambda i: page(search(person, "", Filters(
            unit=root.pk, place=("Misratah", "Beirut", "Tripoli")[i % 3]))),
        "words_and_place": lambda i: page(search(person, WORDS[i % len(WORDS)], Filters(
            unit=root.pk, place=("Misratah", "Nairobi")[i % 2]))),
        "filters_only_source": lambda i: page(search(person, "", Filters(unit=root.pk, source=other.pk))),
        "filters_only_platform": lambda i: page(search(person, "", Filters(
            unit=root.pk, platform=("telegram", "bluesky", "mastodon")[i % 3]))),
        "hashtag_campaign": lambda i: page(search(person, "#" + TAGS[i % len(TAGS)], Filters(unit=root.pk))),
        "hashtag_of_a_common_word": lambda i: page(search(person, "#" + WORDS[i % len(WORDS)], Filters(unit=root.pk))),
        "words_and_hashtag": lambda i: page(search(person, f"{WORDS[i % len(WORDS)]} #{TAGS[i % len(TAGS)]}",
                                                   Filters(unit=root.pk))),
        "words_and_platform_last_week": lambda i: page(search(person, RARE[(i * 17) % len(RARE)], Filters(
            unit=root.pk, platform="telegram", since=week_ago))),
        # The search page's filter menus: the languages heard lately (from the alert counters), and the DISTINCT
        # over the unit's posts they replaced, as the baseline.
        "page_language_menu": lambda i: language_choices(region if i % 2 else root),
        "baseline_distinct_languages": lambda i: list(ListenedItem.objects.filter(
            heard_by__contains=f"|{(region if i % 2 else root).path}").order_by("language").values_list(
                "language", flat=True).distinct()[:60]),
        "baseline_like_scan": lambda i: page(search(person, "", Filters(unit=root.pk)).filter(
            text__icontains=(RARE[(i * 37) % len(RARE)], WORDS[i % len(WORDS)])[i % 2])),
    }
    every: list[float] = []
    for name, fn in kinds.items():
        fn(queries)  # warm caches
        latencies = []
        for i in range(queries):
            t0 = time.perf_counter()
            fn(i)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        if name.startswith(("words", "filters", "hashtag")) or name in ("two_words", "rare_words_last_week"):
            every.extend(latencies)
        result[f"search_{name}"] = _percentiles(latencies)
    result["search_all_kinds"] = _percentiles(sorted(every))
    return result


def run_alerts(vendor: str, n: int) -> dict[str, object]:
    """Alert evaluation with ``n`` posts of the last 12 hours stored for one unit: the volumes read from the
    per-minute counters (``hourly_series``) against grouping the posts (``series_from_items``, as before), and
    the store path with and without keeping the counters (batches of 1,000 alternating between two units).
    Enrichment is synthetic (languages, categories and countries drawn as in the ingest benchmark)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from legation.listening import alerts, ingest, services
    from legation.listening.enrichment import Enriched, Place
    from legation.listening.models import HeardCount
    from legation.network import services as network_services

    call_command("migrate", verbosity=0, interactive=False)
    root = network_services.create_root_unit(name="Bench ministry")
    person = network_services.create_first_admin(unit=root, username="bench", password="bench-password-123")
    other = network_services.create_unit(person, parent=root, name="Region", kind="embassy")
    counted = services.create_source(None, unit=root, name="counted", kind="file", platform="file", query="a.jsonl")
    uncounted = services.create_source(None, unit=other, name="uncounted", kind="file", platform="file",
                                       query="b.jsonl")
    rng = random.Random(1)
    now = timezone.now()
    backend = None
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]

    def cpu() -> float:
        return time.process_time() + (_cpu_seconds(backend) if backend else 0.0)

    def synthetic(texts, tier="fast"):  # type: ignore[no-untyped-def]
        return [Enriched(language=rng.choice(LANGUAGES), crisis_category=rng.choice(CATEGORIES),
                         places=tuple(Place(name=c, country=c) for c in rng.choice(COUNTRIES).split(",") if c),
                         dup_signature=secrets.token_hex(8)) for _ in texts]

    keep = ingest.add_counts
    spent = {"with_counters": [0.0, 0.0], "without_counters": [0.0, 0.0]}  # cpu, wall
    for start in range(0, n, 1000):
        for source, label in ((counted, "with_counters"), (uncounted, "without_counters")):
            posts = [ingest.Post(text=synthetic_text(rng), platform="x", external_id=f"{label}{start + i}",
                                 created_at=now - timedelta(seconds=rng.uniform(0, 12 * 3600)))
                     for i in range(min(1000, n - start))]
            batch = ingest.prepare(source, posts)
            records = synthetic(batch.texts)
            ingest.add_counts = keep if label == "with_counters" else (lambda counts: None)  # type: ignore[assignment]
            c0, w0 = cpu(), time.perf_counter()
            ingest.write(source, batch, records)
            spent[label][0] += cpu() - c0
            spent[label][1] += time.perf_counter() - w0
    ingest.add_counts = keep  # type: ignore[assignment]
    result: dict[str, object] = {"vendor": vendor, "posts": n, "counters": HeardCount.objects.count()}
    per = n / 1000
    result["store_ms_per_1000"] = {label: {"cpu": round(c / per * 1000, 1), "wall": round(w / per * 1000, 1)}
                                   for label, (c, w) in spent.items()}
    timings: dict[str, list[tuple[float, float]]] = {"counters": [], "grouping_posts": []}
    for _ in range(3):  # A/B back to back
        for label, function in (("counters", alerts.hourly_series), ("grouping_posts", alerts.series_from_items)):
            c0, w0 = cpu(), time.perf_counter()
            series = function(root, now)
            timings[label].append((cpu() - c0, time.perf_counter() - w0))
            result[f"{label}_keys"] = len(series)
    result["same_series"] = alerts.hourly_series(root, now) == alerts.series_from_items(root, now)
    result["hourly_series_ms"] = {label: {"cpu": round(min(c for c, _w in t) * 1000, 1),
                                          "wall": round(min(w for _c, w in t) * 1000, 1)}
                                  for label, t in timings.items()}
    c0, w0 = cpu(), time.perf_counter()
    raised = alerts.evaluate(root, now=now)
    result["evaluate_ms"] = {"cpu": round((cpu() - c0) * 1000, 1), "wall": round((time.perf_counter() - w0) * 1000, 1),
                             "alerts": len(raised)}
    return result


def run_terms(vendor: str, per_minute: int) -> dict[str, object]:
    """The trends of terms read from the counters (``trends.counted_terms``) with ``per_minute`` distinct terms
    counted every minute of the 48 hours the counters are kept, before and after the hourly purge folds the
    minutes older than the alerts' window into hours (``tasks.purge_old_counts``), and what the purge takes."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from legation.listening import alerts, ingest, trends
    from legation.listening.models import COUNTS_KEPT, HeardCount
    from legation.listening.tasks import purge_old_counts
    from legation.network import services as network_services

    call_command("migrate", verbosity=0, interactive=False)
    root = network_services.create_root_unit(name="Bench ministry")
    now = timezone.now()
    hours = int(COUNTS_KEPT.total_seconds() // 3600) - 1
    first = ingest.minute_of(now - timedelta(hours=hours))
    rng = random.Random(3)
    vocabulary = [f"term:#flood{i}" for i in range(per_minute * 3)]
    for start in range(first, ingest.minute_of(now) + 1, 60):  # an hour of counters at a time
        counts = {(root.path, minute, key): rng.randint(1, 5) for minute in range(start, start + 60)
                  for key in rng.sample(vocabulary, per_minute)}
        ingest.add_counts(counts)  # type: ignore[arg-type]
    buckets = trends._hours(now - timedelta(hours=hours), hours)

    def analyze() -> None:  # as autovacuum does after such changes (without it PostgreSQL guesses 1 row: 3x slower)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {HeardCount._meta.db_table}")

    def timed(function):  # type: ignore[no-untyped-def]
        walls = []
        for _ in range(3):
            w0 = time.perf_counter()
            value = function()
            walls.append(time.perf_counter() - w0)
        return value, round(min(walls) * 1000, 1), round(statistics.median(walls) * 1000, 1)

    result: dict[str, object] = {"vendor": vendor, "terms_per_minute": per_minute, "hours": hours}
    analyze()
    before, best, median = timed(lambda: trends.counted_terms(root, buckets, hours, 8))
    series = alerts.hourly_series(root, now)
    result["before"] = {"counters": HeardCount.objects.count(), "counted_terms_ms": {"min": best, "median": median}}
    w0 = time.perf_counter()
    purge_old_counts.call()
    result["purge_ms"] = round((time.perf_counter() - w0) * 1000, 1)
    analyze()
    after, best, median = timed(lambda: trends.counted_terms(root, buckets, hours, 8))
    result["after"] = {"counters": HeardCount.objects.count(), "counted_terms_ms": {"min": best, "median": median}}
    result["same_term_lines"] = after == before
    result["same_alert_series"] = alerts.hourly_series(root, now) == series
    return result


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process of this machine (Linux /proc); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentiles(latencies: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "max_ms": round(latencies[-1], 1), "queries": len(latencies)}


def enrich_memory(n: int) -> dict[str, object]:
    """Peak resident memory of a process that only imports the models and enriches n posts in batches of 1,000."""
    import resource

    from legation.listening.enrichment import enrich_batch

    rng = random.Random(2)
    texts = [synthetic_text(rng) for _ in range(n)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    for start in range(0, n, 1000):
        enrich_batch(texts[start : start + 1000])
    seconds = time.perf_counter() - started
    return {"posts": n, "posts_per_s": round(n / seconds),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_before_models_mb": round(before / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="posts stored before searching")
    parser.add_argument("--ingest", type=int, default=20_000, help="posts pushed through the ingest pipeline")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--processes", type=int, help="enrichment processes (default: the setting's default)")
    parser.add_argument("--alerts", type=int, help="only time alert evaluation with this many recent posts stored")
    parser.add_argument("--terms", type=int, help="only time the trends of terms with this many distinct terms "
                        "counted a minute over 48 hours, before and after the hourly purge folds old minutes")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        print(json.dumps(enrich_memory(args.memory)))
        return 0
    if args.one and args.alerts:
        print(json.dumps(run_alerts(args.one, args.alerts)))
        return 0
    if args.one and args.terms:
        print(json.dumps(run_terms(args.one, args.terms)))
        return 0
    if args.one:
        print(json.dumps(run_one(args.one, args.rows, args.ingest, args.queries)))
        return 0
    report: dict[str, object] = {"rows": args.rows, "ingest_posts": args.ingest}
    if args.alerts:
        report = {"alert_posts": args.alerts}
    elif args.terms:
        report = {"terms_per_minute": args.terms}
    else:
        out = subprocess.run([sys.executable, __file__, "--memory", str(min(args.ingest, 10_000))], cwd=ROOT,
                             env={**os.environ, "DJANGO_SETTINGS_MODULE": "legation.settings"}, capture_output=True,
                             text=True, check=False)
        report["enrichment_process"] = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {
            "error": out.stderr[-2000:]}
    for vendor in args.db.split(","):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "legation.settings",
               "LEGATION_DATA_DIR": tempfile.mkdtemp(prefix="legation-bench-")}
        if args.processes is not None:
            env["BENCH_ENRICH_PROCESSES"] = str(args.processes)
        db_name = None
        if vendor == "postgres":
            url = os.environ.get("DATABASE_URL")
            if not url:
                report[vendor] = "skipped: DATABASE_URL is not set"
                continue
            import psycopg

            db_name = f"legation_bench_{secrets.token_hex(4)}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db_name}"')
            env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{db_name}"
        else:
            env.pop("DATABASE_URL", None)
        try:
            out = subprocess.run([sys.executable, __file__, "--one", "postgresql" if vendor == "postgres" else vendor,
                                  "--rows", str(args.rows), "--ingest", str(args.ingest), "--queries",
                                  str(args.queries), *(["--alerts", str(args.alerts)] if args.alerts else []),
                                  *(["--terms", str(args.terms)] if args.terms else [])],
                                 env=env, cwd=ROOT, capture_output=True, text=True, check=False)
            report[vendor] = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {
                "error": out.stderr[-2000:]}
        finally:
            if db_name:
                import psycopg

                with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
