"""Spike detection on volumes per key (term, place, language ...) over regular time buckets.

Each key keeps an exponentially weighted mean and variance of its count per bucket. A bucket is a spike when
its count is at least ``min_count``, at least ``min_ratio`` times the expected level, and improbable under a
Poisson law with the expected level as its mean (upper-tail p-value below ``p_value``); the variance widens
the expectation for keys that are bursty by nature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spike:
    """A key whose count in the current bucket is abnormally high."""

    key: str
    count: float
    expected: float
    z_score: float
    p_value: float


@dataclass
class _Level:
    mean: float
    var: float
    seen: int


def poisson_upper_tail(k: float, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam) (normal approximation with continuity correction for large lam)."""
    if k <= 0:
        return 1.0
    lam = max(lam, 1e-9)
    if lam > 200:
        z = (k - 0.5 - lam) / math.sqrt(lam)
        return 0.5 * math.erfc(z / math.sqrt(2))
    k_int = math.ceil(k)
    # 1 - P(X <= k-1), summed in log space for stability.
    term = math.exp(-lam)
    cdf = term
    for i in range(1, k_int):
        term *= lam / i
        cdf += term
    return max(0.0, 1.0 - cdf)


class SpikeDetector:
    """Streaming spike detector: call :meth:`update` once per time bucket with the counts per key."""

    def __init__(
        self,
        alpha: float = 0.1,
        min_count: float = 10,
        min_ratio: float = 3.0,
        p_value: float = 1e-4,
        warmup: int = 3,
        prior: float = 1.0,
    ) -> None:
        self.alpha = alpha
        self.min_count = min_count
        self.min_ratio = min_ratio
        self.p_value = p_value
        self.warmup = warmup
        self.prior = prior
        self.levels: dict[str, _Level] = {}
        self.buckets = 0

    def update(self, counts: Mapping[str, float]) -> list[Spike]:
        """Score this bucket's counts against each key's history, then learn from them."""
        self.buckets += 1
        spikes: list[Spike] = []
        for key, level in self.levels.items():
            if key not in counts:  # a bucket without the key is a zero count
                self._learn(level, 0.0)
        for key, count in counts.items():
            known = self.levels.get(key)
            if known is None:
                # A new key starts from a small prior level, so a sudden new term can spike at once.
                level = self.levels[key] = _Level(self.prior, self.prior, 0)
                seen_enough = self.buckets > self.warmup
            else:
                level = known
                seen_enough = level.seen >= self.warmup or self.buckets > self.warmup
            expected = max(level.mean, self.prior * 0.1)
            spread = math.sqrt(max(level.var, expected))
            z = (count - expected) / spread
            p = poisson_upper_tail(count, expected + max(0.0, level.var - expected) ** 0.5)
            if (seen_enough and count >= self.min_count and count >= self.min_ratio * expected
                    and p <= self.p_value):
                spikes.append(Spike(key, float(count), expected, z, p))
            self._learn(level, float(count))
        spikes.sort(key=lambda s: -s.z_score)
        return spikes

    def _learn(self, level: _Level, x: float) -> None:
        a = self.alpha
        diff = x - level.mean
        level.mean += a * diff
        level.var = (1 - a) * (level.var + a * diff * diff)
        level.seen += 1


def detect_spikes(series: Sequence[float], **options: float) -> list[bool]:
    """For one key's counts over consecutive buckets: which buckets are spikes."""
    detector = SpikeDetector(**options)  # type: ignore[arg-type]
    return [bool(detector.update({"k": float(x)})) for x in series]
