"""Fault test with real processes: the worker is killed at each step of a delivery, then a new worker finishes.

Every post ends on every account exactly once.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(env: dict[str, str], *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    run_env = {**env, "LEGATION_DELIVERY_LEASE_SECONDS": "1", "LEGATION_DELIVERY_CONCURRENCY": "4"}
    if crash_at:
        run_env["LEGATION_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "legation.cli", *args], env=run_env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def site(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "LEGATION_DATA_DIR": str(tmp_path), "LEGATION_TASK_BACKEND": "database"}
    env.pop("DATABASE_URL", None)  # a file database that several processes share, as in a real deployment
    seeded = _cli(env, "demo", "--seed-only")
    assert seeded.returncode == 0, seeded.stderr
    return env


@pytest.mark.parametrize("step", ["claimed", "sent"])
def test_worker_killed_at_each_step_then_each_post_is_on_each_account_once(site, tmp_path, step):
    db = sqlite3.connect(tmp_path / "legation.sqlite3")
    accounts = [row[0] for row in db.execute(
        "SELECT a.id FROM network_officialaccount a JOIN network_unit u ON u.id = a.unit_id "
        "WHERE a.platform = 'sandbox' AND u.name = 'Embassy in Cairo' ORDER BY a.id")]
    (unit,) = db.execute("SELECT id FROM network_unit WHERE name = 'Embassy in Cairo'").fetchone()
    db.close()
    published = _cli(site, "publish", "--as", "cairo-officer", "--unit", str(unit), "--language", "ar",
                     "--text", "مواعيد القنصلية: من التاسعة حتى الثانية عشرة",
                     *[arg for a in accounts for arg in ("--account", f"{a}:ar")])
    assert published.returncode == 0, published.stderr
    crashed = _cli(site, "worker", "--batch", crash_at=step)
    assert crashed.returncode == 137, crashed.stderr  # killed mid-delivery
    import time

    time.sleep(1.5)  # the dead worker's lease runs out
    finished = _cli(site, "worker", "--batch")
    assert finished.returncode == 0, finished.stderr
    db = sqlite3.connect(tmp_path / "legation.sqlite3")
    per_account = dict(db.execute(
        "SELECT m.handle, COUNT(*) FROM sandbox_post p JOIN sandbox_member m ON m.id = p.author_id "
        "WHERE p.text LIKE 'مواعيد القنصلية%' GROUP BY m.handle"))
    statuses = [row[0] for row in db.execute("SELECT status FROM publishing_delivery")]
    assert len(per_account) == len(accounts) == 2
    assert set(per_account.values()) == {1}
    assert statuses == ["delivered"] * len(accounts)
