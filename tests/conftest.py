"""Shared fixtures: the real bundled contexts and schemas, never stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer import config
from issuer.core.jsonld import ContextLoader
from issuer.core.schema import SchemaRegistry
from tests.databases import new_database

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
    """An empty database of its own for one test (see :mod:`tests.databases`)."""
    with new_database(tmp_path) as url:
        yield url
