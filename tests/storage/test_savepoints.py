"""A SAVEPOINT stays inside its transaction on both databases (``issuer.storage.db``): the
``sqlite3`` module would otherwise let a savepoint begun before any write start a
transaction of its own, which its RELEASE commits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.services.context import ServiceContext
from issuer.services.mail import send_mail
from issuer.storage.db import make_engine
from issuer.storage.learning import MailMessage
from issuer.storage.sqlite_writers import is_write


def write(session: Session, ctx: ServiceContext, to: str) -> None:
    send_mail(session, ctx, to=to, subject="S", body="B", kind="test")
    session.flush()


def stored(app: Flask) -> list[str]:
    with runtime(app).sessions() as check:
        return list(check.scalars(select(MailMessage.to_address).order_by(MailMessage.id)))


@pytest.fixture()
def fresh(app: Flask) -> Iterator[Session]:
    """A session that has not written yet: no transaction open on the connection."""
    with runtime(app).sessions() as session:
        yield session


def test_a_released_savepoint_is_undone_by_the_rollback_of_its_transaction(
        app: Flask, fresh: Session, ctx: ServiceContext) -> None:
    with fresh.begin_nested():
        write(fresh, ctx, "inside@example.org")
    fresh.rollback()
    assert stored(app) == []


def test_a_rolled_back_savepoint_keeps_the_work_around_it(
        app: Flask, fresh: Session, ctx: ServiceContext) -> None:
    write(fresh, ctx, "before@example.org")
    with pytest.raises(LookupError), fresh.begin_nested():
        write(fresh, ctx, "undone@example.org")
        raise LookupError
    write(fresh, ctx, "after@example.org")
    fresh.commit()
    assert stored(app) == ["before@example.org", "after@example.org"]


def test_a_savepoint_before_any_write_takes_the_sqlite_write_lock_in_the_queue(
        tmp_path: Path) -> None:
    # A deferred BEGIN would read from a snapshot another writer can make stale before this
    # one writes; BEGIN IMMEDIATE takes the lock at once, waiting its turn like a write.
    assert is_write("BEGIN IMMEDIATE") and is_write("  begin\n immediate")
    assert not is_write("BEGIN") and not is_write("SAVEPOINT sa_savepoint_1")
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    try:
        with Session(engine) as session, session.begin_nested():
            raw = session.connection().connection.dbapi_connection
            assert raw is not None and raw.in_transaction
            assert getattr(raw, "holds_writer_lock", False)
    finally:
        engine.dispose()
