"""Per-process copies of the rows every API request reads, checked against the database on
every use.

Each API request reads its token (with the issuer and the issuer's keys) and, for an award,
the achievement it names; each verification of a credential from here reads its issuer with
the keys. Loading those through the ORM costs more than signing. Here a
worker keeps a detached copy of each, and every use first reads the same rows' current
columns with one plain indexed query (no ORM loading): the copy is used only when every column
still holds the value the copy was built from, so a token revoked or an achievement edited by
any worker, node or the command line is seen by the very next request, with no expiry time
and no version column to keep up to date. The copy is merged into the request's session
without loading (``Session.merge(load=False)``), so each request changes its own instances,
never the shared copy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column
from sqlalchemy.orm import Session

T = TypeVar("T")

#: Entries kept per kind; the least recently used one goes first.
MAX_ENTRIES = 512

Fingerprint = tuple[Any, ...]


def fingerprint(obj: object, columns: Sequence[Column[Any]]) -> Fingerprint:
    """The values of ``columns`` as ``obj`` (loaded from those columns) holds them."""
    return tuple(getattr(obj, column.key) for column in columns)


@dataclass(frozen=True)
class _Entry(Generic[T]):
    stamp: Any
    value: T


class CopyCache(Generic[T]):
    """Detached copies by key, each with the stamp of the rows it was built from."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, _Entry[T]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, stamp: Any) -> T | None:
        """The copy under ``key`` if it was built from rows that now read ``stamp`` (compared
        by equality: a stamp may hold lists, from JSON columns)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value

    def put(self, key: Hashable, stamp: Any, value: T) -> None:
        with self._lock:
            self._entries[key] = _Entry(stamp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def drop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Lookups:
    """The caches of one process (one per :class:`~issuer.services.context.ServiceContext`)."""

    def __init__(self) -> None:
        self.tokens: CopyCache[Any] = CopyCache()
        self.achievements: CopyCache[Any] = CopyCache()
        self.issuers: CopyCache[Any] = CopyCache()

    def clear(self) -> None:
        self.tokens.clear()
        self.issuers.clear()
        self.achievements.clear()


def detached(session: Session, load: Callable[[Session], T | None]) -> T | None:
    """What ``load`` returns, loaded in a session of its own on ``session``'s connection (so in
    its transaction) and detached, its loaded attributes kept."""
    with Session(bind=session.connection(), expire_on_commit=False,
                 autoflush=False) as side:
        value = load(side)
        side.expunge_all()
    return value


def checked_copy(session: Session, cache: CopyCache[T], key: Hashable, stamp: Any,
                 identities: Sequence[tuple[type, Any]], load: Callable[[Session], T | None],
                 stamp_of: Callable[[T], Any]) -> T | None:
    """What ``load`` returns, as an instance of ``session``: merged from this process's copy
    under ``key`` when that copy was built from rows that now read ``stamp`` (the current
    columns, from the caller's plain query), else loaded and kept under the stamp of what
    was loaded (``stamp_of``), so a change committed between the two is never hidden.
    Loaded in ``session`` itself when it already holds one of the ``identities``."""
    if in_session(session, *identities):
        return load(session)
    cached = cache.get(key, stamp)
    if cached is None:
        cached = detached(session, load)
        if cached is None:
            return None
        cache.put(key, stamp_of(cached), cached)
    return session.merge(cached, load=False)


def in_session(session: Session, *identities: tuple[type, Any]) -> bool:
    """Whether ``session`` already holds one of these (class, primary key) rows: merging a
    copy over it would overwrite that instance's changes not yet flushed."""
    held = session.identity_map
    # The identity key of a single-column primary key without an identity token (as
    # sqlalchemy.orm.util.identity_key builds it, minus the mapper look-up).
    return any((cls, (key,), None) in held for cls, key in identities)
