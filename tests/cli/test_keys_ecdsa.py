"""``issuer keys add --type P-256|P-384`` as an operator runs it: the installed command gives
an issuer an ECDSA key beside its Ed25519 key, the DID document lists it as a Multikey, and
a credential issued with an ECDSA cryptosuite verifies with ``issuer verify``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer.services.issuers import get_issuer
from issuer.services.vc_issue import issue
from issuer.storage.db import make_engine, session_factory
from tests.cli.test_keys import DID, Instance, make_instance, table

pytestmark = pytest.mark.db


@pytest.fixture()
def guild(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    inst = make_instance(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


def _issue(instance: Instance, cryptosuite: str | None, name: str) -> Path:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "credentialSubject": {"id": "did:example:alumna", "alumniOf": "The Guild"},
    }
    engine = make_engine(instance.settings.database_url)
    try:
        with session_factory(engine)() as session:
            issued = issue(session, instance.context(), get_issuer(session, "guild"),
                           credential, cryptosuite=cryptosuite)
            session.commit()
            path = instance.tmp / f"{name}.json"
            path.write_text(issued.document, encoding="utf-8")
            return path
    finally:
        engine.dispose()


@pytest.mark.parametrize(("key_type", "prefix"), [("P-256", "zDn"), ("p-384", "z82")])
def test_add_gives_an_ecdsa_key_beside_the_ed25519_one(
    guild: Instance, key_type: str, prefix: str
) -> None:
    result = guild.run("keys", "add", "--issuer", "guild", "--type", key_type)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"{DID}#key-2"
    rows = table(result.stdout)
    assert rows[f"{DID}#key-1"][1:4:2] == ["Ed25519", "active"]
    assert rows[f"{DID}#key-2"][1:4:2] == [key_type.upper(), "active"]
    assert "PRIVATE KEY" not in result.stdout + result.stderr

    document = json.loads(guild.did_json().read_text())
    method = next(m for m in document["verificationMethod"] if m["id"] == f"{DID}#key-2")
    assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith(prefix)

    for suite in ("ecdsa-rdfc-2019", "ecdsa-jcs-2019", None):
        badge = _issue(guild, suite, f"alumna-{suite}")
        proof = json.loads(badge.read_text())["proof"]
        assert proof["cryptosuite"] == (suite or "eddsa-rdfc-2022")
        assert proof["verificationMethod"] == f"{DID}#{'key-1' if suite is None else 'key-2'}"
        checked = guild.verify(badge)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rotating_and_retiring_keep_each_key_type(guild: Instance) -> None:
    assert guild.run("keys", "add", "--issuer", "guild", "--type", "P-256").returncode == 0
    assert guild.run("keys", "rotate", "--issuer", "guild").returncode == 0
    retired = guild.run("keys", "retire", "guild#key-2", "--compromised-since", "2025-01-01")
    assert retired.returncode == 0, retired.stderr
    rows = table(retired.stdout)
    assert rows[f"{DID}#key-3"][1:4:2] == ["Ed25519", "active"]
    assert rows[f"{DID}#key-4"][1:4:2] == ["P-256", "active"]
    assert rows[f"{DID}#key-2"][3].startswith("compromised since")
    refused = guild.run("keys", "add", "--issuer", "guild", "--type", "RSA")
    assert refused.returncode == 2
