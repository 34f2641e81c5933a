"""Benchmarks: ``python -m bench`` runs them all, ``python -m bench NAME ...`` some of them.

Each benchmark is a module of this package with a ``run(quick: bool) -> Result`` function;
``bench.__main__.BENCHMARKS`` lists them. Timings use :func:`measure`: warm-up calls, then
repeated samples of ``time.perf_counter`` around a batch of calls, reporting the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Timing:
    """The median cost of one operation, from ``samples`` batches of ``batch`` calls."""

    name: str
    ms_per_op: float
    samples: int
    batch: int
    spread_ms: tuple[float, float]  # fastest and slowest sample, per operation

    @property
    def ops_per_s(self) -> float:
        return 1000.0 / self.ms_per_op if self.ms_per_op > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ms_per_op": self.ms_per_op,
            "ops_per_s": self.ops_per_s,
            "samples": self.samples,
            "batch": self.batch,
            "min_ms": self.spread_ms[0],
            "max_ms": self.spread_ms[1],
        }


@dataclass
class Result:
    """What one benchmark module reports: timings, ratios between them, and notes."""

    title: str
    timings: list[Timing] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "timings": [t.as_dict() for t in self.timings],
            "ratios": self.ratios,
            "notes": self.notes,
        }


def measure(
    name: str,
    operation: Callable[[], object],
    *,
    samples: int = 21,
    warmup: int = 3,
    min_sample_s: float = 0.005,
) -> Timing:
    """Time ``operation``: ``warmup`` calls, then ``samples`` batches, each batch as many
    calls as make it last at least ``min_sample_s`` (so that timer resolution and call
    overhead do not dominate fast operations). Returns the median per-call time."""
    for _ in range(warmup):
        operation()
    start = time.perf_counter()
    operation()
    single = time.perf_counter() - start
    batch = max(1, int(min_sample_s / single) if single > 0 else 1000)
    per_op: list[float] = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(batch):
            operation()
        per_op.append((time.perf_counter() - start) / batch)
    return Timing(
        name=name,
        ms_per_op=statistics.median(per_op) * 1000.0,
        samples=samples,
        batch=batch,
        spread_ms=(min(per_op) * 1000.0, max(per_op) * 1000.0),
    )
