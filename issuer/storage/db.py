"""Engine, sessions and schema migrations.

The edges own the transaction (the web request, the CLI command, the background job):
services flush, never commit. A service that must undo part of its work uses a SAVEPOINT
(``session.begin_nested()``), which works on both databases (see :func:`make_engine`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuer.storage.sqlite_writers import BUSY_TIMEOUT, connection_class

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
