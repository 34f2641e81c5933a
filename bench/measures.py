"""Measurements that are not per-operation timings: throughput under load, latency
percentiles, error counts, elapsed time and memory, each with its target when it has one.

A benchmark that reports them returns a :class:`Report`, a :class:`bench.Result` that also
carries ``measures``; ``python -m bench`` prints them as a table and writes them to the JSON.
"""

from __future__ import annotations

import math
import os
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import Result


@dataclass(frozen=True)
class Measure:
    """One measured quantity, and whether it meets its target (None: no target)."""

    name: str
    value: float
    unit: str
    target: str | None = None
    met: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit,
                "target": self.target, "met": self.met}

    @property
    def text(self) -> str:
        shown = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:,.3g}"
        return f"{shown} {self.unit}"


@dataclass
class Report(Result):
    """A :class:`bench.Result` with :class:`Measure` rows."""

    measures: list[Measure] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str) -> Measure:
        measure = Measure(name, value, unit)
        self.measures.append(measure)
        return measure

    def at_least(self, name: str, value: float, unit: str, bound: float) -> Measure:
        measure = Measure(name, value, unit, f">= {bound:g}", value >= bound)
        self.measures.append(measure)
        return measure

    def below(self, name: str, value: float, unit: str, bound: float) -> Measure:
        measure = Measure(name, value, unit, f"< {bound:g}", value < bound)
        self.measures.append(measure)
        return measure

    def at_most(self, name: str, value: float, unit: str, bound: float) -> Measure:
        measure = Measure(name, value, unit, f"<= {bound:g}", value <= bound)
        self.measures.append(measure)
        return measure

    def exactly(self, name: str, value: float, unit: str, wanted: float) -> Measure:
        measure = Measure(name, value, unit, f"= {wanted:g}", value == wanted)
        self.measures.append(measure)
        return measure

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "measures": [m.as_dict() for m in self.measures]}


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 is the median, 0.99 the 99th)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --- who used the CPUs -------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_s() -> float | None:
    """CPU time all processes have used since boot (Linux ``/proc/stat``), or None."""
    try:
        first = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


def processes_cpu_s(match: Callable[[int, str], bool]) -> float:
    """CPU time used so far by the processes ``match(process group, command line)`` picks."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                "utf-8", "replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if match(int(fields[2]), command):
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def group_processes(group: int) -> dict[int, int]:
    """The processes of process group ``group``: pid → parent pid (Linux ``/proc``)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="utf-8", errors="replace").rsplit(
                ")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            found[int(entry.name)] = int(fields[1])
    return found


def group_cpu_s(group: int) -> float:
    """CPU time used so far by the processes of process group ``group`` (a server's master
    and workers), and by none other: not the benchmark's own client threads."""
    return processes_cpu_s(lambda g, _command: g == group)


def rss_bytes(pid: int) -> int | None:
    """The resident set size of process ``pid`` (``VmRSS``), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, as ``uptime`` shows them."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


@dataclass
class CpuUse:
    """CPU time over a stretch of wall time: the whole machine's, and the part the benchmark
    itself (its processes, the server it started, that server's database sessions) used."""

    elapsed_s: float
    machine_s: float
    ours_s: float

    @property
    def others_cores(self) -> float:
        """How many CPUs' worth other processes kept busy meanwhile."""
        return max(0.0, self.machine_s - self.ours_s) / self.elapsed_s


class CpuMeter:
    """Measures :class:`CpuUse` between :meth:`start` and :meth:`stop` (Linux only)."""

    def __init__(self, match: Callable[[int, str], bool]) -> None:
        self._match = match
        self._start: tuple[float, float, float] | None = None

    def _sample(self) -> tuple[float, float, float] | None:
        busy = machine_busy_s()
        if busy is None:
            return None
        usage = resource.getrusage(resource.RUSAGE_SELF)
        ours = usage.ru_utime + usage.ru_stime + processes_cpu_s(self._match)
        return time.monotonic(), busy, ours

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> CpuUse | None:
        end = self._sample()
        if self._start is None or end is None or end[0] <= self._start[0]:
            return None
        return CpuUse(end[0] - self._start[0], end[1] - self._start[1],
                      end[2] - self._start[2])
