"""`issuer issuers create --did-method key`: an issuer whose DID is its key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer.services.issuers import get_issuer
from issuer.services.vc_issue import issue
from tests.cli_instance import CliInstance


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[CliInstance]:
    inst: CliInstance = CliInstance.create(tmp_path, fresh_database_url)
    yield inst
    inst.close()


def test_a_did_key_issuer_is_created_and_its_credentials_verify_offline(
        instance: CliInstance) -> None:
    created = instance.run("issuers", "create", "--slug", "keyed", "--name", "Keyed",
                           "--did-method", "key")
    assert created.returncode == 0, created.stderr
    did = created.stdout.strip()
    assert did.startswith("did:key:z6Mk")
    with instance.session() as session:
        issued = issue(session, instance.context(), get_issuer(session, "keyed"), {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:learner", "name": "Ada"}})
        session.commit()
    path = instance.tmp / "credential.json"
    path.write_text(issued.document, encoding="utf-8")
    assert json.loads(issued.document)["issuer"] == did
    # A did:key resolves by itself: no trusted document is needed.
    verified = instance.run("verify", str(path))
    assert verified.returncode == 0 and "PASS  Signature" in verified.stdout, \
        verified.stdout
    report = instance.run("keys", "report", "--issuer", "keyed")
    assert report.returncode == 0, report.stderr
    assert did in report.stdout
    rotated = instance.run("keys", "rotate", "--issuer", "keyed")
    assert rotated.returncode == 1 and "did:key" in rotated.stderr


@pytest.mark.parametrize(("key_type", "prefix"), [("P-256", "did:key:zDn"),
                                                  ("p-384", "did:key:z82")])
def test_a_did_key_issuer_with_an_ecdsa_key_signs_with_ecdsa(
        instance: CliInstance, key_type: str, prefix: str) -> None:
    created = instance.run("issuers", "create", "--slug", "curved", "--name", "Curved",
                           "--did-method", "key", "--key-type", key_type)
    assert created.returncode == 0, created.stderr
    did = created.stdout.strip()
    assert did.startswith(prefix)
    with instance.session() as session:
        issued = issue(session, instance.context(), get_issuer(session, "curved"), {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:learner", "name": "Ada"}})
        session.commit()
    document = json.loads(issued.document)
    assert document["issuer"] == did
    assert document["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    path = instance.tmp / "credential.json"
    path.write_text(issued.document, encoding="utf-8")
    verified = instance.run("verify", str(path))
    assert verified.returncode == 0 and "PASS  Signature" in verified.stdout, \
        verified.stdout
    report = instance.run("keys", "report", "--issuer", "curved")
    assert report.returncode == 0, report.stderr
    assert did in report.stdout and key_type.upper() in report.stdout
    rotated = instance.run("keys", "add", "--issuer", "curved", "--type", key_type)
    assert rotated.returncode == 1 and "did:key" in rotated.stderr


def test_an_unknown_key_type_is_a_usage_error(instance: CliInstance) -> None:
    created = instance.run("issuers", "create", "--slug", "curved", "--name", "Curved",
                           "--did-method", "key", "--key-type", "RSA")
    assert created.returncode == 2 and "--key-type" in created.stderr
