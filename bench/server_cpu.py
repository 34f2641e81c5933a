"""The server's CPU per request, against one raw Ed25519 signature timed in the same run.

For each database (SQLite; PostgreSQL too when reachable), a fresh installation served by
``issuer serve --workers 2`` answers ``POST /api/v1/awards``, ``POST /credentials/issue`` and
``POST /credentials/verify`` from :data:`CLIENTS` client threads. The CPU time counted is the
server's alone: its gunicorn master and workers (their process group, read from ``/proc``),
not the benchmark's client threads, which share the machine; a PostgreSQL server's sessions
for the database are reported on a line of their own. Each kind of request is warmed up
first, then its CPU is read before and after a counted stretch.

Target: each request costs the server at most 60 raw Ed25519 signatures of CPU, with every
credential stored, status-listed, signed and verifiable (``bench http`` fetches and verifies
them all).

The yardstick of each request type is the raw signature timed *while* it is measured
(:class:`bench.baseline.SignatureClock`): the speed of this machine's cores changes by a
fifth within a minute, which a baseline timed once per run cannot follow. The signature
timed before and after the whole run is printed too, for reference.

Two requests that do no work of their own are measured last, as the floor of the stack
(gunicorn, Flask, the request hooks and the access log; no target): ``GET /healthz``, which
reads nothing, and ``GET /api/v1/issuer``, which checks the bearer token (one query) and
answers the token's issuer. What a request costs above the second is its own work.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import Timing, measure
from bench.baseline import SignatureClock, Yardstick
from bench.databases import backends, fresh_database
from bench.http import (
    RequestFactory,
    Service,
    _award_request,
    _issue_request,
    _verify_request,
    run_load,
    running_service,
)
from bench.measures import Report, group_cpu_s, load_average, processes_cpu_s

#: Clients sending at once: enough to keep both workers busy, few enough not to starve them.
CLIENTS = 8
#: Server CPU per request, in raw Ed25519 signatures.
RATIO_TARGET = 60.0


def raw_signature(quick: bool) -> Timing:
    """One raw Ed25519 signature of 64 bytes (``cryptography``): the floor of any award."""
    key = Ed25519PrivateKey.generate()
    message = bytes(range(64))
    return measure("raw Ed25519 sign (64 B)", lambda: key.sign(message),
                   samples=7 if quick else 21)


def _database_cpu_s(service: Service) -> float:
    if not service.database:
        return 0.0
    name = f" {service.database} "
    return processes_cpu_s(lambda _group, command: command.startswith("postgres:")
                           and name in command)


@dataclass(frozen=True)
class Cost:
    """What one kind of request cost: CPU milliseconds per answered request."""

    backend: str
    label: str
    server_ms: float
    database_ms: float
    counted: int
    #: The raw signature, timed while this request type was measured.
    sign: Yardstick
    #: A reference request (no target): what any request, or any authenticated one, costs.
    floor: bool = False


def _get(path: str) -> RequestFactory:
    def make(_number: int) -> tuple[str, str, bytes]:
        return "GET", path, b""
    return make


#: The floor of the stack, measured after the others so that every cache is as warm.
FLOORS = (("GET /healthz (the stack's floor)", "/healthz"),
          ("GET /api/v1/issuer (token check, small answer)", "/api/v1/issuer"))


@dataclass(frozen=True)
class Stretch:
    """One request type's counted stretch."""

    server_ms: float
    database_ms: float
    answered: int
    sign: Yardstick
    bodies: list[bytes]


