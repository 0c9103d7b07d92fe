"""Listening benchmark: ingest throughput (enrich + store + index) and full-text search latency, with baselines.

Prints one JSON object. Each database runs in its own subprocess on a fresh, throw-away database:
SQLite in a temporary directory, PostgreSQL in a temporary database on DATABASE_URL (skipped when unset).

    python bench/listening_ingest.py [--rows 1000000] [--ingest 20000] [--queries 40] [--db sqlite,postgres]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "flood", "water", "road", "closed", "embassy", "visa", "protest", "storm", "fire", "border", "bridge",
    "market", "school", "hospital", "power", "train", "airport", "festival", "concert", "minister", "election",
    "strike", "queue", "delay", "rescue", "shelter", "food", "medicine", "evacuate", "tourist", "consulate",
    "passport", "police", "crowd", "rain", "heat", "earthquake", "harbour", "ferry",
]
RARE = [f"term{i}" for i in range(2000)]


def synthetic_text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 18)) + rng.choices(RARE, k=2)
    return " ".join(words)


def run_one(vendor: str, rows: int, ingest_n: int, queries: int) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from legation.listening import services
    from legation.listening.ingest import Post
    from legation.listening.models import ListenedItem
    from legation.listening.search import Filters, capped_count, search
    from legation.network import services as network_services

    call_command("migrate", verbosity=0, interactive=False)
    root = network_services.create_root_unit(name="Bench ministry")
    person = network_services.create_first_admin(unit=root, username="bench", password="bench-password-123")
    source = services.create_source(None, unit=root, name="bench", kind="keyword", platform="x", query="bench")
    rng = random.Random(1)
    result: dict[str, object] = {"vendor": vendor}

    # Ingest: the real pipeline in batches of 1,000.
    posts = [Post(text=synthetic_text(rng), platform="x", external_id=f"i{i}", author="a") for i in range(ingest_n)]
    started = time.perf_counter()
    for start in range(0, ingest_n, 1000):
        services.ingest_posts(source, posts[start : start + 1000])
    seconds = time.perf_counter() - started
    result["ingest_posts_per_s"] = round(ingest_n / seconds)
    # Baseline: one ORM save per post, no enrichment (how a naive importer stores).
    sample = 2000
    started = time.perf_counter()
    for i in range(sample):
        ListenedItem.objects.create(source=source, unit=root, unit_path=root.path, platform="base",
                                    external_id=f"b{i}", text=synthetic_text(rng), created_at=timezone.now())
    result["baseline_row_by_row_posts_per_s"] = round(sample / (time.perf_counter() - started))
    from legation.listening.enrichment import enrich_batch

    texts = [p.text for p in posts[:10000]]
    started = time.perf_counter()
    enrich_batch(texts)  # type: ignore[arg-type]
    result["enrich_only_posts_per_s"] = round(len(texts) / (time.perf_counter() - started))
    try:
        import legation.nlp as nlp

        result["enrichment"] = "legation.nlp.enrich" if hasattr(nlp, "enrich") else "stand-in (nlp.enrich missing)"
    except ImportError:
        result["enrichment"] = "stand-in (nlp missing)"

    # A million stored posts, inserted in bulk (the full-text index follows by trigger / GIN).
    started = time.perf_counter()
    now = timezone.now()
    have = ListenedItem.objects.count()
    table = ListenedItem._meta.db_table
    columns = ("source_id", "unit_id", "unit_path", "platform", "external_id", "kind", "text", "author", "url",
               "created_at", "ingested_at", "language", "sentiment", "crisis_category", "places", "countries",
               "phones", "needs", "dup_signature")
    languages = ["en", "fr", "ar", "es", "id"]
    with transaction.atomic(), connection.cursor() as cursor:
        chunk = 20000
        for start in range(0, max(rows - have, 0), chunk):
            batch = [(source.pk, root.pk, root.path, "x", f"m{start + i}", "post", synthetic_text(rng), "a", "",
                      now, now, languages[i % 5], "neutral", "not_humanitarian", "[]", "", "[]", "[]", "")
                     for i in range(min(chunk, rows - have - start))]
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 - our names
            cursor.executemany(sql, batch)
        if vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
    result["stored_rows"] = ListenedItem.objects.count()
    result["bulk_load_seconds"] = round(time.perf_counter() - started, 1)

    def timed(fn) -> list[float]:  # type: ignore[no-untyped-def]
        out = []
        for term in terms:
            t0 = time.perf_counter()
            fn(term)
            out.append((time.perf_counter() - t0) * 1000)
        return out

    terms = [rng.choice(RARE) for _ in range(queries // 2)] + [rng.choice(WORDS) for _ in range(queries // 2)]
    filters = Filters(unit=root.pk)

    def full_text(term: str) -> None:
        items = search(person, term, filters)
        list(items[:50])
        capped_count(items)

    def baseline(term: str) -> None:
        items = search(person, "", filters).filter(text__icontains=term)
        list(items[:50])
        capped_count(items)

    def filtered(term: str) -> None:
        items = search(person, term, Filters(unit=root.pk, language="fr"))
        list(items[:50])

    for name, fn in (("search_full_text", full_text), ("search_full_text_with_language_filter", filtered),
                     ("baseline_like_scan", baseline)):
        fn(terms[0])  # warm caches
        latencies = sorted(timed(fn))
        result[name] = {"p50_ms": round(statistics.median(latencies), 1),
                        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1), "queries": len(latencies)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="posts stored before searching")
    parser.add_argument("--ingest", type=int, default=20_000, help="posts pushed through the ingest pipeline")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.rows, args.ingest, args.queries)))
        return 0
    report: dict[str, object] = {"rows": args.rows, "ingest_posts": args.ingest}
    for vendor in args.db.split(","):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "legation.settings",
               "LEGATION_DATA_DIR": tempfile.mkdtemp(prefix="legation-bench-")}
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
                                  str(args.queries)], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
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
