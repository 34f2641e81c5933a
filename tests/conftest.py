"""Shared fixtures: the real bundled contexts and schemas, never stand-ins; and the real app
on a real database: SQLite by default, PostgreSQL with ISSUER_TEST_DATABASE_URL.

PostgreSQL keeps its state between runs, so each run creates its own database and drops it at
the end. Tables are emptied after every test, so tests never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer import config
from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.core.jsonld import ContextLoader
from issuer.core.schema import SchemaRegistry
from issuer.services.context import ServiceContext
from issuer.storage.db import make_engine, upgrade
from issuer.storage.models import Base
from tests.databases import new_database

TESTS = Path(__file__).resolve().parent
VECTORS = TESTS / "vectors"


@pytest.fixture(scope="session")
def loader() -> ContextLoader:
    return config.context_loader()


@pytest.fixture(scope="session")
def schemas() -> SchemaRegistry:
    return config.schema_registry()


@pytest.fixture(scope="session", autouse=True)
def _prepared_installations() -> Iterator[None]:
    """Remove the installations command-line tests copy (:mod:`tests.cli_instance`)."""
    yield
    from tests.cli_instance import discard_prepared

    discard_prepared()


@pytest.fixture()
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of its own for one test (see :mod:`tests.databases`)."""
    with new_database(tmp_path) as url:
        yield url


BASE_URL = "http://badges.test"
PASSWORD = "correct horse battery staple"
#: Staff passwords are hashed with scrypt at a tiny cost in tests: a real salted hash, checked
#: as any other, without the tenth of a second per account that production's parameters
#: (``config.PASSWORD_HASHING``) take on purpose.
TEST_PASSWORD_HASHING = "scrypt:128:1:1"


#: Tests under these folders use the app on a database, and run again on PostgreSQL.
DATABASE_FOLDERS = ("web", "services", "storage")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = Path(str(item.fspath)).relative_to(TESTS)
        if relative.parts[0] in DATABASE_FOLDERS or "database_url" in item.fixturenames:
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with new_database(tmp_path_factory.mktemp("db")) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture()
def settings(database_url: str, keys_dir: Path) -> Settings:
    # Verification stays offline here (no DNS for made-up hosts); tests/net serves the
    # documents it fetches from loopback.
    return Settings(database_url=database_url, base_url=BASE_URL, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING, verify_offline=True).validated()


@pytest.fixture()
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True)
    yield app
    engine = runtime(app).engine
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def ctx(app: Flask) -> ServiceContext:
    return runtime(app).services


@pytest.fixture()
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging test data; commit what the app should see."""
    s = runtime(app).sessions()
    yield s
    s.rollback()
    s.close()


@dataclass
class World:
    """An issuer with an achievement, a staff member, an API token, and a second issuer."""

    issuer_slug: str
    achievement_slug: str
    staff_email: str
    token: str
    other_slug: str
    other_staff_email: str
    other_token: str


@pytest.fixture()
def world(session: Session, ctx: ServiceContext) -> World:
    from issuer.services.achievements import create_achievement
    from issuer.services.issuers import create_issuer
    from issuer.services.tokens import create_token
    from issuer.services.users import create_user, grant

    def make(slug: str, email: str) -> tuple[Any, str]:
        issuer = create_issuer(session, ctx, slug=slug, name=f"{slug.title()} Guild")
        create_achievement(session, ctx, issuer, {
            "name": "Peer Scaffolder", "slug": "peer-scaffolder",
            "description": "Helped peers learn.", "criteria_narrative": "Two peer attestations.",
            "credits_available": 1.5, "tags": ["mentoring"],
        })
        user = create_user(session, ctx, email=email, name=email, password=PASSWORD)
        grant(session, user, issuer)
        _, token = create_token(session, ctx, issuer, "test")
        return issuer, token

    _, token = make("guild", "staff@guild.test")
    _, other_token = make("other", "staff@other.test")
    session.commit()
    return World("guild", "peer-scaffolder", "staff@guild.test", token, "other",
                 "staff@other.test", other_token)
