"""Awards per second and p99 latency with 32 clients on PostgreSQL, beside one client.

A fresh installation on PostgreSQL (skipped, with a note, when none is reachable) served by
``issuer serve --workers 2``: first one client sends ``POST /api/v1/awards`` back to back (the
single-request baseline: what one award costs end to end), then :data:`CLIENTS` clients do.

Targets (2-core machine): >= 1,000 awards/s with p99 < 50 ms and no errors at 32 clients.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.databases import fresh_database, postgres_admin_url
from bench.http import Load, _award_request, run_load, running_service
from bench.measures import Report, load_average, percentile

CLIENTS = 32
RATE_TARGET = 1000
P99_TARGET_MS = 50


def _row(report: Report, label: str, load: Load, *, targets: bool) -> None:
    p99 = percentile(load.latencies_ms, 0.99)
    if targets:
        report.at_least(f"{label}: awards/s", load.per_second, "awards/s", RATE_TARGET)
        report.below(f"{label}: p99 latency", p99, "ms", P99_TARGET_MS)
        report.exactly(f"{label}: errors", load.errors, f"of {load.completed}", 0)
    else:
        report.add(f"{label}: awards/s", load.per_second, "awards/s")
        report.add(f"{label}: p99 latency", p99, "ms")
        report.add(f"{label}: errors", load.errors, f"of {load.completed}")
    report.add(f"{label}: p50 latency", percentile(load.latencies_ms, 0.5), "ms")


def run(quick: bool = False) -> Report:
    report = Report(title=f"awards on PostgreSQL: {CLIENTS} clients against one, "
                          "issuer serve --workers 2")
    if postgres_admin_url() is None:
        report.notes.append("PostgreSQL is not reachable: nothing measured")
        return report
    seconds, cap = (3.0, 1500) if quick else (15.0, 20000)
    report.notes.append(f"load average at the start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="issuer-bench-conc-") as tmp:
        root = Path(tmp)
        with fresh_database("PostgreSQL", root) as url, running_service(url, root) as service:
            warm = run_load(service, _award_request, 201, seconds=2, cap=500, clients=4)
            start = warm.completed
            single = run_load(service, _award_request, 201, seconds=seconds, cap=cap,
                              start=start, clients=1)
            start += single.completed
            many = run_load(service, _award_request, 201, seconds=seconds, cap=cap,
                            start=start, clients=CLIENTS)
    _row(report, "1 client", single, targets=False)
    _row(report, f"{CLIENTS} clients", many, targets=True)
    if single.per_second:
        report.ratios[f"awards/s: {CLIENTS} clients / 1 client"] = (
            many.per_second / single.per_second)
    report.ratios[f"awards/s at {CLIENTS} clients / target {RATE_TARGET}"] = (
        many.per_second / RATE_TARGET)
    for load in (single, many):
        if load.errors:
            report.notes.append("errors, e.g. " + " | ".join(load.error_samples))
    report.notes.append(f"load average at the end: {load_average()}")
    return report
