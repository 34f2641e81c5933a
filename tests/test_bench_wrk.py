"""The benchmarks' wrk load (``bench/wrk.py``) against a real server on loopback: the pool is
sent as made, every answer's status is counted, and the kept answers are the server's bytes.

Skipped where wrk is not installed (Debian: wrk; ``.ci/run`` installs it)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.http import HOST, Service
from bench.wrk import run_wrk

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")

TOKEN = "obi_test-token"


class _Echo(BaseHTTPRequestHandler):
    """201 with a JSON answer naming the request; 500 for a body that asks for it, 401
    without the token."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            status, answer = 401, b'{"error":"no token"}'
        elif b"fail" in body:
            status, answer = 500, b'{"error":"asked to fail"}'
        else:
            status = 201
            answer = json.dumps({"path": self.path, "got": json.loads(body)}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[Service]:
    server = ThreadingHTTPServer((HOST, 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield Service(base=f"http://{HOST}:{port}", port=port, env={}, token=TOKEN)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _numbered(number: int) -> tuple[str, str, bytes]:
    return "POST", f"/things/{number}", json.dumps({"n": number, "text": "é\nline"}).encode()


def test_counts_and_keeps_the_answers_of_the_pool(service: Service) -> None:
    load = run_wrk(service, _numbered, 201, seconds=1, clients=2, start=40, pool=5, keep=6)

    assert load.errors == 0 and load.error_samples == []
    assert load.answered > 6 and load.per_second > 0
    assert load.completed == load.answered
    assert 0 < load.p50_ms <= load.p99_ms <= load.max_ms
    assert load.client_cpu_s > 0
    answers = [json.loads(body) for body in load.ok_bodies]
    assert len(answers) == 6
    # Only the pool's requests, each whole (its body with a line break and a non-ASCII
    # character), sent from the start number on.
    for answer in answers:
        n = answer["got"]["n"]
        assert 40 <= n < 45
        assert answer == {"path": f"/things/{n}", "got": {"n": n, "text": "é\nline"}}


def test_an_unexpected_status_is_an_error_with_a_sample(service: Service) -> None:
    def failing(number: int) -> tuple[str, str, bytes]:
        return "POST", "/x", b'{"fail": true}' if number % 2 else b'{"n": 0}'

    load = run_wrk(service, failing, 201, seconds=1, clients=2, pool=4, keep=100)

    assert load.answered > 0 and load.errors > 0
    assert load.completed == load.answered + load.errors
    assert len(load.ok_bodies) <= 100
    assert load.error_samples and all(s.startswith('500: {"error":"asked to fail"}')
                                      for s in load.error_samples)


def test_the_token_is_sent(service: Service) -> None:
    wrong = Service(base=service.base, port=service.port, env={}, token="obi_other")
    load = run_wrk(wrong, _numbered, 201, seconds=1, clients=1, pool=2)

    assert load.answered == 0 and load.errors > 0
    assert load.error_samples[0].startswith("401: ")
