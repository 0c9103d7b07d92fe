"""Benchmark: one post to 500 Mastodon accounts through a local fake platform; prints JSON figures.

Everything goes the way it does in use: a fresh file database (SQLite in a temporary directory, or a scratch
PostgreSQL database with ``--postgres URL``) with the migrations applied, the accounts registered, approved and
given tokens through ``legation.network.services``, the post drafted and submitted through
``legation.publishing.services``, and the deliveries sent by ``legation.publishing.delivery.run_due()``
(``LEGATION_DELIVERY_CONCURRENCY`` threads, 32 by default), called again as the worker does until nothing is
left. The platform is ``legation/publishing/tests/fake_mastodon.py`` in its own process: 200 ms added to every
answer and a rate limit per address (all our requests come from one) as well as Mastodon's per-token one.

The clock runs from ``submit()`` to the moment the last delivery is recorded as delivered. Duplicates are
counted on the platform: statuses with the same text created more than once on one account (must be 0).

    .venv/bin/python bench/publish_fanout.py
    .venv/bin/python bench/publish_fanout.py --postgres postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Statement on the consular partnership: our missions open their doors this Saturday."


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the platform adds to every answer")
    parser.add_argument("--rate-limit", type=int, default=300, help="requests per window from one address")
    parser.add_argument("--window", type=float, default=5.0, help="the rate-limit window in seconds")
    parser.add_argument("--faults", default="{}", help='fault fractions for the platform, e.g. {"error_5xx": 0.05}')
    parser.add_argument("--postgres", metavar="URL", help="run on a scratch database of this PostgreSQL server")
    parser.add_argument("--target", type=float, default=30.0, help="seconds allowed for all to be delivered")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the delivery phase here")
    return parser.parse_args()


def _scratch_postgres(url: str) -> tuple[str, Any]:
    """Create a scratch database on the server of ``url``; returns its URL and a function that drops it."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"legation_bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _start_platform(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "legation.publishing.tests.fake_mastodon", "--port", "0",
               "--latency", str(args.latency), "--rate-limit", str(args.rate_limit), "--window", str(args.window),
               "--faults", args.faults]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http://"):
        proc.kill()
        raise SystemExit("the fake platform did not start")
    return proc, base_url


