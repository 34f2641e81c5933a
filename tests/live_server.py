"""A real `issuer serve --init-demo` in a subprocess, for end-to-end tests."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import new_database

ISSUER = shutil.which("issuer", path=str(Path(sys.executable).parent)) or "issuer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    output: list[str]
    env: dict[str, str]

    def get(self, path: str, accept: str = "text/html") -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers={"Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


@contextmanager
def live_server(root: Path) -> Iterator[Server]:
    """Serve a fresh demo installation under ``root`` until the block ends."""
    with new_database(root, "live") as url, _serve(root, url) as server:
        yield server


@contextmanager
def _serve(root: Path, database_url: str) -> Iterator[Server]:
    port = _free_port()
    env = {
        **os.environ,
        "ISSUER_BASE_URL": f"http://127.0.0.1:{port}",
        "ISSUER_DATABASE_URL": database_url,
        "ISSUER_KEYS_DIR": str(root / "keys"),
        "ISSUER_INSTANCE_DIR": str(root / "instance"),
    }
    process = subprocess.Popen(
        [ISSUER, "serve", "--init-demo"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    output: list[str] = []
    base = f"http://127.0.0.1:{port}"
    assert process.stdout is not None
    stream = process.stdout

    def pump() -> None:
        # A thread drains the server's output so it never blocks on a full pipe.
        for line in stream:
            output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("the server exited:\n" + "".join(output))
            try:
                with urllib.request.urlopen(base + "/verify", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start:\n" + "".join(output))
        yield Server(base=base, output=output, env=env)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stream.close()




def printed(server: Server, label: str) -> str:
    """A URL the server printed at start-up, e.g. ``printed(server, "Demo badge")``."""
    text = "".join(server.output)
    match = re.search(rf"{label}:\s+(\S+)", text)
    assert match, text
    return match.group(1)


def demo_password(server: Server) -> str:
    text = "".join(server.output)
    match = re.search(r"Sign in as (\S+) with password (\S+)", text)
    assert match, text
    return match.group(2)
