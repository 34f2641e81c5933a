"""Issuance and verification over HTTP through the production server, and in-process.

For each database (SQLite; PostgreSQL too when reachable, see :mod:`bench.databases`):

1. a fresh installation set up with the CLI (``issuer init``, ``issuer issuers create``,
   ``issuer tokens create``), served by ``issuer serve --workers 2`` (gunicorn) in a
   subprocess on 127.0.0.1, and an achievement created through the JSON API;
2. :data:`CLIENTS` client threads, each with its own ``http.client`` connection (keep-alive
   asked for; gunicorn's sync workers answer ``Connection: close``, so clients reconnect),
   send requests back to back for a bounded time and count, after a warm-up that is not
   counted: ``POST /api/v1/awards``, then ``POST /credentials/issue``, then
   ``POST /credentials/verify``. Reported: requests per second, p50 and p99 latency (from
   sending the request to reading the whole response), errors (any other status or a
   connection failure);
3. every credential issued (warm-up included) is fetched back (``GET
   /api/v1/credentials/<id>``), compared byte for byte with what issuing returned, and
   verified in-process by the core :class:`~issuer.core.verify.Verifier` with the server's
   DID document pinned;
4. in-process verification throughput, one core: the core verifier (pinned DID document)
   and the service's verifier (records and status lists read from the database), the two
   that ``POST /credentials/verify`` runs.

Targets (the performance issue, on a 2-core machine): issuance >= 300 credentials/s with no
errors and p99 < 100 ms.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import measure
from bench.databases import backends, fresh_database
from bench.measures import CpuMeter, Report, percentile

HOST = "127.0.0.1"
CLIENTS = 16
WORKERS = 2
ISSUER_SLUG = "bench"
ACHIEVEMENT_SLUG = "bench-badge"
ISSUE_TARGET_PER_S = 300
P99_TARGET_MS = 100
ISSUER = shutil.which("issuer", path=str(Path(sys.executable).parent)) or "issuer"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@dataclass(frozen=True)
class Phase:
    """How long one kind of request is sent: seconds and a request cap, for both parts."""

    warmup_s: float
    seconds: float
    cap: int


FULL = {"awards": Phase(3, 15, 8000), "issue": Phase(2, 10, 5000),
        "verify": Phase(2, 10, 5000)}
QUICK = {"awards": Phase(1, 3, 1000), "issue": Phase(1, 2, 600), "verify": Phase(1, 2, 600)}


# --- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    base: str
    port: int
    env: dict[str, str]
    token: str
    #: The server's process group (gunicorn's master and workers).
    group: int = 0
    #: The name of its PostgreSQL database, which the backends serving it show.
    database: str = ""
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def ours(self, group: int, command: str) -> bool:
        """Whether a process works for this benchmark: the server, or its database sessions."""
        return group == self.group or (bool(self.database) and command.startswith(
            "postgres:") and f" {self.database} " in command)

    def request(self, method: str, path: str, body: Any = None,
                token: bool = True) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            if token:
                headers["Authorization"] = f"Bearer {self.token}"
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ISSUER, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"issuer {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def running_service(database_url: str, root: Path,
                    workers: int = WORKERS) -> Iterator[Service]:
    """A fresh installation served by ``issuer serve --workers N`` until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "ISSUER_BASE_URL": f"http://{HOST}:{port}",
        "ISSUER_DATABASE_URL": database_url,
        "ISSUER_KEYS_DIR": str(root / "keys"),
        "ISSUER_INSTANCE_DIR": str(root / "instance"),
        "ISSUER_SECRET_KEY": secrets.token_urlsafe(32),
    }
    _cli(env, "init")
    _cli(env, "issuers", "create", "--slug", ISSUER_SLUG, "--name", "Benchmark Guild")
    token = _cli(env, "tokens", "create", "--issuer", ISSUER_SLUG, "--name", "bench").strip()
    process = subprocess.Popen(
        [ISSUER, "serve", "--workers", str(workers)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    database = make_url(database_url).database or ""
    service = Service(base=f"http://{HOST}:{port}", port=port, env=env, token=token,
                      group=process.pid,
                      database=database if database_url.startswith("postgresql") else "")
    assert process.stdout is not None
    stream = process.stdout

    def pump() -> None:
        # The access log is drained (keeping the last lines) so the server never blocks.
        for line in stream:
            service.output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited:\n" + "".join(service.output))
            try:
                if service.request("GET", "/api/v1/issuer")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + "".join(service.output))
            time.sleep(0.2)
        status, body = service.request("POST", "/api/v1/achievements", {
            "slug": ACHIEVEMENT_SLUG, "name": "Benchmark Badge",
            "description": "Issued by the performance benchmark.",
            "criteria": {"narrative": "Be sent by the benchmark."},
        })
        if status != 201:
            raise RuntimeError(f"creating the achievement failed ({status}): {body[:500]!r}")
        yield service
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stream.close()


# --- load ----------------------------------------------------------------------------------

#: (method, path, body) of request number n.
RequestFactory = Callable[[int], tuple[str, str, bytes]]


@dataclass
class Load:
    """What one load phase produced."""

    latencies_ms: list[float]
    elapsed_s: float
    ok_bodies: list[bytes]
    errors: int
    error_samples: list[str]
    #: CPU seconds this process spent meanwhile: the client threads' (as ``wrk``'s for
    #: :class:`bench.wrk.WrkLoad`).
    client_cpu_s: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.5)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99)

    @property
    def ok(self) -> int:
        return len(self.ok_bodies)

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0