def _control(base_url: str, path: str, payload: Any = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(base_url + path, data=data, method="POST" if data else "GET",  # noqa: S310
                                     headers={"Content-Type": "application/json"})  # our own loopback server
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


def _seed(base_url: str, count: int) -> tuple[Any, Any, list[Any]]:
    """A ministry, an embassy, two admins and a publisher, and ``count`` approved Mastodon accounts."""
    from legation.network import services as network
    from legation.network.models import UnitKind

    ministry = network.create_root_unit(name="Ministry", country="VD", languages=["en"])
    admin = network.create_first_admin(unit=ministry, username="admin", password="bench-admin-password-1")
    second = network.create_person(admin, unit=ministry, username="admin2", role="admin")
    embassy = network.create_unit(admin, parent=ministry, name="Embassy", kind=UnitKind.EMBASSY, country="FR",
                                  languages=["en"])
    publisher = network.create_person(admin, unit=embassy, username="publisher", role="publisher")
    on_platform = _control(base_url, "/_fake/accounts", {"accounts": [
        {"username": f"mission_{n:03d}", "token": f"bench-token-{n:03d}"} for n in range(count)]})
    accounts = []
    for n, remote in enumerate(on_platform):
        account = network.register_account(admin, unit=embassy, platform="mastodon", handle=f"@mission_{n:03d}",
                                           config={"api_base_url": base_url, "account_id": remote["id"]})
        network.approve_account(second, account)
        network.set_credentials(admin, account, {"access_token": f"bench-token-{n:03d}"})
        accounts.append(account)
    return embassy, publisher, accounts


def _deliver_all() -> tuple[int, dict[str, int]]:
    """Call the worker's entry point until nothing is pending or being sent; wait for the earliest retry."""
    from django.db.models import Min

    from legation.publishing import delivery
    from legation.publishing.models import Delivery

    rounds = 0
    totals: dict[str, int] = {}
    while True:
        outcome = delivery.run_due()
        rounds += 1
        for key, value in outcome.items():
            totals[key] = totals.get(key, 0) + value
        open_ = Delivery.objects.filter(status__in=["pending", "sending"])
        if not open_.exists():
            return rounds, totals
        earliest = open_.aggregate(at=Min("not_before"))["at"]
        if earliest is not None:
            time.sleep(min(5.0, max(0.0, (earliest - datetime.now(UTC)).total_seconds())))


def main() -> int:
    args = _parse()
    work = tempfile.TemporaryDirectory(prefix="legation-bench-")
    os.environ["LEGATION_DATA_DIR"] = work.name
    os.environ["LEGATION_ALLOW_PRIVATE_HOSTS"] = "127.0.0.1"  # the fake platform; this process only
    os.environ.setdefault("LEGATION_TASK_BACKEND", "database")  # submit() enqueues; the bench runs the worker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legation.settings")
    drop = None
    if args.postgres:
        os.environ["DATABASE_URL"], drop = _scratch_postgres(args.postgres)
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    proc, base_url = _start_platform(args)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from legation.publishing import services
        from legation.publishing.services import VariantInput
        from legation.records import ledger
        from legation.records.models import Record

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        embassy, publisher, accounts = _seed(base_url, args.accounts)
        seed_seconds = time.perf_counter() - started
        post = services.create_post(publisher, unit=embassy, source_language="en", variants=[VariantInput("en", TEXT)],
                                    targets=[(a, "en") for a in accounts])

        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        services.submit(publisher, post)
        rounds, outcomes = _deliver_all()
        elapsed = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)

        created = _control(base_url, "/_fake/statuses")
        per_account = [created.get(f"mission_{n:03d}", []).count(TEXT) for n in range(args.accounts)]
        stats = _control(base_url, "/_fake/stats")
        statuses = _count_statuses(post)
        records = Record.objects.filter(action="delivery.publish_delivered", object_id=str(post.pk)).count()
        checked, broken = ledger.verify()
        figures = {
            "benchmark": "publish_fanout",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "database": connection.vendor,
            "accounts": args.accounts,
            "platform_latency_s": args.latency,
            "rate_limit": f"{args.rate_limit} requests / {args.window:g} s per address; 300 / 5 min per token",
            "faults": json.loads(args.faults),
            "concurrency": int(os.environ.get("LEGATION_DELIVERY_CONCURRENCY", "32")),
            "seconds_to_all_delivered": round(elapsed, 2),
            "target_s": args.target,
            "within_target": elapsed <= args.target,
            "delivered": statuses.get("delivered", 0),
            "delivery_statuses": statuses,
            "duplicates": sum(max(0, n - 1) for n in per_account),
            "missing": sum(1 for n in per_account if n == 0),
            "platform_statuses": stats["statuses"],
            "platform_requests": stats["requests"],
            "idempotent_replays": stats["idempotent_replays"],
            "run_due_calls": rounds,
            "outcomes": outcomes,
            "ledger_delivered_records": records,
            "ledger_chain_ok": broken is None,
            "ledger_records_checked": checked,
            "seed_seconds": round(seed_seconds, 1),
        }
        print(json.dumps(figures, indent=2))
        ok = (figures["duplicates"] == 0 and figures["missing"] == 0 and figures["delivered"] == args.accounts
              and records == args.accounts and broken is None)
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(10)
        if drop is not None:
            drop()
        work.cleanup()


def _count_statuses(post: Any) -> dict[str, int]:
    from django.db.models import Count

    from legation.publishing.models import Delivery

    rows = Delivery.objects.filter(post=post).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


if __name__ == "__main__":
    sys.exit(main())
