"""Freezing the long-lived heap of the server's processes (issuer.wsgi_server)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from issuer.wsgi_server import _after_first_request, freeze_long_lived


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
