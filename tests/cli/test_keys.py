"""``issuer keys rotate|retire|report`` as an operator runs them: the installed command.

SQLite by default; PostgreSQL when ISSUER_TEST_DATABASE_URL is set (a database per test,
dropped afterwards). Badges are checked with ``issuer verify --trust did.json``, the DID
document taken from ``/issuers/guild/did.json`` of the same service.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from issuer.app import create_app, runtime
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.storage.db import make_engine, session_factory
from issuer.storage.keystore import KeyStore
from issuer.storage.models import Credential, SigningKey
from tests.cli_instance import CliInstance

DID = "did:web:cli.badges.test:issuers:guild"
JAN = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
MAR = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.db


class Instance(CliInstance):
    def context(self, when: datetime | None = None) -> ServiceContext:
        ctx = ServiceContext(settings=self.settings, keystore=KeyStore(self.settings.keys_dir))
        return ctx if when is None else replace(ctx, clock=lambda: when)

    def award(self, when: datetime | None, name: str) -> Path:
        """A badge awarded (and signed) at ``when``, saved to a file."""
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                issuer = get_issuer(session, "guild")
                row = award(session, self.context(when), issuer,
                            get_achievement(session, issuer, "peer-scaffolder"),
                            AwardRequest(recipient=Recipient.parse(f"{name}@example.org")))
                session.commit()
                path = self.tmp / f"{name}.json"
                path.write_text(row.document, encoding="utf-8")
                return path
        finally:
            engine.dispose()

    def did_json(self) -> Path:
        """The DID document exactly as the service publishes it."""
        app = create_app(self.settings, TESTING=True)
        try:
            response = app.test_client().get("/issuers/guild/did.json")
            assert response.status_code == 200
            path = self.tmp / f"did-{uuid.uuid4().hex}.json"
            path.write_bytes(response.data)
            return path
        finally:
            runtime(app).engine.dispose()

    def verify(self, badge: Path) -> subprocess.CompletedProcess[str]:
        return self.run("verify", "--trust", str(self.did_json()), str(badge))

    def state(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
        """Keys, credentials and key files: to show that a refused command changed nothing."""
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                keys = [(k.fragment, k.active, k.retired_at, k.compromised_since, k.key_file)
                        for k in session.scalars(select(SigningKey).order_by(SigningKey.id))]
                creds = [(c.id, c.signing_key_id, c.issued_at)
                         for c in session.scalars(select(Credential).order_by(Credential.id))]
        finally:
            engine.dispose()
        files = sorted(str(p.relative_to(self.settings.keys_dir))
                       for p in self.settings.keys_dir.rglob("*.pem"))
        return keys, creds, files

    def keys(self) -> list[SigningKey]:
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                return list(session.scalars(select(SigningKey).order_by(SigningKey.id)))
        finally:
            engine.dispose()


def make_instance(tmp_path: Path, database_url: str) -> Instance:
    instance: Instance = Instance.create(tmp_path, database_url)
    return instance


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    inst = make_instance(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


def table(output: str) -> dict[str, list[str]]:
    """The report's rows by key id; columns are separated by two or more spaces."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("KEY "))
    assert re.split(r"\s{2,}", lines[start]) == [
        "KEY", "TYPE", "CREATED", "STATUS", "SIGNED", "SIGNED AFTER COMPROMISE"]
    return {cells[0]: cells for cells in (re.split(r"\s{2,}", line) for line in lines[start + 1:])}


def test_rotate_prints_the_new_key_and_both_generations_verify(instance: Instance) -> None:
    before = instance.award(JAN, "ada")
    result = instance.run("keys", "rotate", "--issuer", "guild")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{DID}#key-2"
    rows = table(result.stdout)
    assert rows[f"{DID}#key-1"][1:2] == ["Ed25519"]
    assert rows[f"{DID}#key-1"][3].startswith("retired since ")
    assert rows[f"{DID}#key-1"][4:] == ["1", "—"]
    assert rows[f"{DID}#key-2"][3:] == ["active", "0", "—"]
    assert "PRIVATE KEY" not in result.stdout + result.stderr

    old, new = instance.keys()
    assert (old.active, new.active, new.fragment) == (False, True, "key-2")
    key_file = instance.settings.keys_dir / new.key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")

    after = instance.award(None, "grace")
    assert json.loads(after.read_text())["proof"][0]["verificationMethod"] == f"{DID}#key-2"
    for badge in (before, after):
        checked = instance.verify(badge)
        assert checked.returncode == 0, checked.stdout
    document = json.loads(instance.did_json().read_text())
    assert document["assertionMethod"] == [f"{DID}#key-1", f"{DID}#key-2"]


