"""Shared fixtures: the real bundled contexts and schemas, never stand-ins."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from issuer import config
from issuer.core.jsonld import ContextLoader
from issuer.core.schema import SchemaRegistry

TESTS = Path(__file__).resolve().parent
VECTORS = TESTS / "vectors"


@pytest.fixture(scope="session")
def loader() -> ContextLoader:
    return config.context_loader()


@pytest.fixture(scope="session")
def schemas() -> SchemaRegistry:
    return config.schema_registry()


@pytest.fixture()
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of its own for one test: an SQLite file, or a new PostgreSQL
    database when ISSUER_TEST_DATABASE_URL is set, dropped afterwards (the server keeps its
    state between runs)."""
    admin_url = os.environ.get("ISSUER_TEST_DATABASE_URL")
    if not admin_url:
        yield f"sqlite:///{tmp_path / 'issuer.db'}"
        return
    name = f"issuer_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
