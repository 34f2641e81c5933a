"""Engine, sessions and schema migrations.

The edges own the transaction (the web request, the CLI command, the background job):
services flush, never commit. A service that must undo part of its work uses a SAVEPOINT
(``session.begin_nested()``), which works on both databases (see :func:`make_engine`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuer.storage.sqlite_writers import BUSY_TIMEOUT, connection_class

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: A pooled server connection unused for this long is checked before it is handed out.
PING_AFTER_IDLE_S = 10.0


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys and a busy timeout, as PostgreSQL has,
    writers that queue rather than poll (:mod:`issuer.storage.sqlite_writers`), and
    savepoints that stay inside their transaction."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT, "check_same_thread": False}
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            connect_args["factory"] = connection_class(database)
        kwargs.setdefault("connect_args", connect_args)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    if "pool_pre_ping" in kwargs:
        return create_engine(url, **kwargs)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat unused for
    :data:`PING_AFTER_IDLE_S` (SQLAlchemy, "Dealing with Disconnects": a checkout listener
    that raises ``DisconnectionError`` has the pool replace the connection).

    ``pool_pre_ping`` pings on every checkout, that is one more round trip for every
    request. A connection is lost mostly while it sits idle (the server or a proxy closes
    it, the database restarts overnight); one in steady use fails in its first statement
    instead, which the pool reports as a disconnect: it then replaces every connection it
    holds, and the request is answered 503 (:mod:`issuer.web.errors`), to be sent again.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # a new connection, or one in steady use
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"the pooled connection is gone: {error}") from error
        if not alive:
            raise exc.DisconnectionError("the pooled connection is gone")


def _begin_before_savepoint(connection: Connection, _name: str | None) -> None:
    """Open the SQLite transaction a SAVEPOINT is to nest in.

    The ``sqlite3`` module opens a transaction only before INSERT, UPDATE or DELETE. A
    SAVEPOINT sent before any of them starts a transaction of its own, and its RELEASE then
    commits it: the caller's rollback would no longer undo it (SQLAlchemy's pysqlite notes,
    "Serializable isolation / Savepoints / Transactional DDL"). Their recipe sends BEGIN at
    the start of every transaction, which would make reads transactional too and change
    when writers queue; only this case needs it. BEGIN IMMEDIATE takes the write lock at
    once (queued like a write, :mod:`issuer.storage.sqlite_writers`): a deferred BEGIN would
    read from a snapshot that another writer can make stale before this one writes, and
    SQLite then refuses the write at once instead of waiting.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` through the migrations (never create_all)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
