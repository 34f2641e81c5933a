"""Through the production server: four gunicorn workers, each taking status indexes in
blocks of its own, and 32 clients awarding at once (half of them in batches) never give two
credentials one index
(W3C Bitstring Status List §2.1), and the indexes handed out do not follow the order of
issuing (§6.1). Runs on SQLite, and on PostgreSQL with ISSUER_TEST_DATABASE_URL."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from issuer.services.status_lists import BLOCK
from issuer.storage.models import Credential, StatusAllocation
from tests.databases import new_database
from tests.live_server import ISSUER

WORKERS = 4
CLIENTS = 32
EACH = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ISSUER, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def _request(port: int, method: str, path: str, token: str,
             body: object) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=json.dumps(body),
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json",
                              "Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def _served(root: Path, database_url: str) -> Iterator[tuple[int, str]]:
    """``issuer serve --workers 4`` on a new installation: its port and an API token."""
    port = _free_port()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("ISSUER_") or name.startswith("ISSUER_TEST_")}
    env.update({"ISSUER_BASE_URL": f"http://127.0.0.1:{port}",
                "ISSUER_DATABASE_URL": database_url,
                "ISSUER_KEYS_DIR": str(root / "keys"),
                "ISSUER_INSTANCE_DIR": str(root / "instance"),
                "ISSUER_SECRET_KEY": "status-index-test-secret"})
    _cli(env, "init")
    _cli(env, "issuers", "create", "--slug", "guild", "--name", "Guild")
    token = _cli(env, "tokens", "create", "--issuer", "guild")
    process = subprocess.Popen([ISSUER, "serve", "--workers", str(WORKERS)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output: list[str] = []
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: output.extend(stream), daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the server exited:\n" + "".join(output)
            try:
                if _request(port, "GET", "/api/v1/issuer", token, None)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start:\n" + "".join(output)
            time.sleep(0.2)
        status, body = _request(port, "POST", "/api/v1/achievements", token, {
            "slug": "helper", "name": "Helper", "description": "Helped.",
            "criteria": {"narrative": "Helped a peer."}})
        assert status == 201, body
        yield port, token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stream.close()


@pytest.mark.slow
def test_four_workers_and_32_clients_award_with_distinct_status_indexes(
        tmp_path: Path) -> None:
    with new_database(tmp_path, "live") as url:
        with _served(tmp_path, url) as (port, token):
            start = threading.Barrier(CLIENTS)
            answers: list[tuple[int, bytes]] = []
            lock = threading.Lock()

            def award(number: int, i: int) -> dict[str, object]:
                return {"achievement": "helper",
                        "recipient": {"email": f"c{number}-{i}@example.org"}}

            def client(number: int) -> None:
                start.wait(timeout=120)
                if number % 2:  # half the clients send their awards as one batch
                    answer = _request(port, "POST", "/api/v1/awards/batch", token, {
                        "awards": [award(number, i) for i in range(EACH)]})
                    with lock:
                        answers.append(answer)
                    return
                for i in range(EACH):
                    answer = _request(port, "POST", "/api/v1/awards", token,
                                      award(number, i))
                    with lock:
                        answers.append(answer)

            threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
        errors = [(status, body[:300]) for status, body in answers if status != 201]
        assert errors == []
        credentials = []
        for _, body in answers:
            answer = json.loads(body)
            credentials += [a["credential"] for a in answer.get("awards", [answer])]
        assert len(credentials) == CLIENTS * EACH
        indexes = []
        for credential in credentials:
            status = credential["credentialStatus"]
            indexes.append((status[0]["statusListCredential"], int(status[0]["statusListIndex"])))
        assert len(set(indexes)) == len(indexes), "two credentials share a status index"
        in_order = [index for _, index in indexes]
        assert in_order != sorted(in_order)
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                used = conn.scalar(select(func.count(func.distinct(
                    Credential.status_allocation_id))))
                allocated = conn.scalar(select(func.count()).select_from(StatusAllocation))
        finally:
            engine.dispose()
        assert used == CLIENTS * EACH
        # What the stopped workers still held stays allocated, unused: under a block each.
        assert used <= allocated <= used + WORKERS * (BLOCK - 1)

