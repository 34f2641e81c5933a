"""An installation driven by the installed ``issuer`` command, as an operator runs it.

Each test gets its own database (``fresh_database_url``: SQLite, or PostgreSQL with
ISSUER_TEST_DATABASE_URL), key folder and instance folder. Test data that has no command of
its own (an achievement) is made with the same use cases the web pages call.

Most tests start from the same installation: ``issuer init``, ``issuer issuers create`` and
one badge. Those commands run once per test process, into an installation kept aside, and
each test gets an exact copy of its database, keys and instance folder
(:meth:`CliInstance.set_up_guild`); the commands themselves are tested on their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
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
from tests.conftest import TEST_PASSWORD_HASHING
from tests.databases import copy_database, new_database

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
                            keys_dir=tmp / "keys", secret_key=SECRET,
                            password_hashing=TEST_PASSWORD_HASHING).validated()
        # The command sees these settings only: none of the caller's ISSUER_* variables
        # (a key passphrase, a time limit …) but those that steer the tests themselves.
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("ISSUER_") or name.startswith("ISSUER_TEST_")}
        env.update({"ISSUER_DATABASE_URL": settings.database_url,
                    "ISSUER_KEYS_DIR": str(settings.keys_dir),
                    "ISSUER_BASE_URL": BASE_URL,
                    "ISSUER_SECRET_KEY": SECRET,
                    "ISSUER_INSTANCE_DIR": str(tmp / "instance"),
                    "ISSUER_PASSWORD_HASHING": TEST_PASSWORD_HASHING})
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
        """What ``issuer init``, ``issuer issuers create`` and the "Peer Scaffolder" badge
        leave behind, copied from the installation they were run into for this process."""
        prepared = _prepared_guild()
        self.close()
        copy_database(prepared.settings.database_url, self.settings.database_url)
        for folder in ("keys", "instance"):
            if (prepared.tmp / folder).is_dir():
                shutil.copytree(prepared.tmp / folder, self.tmp / folder, dirs_exist_ok=True)

    def run_set_up_commands(self) -> None:
        """``issuer init``, ``issuer issuers create`` and the "Peer Scaffolder" badge."""
        initialised = self.run("init")
        assert initialised.returncode == 0, initialised.stderr
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


#: The installation ``set_up_guild`` copies, per database server, and what removes it.
_PREPARED: dict[str, tuple[CliInstance, ExitStack]] = {}


def _prepared_guild() -> CliInstance:
    server = os.environ.get("ISSUER_TEST_DATABASE_URL", "sqlite")
    if server not in _PREPARED:
        with ExitStack() as stack:
            root = Path(tempfile.mkdtemp(prefix="issuer-guild-"))
            stack.callback(shutil.rmtree, root, ignore_errors=True)
            url = stack.enter_context(new_database(root, prefix="guild"))
            instance = CliInstance.create(root, url)
            stack.callback(instance.close)
            instance.run_set_up_commands()
            instance.close()  # PostgreSQL copies a template nobody is connected to
            _PREPARED[server] = (instance, stack.pop_all())
    return _PREPARED[server][0]


def discard_prepared() -> None:
    """Remove the installations :func:`_prepared_guild` made (at the end of a session)."""
    while _PREPARED:
        _, stack = _PREPARED.popitem()[1]
        stack.close()
