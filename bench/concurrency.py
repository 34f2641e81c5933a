"""Awards per second and p99 latency with 32 clients on PostgreSQL, beside one client.

A fresh installation on PostgreSQL (skipped, with a note, when none is reachable) served by
``issuer serve --workers 2``: first one client sends ``POST /api/v1/awards`` back to back (the
single-request baseline: what one award costs end to end), then :data:`CLIENTS` clients do.
The clients are ``wrk``'s connections (:mod:`bench.wrk`), or the Python client's threads
when wrk is not installed (said in the report; they spend three times wrk's CPU). The CPU of
the server, of PostgreSQL and of the load generator per award is reported beside the rate:
their sum against the machine's cores bounds the rate.

Then the same clients send ``POST /api/v1/awards/batch`` with :data:`bench.http.BATCH_AWARDS`
awards each: the rate an integration awarding cohorts gets (awards/s; latency per request).

Targets (2-core machine): >= 1,000 awards/s with p99 < 50 ms and no errors at 32 clients.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.databases import fresh_database, postgres_admin_url
from bench.http import (
    BATCH_AWARDS,
    Load,
    RequestFactory,
    Service,
    _award_request,
    _batch_request,
    run_load,
    running_service,
)
from bench.measures import Report, group_cpu_s, load_average, processes_cpu_s
from bench.wrk import WrkLoad, run_wrk
from bench.wrk import available as wrk_available

CLIENTS = 32
RATE_TARGET = 1000
P99_TARGET_MS = 50


@dataclass(frozen=True)
class Phase:
    """One load phase: its rate, latencies, errors, and CPU milliseconds per award."""

    per_second: float
    p50_ms: float
    p99_ms: float
    completed: int
    errors: int
    error_samples: list[str]
    server_ms: float
    database_ms: float
    client_ms: float


def _phase(service: Service, clients: int, *, seconds: float, cap: int, start: int,
           make: RequestFactory = _award_request, per: int = 1) -> tuple[Phase, int]:
    """One phase of ``clients`` clients, and the number of requests it sent; with ``per``
    awards in each request (a batch), rates and CPU are per award, latencies per request."""
    def database() -> float:
        return processes_cpu_s(lambda _group, command: command.startswith("postgres:")
                               and f" {service.database} " in command)

    server0, database0 = group_cpu_s(service.group), database()
    load: Load | WrkLoad = (
        run_wrk(service, make, 201, seconds=seconds, clients=clients, start=start)
        if wrk_available() else
        run_load(service, make, 201, seconds=seconds, cap=cap, start=start,
                 clients=clients))
    server, used_db = group_cpu_s(service.group) - server0, database() - database0
    answered = max(1, load.ok * per)
    return Phase(load.per_second * per, load.p50_ms, load.p99_ms, load.completed, load.errors,
                 load.error_samples, server * 1000.0 / answered, used_db * 1000.0 / answered,
                 load.client_cpu_s * 1000.0 / answered), load.completed


def _row(report: Report, label: str, phase: Phase, *, targets: bool) -> None:
    if targets:
        report.at_least(f"{label}: awards/s", phase.per_second, "awards/s", RATE_TARGET)
        report.below(f"{label}: p99 latency", phase.p99_ms, "ms", P99_TARGET_MS)
        report.exactly(f"{label}: errors", phase.errors, f"of {phase.completed}", 0)
    else:
        report.add(f"{label}: awards/s", phase.per_second, "awards/s")
        report.add(f"{label}: p99 latency", phase.p99_ms, "ms")
        report.add(f"{label}: errors", phase.errors, f"of {phase.completed}")
    report.add(f"{label}: p50 latency", phase.p50_ms, "ms")
    report.add(f"{label}: server CPU per award", phase.server_ms, "ms")
    report.add(f"{label}: PostgreSQL CPU per award", phase.database_ms, "ms")
    report.add(f"{label}: load generator's CPU per award", phase.client_ms, "ms")
    total = phase.server_ms + phase.database_ms + phase.client_ms
    cores = os.cpu_count() or 1
    report.add(f"{label}: awards/s the cores allow at that CPU per award",
               cores * 1000.0 / total if total else 0.0, "awards/s")


def run(quick: bool = False) -> Report:
    report = Report(title=f"awards on PostgreSQL: {CLIENTS} clients against one, "
                          "issuer serve --workers 2")
    if postgres_admin_url() is None:
        report.notes.append("PostgreSQL is not reachable: nothing measured")
        return report
    seconds, cap = (3.0, 1500) if quick else (15.0, 20000)
    report.notes.append(f"load average at the start: {load_average()}")
    report.notes.append(
        "load generator: wrk" if wrk_available() else
        "load generator: the Python client (wrk is not installed, Debian: wrk, or "
        "ISSUER_BENCH_LOAD=python)")
    with tempfile.TemporaryDirectory(prefix="issuer-bench-conc-") as tmp:
        root = Path(tmp)
        with fresh_database("PostgreSQL", root) as url, running_service(url, root) as service:
            warm = run_load(service, _award_request, 201, seconds=2, cap=500, clients=4)
            start = warm.completed
            single, sent = _phase(service, 1, seconds=seconds, cap=cap, start=start)
            many, _ = _phase(service, CLIENTS, seconds=seconds, cap=cap, start=start + sent)
            batched, _ = _phase(service, CLIENTS, seconds=seconds, cap=cap // BATCH_AWARDS,
                                start=0, make=_batch_request, per=BATCH_AWARDS)
    _row(report, "1 client", single, targets=False)
    _row(report, f"{CLIENTS} clients", many, targets=True)
    _row(report, f"{CLIENTS} clients, {BATCH_AWARDS} awards per request (batch; latency "
                 "per request)", batched, targets=False)
    if single.per_second:
        report.ratios[f"awards/s: {CLIENTS} clients / 1 client"] = (
            many.per_second / single.per_second)
    report.ratios[f"awards/s at {CLIENTS} clients / target {RATE_TARGET}"] = (
        many.per_second / RATE_TARGET)
    for phase in (single, many, batched):
        if phase.errors:
            report.notes.append("errors, e.g. " + " | ".join(phase.error_samples))
    report.notes.append(f"load average at the end: {load_average()}")
    return report
