"""A database of a test's own: an SQLite file, or a new database on the PostgreSQL server
named by ISSUER_TEST_DATABASE_URL, dropped afterwards (the server keeps its state between
runs, so nothing may be left behind); and a copy of one database into another."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
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


def copy_database(source_url: str, target_url: str) -> None:
    """Make the database at ``target_url`` an exact copy of the one at ``source_url``.

    Both come from :func:`new_database`. SQLite copies with its online backup, page by page;
    PostgreSQL makes the target again with the source as its template (``CREATE DATABASE …
    TEMPLATE``), which needs nobody connected to either.
    """
    source, target = make_url(source_url), make_url(target_url)
    if source.get_backend_name() == "sqlite":
        assert target.get_backend_name() == "sqlite"
        with closing(sqlite3.connect(str(source.database))) as src, \
                closing(sqlite3.connect(str(target.database))) as dst:
            src.backup(dst)
        return
    names = (str(source.database), str(target.database))
    assert all(re.fullmatch(r"issuer_[a-z0-9_]+", name) for name in names), names
    admin = create_engine(os.environ["ISSUER_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{names[1]}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{names[1]}" TEMPLATE "{names[0]}"'))
    finally:
        admin.dispose()
