"""Shared fixtures: the real bundled contexts and schemas, never stand-ins."""

from __future__ import annotations

from pathlib import Path

import pytest

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
