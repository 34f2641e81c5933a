"""SQLite writers queue on a lock file instead of polling (issuer.storage.sqlite_writers).

Real SQLite files, real threads and a real second process (the server's workers are
processes). The timing assertions leave a wide margin: SQLite's own busy handler, which the
queue replaces, wakes a waiting writer up to 100 ms after the other one finished.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from issuer.storage import sqlite_writers
from issuer.storage.db import make_engine
from issuer.storage.sqlite_writers import QueuedWriterConnection, connection_class

#: Long enough that SQLite's busy handler would be sleeping in 100 ms steps by then.
HOLD_S = 0.235
#: A write that waited in the queue starts well within this after the other one ended.
PROMPT_S = 0.06


def connect(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=timeout, factory=connection_class(str(path)),
                                 check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    path = tmp_path / "queue.db"
    with connect(path) as connection:
        connection.execute("CREATE TABLE t (n INTEGER)")
    return path


def write_in_thread(path: Path, n: int) -> tuple[threading.Thread, dict[str, float]]:
    """Insert ``n`` and commit in another thread; ``times`` gets when it started and ended."""
    times: dict[str, float] = {}

    def work() -> None:
        connection = connect(path)
        times["start"] = time.monotonic()
        connection.execute("INSERT INTO t VALUES (?)", (n,))
        times["written"] = time.monotonic()
        connection.commit()
        connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread, times


def test_a_writer_waits_for_the_open_write_and_starts_right_after_it(database: Path) -> None:
    holder = connect(database)
    holder.execute("INSERT INTO t VALUES (1)")
    assert isinstance(holder, QueuedWriterConnection) and holder.holds_writer_lock
    thread, times = write_in_thread(database, 2)
    time.sleep(HOLD_S)
    assert "written" not in times  # still waiting: one writer at a time
    holder.commit()
    released = time.monotonic()
    assert not holder.holds_writer_lock
    thread.join(10)
    assert times["written"] - released < PROMPT_S
    rows = holder.execute("SELECT n FROM t ORDER BY n").fetchall()
    assert rows == [(1,), (2,)]
    holder.close()


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_a_rollback_or_a_closed_connection_lets_the_next_writer_in(database: Path,
                                                                   end: str) -> None:
    holder = connect(database)
    holder.execute("INSERT INTO t VALUES (1)")
    thread, times = write_in_thread(database, 2)
    time.sleep(HOLD_S)
    getattr(holder, end)()
    released = time.monotonic()
    thread.join(10)
    assert times["written"] - released < PROMPT_S
    with connect(database) as check:
        assert check.execute("SELECT n FROM t").fetchall() == [(2,)]


def test_readers_never_wait(database: Path) -> None:
    holder = connect(database)
    holder.execute("INSERT INTO t VALUES (1)")
    reader = connect(database)
    began = time.monotonic()
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # before the commit
    assert time.monotonic() - began < PROMPT_S
    assert not reader.holds_writer_lock  # type: ignore[attr-defined]
    holder.rollback()
    holder.close()
    reader.close()


CHILD = """
import sqlite3, sys, time
from issuer.storage.sqlite_writers import connection_class
path = sys.argv[1]
connection = sqlite3.connect(path, timeout=5, factory=connection_class(path))
connection.execute("INSERT INTO t VALUES (1)")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
connection.commit()
print(time.time(), flush=True)
"""


def test_writers_in_two_processes_queue_on_the_same_lock(database: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", CHILD, str(database), str(HOLD_S)],
                          stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"
        connection = connect(database)
        connection.execute("INSERT INTO t VALUES (2)")
        written = time.time()
        connection.commit()
        released = float(child.stdout.readline())
        assert child.wait(10) == 0
    assert 0 <= written - released < PROMPT_S
    connection.close()


def test_after_the_busy_timeout_sqlite_decides_as_before(database: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_writers, "BUSY_TIMEOUT", 0.05)
    holder = connect(database)
    holder.execute("INSERT INTO t VALUES (1)")
    waiter = connect(database, timeout=0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        waiter.execute("INSERT INTO t VALUES (2)")
    assert not waiter.holds_writer_lock  # type: ignore[attr-defined]
    holder.commit()
    waiter.execute("INSERT INTO t VALUES (3)")
    waiter.commit()
    assert holder.execute("SELECT n FROM t ORDER BY n").fetchall() == [(1,), (3,)]
    holder.close()
    waiter.close()


def test_the_engine_uses_queued_writers_with_a_lock_file_beside_the_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "instance" / "issuer.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, QueuedWriterConnection) and raw.holds_writer_lock
        assert not raw.holds_writer_lock
        assert (tmp_path / "instance" / "issuer.db-writer.lock").exists()
    finally:
        engine.dispose()