def run_load(service: Service, make: RequestFactory, expected: int, *, seconds: float,
             cap: int, start: int = 0, clients: int = CLIENTS) -> Load:
    """``clients`` threads send requests back to back until ``seconds`` pass or ``cap``
    requests were sent; every response is kept for checking afterwards."""
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "Authorization": f"Bearer {service.token}", "Connection": "keep-alive"}
    lock = threading.Lock()
    next_number = [start]
    results: list[tuple[float, int | None, bytes]] = []
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]
    ended = [0.0]

    def client() -> None:
        conn: http.client.HTTPConnection | None = None
        barrier.wait()
        while True:
            with lock:
                if next_number[0] - start >= cap or time.perf_counter() >= deadline[0]:
                    break
                number = next_number[0]
                next_number[0] += 1
            method, path, body = make(number)
            if conn is None:
                conn = http.client.HTTPConnection(HOST, service.port, timeout=60)
            began = time.perf_counter()
            status: int | None
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                status, data = None, repr(exc).encode()
                conn.close()
                conn = None
            finished = time.perf_counter()
            results.append(((finished - began) * 1000.0, status, data))
            with lock:
                ended[0] = max(ended[0], finished)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    cpu_began = time.process_time()
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    ok_bodies = [data for _, status, data in results if status == expected]
    failures = [(status, data) for _, status, data in results if status != expected]
    return Load(
        latencies_ms=[latency for latency, _, _ in results],
        elapsed_s=max(ended[0] - began, 1e-9),
        ok_bodies=ok_bodies,
        errors=len(failures),
        error_samples=[f"{status}: {data[:300].decode('utf-8', 'replace')}"
                       for status, data in failures[:3]],
        client_cpu_s=time.process_time() - cpu_began,
    )


def _award_request(number: int) -> tuple[str, str, bytes]:
    body = {"achievement": ACHIEVEMENT_SLUG,
            "recipient": {"email": f"learner{number}@bench.test", "name": f"Learner {number}"}}
    return "POST", "/api/v1/awards", json.dumps(body).encode()


#: Awards per request of the batch stretches (``POST /api/v1/awards/batch``): a cohort.
BATCH_AWARDS = 20


def _batch_request(number: int) -> tuple[str, str, bytes]:
    """Request ``number`` of the batch stretches: :data:`BATCH_AWARDS` awards, each as
    :func:`_award_request` sends one, to recipients no other request names."""
    first = 10_000_000 + number * BATCH_AWARDS
    awards = [json.loads(_award_request(first + n)[2]) for n in range(BATCH_AWARDS)]
    return "POST", "/api/v1/awards/batch", json.dumps({"awards": awards}).encode()


def _issue_request(base: str) -> RequestFactory:
    achievement_id = f"{base}/issuers/{ISSUER_SLUG}/achievements/{ACHIEVEMENT_SLUG}"

    def make(number: int) -> tuple[str, str, bytes]:
        credential = {
            "@context": [VC_V2, OB_CONTEXT],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": "Benchmark Badge",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "id": f"did:example:learner-{number}",
                "achievement": {
                    "id": achievement_id, "type": ["Achievement"], "name": "Benchmark Badge",
                    "description": "Issued by the performance benchmark.",
                    "criteria": {"narrative": "Be sent by the benchmark."},
                },
            },
        }
        return "POST", "/credentials/issue", json.dumps({"credential": credential}).encode()

    return make


