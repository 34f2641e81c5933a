"""``issuer award-bulk`` as a user runs it: the installed command on a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from issuer.config import Settings
from issuer.services.achievements import create_achievement
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.verification import verify
from issuer.storage.db import make_engine, session_factory
from issuer.storage.keystore import KeyStore
from issuer.storage.models import BulkJob, Credential

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))
BASE_URL = "http://cli.badges.test"


@dataclass
class Instance:
    env: dict[str, str]
    settings: Settings
    tmp: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ISSUER_CMD, *args], env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)

    def csv(self, text: str) -> str:
        path = self.tmp / "people.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def credentials(self) -> list[Credential]:
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                return list(session.scalars(select(Credential)))
        finally:
            engine.dispose()

    def jobs(self) -> int:
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                return int(session.scalar(select(func.count()).select_from(BulkJob)) or 0)
        finally:
            engine.dispose()


@pytest.fixture()
def instance(tmp_path: Path) -> Iterator[Instance]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'issuer.db'}", base_url=BASE_URL,
                        keys_dir=tmp_path / "keys", secret_key="cli-test-secret").validated()
    env = {**os.environ,
           "ISSUER_DATABASE_URL": settings.database_url,
           "ISSUER_KEYS_DIR": str(settings.keys_dir),
           "ISSUER_BASE_URL": BASE_URL,
           "ISSUER_SECRET_KEY": "cli-test-secret",
           "ISSUER_INSTANCE_DIR": str(tmp_path / "instance")}
    env.pop("ISSUER_KEY_PASSPHRASE", None)
    inst = Instance(env=env, settings=settings, tmp=tmp_path)
    assert inst.run("init").returncode == 0
    created = inst.run("issuers", "create", "--slug", "guild", "--name", "The Guild")
    assert created.returncode == 0, created.stderr
    # There is no achievement command; the use case is the same one the web page calls.
    engine = make_engine(settings.database_url)
    ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
    with session_factory(engine)() as session:
        create_achievement(session, ctx, get_issuer(session, "guild"), {
            "name": "Peer Scaffolder", "slug": "peer-scaffolder",
            "description": "Helped peers learn.", "criteria_narrative": "Two attestations."})
        session.commit()
    engine.dispose()
    yield inst


MIXED = ("recipient,name,evidence_url\n"
         "ada@example.org,Ada,https://forum.example/t/1\n"
         "anna@example,Anna,\n"
         "did:example:grace,Grace,\n")


def test_an_invalid_file_issues_nothing_without_the_flag(instance: Instance) -> None:
    result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                          "peer-scaffolder", instance.csv(MIXED))
    assert result.returncode == 1
    assert "row 3: 'anna@example' is not an email address or a DID" in result.stderr
    assert "nothing was issued" in result.stderr
    assert result.stdout == ""
    assert instance.credentials() == [] and instance.jobs() == 0


def test_with_the_flag_the_valid_rows_are_issued_and_printed(instance: Instance) -> None:
    settings = instance.settings
    result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                          "peer-scaffolder", "--issue-valid-rows", instance.csv(MIXED))
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted(r for r, _ in lines) == ["ada@example.org", "did:example:grace"]
    stored = {c.id: c for c in instance.credentials()}
    assert len(stored) == 2
    for _, url in lines:
        assert url.startswith(f"{BASE_URL}/credentials/")
        assert url.rsplit("/", 1)[1] in stored
    assert "row 3" in result.stderr and "Issuing" in result.stderr
    engine = make_engine(settings.database_url)
    ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
    with session_factory(engine)() as session:
        for credential in stored.values():
            assert verify(session, ctx, credential.document).valid
    engine.dispose()


def test_a_good_file_is_issued_in_full(instance: Instance) -> None:
    rows = "".join(f"p{i}@example.org,Person {i}\n" for i in range(25))
    result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                          "peer-scaffolder", instance.csv("recipient,name\n" + rows))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 25 == len(instance.credentials())


@pytest.mark.parametrize("args, code, words", [
    (["--issuer", "nobody", "--achievement", "peer-scaffolder"], 1, "no issuer 'nobody'"),
    (["--issuer", "guild", "--achievement", "nothing"], 1, "no achievement 'nothing'"),
])
def test_unknown_issuer_or_achievement(instance: Instance, args: list[str], code: int,
                                       words: str) -> None:
    result = instance.run("award-bulk", *args, instance.csv("recipient\nada@example.org\n"))
    assert result.returncode == code
    assert words in result.stderr
    assert instance.credentials() == []


def test_an_unreadable_file_is_exit_2(instance: Instance) -> None:
    result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                          "peer-scaffolder", str(instance.tmp / "missing.csv"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr
