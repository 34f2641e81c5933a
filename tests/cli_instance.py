"""An installation driven by the installed ``issuer`` command, as an operator runs it.

Each test gets its own database (``fresh_database_url``: SQLite, or PostgreSQL with
ISSUER_TEST_DATABASE_URL), key folder and instance folder. Test data that has no command of
its own (an achievement) is made with the same use cases the web pages call.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.services.achievements import create_achievement
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.storage.db import make_engine, session_factory
from issuer.storage.keystore import KeyStore

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))
BASE_URL = "http://cli.badges.test"
SECRET = "cli-test-secret"


@dataclass
class CliInstance:
    env: dict[str, str]
    settings: Settings
    tmp: Path
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def create(cls, tmp: Path, database_url: str) -> Any:
        settings = Settings(database_url=database_url, base_url=BASE_URL,
                            keys_dir=tmp / "keys", secret_key=SECRET).validated()
        env = {**os.environ,
               "ISSUER_DATABASE_URL": settings.database_url,
               "ISSUER_KEYS_DIR": str(settings.keys_dir),
               "ISSUER_BASE_URL": BASE_URL,
               "ISSUER_SECRET_KEY": SECRET,
               "ISSUER_INSTANCE_DIR": str(tmp / "instance")}
        env.pop("ISSUER_KEY_PASSPHRASE", None)
        return cls(env=env, settings=settings, tmp=tmp)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ISSUER_CMD, *args], env={**self.env, **env},
                              capture_output=True, text=True, timeout=300, check=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def session(self) -> Session:
        return session_factory(self.engine)()

    def context(self) -> ServiceContext:
        return ServiceContext(settings=self.settings, keystore=KeyStore(self.settings.keys_dir))

    def set_up_guild(self) -> None:
        """``issuer init``, ``issuer issuers create`` and the "Peer Scaffolder" badge."""
        assert self.run("init").returncode == 0
        created = self.run("issuers", "create", "--slug", "guild", "--name", "The Guild")
        assert created.returncode == 0, created.stderr
        with self.session() as session:
            create_achievement(session, self.context(), get_issuer(session, "guild"), {
                "name": "Peer Scaffolder", "slug": "peer-scaffolder",
                "description": "Helped peers learn.", "criteria_narrative": "Two attestations."})
            session.commit()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