@pytest.mark.slow
def test_retire_after_a_compromise_fails_only_what_was_signed_after(
    instance: Instance,
) -> None:
    early = instance.award(JAN, "ada")
    late = instance.award(MAR, "bob")
    result = instance.run("keys", "retire", "guild#key-1", "--compromised-since", "2025-02-01")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (f"{DID}#key-1 was the signing key: a new key, {DID}#key-2, signs new badges "
            "from now on.") in out
    assert f"{DID}#key-1 is retired and published as compromised since 2025-02-01T00:00:00Z" \
        in out
    assert "1 badge signed with it on or after that date no longer verifies: re-issue it." in out
    rows = table(out)
    assert rows[f"{DID}#key-1"][3:] == ["compromised since 2025-02-01T00:00:00Z", "2", "1"]
    assert rows[f"{DID}#key-2"][3:] == ["active", "0", "—"]

    assert instance.verify(early).returncode == 0
    failed = instance.verify(late)
    assert failed.returncode == 1
    # Where the service runs, `issuer verify` checks as the service does: the signing time
    # comes from its records, which a back-dated proof cannot change.
    assert (f"signed on 2025-03-10T10:00:00Z (according to the records of this service) with "
            f"key {DID}#key-1, which its issuer reports compromised since "
            "2025-02-01T00:00:00Z; re-issue the badge") in failed.stdout
    fresh = instance.award(None, "grace")
    assert instance.verify(fresh).returncode == 0

    document = json.loads(instance.did_json().read_text())
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert methods[f"{DID}#key-1"]["revoked"] == "2025-02-01T00:00:00Z"
    assert "revoked" not in methods[f"{DID}#key-2"]

    # The full verification method id works too, and the date may move earlier.
    again = instance.run("keys", "retire", f"{DID}#key-1",
                         "--compromised-since", "2025-01-01T08:00:00+01:00")
    assert again.returncode == 0, again.stderr
    assert "compromised since 2025-01-01T07:00:00Z" in again.stdout
    assert "2 badges signed with it on or after that date no longer verify" in again.stdout
    assert "was the signing key" not in again.stdout  # key-2 stays; no third key
    assert instance.verify(early).returncode == 1

    report = instance.run("keys", "report", "--issuer", "guild")
    assert report.returncode == 0, report.stderr
    rows = table(report.stdout)
    assert rows[f"{DID}#key-1"][3:] == ["compromised since 2025-01-01T07:00:00Z", "2", "2"]
    assert rows[f"{DID}#key-2"][3:] == ["active", "1", "—"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (("retire", "guild#key-9", "--compromised-since", "2025-02-01"), 1,
     "there is no key 'key-9' among the keys of The Guild (guild: key-1)"),
    (("retire", "nobody#key-1", "--compromised-since", "2025-02-01"), 1,
     "no issuer hosted here has the key 'nobody#key-1'"),
    (("retire", "did:web:elsewhere.example#key-1", "--compromised-since", "2025-02-01"), 1,
     "no issuer hosted here"),
    (("retire", "guild#key-1", "--compromised-since", "2025-13-45"), 2,
     "'2025-13-45' is not a date"),
    (("retire", "guild#key-1", "--compromised-since", "yesterday"), 2, "is not a date"),
    (("retire", "guild#key-1", "--compromised-since", "2025-02-01T10:00"), 2,
     "has no time zone"),
    (("retire", "guild#key-1", "--compromised-since", "1969-12-31"), 2,
     "'1969-12-31' is before 1970-01-01"),
    (("retire", "guild#key-1", "--compromised-since", "2999-01-01"), 1,
     "2999-01-01T00:00:00Z is in the future"),
    (("retire", "guild#key-1"), 2, "Missing option '--compromised-since'"),
    (("rotate", "--issuer", "nobody"), 1, "no issuer 'nobody'"),
    (("report", "--issuer", "nobody"), 1, "no issuer 'nobody'"),
])
def test_bad_input_is_refused_and_changes_nothing(
    instance: Instance, args: tuple[str, ...], code: int, message: str
) -> None:
    instance.award(JAN, "ada")
    before = instance.state()
    result = instance.run("keys", *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert instance.state() == before


def test_a_compromise_date_is_never_moved_later(instance: Instance) -> None:
    first = instance.run("keys", "retire", "guild#key-1", "--compromised-since", "2025-02-01")
    assert first.returncode == 0, first.stderr
    before = instance.state()
    later = instance.run("keys", "retire", "guild#key-1", "--compromised-since", "2025-03-01")
    assert later.returncode == 1
    assert ("key-1 is already reported compromised since 2025-02-01T00:00:00Z; that date can "
            "only be moved earlier") in later.stderr
    same = instance.run("keys", "retire", "guild#key-1", "--compromised-since", "2025-02-01")
    assert same.returncode == 0
    assert "already reported compromised since 2025-02-01T00:00:00Z; nothing changed" in (
        same.stdout)
    assert instance.state() == before


def test_a_database_that_is_not_set_up_is_a_clear_error(tmp_path: Path,
                                                        fresh_database_url: str) -> None:
    bare = make_instance(tmp_path, fresh_database_url)
    result = bare.run("keys", "report", "--issuer", "guild")
    assert result.returncode == 2
    assert "and set up? Run: issuer init" in result.stderr
    assert "Traceback" not in result.stderr
