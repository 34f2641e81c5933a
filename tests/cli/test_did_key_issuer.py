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
