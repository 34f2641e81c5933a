"""The site on several machines, as an operator runs it: two web nodes (`issuer serve` on
two loopback ports) and `issuer worker` processes, sharing one PostgreSQL database and a
Redis broker. The signing keys are in the database key store, sealed with a key-encryption
key that every node has in its environment: the key files are moved there with `issuer keys
export-to-database` and deleted before any node starts, so no node reads a file.

A bulk award sent to node A is run by the worker and seen finished on node B; the worker is
killed with SIGKILL in the middle and another finishes the job exactly once (every row one
credential, every recipient one mail over loopback SMTP); the same file sent again issues
nothing; a credential verifies on the node that did not issue it, and a revocation on one
node is seen by the next verification on the other.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from issuer.services.issuers import get_issuer
from issuer.services.tokens import create_token
from issuer.storage.models import Credential
from tests.cli.test_worker import people, sink  # noqa: F401 - a fixture
from tests.cli_instance import ISSUER_CMD, CliInstance
from tests.databases import new_database
from tests.services.test_mail import SmtpSink, free_port

pytestmark = [pytest.mark.db, pytest.mark.postgres, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"
#: Enough rows for a worker to be killed between its batches (50 rows each); the full runs
#: (ISSUER_TEST_FULL=1) kill it in the middle of 2,000.
ROWS = 2000 if os.environ.get("ISSUER_TEST_FULL") == "1" else 400


def _postgres_or_skip() -> None:
    url = os.environ.get("ISSUER_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("several nodes share one PostgreSQL database: set "
                    "ISSUER_TEST_DATABASE_URL to a PostgreSQL server")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means: not here
        pytest.skip(f"PostgreSQL at {make_url(url).host}:{make_url(url).port} is not "
                    f"reachable: {type(exc).__name__}")
    finally:
        engine.dispose()


def _redis_or_skip() -> Callable[[str], None]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        pytest.skip(f"no Redis server at {REDIS_URL}: {exc}")

    def cleanup(name: str) -> None:
        for key in client.scan_iter(match=f"{name}*"):
            client.delete(key)
        client.close()

    return cleanup


@dataclass
class Node:
    """One `issuer serve` process (its own process group) and where its log goes."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, token: str, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path, data=body, method=method,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                     "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@dataclass
class Site:
    instance: CliInstance
    env: dict[str, str]
    token: str
    nodes: list[Node]
    start_worker: Callable[[], subprocess.Popen[bytes]]

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")
                         for p in sorted(self.instance.tmp.glob("*.log")))


def _stop(process: subprocess.Popen[bytes], group: bool = False) -> None:
    if process.poll() is not None:
        return
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()


