"""SQLite connections whose write transactions wait in a queue instead of polling.

SQLite lets one writer in at a time (WAL mode: readers never wait). A second writer is told
"busy", and its busy handler sleeps 1, 2, 5, 10, 15, 20, 25, … ms between attempts, so with
two server workers a write that comes a moment after another one often sleeps several times
longer than that write lasts: throughput drops and the slowest requests pay most.

Here a write transaction first takes an exclusive ``flock`` on ``<database>-writer.lock``,
checking again at most every millisecond while another connection holds it, and gives it up
as soon as it commits or rolls back; a write then starts within a millisecond of the
previous one ending. The lock covers exactly what SQLite's write lock covers (from the first
INSERT/UPDATE/DELETE, which is where the ``sqlite3`` module opens the transaction, or from a
``BEGIN IMMEDIATE``, which takes the write lock at once, to the end of the transaction; a
commit includes SQLite's automatic WAL checkpoint), so it changes who waits how, never who
may write. After :data:`BUSY_TIMEOUT` a writer stops waiting and SQLite's own locking and
busy timeout decide, exactly as without the queue; if the lock file cannot be opened,
writers do not queue at all.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: SQLite's own locking only
    fcntl = None  # type: ignore[assignment]

#: How long a writer waits in the queue, as long as SQLite's own busy timeout (seconds).
BUSY_TIMEOUT = 30.0
#: Pauses between looks at the lock: short, because writes are short.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.0002, 0.001
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: Transactions that take SQLite's write lock when they begin.
_WRITING_BEGINS = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


def is_write(sql: str) -> bool:
    """The statements that take SQLite's write lock: those before which the ``sqlite3``
    module opens a transaction, and a BEGIN that takes the lock at once."""
    head = " ".join(sql.lstrip()[:32].split()).upper()
    return head.startswith(_WRITES) or head.startswith(_WRITING_BEGINS)


class QueuedWriterCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        connection: QueuedWriterConnection = self.connection  # type: ignore[assignment]
        if is_write(sql):
            connection.wait_for_turn()
        try:
            return super().execute(sql, parameters)
        finally:
            connection.release_if_done()

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        connection: QueuedWriterConnection = self.connection  # type: ignore[assignment]
        if is_write(sql):
            connection.wait_for_turn()
        try:
            return super().executemany(sql, parameters)
        finally:
            connection.release_if_done()


class QueuedWriterConnection(sqlite3.Connection):
    """A connection of one database; :func:`connection_class` names its lock file."""

    lock_path: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock_fd: int | None = None
        self._holding = False
        self._queueing = bool(self.lock_path) and fcntl is not None

    @property
    def holds_writer_lock(self) -> bool:
        return self._holding

    def cursor(self, factory: Any = None) -> Any:  # type: ignore[override]
        return super().cursor(factory or QueuedWriterCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:  # type: ignore[override]
        return self.cursor().executemany(sql, parameters)

    def wait_for_turn(self) -> None:
        """Take the writer lock, waiting for the connection that holds it."""
        if self._holding or not self._queueing:
            return
        if self._lock_fd is None:
            try:
                self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                self._queueing = False
                return
        deadline = time.monotonic() + BUSY_TIMEOUT
        pause = _FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
                continue
            self._holding = True
            return

    def release_if_done(self) -> None:
        if self._holding and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        if self._holding and self._lock_fd is not None:
            self._holding = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_if_done()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_if_done()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def connection_class(database: str) -> type[QueuedWriterConnection]:
    """The ``sqlite3.connect(factory=…)`` class for the database file ``database``."""
    return type("QueuedWriterConnection", (QueuedWriterConnection,),
                {"lock_path": f"{os.path.abspath(database)}-writer.lock"})
