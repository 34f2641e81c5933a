"""A database of a test's own: an SQLite file, or a new database on the PostgreSQL server
named by ISSUER_TEST_DATABASE_URL, dropped afterwards (the server keeps its state between
runs, so nothing may be left behind)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def new_database(root: Path, prefix: str = "test") -> Iterator[str]:
    """The URL of an empty database: SQLite under ``root``, or on PostgreSQL."""
    admin_url = os.environ.get("ISSUER_TEST_DATABASE_URL")
    if not admin_url:
        yield f"sqlite:///{root / 'issuer.db'}"
        return
    name = f"issuer_{prefix}_{uuid.uuid4().hex[:12]}"
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
