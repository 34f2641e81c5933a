"""Where each fetched document came from, for the report a person reads.

:class:`issuer.net.fetcher.Fetcher` notes every document it hands out while a
:func:`recording` block is open in the current context (thread or task): the URL, when its
server last sent it, and whether it was reused from the cache (RFC 9111 §4.2 fresh) instead
of asked for now. Outside a block nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Fetched", "note", "recording"]


@dataclass(frozen=True)
class Fetched:
    url: str
    #: When the server sent (or, after a 304, confirmed) the body.
    at: datetime
    from_cache: bool


_LOG: ContextVar[list[Fetched] | None] = ContextVar("issuer_fetch_log", default=None)


@contextmanager
def recording() -> Iterator[list[Fetched]]:
    """Collect what is fetched in this context until the block ends."""
    log: list[Fetched] = []
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def note(url: str, at: datetime, *, from_cache: bool) -> None:
    log = _LOG.get()
    if log is not None:
        log.append(Fetched(url, at, from_cache))
