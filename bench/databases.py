"""Fresh databases for one benchmark: a SQLite file, or a PostgreSQL database created for the
run and dropped after it (as ``tests/web/conftest.py`` does for the tests).

PostgreSQL is used when ``ISSUER_BENCH_DATABASE_URL`` (else ``ISSUER_TEST_DATABASE_URL``)
names a server to create databases on, or when one answers at 127.0.0.1:5432; set
``ISSUER_BENCH_DATABASE_URL=none`` to measure SQLite only.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.measures import port_open

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str | None:
    """Where benchmark databases can be created, or None when PostgreSQL is not available."""
    for name in ("ISSUER_BENCH_DATABASE_URL", "ISSUER_TEST_DATABASE_URL"):
        value = os.environ.get(name, "").strip()
        if value.lower() == "none":
            return None
        if value:
            return value
    return LOCAL_POSTGRES if port_open("127.0.0.1", 5432) else None


def backends() -> list[str]:
    """The databases to measure on: SQLite always, PostgreSQL when it is reachable."""
    return ["SQLite", "PostgreSQL"] if postgres_admin_url() else ["SQLite"]


@contextmanager
def fresh_database(backend: str, root: Path) -> Iterator[str]:
    """The URL of an empty database (no schema yet) that exists until the block ends."""
    if backend == "SQLite":
        yield f"sqlite:///{root / 'issuer.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = postgres_admin_url()
    if admin_url is None:
        raise RuntimeError("PostgreSQL is not reachable")
    name = f"issuer_bench_{uuid.uuid4().hex[:12]}"
    assert re.fullmatch(r"[a-z0-9_]+", name)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
