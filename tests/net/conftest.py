"""Fixtures of the fetcher's tests: a private CA, HTTPS servers on loopback, and a guard
that fails any test whose code tries to connect anywhere but loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.net.servers import Pki, Server, make_pki, serving

#: Every connection the tests' code attempted, loopback or not.
ATTEMPTS: list[Any] = []


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """This machine may send traffic to loopback only: anything else fails the test before
    a packet leaves, so a refusal can never be "proved" by a connection that happened."""
    real = socket.socket.connect
    attempts: list[Any] = []

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a test tried to connect to {address}")
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(Path(tmp_path_factory.mktemp("pki")))


@pytest.fixture()
def https(pki: Pki) -> Iterator[Server]:
    with serving(pki) as server:
        yield server


@pytest.fixture()
def other_https(pki: Pki) -> Iterator[Server]:
    """A second site, on its own port."""
    with serving(pki) as server:
        yield server
