"""Awards through several web nodes on one PostgreSQL database and a Redis broker, against
one node, in the same run.

1. A fresh installation on PostgreSQL (``issuer init``, ``issuer issuers create``,
   ``issuer tokens create``), an ``issuer worker`` on the Redis broker, and web node A
   (``issuer serve --workers 2``) on loopback; the achievement is made through the API.
2. One node: :data:`CLIENTS` client threads send ``POST /api/v1/awards`` to node A back to
   back for the phase's time, after a warm-up that is not counted (as :mod:`bench.http`
   does). Reported: credentials per second, p50 and p99 latency, errors.
3. Two nodes: node B (the same settings, another port) starts, and the same number of
   clients, half on each node, do the same.
4. A bulk award of :data:`BULK_ROWS` rows (quick: fewer) is sent to node A and followed on
   node B until the worker has finished it: rows per second through the worker.

The ratios (two nodes over one) compare figures of the same run, on the same machine and
load, so they say more than the absolute numbers on a shared machine: every process here
(both nodes, the worker, PostgreSQL, Redis and the clients) competes for the same CPUs, so
two nodes add capacity only when the machine has cores to spare.

Needs PostgreSQL (see :mod:`bench.databases`) and Redis at 127.0.0.1:6379
(``ISSUER_BENCH_REDIS_URL`` to change it); without them the run says so and measures
nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.databases import fresh_database, postgres_admin_url
from bench.http import (
    ACHIEVEMENT_SLUG,
    HOST,
    ISSUER,
    ISSUER_SLUG,
    Load,
    Service,
    _award_request,
    _cli,
    _free_port,
    run_load,
)
from bench.measures import CpuMeter, Report, percentile, port_open

CLIENTS = 32
WORKERS = 2
#: Seconds of warm-up and of measuring per phase.
FULL = (5.0, 60.0)
QUICK = (1.0, 5.0)
BULK_ROWS = 1000
QUICK_BULK_ROWS = 100
#: Far apart, so the clients of two nodes award to different recipients.
SECOND_NODE_NUMBERS = 10_000_000


def redis_url() -> str:
    return os.environ.get("ISSUER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return port_open(parts.hostname or "127.0.0.1", parts.port or 6379)


@contextmanager
def _process(command: list[str], env: dict[str, str], keep: deque[str]) -> Iterator[int]:
    """A process in its own group, its output drained into ``keep``; its pid."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    stream = process.stdout

    def pump() -> None:
        for line in stream:
            keep.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stream.close()


@contextmanager
def _node(env: dict[str, str], token: str, database: str,
          port: int | None = None) -> Iterator[Service]:
    """``issuer serve`` on ``port`` (else a free one) of loopback, until the block ends."""
    port = port or _free_port()
    output: deque[str] = deque(maxlen=200)
    command = [ISSUER, "serve", "--host", HOST, "--port", str(port), "--workers", str(WORKERS)]
    with _process(command, env, output) as pid:
        service = Service(base=f"http://{HOST}:{port}", port=port, env=env, token=token,
                          group=pid, database=database, output=output)
        deadline = time.monotonic() + 60
        while True:
            try:
                if service.request("GET", "/healthz", token=False)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("a node did not start:\n" + "".join(output))
            time.sleep(0.2)
        yield service


def _together(loads: list[Load]) -> Load:
    return Load(latencies_ms=[ms for load in loads for ms in load.latencies_ms],
                elapsed_s=max(load.elapsed_s for load in loads),
                ok_bodies=[body for load in loads for body in load.ok_bodies],
                errors=sum(load.errors for load in loads),
                error_samples=[s for load in loads for s in load.error_samples])


