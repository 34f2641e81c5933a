"""The server's CPU per request, against one raw Ed25519 signature timed in the same run.

For each database (SQLite; PostgreSQL too when reachable), a fresh installation served by
``issuer serve --workers 2`` answers ``POST /api/v1/awards``, ``POST /credentials/issue`` and
``POST /credentials/verify`` from :data:`CLIENTS` connections of ``wrk`` (:mod:`bench.wrk`),
or of the Python client's threads when wrk is not installed. The CPU time counted is the
server's alone: its gunicorn master and workers (their process group, read from ``/proc``),
not the client's, which shares the machine and is reported on a line of its own, as are a
PostgreSQL server's sessions for the database. Each kind of request is warmed up first, then
its CPU is read before and after a counted stretch.

The load generator's own CPU per request is reported too: wrk's is about 0.1 ms, the Python
client's 0.3–0.4 ms. Measured side by side on one machine, the server's CPU per request came
out within a few per cent under either (2.72 and 2.86 ms per award on SQLite).

``POST /api/v1/awards/batch`` is measured too, with :data:`bench.http.BATCH_AWARDS` awards
per request, and reported per award: what an integration that awards a cohort at once pays.

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
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import Timing, measure
from bench.baseline import SignatureClock, Yardstick
from bench.databases import backends, fresh_database
from bench.http import (
    BATCH_AWARDS,
    Load,
    RequestFactory,
    Service,
    _award_request,
    _batch_request,
    _issue_request,
    _verify_request,
    run_load,
    running_service,
)
from bench.measures import Report, group_cpu_s, load_average, processes_cpu_s
from bench.wrk import WrkLoad, run_wrk
from bench.wrk import available as wrk_available

#: Clients sending at once: enough to keep both workers busy, few enough not to starve them.
CLIENTS = 8
#: Seconds of each counted stretch, and of its warm-up, under wrk (full run, quick run).
WRK_SECONDS, WRK_WARMUP_SECONDS = (10.0, 3.0), (3.0, 1.0)
#: Answers kept from each stretch, to check (awards: the credentials verify checks).
KEEP = 200
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
    #: The load generator's CPU per request (wrk's, or the Python client's threads').
    client_ms: float
    counted: int
    #: The raw signature, timed while this request type was measured.
    sign: Yardstick
    #: A reference request (no target): what any request, or any authenticated one, costs.
    floor: bool = False
    #: What the figures are per: a request, or an award of a batch request.
    unit: str = "request"


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
    client_ms: float
    answered: int
    sign: Yardstick
    bodies: list[bytes]


def cpu_per_request(service: Service, make: RequestFactory, expected: int, *, count: int,
                    warmup: int, quick: bool = False) -> Stretch:
    """Server, database and client CPU milliseconds per answered request, the number
    answered, the signature's cost meanwhile, and up to :data:`KEEP` answers."""
    send: Callable[..., Load | WrkLoad]
    if wrk_available():
        seconds, warm_seconds = WRK_SECONDS[quick], WRK_WARMUP_SECONDS[quick]
        send = partial(run_wrk, service, make, expected, clients=CLIENTS)
        warm = send(seconds=warm_seconds)
        stretch = partial(send, seconds=seconds, keep=KEEP)
    else:
        send = partial(run_load, service, make, expected, clients=CLIENTS)
        warm = send(seconds=120, cap=warmup)
        stretch = partial(send, seconds=300, cap=count)
    with SignatureClock() as clock:
        server0, database0 = group_cpu_s(service.group), _database_cpu_s(service)
        load = stretch(start=warm.completed)
        server = group_cpu_s(service.group) - server0
        database = _database_cpu_s(service) - database0
    if load.errors or warm.errors:
        raise RuntimeError("errors while measuring: " + " | ".join(
            (warm.error_samples + load.error_samples)[:3]))
    answered = max(1, load.ok)
    return Stretch(server * 1000.0 / answered, database * 1000.0 / answered,
                   load.client_cpu_s * 1000.0 / answered, load.ok, clock.yardstick(),
                   (warm.ok_bodies + load.ok_bodies)[:KEEP])


def measure_backend(backend: str, quick: bool) -> list[Cost]:
    count, warmup = (300, 60) if quick else (3000, 300)
    costs: list[Cost] = []
    with tempfile.TemporaryDirectory(prefix="issuer-bench-cpu-") as tmp:
        root = Path(tmp)
        with fresh_database(backend, root) as url, running_service(url, root) as service:
            awards = cpu_per_request(service, _award_request, 201, count=count,
                                     warmup=warmup, quick=quick)
            costs.append(_cost(backend, "POST /api/v1/awards", awards))
            batches = cpu_per_request(service, _batch_request, 201, count=count // 10,
                                      warmup=max(1, warmup // 10), quick=quick)
            costs.append(_cost(backend, f"POST /api/v1/awards/batch ({BATCH_AWARDS} awards "
                               "a request)", batches, per=BATCH_AWARDS))
            awarded = [json.dumps(json.loads(b)["credential"], ensure_ascii=False,
                                  separators=(",", ":")) for b in awards.bodies[:200]]
            costs.append(_cost(backend, "POST /credentials/issue", cpu_per_request(
                service, _issue_request(service.base), 201, count=count, warmup=warmup,
                quick=quick)))
            costs.append(_cost(backend, "POST /credentials/verify", cpu_per_request(
                service, _verify_request(awarded), 200, count=count, warmup=warmup,
                quick=quick)))
            for label, path in FLOORS:
                costs.append(_cost(backend, label, cpu_per_request(
                    service, _get(path), 200, count=count, warmup=warmup, quick=quick),
                    floor=True))
    return costs


def _cost(backend: str, label: str, stretch: Stretch, *, floor: bool = False,
          per: int = 1) -> Cost:
    """``stretch``'s cost per request, or per award of a request that makes ``per``."""
    return Cost(backend, label, stretch.server_ms / per, stretch.database_ms / per,
                stretch.client_ms / per, stretch.answered, stretch.sign, floor,
                "request" if per == 1 else "award")


def report_costs(report: Report, costs: list[Cost], run_sign_ms: float) -> None:
    for cost in costs:
        name = f"{cost.backend} {cost.label}"
        report.add(f"{name}: server CPU per {cost.unit}", cost.server_ms, "ms")
        if cost.database_ms:
            report.add(f"{name}: PostgreSQL CPU per {cost.unit}", cost.database_ms, "ms")
        report.add(f"{name}: load generator's CPU per {cost.unit}", cost.client_ms, "ms")
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
    report.notes.append(
        f"load generator: wrk, {CLIENTS} connections" if wrk_available() else
        f"load generator: the Python client, {CLIENTS} threads (wrk is not installed, "
        "Debian: wrk, or ISSUER_BENCH_LOAD=python)")
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
