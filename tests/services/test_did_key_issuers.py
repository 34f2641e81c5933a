"""Issuers whose DID is a did:key: issuing, verifying, status lists, keys and pages."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.core.dids import did_key_verification_method_id, resolve_did_key
from issuer.services.achievements import create_achievement
from issuer.services.awards import AwardRequest, Recipient, award
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
from issuer.services.keys import find_key, key_report
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


# --- issuers whose one key is a P-256 or P-384 key -----------------------------------------

ECDSA_PREFIXES = {"P-256": "did:key:zDn", "P-384": "did:key:z82"}


@pytest.mark.parametrize("key_type", sorted(ECDSA_PREFIXES))
def test_an_ecdsa_did_key_issuer_signs_with_ecdsa_rdfc_2019_by_default(
        session: Session, ctx: ServiceContext, key_type: str) -> None:
    issuer = create_issuer(session, ctx, slug="curved", name="Curved Guild", did_method="key",
                           key_type=key_type)
    session.commit()
    did = issuer_did(ctx, issuer)
    assert did.startswith(ECDSA_PREFIXES[key_type])
    [key] = issuer.keys
    assert key.key_type == key_type
    assert method_id(ctx, key) == did_key_verification_method_id(did)
    assert did_document(ctx, issuer) == resolve_did_key(did)
    assert issuer_by_did(session, ctx, did) is issuer
    with pytest.raises(Invalid, match="did:key"):
        add_key(session, ctx, issuer, key_type)
    issued = issue(session, ctx, issuer, _credential())
    session.commit()
    document = json.loads(issued.document)
    assert document["issuer"] == did
    assert document["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert document["proof"]["verificationMethod"] == method_id(ctx, key)
    report = verify(session, ctx, document)
    assert report.valid, [c.to_json() for c in report.failed]
    status = report.check("status")
    assert status is not None and status.outcome == "passed", status
    [row] = key_report(session, ctx, issuer)
    assert (row.key_type, row.signed, row.active) == (key_type, 1, True)


def test_an_ecdsa_issuer_is_refused_a_suite_it_has_no_key_for(
        session: Session, ctx: ServiceContext) -> None:
    issuer = create_issuer(session, ctx, slug="curved", name="Curved Guild", did_method="key",
                           key_type="P-256")
    session.commit()
    with pytest.raises(Invalid, match="eddsa-rdfc-2022 cannot sign with a P-256 key"):
        issue(session, ctx, issuer, _credential(), cryptosuite="eddsa-rdfc-2022")
    session.rollback()
    jcs = json.loads(issue(session, ctx, issuer, _credential(),
                           cryptosuite="ecdsa-jcs-2019").document)
    assert jcs["proof"]["cryptosuite"] == "ecdsa-jcs-2019"
    assert verify(session, ctx, jcs).valid


def test_an_unknown_first_key_type_is_refused(session: Session, ctx: ServiceContext) -> None:
    with pytest.raises(Invalid, match="key type"):
        create_issuer(session, ctx, slug="curved", name="Curved", did_method="key",
                      key_type="RSA")


@pytest.mark.parametrize("key_type", sorted(ECDSA_PREFIXES))
def test_the_vc_api_status_lists_and_pages_work_for_an_ecdsa_did_key_issuer(
        client: FlaskClient, session: Session, ctx: ServiceContext, key_type: str) -> None:
    issuer = create_issuer(session, ctx, slug="curved", name="Curved Guild", did_method="key",
                           key_type=key_type)
    _, token = create_token(session, ctx, issuer, "suite")
    session.commit()
    did = issuer_did(ctx, issuer)
    response = client.post("/credentials/issue", json={"credential": _credential()},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    vc = response.get_json()["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    assert verified.status_code == 200, verified.get_json()
    refused = client.post("/credentials/issue",
                          json={"credential": _credential(),
                                "options": {"cryptosuite": "eddsa-rdfc-2022"}},
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422, refused.get_json()
    status_url = vc["credentialStatus"][0]["statusListCredential"]
    listed = client.get(status_url.split("badges.test", 1)[-1])
    assert listed.status_code == 200
    status_list = listed.get_json()
    assert status_list["issuer"]["id"] == did
    assert status_list["proof"]["cryptosuite"] == "ecdsa-rdfc-2019"
    assert verify(session, ctx, status_list).valid
    page = client.get(f"/issuers/{issuer.slug}")
    assert page.status_code == 200
    assert did in page.get_data(as_text=True)


def test_a_p384_did_key_is_found_by_its_did_url(session: Session, ctx: ServiceContext) -> None:
    issuer = create_issuer(session, ctx, slug="curved", name="Curved Guild", did_method="key",
                           key_type="P-384")
    session.commit()
    [key] = issuer.keys
    assert find_key(session, ctx, method_id(ctx, key)) is key
    assert find_key(session, ctx, f"curved#{key.fragment}") is key


def test_an_ecdsa_did_key_issuer_awards_badges_that_verify(session: Session,
                                                          ctx: ServiceContext) -> None:
    issuer = create_issuer(session, ctx, slug="curved", name="Curved Guild", did_method="key",
                           key_type="P-256")
    achievement = create_achievement(session, ctx, issuer, {
        "name": "Peer Scaffolder", "slug": "peer-scaffolder", "description": "Helped peers.",
        "criteria_narrative": "Two peer attestations."})
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("ada@example.org")), actor="test")
    session.commit()
    document = json.loads(row.document)
    assert document["issuer"]["id"] == issuer_did(ctx, issuer)
    assert document["proof"][0]["cryptosuite"] == "ecdsa-rdfc-2019"
    report = verify(session, ctx, document)
    assert report.valid, [c.to_json() for c in report.failed]
