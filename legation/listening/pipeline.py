"""Enriching the next batches in other processes while this one is stored: a stream of batches in, results out.

Storing a batch (one transaction, in this process) and enriching the next ones (CPU-bound model code) overlap:
``stream`` prepares batch k+1 (checks, de-duplication) and hands its texts to a pool of enrichment processes
before it writes batch k. Each batch is still enriched in one call and written in its own transaction, in
order, with its cursor when it has one (``commit``), so a worker killed between two batches has lost nothing
and stored nothing twice: the cursor moved with the rows. An enrichment process that dies only costs time: its
batch is enriched again here. Batches of an earlier, unwritten batch count as duplicates (``in_flight``), as
they would once it is written.

The pool is started on first use and kept for the life of the process (a task worker, the CLI); its size is
``settings.LISTENING_ENRICH_PROCESSES`` (default: one less than the cores, at most 4; 0 enriches in this
process, as does a stream of a single batch). Each process loads the models once (about 2 s, 250-300 MB).
The processes are started with "spawn" (no copy of this process's database connections): like any
multiprocessing code, a script that streams must keep its top level behind ``if __name__ == "__main__"``
(``legation`` and ``manage.py`` do); otherwise the pool breaks and every batch is enriched here, slowly.

Measured (bench/listening_ingest.py, 2 cores, quiet machine, one enrichment process): 8,640 (SQLite) and
8,740 (PostgreSQL) posts/s against 4,130 and 4,430 with everything in one process; CPU per 1,000 posts:
SQLite 94 ms in the writer (FTS5 indexing is most of the insert) and 104 ms in the enrichment process;
PostgreSQL 34 ms writer + 52 ms database backend, 104 ms enrichment.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from django.conf import settings

from legation.listening.enrichment import Enriched, enrich_batch, leave_with_parent
from legation.listening.ingest import IngestResult, Post, Prepared, Rejected, prepare
from legation.listening.models import ListeningSource

logger = logging.getLogger(__name__)

MAX_PROCESSES = 4


@dataclass
class Batch:
    """Posts to ingest together, the cursor to store with them (None: leave it), lines already refused."""

    posts: list[Post]
    cursor: str | None = None
    rejected: list[Rejected] = field(default_factory=list)


def enrich_processes() -> int:
    """How many enrichment processes a stream uses (0: enrich in this process)."""
    configured = getattr(settings, "LISTENING_ENRICH_PROCESSES", None)
    if configured is not None:
        return max(0, int(configured))
    return max(1, min(MAX_PROCESSES, (os.cpu_count() or 2) - 1))


class Enricher:
    """Enriches texts in a pool of processes; falls back to this process when the pool is gone or broken."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, texts: list[str], tier: str) -> Callable[[], list[Enriched]]:
        """Start enriching; the returned function waits for the records (one per text, in order)."""
        if not texts:
            return list
        pool = self._running_pool()
        if pool is None:
            return lambda: enrich_batch(texts, tier=tier)
        try:
            future: Future[list[Enriched]] = pool.submit(enrich_batch, texts, tier)
        except (BrokenProcessPool, RuntimeError):
            self._discard(pool)
            return lambda: enrich_batch(texts, tier=tier)

        def wait() -> list[Enriched]:
            try:
                return future.result()
            except BrokenProcessPool:  # a process died (killed, out of memory): enrich the batch here instead
                logger.warning("listening: an enrichment process died; enriching its batch in this process")
                self._discard(pool)
                return enrich_batch(texts, tier=tier)

        return wait

    def pids(self) -> list[int]:
        """The process ids of the pool (none before its first batch); for accounting."""
        pool = self._pool
        return list(pool._processes or {}) if pool is not None else []  # noqa: SLF001 - no public accessor

    def _running_pool(self) -> ProcessPoolExecutor | None:
        if self.processes < 1:
            return None
        with self._lock:
            if self._pool is None:
                # "spawn": a fresh interpreter, no copy of this process's database connections or threads.
                # Each process leaves when this one is gone, even killed (``leave_with_parent``).
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=leave_with_parent, initargs=(os.getpid(),))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_shared: Enricher | None = None
_shared_lock = threading.Lock()


def shared_enricher() -> Enricher:
    """The process's enrichment pool (started on first submit, stopped at exit)."""
    global _shared
    with _shared_lock:
        wanted = enrich_processes()
        if _shared is None or _shared.processes != wanted:
            if _shared is not None:
                _shared.close()
            _shared = Enricher(wanted)
            atexit.register(_shared.close)
        return _shared


def stream(source: ListeningSource, batches: Iterable[Batch],
           commit: Callable[[Prepared, Sequence[Enriched], str | None], IngestResult], *,
           tier: str = "fast", enricher: Enricher | None = None) -> Iterator[IngestResult]:
    """Ingest batches in order, each written by ``commit`` once enriched; yields each batch's result after its
    commit. Up to one batch per enrichment process is prepared and enriching while the oldest is written."""
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return
    second = next(iterator, None)
    if second is None:
        enricher = Enricher(0)  # one batch: nothing to overlap with, no process to wait for
    elif enricher is None:
        enricher = shared_enricher()
    ahead = max(1, enricher.processes)
    pending: deque[tuple[Prepared, Callable[[], list[Enriched]], Batch]] = deque()
    in_flight: set[tuple[str, str]] = set()

    def finish() -> IngestResult:
        prepared, wait, batch = pending.popleft()
        # The lines the reader refused go with the batch's own refusals: the commit keeps them on the source,
        # in the transaction that moves its cursor past them.
        prepared.result.rejected.extend(batch.rejected)
        prepared.result.received += len(batch.rejected)
        result = commit(prepared, wait(), batch.cursor)
        in_flight.difference_update(prepared.keys)
        return result

    def chained() -> Iterator[Batch]:
        yield first
        if second is not None:
            yield second
            yield from iterator

    for batch in chained():
        prepared = prepare(source, batch.posts, in_flight=in_flight)
        in_flight.update(prepared.keys)
        pending.append((prepared, enricher.submit(prepared.texts, tier), batch))
        if len(pending) > ahead:
            yield finish()
    while pending:
        yield finish()
