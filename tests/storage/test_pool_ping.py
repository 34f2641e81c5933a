"""Pooled PostgreSQL connections are checked before use only after sitting idle, and a
connection lost in steady use costs one 503, not a 500, with the next request answered.

Each test has a database of its own and ends the server side of its connections with
``pg_terminate_backend``, as a database restart or a proxy's idle timeout would.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.storage import db as storage_db
from issuer.storage.db import make_engine, upgrade
from tests.conftest import BASE_URL, TEST_PASSWORD_HASHING
from tests.databases import new_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("ISSUER_TEST_DATABASE_URL"),
                       reason="needs PostgreSQL (ISSUER_TEST_DATABASE_URL)"),
]


@pytest.fixture()
def url(tmp_path: Path) -> Iterator[str]:
    with new_database(tmp_path, "ping") as made:
        yield made


def _end_connections(url: str) -> int:
    """End every server session of ``url``'s database; how many there were."""
    admin = create_engine(os.environ["ISSUER_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": make_url(url).database}).all())
    finally:
        admin.dispose()


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _counting_pings(engine: Engine) -> list[int]:
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def test_a_connection_in_steady_use_is_handed_out_without_a_ping(url: str) -> None:
    engine = make_engine(url)
    try:
        pings = _counting_pings(engine)
        first = _pid(engine)
        assert [_pid(engine) for _ in range(20)] == [first] * 20
        assert pings == []
    finally:
        engine.dispose()


def test_an_idle_connection_is_checked_and_a_lost_one_replaced(
    url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage_db, "PING_AFTER_IDLE_S", 0.05)
    engine = make_engine(url)
    try:
        pings = _counting_pings(engine)
        first = _pid(engine)
        time.sleep(0.1)
        assert _pid(engine) == first  # idle: pinged, alive, kept
        assert len(pings) == 1
        assert _end_connections(url) == 1
        time.sleep(0.1)
        second = _pid(engine)  # idle and gone: pinged, replaced, no error
        assert second != first
        assert len(pings) == 2
    finally:
        engine.dispose()


def test_a_connection_lost_in_steady_use_fails_once_then_the_pool_recovers(url: str) -> None:
    engine = make_engine(url)
    try:
        first = _pid(engine)
        assert _end_connections(url) == 1
        with pytest.raises(DBAPIError) as lost, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert lost.value.connection_invalidated
        assert _pid(engine) != first
    finally:
        engine.dispose()


def test_a_request_on_a_lost_connection_is_a_503_and_the_next_one_is_answered(
    url: str, tmp_path: Path,
) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=url, base_url=BASE_URL, keys_dir=tmp_path / "keys",
                        secret_key="test-secret-key-not-for-production",
                        password_hashing=TEST_PASSWORD_HASHING,
                        verify_offline=True).validated()
    app = create_app(settings, TESTING=True)
    client = app.test_client()
    try:
        assert client.get("/issuers/nobody/did.json").status_code == 404
        assert _end_connections(url) >= 1
        lost = client.get("/issuers/nobody/did.json")
        assert lost.status_code == 503
        assert lost.headers["Retry-After"] == "1"
        assert lost.mimetype == "application/problem+json"
        assert "send the request again" in lost.get_json()["detail"]
        assert client.get("/issuers/nobody/did.json").status_code == 404
    finally:
        runtime(app).engine.dispose()