def _serve(env: dict[str, str], tmp: Path, name: str) -> Node:
    port = free_port()
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [ISSUER_CMD, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    node = Node(port, process, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(node.base + "/healthz", timeout=2):
                return node
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                _stop(process, group=True)
                pytest.fail(f"{name} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)


@contextmanager
def site(tmp: Path, smtp: SmtpSink) -> Iterator[Site]:
    _postgres_or_skip()
    cleanup = _redis_or_skip()
    queue = f"issuer-test-{time.monotonic_ns()}"
    with ExitStack() as stack:
        stack.callback(cleanup, queue)
        url = stack.enter_context(new_database(tmp, "nodes"))
        instance = CliInstance.create(tmp, url)
        stack.callback(instance.close)
        instance.set_up_guild()
        with instance.session() as session:
            _, token = create_token(session, instance.context(), get_issuer(session, "guild"),
                                    "nodes")
            session.commit()
        kek = {"ISSUER_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32)}
        moved = instance.run("keys", "export-to-database", **kek)
        assert moved.returncode == 0, moved.stderr
        shutil.rmtree(instance.settings.keys_dir)
        env = {**instance.env, **kek, "ISSUER_KEY_STORE": "database",
               "ISSUER_QUEUE_URL": REDIS_URL, "ISSUER_QUEUE_NAME": queue,
               "ISSUER_JOB_LEASE_SECONDS": "5", "ISSUER_SMTP_HOST": "127.0.0.1",
               "ISSUER_SMTP_PORT": str(smtp.port)}
        nodes = []
        for name in ("node-a", "node-b"):
            node = _serve(env, tmp, name)
            stack.callback(_stop, node.process, True)
            nodes.append(node)

        def start_worker() -> subprocess.Popen[bytes]:
            log = tmp / f"worker-{time.monotonic_ns()}.log"
            with log.open("wb") as out:
                process = subprocess.Popen([ISSUER_CMD, "worker", "--poll", "0.5"], env=env,
                                           stdout=subprocess.DEVNULL, stderr=out)
            stack.callback(_stop, process)
            return process

        yield Site(instance, env, token, nodes, start_worker)


def wait_for(condition: Callable[[], bool], seconds: float, what: str,
             logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{logs()[-4000:]}")


def test_two_web_nodes_and_a_worker_that_is_killed_issue_every_row_once(
        tmp_path: Path, sink: SmtpSink) -> None:  # noqa: F811
    with site(tmp_path, sink) as s:
        a, b = s.nodes
        source = people(ROWS)
        path = "/api/v1/bulk?achievement=peer-scaffolder"
        status, body = a.call("POST", path, s.token, source, "text/csv")
        assert status == 202, body
        job_id = int(body["job"]["id"])

        def on_b() -> dict[str, Any]:
            code, answer = b.call("GET", f"/api/v1/bulk/{job_id}", s.token)
            assert code == 200, answer
            return dict(answer["job"])

        worker = s.start_worker()
        wait_for(lambda: on_b()["done"] >= ROWS // 4, 600, "the first batches", s.logs)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        seen = on_b()
        assert seen["status"] == "running" and seen["done"] < ROWS, seen  # killed mid-run
        assert not sink.messages  # mail goes once every row is issued

        s.start_worker()  # takes the job over once the dead worker's lease runs out
        wait_for(lambda: on_b()["status"] == "done", 900, "the job to finish", s.logs)
        wait_for(lambda: len(sink.messages) >= ROWS, 300, "the badge mail", s.logs)
        time.sleep(1)  # anything sent twice would arrive now
        assert {k: on_b()[k] for k in ("total", "done", "failed")} == {
            "total": ROWS, "done": ROWS, "failed": 0}
        assert sorted(m["To"] for m in sink.messages) == sorted(
            f"person{n}@example.org" for n in range(ROWS))
        with s.instance.session() as session:
            rows = session.execute(select(Credential.bulk_row, Credential.status_allocation_id)
                                   .where(Credential.bulk_job_id == job_id)).all()
        assert sorted(r for r, _ in rows) == list(range(2, ROWS + 2))
        assert len({index for _, index in rows} - {None}) == ROWS  # no status index twice

        # The same file again, through the other node: nothing is issued twice.
        status, body = b.call("POST", path, s.token, source, "text/csv")
        assert status == 202, body
        again = int(body["job"]["id"])
        wait_for(lambda: a.call("GET", f"/api/v1/bulk/{again}", s.token)[1]["job"]["status"]
                 == "done", 300, "the second upload to be run", s.logs)
        job = a.call("GET", f"/api/v1/bulk/{again}", s.token)[1]["job"]
        assert (job["done"], job["failed"]) == (0, ROWS), job
        with s.instance.session() as session:
            assert session.scalar(select(func.count()).select_from(Credential)) == ROWS
        time.sleep(1)
        assert len(sink.messages) == ROWS

        # Issued by the worker, verified by node A; revoked on node B, refused on node A.
        with s.instance.session() as session:
            credential_id = session.scalars(select(Credential.id)
                                            .where(Credential.bulk_job_id == job_id)).first()
        code, fetched = b.call("GET", f"/api/v1/credentials/{credential_id}", s.token)
        assert code == 200, fetched
        document = json.dumps({"verifiableCredential": fetched}).encode()
        code, report = a.call("POST", "/credentials/verify", s.token, document)
        assert code == 200 and report["verified"] is True, report
        code, revoked = b.call("POST", f"/api/v1/credentials/{credential_id}/revoke", s.token,
                               json.dumps({"reason": "awarded in error"}).encode())
        assert code == 200, revoked
        code, report = a.call("POST", "/credentials/verify", s.token, document)
        assert code == 422 and report["verified"] is False, report  # VC API: not verified
        assert any("revoked" in error["message"] for error in report["errors"]), report

        # A key made on one machine signs on the others: it is in the database, not a file.
        rotated = subprocess.run([ISSUER_CMD, "keys", "rotate", "--issuer", "guild"],
                                 env=s.env, capture_output=True, text=True, timeout=120,
                                 check=False)
        assert rotated.returncode == 0, rotated.stderr
        code, awarded = a.call("POST", "/api/v1/awards", s.token, json.dumps({
            "achievement": "peer-scaffolder",
            "recipient": {"email": "rotated@example.org"}}).encode())
        assert code == 201, awarded
        assert awarded["credential"]["proof"][0]["verificationMethod"].endswith("#key-2")
        code, report = b.call("POST", "/credentials/verify", s.token, json.dumps(
            {"verifiableCredential": awarded["credential"]}).encode())
        assert code == 200 and report["verified"] is True, report
        for each in (a, b):
            code, ready = each.call("GET", "/readyz", s.token)
            assert code == 200, ready
        assert s.env["ISSUER_KEY_ENCRYPTION_KEY"] not in s.logs() + rotated.stdout
