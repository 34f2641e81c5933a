"""Issuers whose DID is a did:key: issuing, verifying, status lists, keys and pages."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.core.dids import did_key_verification_method_id, resolve_did_key
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import (
    add_key,
    create_issuer,
    did_document,
    get_issuer,
    issuer_by_did,
    issuer_did,
    method_id,
)
from issuer.services.keys import key_report
from issuer.services.tokens import create_token
from issuer.services.vc_issue import issue
from issuer.services.verification import verify


def _did_key_issuer(session: Session, ctx: ServiceContext) -> str:
    issuer = create_issuer(session, ctx, slug="keyed", name="Keyed Guild", did_method="key")
    session.commit()
    return issuer.slug


def _credential() -> dict[str, object]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:learner", "name": "Ada"}}


def test_a_did_key_issuer_is_identified_by_its_key(session: Session,
                                                   ctx: ServiceContext) -> None:
    issuer = get_issuer(session, _did_key_issuer(session, ctx))
    did = issuer_did(ctx, issuer)
    assert did.startswith("did:key:z6Mk")
    [key] = issuer.keys
    assert method_id(ctx, key) == did_key_verification_method_id(did)
    assert did_document(ctx, issuer) == resolve_did_key(did)
    assert issuer_by_did(session, ctx, did) is issuer
    assert issuer_by_did(session, ctx, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK") \
        is None
    with pytest.raises(Invalid, match="did:key"):
        add_key(session, ctx, issuer)
    [row] = key_report(session, ctx, issuer)
    assert row.method_id == method_id(ctx, key)


def test_its_credentials_verify_with_their_status(session: Session,
                                                  ctx: ServiceContext) -> None:
    issuer = get_issuer(session, _did_key_issuer(session, ctx))
    issued = issue(session, ctx, issuer, _credential())
    session.commit()
    document = json.loads(issued.document)
    assert document["issuer"] == issuer_did(ctx, issuer)
    assert document["proof"]["verificationMethod"] == method_id(ctx, issuer.keys[0])
    report = verify(session, ctx, document)
    assert report.valid, [c.to_json() for c in report.failed]
    status = report.check("status")
    assert status is not None and status.outcome == "passed", status


def test_the_vc_api_and_the_pages_work_for_it(client: FlaskClient, session: Session,
                                              ctx: ServiceContext) -> None:
    issuer = get_issuer(session, _did_key_issuer(session, ctx))
    _, token = create_token(session, ctx, issuer, "suite")
    session.commit()
    response = client.post("/credentials/issue", json={"credential": _credential()},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    vc = response.get_json()["verifiableCredential"]
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert verified.status_code == 200, verified.get_json()
    status_url = vc["credentialStatus"][0]["statusListCredential"]
    listed = client.get(status_url.split("badges.test", 1)[-1])
    assert listed.status_code == 200
    assert listed.get_json()["issuer"]["id"] == issuer_did(ctx, issuer)
    assert client.get(f"/issuers/{issuer.slug}").status_code == 200
