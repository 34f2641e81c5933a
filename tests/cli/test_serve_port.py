"""`issuer serve --port P` (`make run PORT=P`): the service listens on P and names itself
there, and a port that is taken stops it in one line before it does anything else."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from issuer.config import Settings
from tests.databases import new_database
from tests.live_server import ISSUER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(root: Path, **settings: str) -> dict[str, str]:
    """The command's environment: none of the caller's ``ISSUER_*`` settings but those that
    steer the tests, and its own key and instance folders."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("ISSUER_") or name.startswith("ISSUER_TEST_")}
    env.update({"ISSUER_KEYS_DIR": str(root / "keys"),
                "ISSUER_INSTANCE_DIR": str(root / "instance"), **settings})
    return env


def test_the_base_url_defaults_to_the_port_served(tmp_path: Path) -> None:
    env = {"ISSUER_INSTANCE_DIR": str(tmp_path), "ISSUER_SECRET_KEY": "k"}
    assert Settings.from_env(env).base_url == "http://127.0.0.1:5000"
    assert Settings.from_env(env, port=5001).base_url == "http://127.0.0.1:5001"
    assert Settings.from_env(env, port=8443, https=True).base_url == "https://127.0.0.1:8443"
    assert Settings.from_env(env, https=True).base_url == "https://127.0.0.1:5000"
    # A base URL that is set is the public address, whatever port the server listens on.
    public = {**env, "ISSUER_BASE_URL": "https://badges.example.org"}
    assert Settings.from_env(public, port=5001).base_url == "https://badges.example.org"


@contextmanager
def _taken_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("how", ["--port", "ISSUER_BASE_URL"])
def test_a_port_in_use_is_one_line_that_says_what_to_do(tmp_path: Path, how: str) -> None:
    database = tmp_path / "issuer.db"
    with _taken_port() as port:
        env = _environment(tmp_path, ISSUER_DATABASE_URL=f"sqlite:///{database}")
        args = [ISSUER, "serve", "--init-demo"]
        if how == "--port":
            args += ["--port", str(port)]
        else:  # what `make run` does with the port in its base URL
            env["ISSUER_BASE_URL"] = f"http://127.0.0.1:{port}"
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    # Nothing before it: no banner, no demo password, no server log.
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(rf"Error: port {port} is in use: stop what uses it, or run on another "
                         r"port: make run PORT=(\d+) \(issuer serve --port (\d+)\)", lines[0])
    assert match, lines[0]
    assert match.group(1) == match.group(2) != str(port)
    assert not database.exists()  # the database was not touched either


@dataclass
class _Running:
    port: int
    output: list[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return "".join(self.output)

    def get(self, path: str, accept: str = "text/html") -> bytes:
        request = urllib.request.Request(self.base + path, headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            return bytes(response.read())


@contextmanager
def _serving(root: Path, *args: str, **settings: str) -> Iterator[_Running]:
    """``issuer serve --port P ARGS`` on a free port P with a fresh database, until the block
    ends; stdout and stderr are kept apart (``[stderr]`` marks the lines of the latter)."""
    port = _free_port()
    with new_database(root, "port") as url:
        env = _environment(root, ISSUER_DATABASE_URL=url, **settings)
        process = subprocess.Popen(
            [ISSUER, "serve", "--workers", "1", "--port", str(port), *args], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        output: list[str] = []
        assert process.stdout is not None and process.stderr is not None
        streams = (process.stdout, process.stderr)
        for stream, mark in zip(streams, ("", "[stderr] "), strict=True):
            threading.Thread(target=lambda s=stream, m=mark: output.extend(m + line
                                                                         for line in s),
                             daemon=True).start()
        running = _Running(port=port, output=output)
        try:
            _wait_for(running, process)
            yield running
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            for stream in streams:
                stream.close()


def _wait_for(running: _Running, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the server exited:\n" + running.text())
        try:
            running.get("/verify")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail("the server did not start:\n" + running.text())


def _printed(text: str, label: str) -> str:
    match = re.search(rf"^  {label}:\s+(\S+)", text, re.MULTILINE)
    assert match, text
    return match.group(1)


@pytest.mark.db
def test_without_a_base_url_the_service_names_the_port_it_serves_on(tmp_path: Path) -> None:
    with _serving(tmp_path, "--init-demo") as server:
        text = server.text()
        for label, path in (("Admin", "/admin/"), ("Verify page", "/verify"),
                            ("Demo issuer", "/issuers/demo")):
            assert _printed(text, label) == server.base + path
        badge = _printed(text, "Demo badge")
        assert badge.startswith(f"{server.base}/credentials/")
        assert "[stderr] note:" not in text  # the base URL is the port: nothing to warn of
        credential = json.loads(server.get(badge.removeprefix(server.base),
                                           accept="application/ld+json"))
        assert credential["id"] == badge
        # did:web names host and port (the colon percent-encoded, did:web §3.1).
        did = json.loads(server.get("/issuers/demo/did.json", accept="application/json"))
        assert did["id"] == f"did:web:127.0.0.1%3A{server.port}:issuers:demo"
        # Its page, share links (URL-encoded) included, names this server only.
        page = unquote(server.get(badge.removeprefix(server.base)).decode("utf-8"))
        addresses = set(re.findall(r"https?://127\.0\.0\.1:\d+", page))
        assert addresses == {server.base}, addresses


@pytest.mark.db
def test_a_base_url_on_another_port_is_kept_with_a_one_line_note(tmp_path: Path) -> None:
    public = "http://127.0.0.1:8080"  # a reverse proxy's address, say
    with _serving(tmp_path, ISSUER_BASE_URL=public) as server:
        text = server.text()
        notes = [line for line in server.output if line.startswith("[stderr] note:")]
        assert notes == [f"[stderr] note: listening on port {server.port}, but links and "
                         f"credential ids name {public} (ISSUER_BASE_URL)\n"], text
        assert _printed(text, "Admin") == f"{public}/admin/"
        server.get("/verify")  # and it answers on the port it was given