def _verify_request(credentials: list[str]) -> RequestFactory:
    def make(number: int) -> tuple[str, str, bytes]:
        text = credentials[number % len(credentials)]
        return "POST", "/credentials/verify", ('{"verifiableCredential":' + text + "}").encode()

    return make


def _fetch_request(ids: list[str]) -> RequestFactory:
    def make(number: int) -> tuple[str, str, bytes]:
        return "GET", f"/api/v1/credentials/{ids[number]}", b""

    return make


# --- one database ----------------------------------------------------------------------------


@dataclass
class _Issued:
    """Credentials issued so far: row id → the exact text issuing returned."""

    texts: dict[str, str] = field(default_factory=dict)

    def add_award(self, body: bytes) -> None:
        answer = json.loads(body)
        self.texts[answer["id"]] = json.dumps(answer["credential"], ensure_ascii=False,
                                              separators=(",", ":"))

    def add_vc(self, body: bytes) -> None:
        # The answer embeds the stored text unchanged: '{"verifiableCredential":' + text + '}'.
        text = body.decode("utf-8")[len('{"verifiableCredential":'):-1]
        row_id = json.loads(text)["id"].rsplit("/", 1)[-1]
        self.texts[row_id] = text


class _Bench:
    def __init__(self, quick: bool, report: Report) -> None:
        self.quick = quick
        self.phases = QUICK if quick else FULL
        self.report = report

    def load(self, label: str, service: Service, make: RequestFactory, expected: int,
             phase: Phase, start: int) -> tuple[Load, Load]:
        warm = run_load(service, make, expected, seconds=phase.warmup_s, cap=phase.cap,
                        start=start)
        meter = CpuMeter(service.ours)
        meter.start()
        measured = run_load(service, make, expected, seconds=phase.seconds, cap=phase.cap,
                            start=start + warm.completed)
        use = meter.stop()
        if use is not None:
            # On a shared machine the server competes with whatever else runs: say how much.
            self.report.add(f"{label}: CPUs used by other processes meanwhile",
                            use.others_cores, f"of {os.cpu_count()}")
        if warm.errors or measured.errors:
            samples = warm.error_samples + measured.error_samples
            self.report.notes.append(f"{label}: errors, e.g. " + " | ".join(samples[:3]))
        return warm, measured

    def throughput(self, label: str, unit: str, load: Load, *, targets: bool) -> None:
        r = self.report
        p50 = percentile(load.latencies_ms, 0.5)
        p99 = percentile(load.latencies_ms, 0.99)
        if targets:
            r.at_least(f"{label}: throughput", load.per_second, unit, ISSUE_TARGET_PER_S)
            r.below(f"{label}: p99 latency", p99, "ms", P99_TARGET_MS)
            r.exactly(f"{label}: errors", load.errors, f"of {load.completed}", 0)
        else:
            r.add(f"{label}: throughput", load.per_second, unit)
            r.add(f"{label}: p99 latency", p99, "ms")
            r.add(f"{label}: errors", load.errors, f"of {load.completed}")
        r.add(f"{label}: p50 latency", p50, "ms")

    def database(self, backend: str) -> None:
        with tempfile.TemporaryDirectory(prefix="issuer-bench-") as tmp:
            root = Path(tmp)
            with fresh_database(backend, root) as url, running_service(url, root) as service:
                self.against(backend, service, url)

    def against(self, backend: str, service: Service, database_url: str) -> None:
        issued = _Issued()
        phases = self.phases

        warm, awards = self.load(f"{backend} awards", service, _award_request, 201,
                                 phases["awards"], 0)
        for body in warm.ok_bodies + awards.ok_bodies:
            issued.add_award(body)
        self.throughput(f"HTTP issuance {backend}, POST /api/v1/awards", "credentials/s",
                        awards, targets=True)
        award_texts = list(issued.texts.values())

        warm, vc = self.load(f"{backend} VC API issue", service, _issue_request(service.base),
                             201, phases["issue"], 0)
        for body in warm.ok_bodies + vc.ok_bodies:
            issued.add_vc(body)
        self.throughput(f"HTTP issuance {backend}, POST /credentials/issue", "credentials/s",
                        vc, targets=True)

        self.check_issued(backend, service, issued)

        warm, verify = self.load(f"{backend} verify", service, _verify_request(award_texts),
                                 200, phases["verify"], 0)
        verified = sum(1 for body in verify.ok_bodies if json.loads(body)["verified"] is True)
        self.throughput(f"HTTP verification {backend}, POST /credentials/verify",
                        "credentials/s", verify, targets=False)
        self.report.exactly(f"HTTP verification {backend}: answered verified", verified,
                            f"of {verify.ok}", verify.ok)

        self.in_process(backend, service, database_url, award_texts[0])

    def check_issued(self, backend: str, service: Service, issued: _Issued) -> None:
        """Fetch every issued credential, compare it, verify it in-process."""
        ids = list(issued.texts)
        fetched = run_load(service, _fetch_request(ids), 200, seconds=600, cap=len(ids))
        same = sum(1 for body in fetched.ok_bodies
                   if issued.texts.get(json.loads(body)["id"].rsplit("/", 1)[-1]) ==
                   body.decode("utf-8"))
        verifier = self.pinned_verifier(service)
        valid = 0
        began = time.perf_counter()
        for body in fetched.ok_bodies:
            report = verifier.verify(body.decode("utf-8"))
            if report.valid:
                valid += 1
            elif len(self.report.notes) < 20:
                failed = report.failed[0]
                self.report.notes.append(
                    f"{backend}: a fetched credential did not verify: {failed.id}: "
                    f"{failed.message}")
        spent = time.perf_counter() - began
        r = self.report
        r.exactly(f"{backend}: issued credentials fetched back unchanged", same,
                  f"of {len(ids)}", len(ids))
        r.exactly(f"{backend}: issued credentials that verify (in-process)", valid,
                  f"of {len(ids)}", len(ids))
        r.notes.append(
            f"{backend}: {len(ids)} issued credentials fetched in {fetched.elapsed_s:.1f} s "
            f"({fetched.per_second:.0f}/s over HTTP) and verified in {spent:.1f} s on one core")

    def pinned_verifier(self, service: Service) -> Any:
        from issuer.config import context_loader, schema_registry
        from issuer.core.resolve import Resolver
        from issuer.core.verify import Verifier

        status, body = service.request("GET", f"/issuers/{ISSUER_SLUG}/did.json", token=False)
        if status != 200:
            raise RuntimeError(f"the DID document could not be fetched ({status})")
        return Verifier(loader=context_loader(), schemas=schema_registry(),
                        resolver=Resolver.with_trusted([json.loads(body)]))

    def in_process(self, backend: str, service: Service, database_url: str,
                   text: str) -> None:
        from issuer.app import create_app, runtime
        from issuer.config import Settings
        from issuer.services.verification import make_verifier

        samples, warmup = (5, 1) if self.quick else (15, 3)
        document = json.loads(text)
        core = self.pinned_verifier(service)
        if not core.verify(document).valid:
            raise RuntimeError("the in-process verifier refused an issued credential")
        timing = measure(f"{backend}: Verifier.verify (core, pinned DID document)",
                         lambda: core.verify(document), samples=samples, warmup=warmup)
        self.report.timings.append(timing)

        settings = Settings(database_url=database_url, base_url=service.base,
                            keys_dir=Path(service.env["ISSUER_KEYS_DIR"]),
                            instance_dir=Path(service.env["ISSUER_INSTANCE_DIR"]),
                            secret_key=service.env["ISSUER_SECRET_KEY"]).validated()
        rt = runtime(create_app(settings))
        session = rt.sessions()
        try:
            def service_verify() -> bool:
                valid = make_verifier(session, rt.services).verify(document).valid
                session.rollback()
                return valid

            if not service_verify():
                raise RuntimeError("the service verifier refused an issued credential")
            timing = measure(f"{backend}: services.verification.verify (records, status)",
                             service_verify, samples=samples, warmup=warmup)
            self.report.timings.append(timing)
        finally:
            session.close()
            rt.engine.dispose()


def run(quick: bool = False) -> Report:
    report = Report(title=f"HTTP issuance and verification: issuer serve --workers {WORKERS}, "
                          f"{CLIENTS} clients on loopback; in-process verification")
    bench = _Bench(quick, report)
    for backend in backends():
        bench.database(backend)
    report.notes.append(
        f"{os.cpu_count()} CPU cores shared by the server's {WORKERS} workers and the "
        f"{CLIENTS} client threads; gunicorn sync workers close each connection, so clients "
        "reconnect for every request")
    return report
