"""``issuer keys export-to-database`` and ``issuer keys rewrap`` as an operator runs them:
key files moved into the database key store, then sealed under a new key-encryption key.

SQLite by default; PostgreSQL when ISSUER_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.services.issuers import get_issuer
from issuer.services.tokens import create_token
from issuer.storage.key_material import KeyMaterial, kek_id
from issuer.storage.models import SigningKey
from tests.cli_instance import CliInstance

pytestmark = pytest.mark.db

KEK = secrets.token_urlsafe(32)
NEW_KEK = secrets.token_urlsafe(32)
THIRD_KEK = secrets.token_urlsafe(32)


def raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=")


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[CliInstance]:
    inst: CliInstance = CliInstance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    for secret in (KEK, NEW_KEK, THIRD_KEK, "PRIVATE KEY"):
        assert secret not in result.stdout + result.stderr
    return result.stdout


def sealed(instance: CliInstance) -> dict[str, str]:
    with instance.session() as session:
        return dict(session.execute(select(KeyMaterial.name, KeyMaterial.kek_id)).all())


def key_files(instance: CliInstance) -> list[str]:
    with instance.session() as session:
        return list(session.scalars(select(SigningKey.key_file).order_by(SigningKey.id)))


def sign_and_verify(settings: Settings) -> dict[str, object]:
    """A badge awarded through the API of a node with ``settings``, and its verification."""
    app = create_app(settings, TESTING=True)
    try:
        rt = runtime(app)
        with rt.sessions() as session:
            _, token = create_token(session, rt.services, get_issuer(session, "guild"), "t")
            session.commit()
        client = app.test_client()
        answer = client.post("/api/v1/awards", headers={"Authorization": f"Bearer {token}"},
                             json={"achievement": "peer-scaffolder",
                                   "recipient": {"email": "ada@example.org"}})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        report = client.post("/credentials/verify",
                             json={"verifiableCredential": answer.get_json()["credential"]})
        assert report.status_code == 200
        return dict(report.get_json())
    finally:
        runtime(app).engine.dispose()


def test_key_files_move_into_the_database_once_and_sign_from_there(
        instance: CliInstance) -> None:
    ok(instance.run("keys", "rotate", "--issuer", "guild"))  # key-1 retired, key-2 signs
    first, second = key_files(instance)
    (instance.settings.keys_dir / first).unlink()  # a retired key's file already deleted

    missing = instance.run("keys", "export-to-database")
    assert missing.returncode == 2
    assert "set ISSUER_KEY_ENCRYPTION_KEY first" in missing.stderr
    assert sealed(instance) == {}

    out = ok(instance.run("keys", "export-to-database", ISSUER_KEY_ENCRYPTION_KEY=KEK))
    assert "1 key moved into the database, sealed with ISSUER_KEY_ENCRYPTION_KEY; 0 keys " \
           "already there." in out
    assert f"Retired keys whose files are gone were left out (they sign nothing any more): " \
           f"{first}" in out
    assert "they can be deleted" in out and str(instance.settings.keys_dir) in out
    assert sealed(instance) == {second: kek_id(raw(KEK))}
    assert (instance.settings.keys_dir / second).exists()  # files are left in place

    again = ok(instance.run("keys", "export-to-database", ISSUER_KEY_ENCRYPTION_KEY=KEK))
    assert "0 keys moved into the database" in again and "1 key already there" in again
    assert sealed(instance) == {second: kek_id(raw(KEK))}

    # Without the files, the service signs with the database's keys.
    shutil.rmtree(instance.settings.keys_dir)
    database = {"ISSUER_KEY_STORE": "database", "ISSUER_KEY_ENCRYPTION_KEY": KEK}
    ok(instance.run("keys", "rotate", "--issuer", "guild", **database))
    assert not instance.settings.keys_dir.exists()
    assert len(sealed(instance)) == 2
    settings = replace(instance.settings, key_store="database", key_encryption_key=KEK)
    assert sign_and_verify(settings)["verified"] is True


def test_an_unreadable_active_key_file_moves_nothing(instance: CliInstance) -> None:
    (active,) = key_files(instance)
    (instance.settings.keys_dir / active).write_text("not a key")
    result = instance.run("keys", "export-to-database", ISSUER_KEY_ENCRYPTION_KEY=KEK)
    assert result.returncode == 2
    assert f"the key file {active!r} cannot be read" in result.stderr
    assert "nothing was moved" in result.stderr
    assert sealed(instance) == {}


def test_rewrap_seals_every_key_with_the_new_kek_in_one_go(instance: CliInstance) -> None:
    ok(instance.run("keys", "export-to-database", ISSUER_KEY_ENCRYPTION_KEY=KEK))
    ok(instance.run("keys", "rotate", "--issuer", "guild", ISSUER_KEY_STORE="database",
                    ISSUER_KEY_ENCRYPTION_KEY=KEK))
    before = sealed(instance)
    assert set(before.values()) == {kek_id(raw(KEK))} and len(before) == 2

    unset = instance.run("keys", "rewrap", "--from-env", "OLD_KEK",
                         ISSUER_KEY_ENCRYPTION_KEY=NEW_KEK)
    assert unset.returncode == 2 and "OLD_KEK is not set" in unset.stderr
    # An old key that is not the one that sealed them: nothing changes.
    wrong = instance.run("keys", "rewrap", "--from-env", "OLD_KEK",
                         ISSUER_KEY_ENCRYPTION_KEY=NEW_KEK, OLD_KEK=THIRD_KEK)
    assert wrong.returncode == 2
    assert "sealed with neither the old nor the new key-encryption key" in wrong.stderr
    assert THIRD_KEK not in wrong.stderr and NEW_KEK not in wrong.stderr
    assert sealed(instance) == before

    out = ok(instance.run("keys", "rewrap", "--from-env", "OLD_KEK",
                          ISSUER_KEY_ENCRYPTION_KEY=NEW_KEK, OLD_KEK=KEK))
    assert "2 keys re-sealed with the key-encryption key in ISSUER_KEY_ENCRYPTION_KEY; " \
           "0 keys already were." in out
    assert sealed(instance) == dict.fromkeys(before, kek_id(raw(NEW_KEK)))
    again = ok(instance.run("keys", "rewrap", "--from-env", "OLD_KEK",
                            ISSUER_KEY_ENCRYPTION_KEY=NEW_KEK, OLD_KEK=KEK))
    assert "0 keys re-sealed" in again and "2 keys already were" in again

    shutil.rmtree(instance.settings.keys_dir)
    settings = replace(instance.settings, key_store="database", key_encryption_key=NEW_KEK)
    assert sign_and_verify(settings)["verified"] is True
    stale = create_app(replace(settings, key_encryption_key=KEK), TESTING=True)
    try:
        answer = stale.test_client().get("/readyz")
        assert answer.status_code == 503
        assert "another key-encryption key" in answer.get_json()["checks"]["signing_keys"]
    finally:
        runtime(stale).engine.dispose()
