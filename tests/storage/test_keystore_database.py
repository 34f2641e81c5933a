"""The database key store: issuer private keys sealed with AES-256-GCM under a key-encryption
key (KEK) from the environment, shared by every node on the same database.

Each test runs the real app on SQLite, and on PostgreSQL with ISSUER_TEST_DATABASE_URL.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.services.context import ServiceContext
from issuer.services.issuers import create_issuer, get_issuer
from issuer.services.keys import rotate_key
from issuer.storage.key_material import KeyMaterial, Sealed, kek_id, open_sealed, seal
from issuer.storage.keystore import DatabaseKeyStore, KeyStoreError, WrongKeyEncryptionKey
from issuer.storage.models import SigningKey
from tests.conftest import World

KEK_TEXT = secrets.token_urlsafe(32)
KEK = base64.urlsafe_b64decode(KEK_TEXT + "=")
OTHER_TEXT = secrets.token_urlsafe(32)
OTHER = base64.urlsafe_b64decode(OTHER_TEXT + "=")


def kek_forms(*keks: bytes) -> list[bytes]:
    """Every spelling of the KEKs that could leak: raw, hex, base64 and base64url."""
    forms = []
    for kek in keks:
        forms += [kek, kek.hex().encode(), base64.b64encode(kek).rstrip(b"="),
                  base64.urlsafe_b64encode(kek).rstrip(b"=")]
    return forms


def raw_bytes(pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(pem, password=None)
    return key.private_bytes(serialization.Encoding.Raw,  # type: ignore[call-arg]
                             serialization.PrivateFormat.Raw, serialization.NoEncryption())


@pytest.fixture()
def settings(database_url: str, keys_dir: Path) -> Settings:
    return Settings(database_url=database_url, base_url="http://badges.test",
                    keys_dir=keys_dir / "unused", secret_key="test-secret-key-not-for-production",
                    password_hashing="scrypt:128:1:1", verify_offline=True,
                    key_store="database", key_encryption_key=KEK_TEXT).validated()


@pytest.fixture()
def other_apps() -> Iterator[list[Flask]]:
    made: list[Flask] = []
    yield made
    for app in made:
        runtime(app).engine.dispose()


def node(made: list[Flask], settings: Settings) -> FlaskClient:
    """Another process's app on the same database: its own engine and key cache."""
    app = create_app(settings, TESTING=True)
    made.append(app)
    return app.test_client()


def test_a_sealed_key_opens_only_under_its_own_name_and_kek() -> None:
    sealed = seal(KEK, "guild/key-1-00aa11bb", b"the private key")
    assert b"the private key" not in sealed.ciphertext
    assert sealed.kek_id == kek_id(KEK) != kek_id(OTHER)
    assert open_sealed(KEK, "guild/key-1-00aa11bb", sealed) == b"the private key"
    assert open_sealed(KEK, "other/key-1-00aa11bb", sealed) is None  # the row's name is bound
    assert open_sealed(OTHER, "guild/key-1-00aa11bb", sealed) is None
    tampered = Sealed(sealed.kek_id, sealed.nonce, bytes([sealed.ciphertext[0] ^ 1])
                      + sealed.ciphertext[1:])
    assert open_sealed(KEK, "guild/key-1-00aa11bb", tampered) is None
    again = seal(KEK, "guild/key-1-00aa11bb", b"the private key")
    assert again.nonce != sealed.nonce and again.ciphertext != sealed.ciphertext


def test_new_keys_are_sealed_rows_that_a_fresh_store_opens(
        app: Flask, session: Session, ctx: ServiceContext, world: World,
        settings: Settings) -> None:
    assert isinstance(ctx.keystore, DatabaseKeyStore)
    keys = list(session.scalars(select(SigningKey).order_by(SigningKey.id)))
    rows = {row.name: row for row in session.scalars(select(KeyMaterial))}
    assert sorted(rows) == sorted(k.key_file for k in keys) and len(rows) == 2
    assert not settings.keys_dir.exists()  # no file written anywhere
    fresh = DatabaseKeyStore(runtime(app).engine, KEK)  # another node: nothing cached
    for key in keys:
        row = rows[key.key_file]
        assert row.kek_id == kek_id(KEK)
        private = fresh.load(key.key_file)
        assert private.public_key.to_multibase() == key.public_multibase
        pem = private.to_pem()
        assert pem not in row.ciphertext and b"PRIVATE KEY" not in row.ciphertext
        raw = raw_bytes(private.to_pem())
        assert raw not in row.ciphertext


