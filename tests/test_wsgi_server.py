"""The server's port, taken before it starts, and freezing the long-lived heap of its
processes (issuer.wsgi_server)."""

from __future__ import annotations

import errno
import gc
import socket
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from issuer.wsgi_server import _after_first_request, freeze_long_lived, take_port


def test_a_taken_port_is_held_but_refuses_connections_until_served() -> None:
    with take_port("127.0.0.1", 0) as held:
        port = held.getsockname()[1]
        # No other program can have it meanwhile, even one that asks to share it as
        # servers do (SO_REUSEADDR).
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError) as refused:
                other.bind(("127.0.0.1", port))
            assert refused.value.errno == errno.EADDRINUSE
        # A client is turned away, not left waiting, until the server listens.
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(("127.0.0.1", port))
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # what gunicorn does
        held.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


def test_a_port_another_program_listens_on_cannot_be_taken() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        with pytest.raises(OSError) as taken:
            take_port("127.0.0.1", server.getsockname()[1])
        assert taken.value.errno == errno.EADDRINUSE


@pytest.fixture()
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # back to the collector's care, as for the rest of the suite


def test_freezing_takes_what_is_alive_out_of_the_collectors_walks(unfrozen: None) -> None:
    gc.collect()  # what is counted is what is alive, not garbage the suite left behind
    alive = len(gc.get_objects())
    marker = [object()]
    freeze_long_lived()
    assert gc.get_freeze_count() >= alive * 0.9
    assert len(gc.get_objects()) < alive * 0.1  # what a full collection walks now
    assert not any(o is marker for o in gc.get_objects())
    gc.unfreeze()
    assert any(o is marker for o in gc.get_objects())


def test_a_worker_freezes_once_after_its_first_request(unfrozen: None) -> None:
    worker = SimpleNamespace()
    _after_first_request(worker, None, {}, None)
    first = gc.get_freeze_count()
    assert first > 0
    later = [[] for _ in range(500)]  # alive at the second request, not frozen by it
    _after_first_request(worker, None, {}, None)
    assert gc.get_freeze_count() == first
    assert len(later) == 500
