"""Through the production server (``issuer serve --workers 4``), each worker with its own
copies of the token and achievement rows: an achievement edited through one worker is used
by the very next award of every worker, and a revoked token is refused by the very next
request of every worker. Runs on SQLite, and on PostgreSQL with ISSUER_TEST_DATABASE_URL.

A request reaches a chosen set of workers this way: a gunicorn sync worker serves one
connection at a time, so :data:`WORKERS` connections that each hold back the last byte of
their request keep every worker busy with one of them. Which process took each connection
is read from ``/proc`` (the socket's owner) before the last bytes go out."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.databases import new_database
from tests.services.test_status_indexes_live import WORKERS, _cli, _served

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads which process holds a socket from /proc")


def _request(method: str, path: str, token: str, body: object = None,
             content_type: str = "application/json") -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}",
            "Accept: application/json", "Connection: close", f"Content-Length: {len(data)}"]
    if body is not None:
        head.append(f"Content-Type: {content_type}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def _server_side_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of the loopback connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":"), fields[2].split(":")
        if int(local[1], 16) == server_port and int(remote[1], 16) == client_port:
            return int(fields[9])
    return None


def _owners(inodes: set[int]) -> dict[int, int]:
    """Socket inode → the process that has it open."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                inode = wanted.get(os.readlink(fd))
                if inode is not None:
                    found[inode] = int(entry.name)
        except OSError:
            continue
    return found


def on_every_worker(port: int, request: bytes) -> list[tuple[int, bytes]]:
    """``request`` sent once to each of the server's :data:`WORKERS` workers at once: the
    answers, after checking that each connection was taken by a different process."""
    held = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(WORKERS)]
    try:
        for sock in held:
            sock.sendall(request[:-1])
        deadline = time.monotonic() + 60
        while True:
            # A connection not accepted yet has no inode (0) in /proc/net/tcp.
            inodes = {_server_side_inode(port, sock.getsockname()[1]) for sock in held}
            owners = _owners({inode for inode in inodes if inode})
            # The master holds no accepted connection; a worker holds at most one.
            if len(set(owners.values())) == WORKERS:
                break
            assert time.monotonic() < deadline, f"connections taken by {owners}"
            time.sleep(0.05)
        answers = []
        for sock in held:
            sock.sendall(request[-1:])
        for sock in held:
            response = http.client.HTTPResponse(sock)
            response.begin()
            answers.append((response.status, response.read()))
        return answers
    finally:
        for sock in held:
            sock.close()


def _award(token: str, email: str) -> bytes:
    return _request("POST", "/api/v1/awards", token, {
        "achievement": "helper", "notify": False, "recipient": {"email": email}})


def _env(root: Path, url: str, port: int) -> dict[str, str]:
    # What _served gives the server, for commands run beside it.
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("ISSUER_") or name.startswith("ISSUER_TEST_")}
    env.update({"ISSUER_BASE_URL": f"http://127.0.0.1:{port}",
                "ISSUER_DATABASE_URL": url,
                "ISSUER_KEYS_DIR": str(root / "keys"),
                "ISSUER_INSTANCE_DIR": str(root / "instance"),
                "ISSUER_SECRET_KEY": "status-index-test-secret"})
    return env


def _names(answers: list[tuple[int, bytes]]) -> list[str]:
    assert [status for status, _ in answers] == [201] * WORKERS, answers
    return [json.loads(body)["credential"]["credentialSubject"]["achievement"]["name"]
            for _, body in answers]


@pytest.mark.slow
def test_an_edited_achievement_is_used_by_the_next_award_of_every_worker(
        tmp_path: Path) -> None:
    with new_database(tmp_path, "live") as url, _served(tmp_path, url) as (port, token):
        # Every worker awards once, and so holds its copy of the achievement.
        assert _names(on_every_worker(port, _award(token, "a@example.org"))) == (
            ["Helper"] * WORKERS)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("PATCH", "/api/v1/achievements/helper",
                         body=json.dumps({"name": "Peer Helper"}),
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/merge-patch+json"})
            edited = conn.getresponse()
            assert edited.status == 200, edited.read()
        finally:
            conn.close()

        assert _names(on_every_worker(port, _award(token, "b@example.org"))) == (
            ["Peer Helper"] * WORKERS)


@pytest.mark.slow
def test_a_revoked_token_is_refused_by_the_next_request_of_every_worker(
        tmp_path: Path) -> None:
    with new_database(tmp_path, "live") as url, _served(tmp_path, url) as (port, token):
        env = _env(tmp_path, url, port)
        other = _cli(env, "tokens", "create", "--issuer", "guild",
                     "--name", "other").splitlines()[-1]
        # Every worker answers with the token, and so holds its copy of it.
        assert _names(on_every_worker(port, _award(token, "a@example.org"))) == (
            ["Helper"] * WORKERS)

        assert _cli(env, "tokens", "revoke", "--issuer", "guild", token[:10]) == "revoked"

        refused = on_every_worker(port, _award(token, "b@example.org"))
        assert [status for status, _ in refused] == [401] * WORKERS, refused
        # The issuer's other token still works on every worker.
        assert _names(on_every_worker(port, _award(other, "c@example.org"))) == (
            ["Helper"] * WORKERS)