def cpu_per_request(service: Service, make: RequestFactory, expected: int, *, count: int,
                    warmup: int) -> Stretch:
    """Server and database CPU milliseconds per answered request, the number answered, the
    signature's cost meanwhile, and the answers (warm-up included)."""
    warm = run_load(service, make, expected, seconds=120, cap=warmup, clients=CLIENTS)
    with SignatureClock() as clock:
        server0, database0 = group_cpu_s(service.group), _database_cpu_s(service)
        load = run_load(service, make, expected, seconds=300, cap=count,
                        start=warm.completed, clients=CLIENTS)
        server = group_cpu_s(service.group) - server0
        database = _database_cpu_s(service) - database0
    if load.errors or warm.errors:
        raise RuntimeError("errors while measuring: " + " | ".join(
            (warm.error_samples + load.error_samples)[:3]))
    answered = max(1, load.ok)
    return Stretch(server * 1000.0 / answered, database * 1000.0 / answered, load.ok,
                   clock.yardstick(), warm.ok_bodies + load.ok_bodies)


def measure_backend(backend: str, quick: bool) -> list[Cost]:
    count, warmup = (300, 60) if quick else (3000, 300)
    costs: list[Cost] = []
    with tempfile.TemporaryDirectory(prefix="issuer-bench-cpu-") as tmp:
        root = Path(tmp)
        with fresh_database(backend, root) as url, running_service(url, root) as service:
            awards = cpu_per_request(service, _award_request, 201, count=count,
                                     warmup=warmup)
            costs.append(_cost(backend, "POST /api/v1/awards", awards))
            awarded = [json.dumps(json.loads(b)["credential"], ensure_ascii=False,
                                  separators=(",", ":")) for b in awards.bodies[:200]]
            costs.append(_cost(backend, "POST /credentials/issue", cpu_per_request(
                service, _issue_request(service.base), 201, count=count, warmup=warmup)))
            costs.append(_cost(backend, "POST /credentials/verify", cpu_per_request(
                service, _verify_request(awarded), 200, count=count, warmup=warmup)))
            for label, path in FLOORS:
                costs.append(_cost(backend, label, cpu_per_request(
                    service, _get(path), 200, count=count, warmup=warmup), floor=True))
    return costs


def _cost(backend: str, label: str, stretch: Stretch, *, floor: bool = False) -> Cost:
    return Cost(backend, label, stretch.server_ms, stretch.database_ms, stretch.answered,
                stretch.sign, floor)


def report_costs(report: Report, costs: list[Cost], run_sign_ms: float) -> None:
    for cost in costs:
        name = f"{cost.backend} {cost.label}"
        report.add(f"{name}: server CPU per request", cost.server_ms, "ms")
        if cost.database_ms:
            report.add(f"{name}: PostgreSQL CPU per request", cost.database_ms, "ms")
        ratio = cost.server_ms / cost.sign.ms
        report.ratios[f"{name}: server CPU / raw Ed25519 sign"] = ratio
        report.ratios[f"{name}: (against the run's before/after signature)"] = (
            cost.server_ms / run_sign_ms)
        if cost.floor:
            report.add(f"{name}: server CPU in signatures", ratio, "x")
        else:
            report.at_most(f"{name}: server CPU in signatures", ratio, "x", RATIO_TARGET)
        report.notes.append(
            f"{name}: {cost.counted} requests counted; raw signature meanwhile "
            f"{cost.sign.ms * 1000:.1f} µs (batches {cost.sign.fastest_ms * 1000:.1f}–"
            f"{cost.sign.slowest_ms * 1000:.1f} µs, {cost.sign.batches} of them)")


def run(quick: bool = False) -> Report:
    report = Report(title="server CPU per request (gunicorn master and 2 workers) against "
                          "one raw Ed25519 signature in the same run")
    report.notes.append(f"load average at the start: {load_average()}")
    before = raw_signature(quick)
    costs = [cost for backend in backends() for cost in measure_backend(backend, quick)]
    after = raw_signature(quick)
    # The baseline is timed before and after the requests; the faster of the two is the
    # machine's speed with the least interference from other processes.
    sign = min(before, after, key=lambda t: t.ms_per_op)
    report.timings.append(sign)
    report_costs(report, costs, sign.ms_per_op)
    report.notes.append(f"load average at the end: {load_average()}")
    return report
