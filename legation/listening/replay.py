"""Pushing a file of posts through the whole pipeline at a steady rate, for the demo and for load tests."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from legation.listening import alerts, services
from legation.listening.importing import BadLine, read_posts
from legation.listening.ingest import IngestResult, Post, Rejected
from legation.listening.models import Alert, ListeningSource
from legation.listening.pipeline import Batch

ALERT_EVERY = 60.0  # seconds between alert checks during a replay, as the worker checks after each pull


@dataclass
class ReplayReport:
    result: IngestResult
    seconds: float
    alerts: int

    @property
    def rate(self) -> float:
        return self.result.received / self.seconds if self.seconds else 0.0


def replay(path: Path, source: ListeningSource, *, rate: float = 0, batch: int = 1000,
           progress: Callable[[IngestResult], None] | None = None) -> ReplayReport:
    """Ingest every post of the file into the source, ``rate`` posts a second (0: as fast as possible).

    The next batches are enriched in other processes while one is stored (``services.ingest_batches``).
    """
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"rate {rate} is not posts per second (0: no limit)")
    size = max(1, min(batch, int(rate))) if rate else batch
    total = IngestResult()
    started = time.monotonic()

    def batches() -> Iterator[Batch]:
        pending: list[Post] = []
        bad: list[Rejected] = []
        for record in read_posts(path):
            if isinstance(record, BadLine):
                bad.append(Rejected(record.line, record.reason))
            else:
                pending.append(record)
            if len(pending) + len(bad) >= size:
                yield Batch(pending, rejected=bad)
                pending, bad = [], []
        if pending or bad:
            yield Batch(pending, rejected=bad)

    raised: list[Alert] = []
    checked = time.monotonic()
    # On the ledger before the first post: a replay stopped half-way (killed, the machine down) is still
    # recorded, and the record at its end says what it stored.
    services.record_import_started(None, source, path.name)
    for result in services.ingest_batches(source, batches()):
        total.add(result)
        if progress:
            progress(total)
        if time.monotonic() - checked >= ALERT_EVERY:
            # A long replay is live listening: its spikes and stories alert while it runs, not at its end.
            raised += alerts.evaluate(source.unit)
            checked = time.monotonic()
        if rate:
            # Sleep until the posts sent so far are due at the asked rate.
            ahead = total.received / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    raised += alerts.evaluate(source.unit)
    services.record_import(None, source, path.name, total)
    total.rejected.sort(key=lambda r: r.position)
    return ReplayReport(result=total, seconds=time.monotonic() - started, alerts=len(raised))