def _awards(nodes: list[Service], seconds: float, start: int) -> Load:
    """:data:`CLIENTS` clients split evenly over ``nodes``, all at once."""
    share = CLIENTS // len(nodes)
    loads: list[Load | None] = [None] * len(nodes)

    def drive(index: int) -> None:
        loads[index] = run_load(nodes[index], _award_request, 201, seconds=seconds,
                                cap=10**9, start=start + index * SECOND_NODE_NUMBERS,
                                clients=share)

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(nodes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _together([load for load in loads if load is not None])


class _Run:
    def __init__(self, quick: bool, report: Report, env: dict[str, str], token: str,
                 database: str) -> None:
        self.warmup, self.seconds = QUICK if quick else FULL
        self.bulk_rows = QUICK_BULK_ROWS if quick else BULK_ROWS
        self.report = report
        self.env = env
        self.token = token
        self.database = database
        self.worker_group = 0

    def ours(self, group: int, command: str) -> bool:
        return group == self.worker_group or (command.startswith("postgres:")
                                              and f" {self.database} " in command)

    def phase(self, label: str, nodes: list[Service], start: int) -> Load:
        _awards(nodes, self.warmup, start)
        groups = {node.group for node in nodes}
        meter = CpuMeter(lambda group, command: group in groups or self.ours(group, command))
        meter.start()
        load = _awards(nodes, self.seconds, start + 1_000_000)
        use = meter.stop()
        r = self.report
        r.add(f"{label}: throughput", load.per_second, "credentials/s")
        r.add(f"{label}: p50 latency", percentile(load.latencies_ms, 0.5), "ms")
        r.add(f"{label}: p99 latency", percentile(load.latencies_ms, 0.99), "ms")
        r.exactly(f"{label}: errors", load.errors, f"of {load.completed}", 0)
        if use is not None:
            r.add(f"{label}: CPUs used by other processes meanwhile", use.others_cores,
                  f"of {os.cpu_count()}")
        if load.errors:
            r.notes.append(f"{label}: errors, e.g. " + " | ".join(load.error_samples[:3]))
        return load

    def bulk(self, a: Service, b: Service) -> None:
        lines = ["recipient,name"] + [f"bulk{n}@bench.test,Bulk {n}"
                                      for n in range(self.bulk_rows)]
        body = ("\n".join(lines) + "\n").encode()
        began = time.perf_counter()
        status, answer = _post_csv(a, f"/api/v1/bulk?achievement={ACHIEVEMENT_SLUG}"
                                      "&notify=false", body)
        if status != 202:
            raise RuntimeError(f"the bulk award was refused ({status}): {answer[:300]!r}")
        job_id = json.loads(answer)["job"]["id"]
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            status, answer = b.request("GET", f"/api/v1/bulk/{job_id}")
            job = json.loads(answer)["job"] if status == 200 else {}
            if job.get("status") in ("done", "failed", "cancelled"):
                break
            time.sleep(0.2)
        spent = time.perf_counter() - began
        self.report.add("bulk award through the worker (sent to node A, followed on B)",
                        job.get("done", 0) / spent, "rows/s")
        self.report.exactly("bulk award: rows issued", job.get("done", 0),
                            f"of {self.bulk_rows}", self.bulk_rows)


def _post_csv(service: Service, path: str, body: bytes) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection(HOST, service.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={
            "Authorization": f"Bearer {service.token}", "Content-Type": "text/csv",
            "Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run(quick: bool = False) -> Report:
    report = Report(title=f"Awards through two web nodes and a worker on PostgreSQL and Redis "
                          f"against one node: {CLIENTS} clients, issuer serve --workers "
                          f"{WORKERS} per node")
    admin = postgres_admin_url()
    broker = redis_url()
    if admin is None or not _redis_reachable(broker):
        report.notes.append("not measured: needs PostgreSQL and Redis "
                            f"({'PostgreSQL' if admin is None else 'Redis'} not reachable)")
        return report
    with tempfile.TemporaryDirectory(prefix="issuer-bench-nodes-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        url = stack.enter_context(fresh_database("PostgreSQL", root))
        port = _free_port()
        queue = f"issuer-bench-{secrets.token_hex(4)}"
        env = {**os.environ,
               "ISSUER_BASE_URL": f"http://{HOST}:{port}",
               "ISSUER_DATABASE_URL": url,
               "ISSUER_KEYS_DIR": str(root / "keys"),
               "ISSUER_INSTANCE_DIR": str(root / "instance"),
               "ISSUER_SECRET_KEY": secrets.token_urlsafe(32),
               "ISSUER_QUEUE_URL": broker, "ISSUER_QUEUE_NAME": queue}
        _cli(env, "init")
        _cli(env, "issuers", "create", "--slug", ISSUER_SLUG, "--name", "Benchmark Guild")
        token = _cli(env, "tokens", "create", "--issuer", ISSUER_SLUG, "--name",
                     "bench").strip()
        database = make_url(url).database or ""
        bench = _Run(quick, report, env, token, database)
        stack.callback(_forget_queue, broker, queue)
        worker_log: deque[str] = deque(maxlen=200)
        bench.worker_group = stack.enter_context(
            _process([ISSUER, "worker", "--poll", "1"], env, worker_log))
        a = stack.enter_context(_node(env, token, database, port))
        status, body = a.request("POST", "/api/v1/achievements", {
            "slug": ACHIEVEMENT_SLUG, "name": "Benchmark Badge",
            "description": "Issued by the performance benchmark.",
            "criteria": {"narrative": "Be sent by the benchmark."}})
        if status != 201:
            raise RuntimeError(f"creating the achievement failed ({status}): {body[:300]!r}")
        one = bench.phase("one node", [a], 0)
        b = stack.enter_context(_node(env, token, database))
        two = bench.phase("two nodes", [a, b], 100_000_000)
        bench.bulk(a, b)
    if one.per_second > 0:
        report.ratios["throughput, two nodes / one node"] = two.per_second / one.per_second
    p99_one = percentile(one.latencies_ms, 0.99)
    if p99_one > 0:
        report.ratios["p99 latency, two nodes / one node"] = (
            percentile(two.latencies_ms, 0.99) / p99_one)
    report.notes.append(
        f"{os.cpu_count()} CPU cores shared by every node's {WORKERS} workers, the worker, "
        f"PostgreSQL, Redis and the {CLIENTS} client threads: on one machine a second node "
        "adds processes, not cores")
    return report


def _forget_queue(url: str, queue: str) -> None:
    """Remove the run's keys from Redis (its queue name is its own)."""
    try:
        import redis
    except ImportError:
        return
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        for key in client.scan_iter(match=f"{queue}*"):
            client.delete(key)
    except redis.exceptions.RedisError:
        pass
    finally:
        client.close()