def test_a_rolled_back_issuer_leaves_no_sealed_key(session: Session,
                                                   ctx: ServiceContext) -> None:
    create_issuer(session, ctx, slug="gone", name="Gone Guild")
    assert session.scalar(select(func.count()).select_from(KeyMaterial)) == 1  # same transaction
    session.rollback()
    assert session.scalar(select(func.count()).select_from(KeyMaterial)) == 0
    assert session.scalar(select(func.count()).select_from(SigningKey)) == 0


def test_a_key_is_read_while_a_write_transaction_is_open(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    """The store reads on a connection of its own; on SQLite that must not wait for the
    request's own write transaction (WAL: readers never wait)."""
    name = session.scalars(select(SigningKey.key_file)).first()
    assert name is not None
    create_issuer(session, ctx, slug="busy", name="Busy Guild")  # holds the write lock
    fresh = DatabaseKeyStore(runtime(app).engine, KEK)
    assert fresh.load(name).public_key.to_multibase() == session.scalar(
        select(SigningKey.public_multibase).where(SigningKey.key_file == name))
    with pytest.raises(KeyStoreError, match="is not in the database key store"):
        fresh.load("busy/key-1-00000000")  # not committed, and no such name anyway
    session.rollback()


def test_rows_swapped_between_keys_are_refused(app: Flask, session: Session,
                                               world: World) -> None:
    a, b = session.scalars(select(KeyMaterial).order_by(KeyMaterial.id)).all()
    swap = [(a.name, b.nonce, b.ciphertext), (b.name, a.nonce, a.ciphertext)]
    for name, nonce, ciphertext in swap:
        session.execute(update(KeyMaterial).where(KeyMaterial.name == name)
                        .values(nonce=nonce, ciphertext=ciphertext))
    session.commit()
    fresh = DatabaseKeyStore(runtime(app).engine, KEK)
    for name, _, _ in swap:
        with pytest.raises(KeyStoreError, match="altered or copied from another key") as err:
            fresh.load(name)
        assert not isinstance(err.value, WrongKeyEncryptionKey)


def test_a_wrong_kek_is_refused_clearly_and_never_shown(
        app: Flask, world: World, settings: Settings, other_apps: list[Flask],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name = runtime(app).sessions().scalars(select(SigningKey.key_file)).first()
    assert name is not None
    with pytest.raises(WrongKeyEncryptionKey) as err:
        DatabaseKeyStore(runtime(app).engine, OTHER).load(name)
    message = err.value.message
    assert "another key-encryption key" in message and "ISSUER_KEY_ENCRYPTION_KEY" in message
    # A node started with the wrong KEK: signing fails as the operator's error, silently.
    wrong = replace(settings, key_encryption_key=OTHER_TEXT)
    answer = node(other_apps, wrong).post(
        "/api/v1/awards", headers={"Authorization": f"Bearer {world.token}"},
        json={"achievement": "peer-scaffolder", "recipient": {"email": "ada@example.org"}})
    assert answer.status_code == 500, answer.get_data(as_text=True)
    shown = message.encode() + answer.get_data() + caplog.text.encode() + repr(wrong).encode()
    for form in kek_forms(KEK, OTHER):
        assert form not in shown
    assert KEK_TEXT not in repr(settings)


def test_readyz_is_not_ready_with_a_wrong_kek_and_says_no_secret(
        client: FlaskClient, world: World, settings: Settings,
        other_apps: list[Flask]) -> None:
    assert client.get("/readyz").status_code == 200
    answer = node(other_apps, replace(settings, key_encryption_key=OTHER_TEXT)).get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["signing_keys"] == (
        "2 of 2 active signing keys cannot be loaded: they were sealed with another "
        "key-encryption key than ISSUER_KEY_ENCRYPTION_KEY")
    for form in kek_forms(KEK, OTHER):
        assert form not in answer.get_data()


def test_keys_made_on_one_node_sign_on_the_other_and_verify_on_both(
        client: FlaskClient, world: World, settings: Settings,
        other_apps: list[Flask]) -> None:
    b = node(other_apps, settings)
    token = {"Authorization": f"Bearer {world.token}"}
    award = {"achievement": "peer-scaffolder", "recipient": {"email": "ada@example.org"}}
    # The issuer's key was made by node A (the world fixture); node B signs with it.
    signed_on_b = b.post("/api/v1/awards", headers=token, json=award)
    assert signed_on_b.status_code == 201, signed_on_b.get_data(as_text=True)
    vc = signed_on_b.get_json()["credential"]
    report = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert report.status_code == 200 and report.get_json()["verified"] is True
    # A key rotated on node B signs on node A.
    b_rt = runtime(other_apps[0])
    with b_rt.sessions() as s:
        rotate_key(s, b_rt.services, get_issuer(s, "guild"))
        s.commit()
    signed_on_a = client.post("/api/v1/awards", headers=token,
                              json={**award, "recipient": {"email": "bo@example.org"}})
    assert signed_on_a.status_code == 201, signed_on_a.get_data(as_text=True)
    vc = signed_on_a.get_json()["credential"]
    assert vc["proof"][0]["verificationMethod"].endswith("#key-2")
    report = b.post("/credentials/verify", json={"verifiableCredential": vc})
    assert report.status_code == 200 and report.get_json()["verified"] is True


def test_no_private_key_material_in_the_key_pages_or_the_api(
        app: Flask, session: Session, ctx: ServiceContext, world: World,
        caplog: pytest.LogCaptureFixture) -> None:
    from tests.web.admin.test_pages import signed_in_as, submit

    caplog.set_level(logging.DEBUG)
    staff = signed_in_as(app.test_client(), world.staff_email)
    api = app.test_client()
    token = {"Authorization": f"Bearer {world.token}"}
    guild = "/admin/issuers/guild"
    answers = [
        api.post("/api/v1/awards", headers=token, json={
            "achievement": "peer-scaffolder", "recipient": {"email": "bo@example.org"}}),
        submit(staff, f"{guild}/keys", {}, action=f"{guild}/keys/rotate"),
        api.post("/credentials/issue", headers=token, json={"credential": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:subject"}}}),
    ]
    answers += [staff.get(url) for url in (guild, f"{guild}/keys", "/admin/")]
    answers += [api.get(url) for url in ("/issuers/guild/did.json", "/issuers/guild",
                                         "/readyz", "/healthz")]
    answers += [api.get(url, headers=token) for url in ("/api/v1/issuer", "/api/v1/credentials")]
    assert all(a.status_code < 400 for a in answers), [a.status_code for a in answers]

    leaks: list[bytes] = kek_forms(KEK)
    materials = list(session.scalars(select(KeyMaterial)))
    assert len(materials) == 3  # guild's two keys and the other issuer's
    for material in materials:
        private = ctx.keystore.load(material.name)
        raw = raw_bytes(private.to_pem())
        pem = private.to_pem()
        leaks += [pem, b"".join(pem.strip().splitlines()[1:-1]), raw, raw.hex().encode(),
                  base64.urlsafe_b64encode(raw).rstrip(b"="), base64.b64encode(raw),
                  material.ciphertext, base64.b64encode(material.ciphertext)]
    session.rollback()
    logged = caplog.text.encode() + b"".join(repr(r.__dict__).encode() for r in caplog.records)
    for answer in answers:
        data = answer.get_data() + repr(dict(answer.headers)).encode()
        assert b"PRIVATE KEY" not in data
        assert [leak for leak in leaks if leak in data] == []
    assert [leak for leak in leaks if leak in logged] == []
