"""Medians and 99th percentiles of latency samples, in milliseconds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def p99(samples: Sequence[float]) -> float:
    """The nearest-rank 99th percentile: with fewer than 100 samples it is the largest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """n, p50 and p99 of `seconds`, given in milliseconds; empty samples give n = 0 only."""
    if not seconds:
        return {"n": 0}
    return {"n": len(seconds), "p50_ms": round(statistics.median(seconds) * 1000, 1), "p99_ms": round(p99(seconds) * 1000, 1)}
