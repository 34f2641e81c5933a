"""The W3C VC API endpoints: issue, verify credentials, verify presentations."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.core.datetimes import format_datetime
from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.keys import PrivateKey
from issuer.core.multibase import multibase_encode
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import encode_compact, sign_ob_vc_jwt
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, issuer_did, method_id, signing_key
from issuer.storage.models import Credential, StatusAllocation
from tests.conftest import BASE_URL, World

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ob_credential(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2, OB],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Workshop Host",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:example:learner",
            "achievement": {
                "id": f"{BASE_URL}/issuers/guild/achievements/peer-scaffolder",
                "type": ["Achievement"],
                "name": "Peer Scaffolder",
                "description": "Helped peers learn.",
                "criteria": {"narrative": "Two peer attestations."},
            },
        },
        **extra,
    }


def generic_credential(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "name": "Alumni of the Guild",
        "credentialSubject": {"id": "did:example:alumna", "alumniOf": "The Guild"},
        **extra,
    }


def issue(client: FlaskClient, token: str, credential: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"credential": credential}
    if options:
        body["options"] = options
    return client.post("/credentials/issue", json=body, headers=auth(token))


def issued(client: FlaskClient, token: str, credential: Any, **options: Any) -> dict[str, Any]:
    response = issue(client, token, credential, **options)
    assert response.status_code == 201, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()["verifiableCredential"]
    return result


def verify_vc(client: FlaskClient, vc: Any) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": vc})


def verify_vp(client: FlaskClient, vp: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"verifiablePresentation": vp}
    if options:
        body["options"] = options
    return client.post("/presentations/verify", json=body)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    return body


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


# --- issue ---------------------------------------------------------------------------------


def test_an_ob_credential_is_completed_signed_stored_byte_for_byte_and_verifies(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    response = issue(client, world.token, ob_credential())
    assert response.status_code == 201, response.get_data(as_text=True)
    vc = response.get_json()["verifiableCredential"]
    did = issuer_did(ctx, world.issuer_slug)
    assert vc["issuer"]["id"] == did and vc["issuer"]["type"] == ["Profile"]
    assert vc["issuer"]["name"] == "Guild Guild"
    assert vc["id"].startswith(f"{BASE_URL}/credentials/")
    assert response.headers["Location"] == vc["id"]
    assert vc["validFrom"].endswith("Z")
    [proof] = vc["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == f"{did}#key-1"
    row = session.get(Credential, vc["id"].rsplit("/", 1)[1])
    assert row is not None
    assert response.get_data(as_text=True) == '{"verifiableCredential":' + row.document + "}"
    assert row.achievement is not None and row.achievement.slug == "peer-scaffolder"
    assert row.achievement_name == "Workshop Host"
    assert row.recipient_did == "did:example:learner"

    verified = verify_vc(client, vc)
    assert verified.status_code == 200, verified.get_json()
    body = verified.get_json()
    assert body["verified"] is True and body["errors"] == []
    assert {"proof", "schema", "context"} <= set(body["checks"])

    listed = client.get("/api/v1/credentials", headers=auth(world.token)).get_json()
    assert [c["id"] for c in listed["credentials"]] == [row.id]


def test_a_tampered_credential_fails_verification_with_422(client: FlaskClient,
                                                           world: World) -> None:
    vc = issued(client, world.token, ob_credential())
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["achievement"]["name"] = "Grand Master"
    response = verify_vc(client, tampered)
    assert response.status_code == 422
    body = response.get_json()
    assert body["verified"] is False
    assert [e["id"] for e in body["errors"]] == ["proof"]
    assert body["errors"][0]["message"]
    assert "proof" not in body["checks"]


def test_a_generic_vc2_credential_is_issued_and_verified(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    vc = issued(client, world.token, generic_credential())
    assert vc["issuer"] == issuer_did(ctx, world.issuer_slug)
    assert vc["@context"] == [VC_V2, EXAMPLES]
    body = verify_vc(client, vc).get_json()
    assert body["verified"] is True, body
    row = session.get(Credential, vc["id"].rsplit("/", 1)[1])
    assert row is not None and row.achievement_id is None
    assert row.achievement_name == "Alumni of the Guild"
    unnamed = generic_credential()
    del unnamed["name"]
    vc2 = issued(client, world.token, unnamed)
    row2 = session.get(Credential, vc2["id"].rsplit("/", 1)[1])
    assert row2 is not None and row2.achievement_name == "Credential"


def test_a_vc11_credential_gets_an_issuance_date_and_the_proof_context(
        client: FlaskClient, world: World) -> None:
    credential = {"@context": [VC_V1], "type": ["VerifiableCredential"],
                  "credentialSubject": {"id": "did:example:old"}}
    plain = issued(client, world.token, credential)
    assert "issuanceDate" in plain and "validFrom" not in plain
    # No status unless asked: it needs a context the author did not list.
    assert plain["@context"] == [VC_V1, "https://w3id.org/security/data-integrity/v2"]
    assert "credentialStatus" not in plain
    assert verify_vc(client, plain).get_json()["verified"] is True
    vc = issued(client, world.token, credential,
                credentialStatus={"type": "BitstringStatusListEntry"})
    # The status entries this service adds are defined for VC 1.1 by the status context.
    assert vc["@context"] == [VC_V1, "https://w3id.org/security/data-integrity/v2",
                              "https://www.w3.org/ns/credentials/status/v1"]
    assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]
    body = verify_vc(client, vc).get_json()
    assert body["verified"] is True, body
    assert "status" in body["checks"], body


def test_eddsa_jcs_2022_can_be_chosen(client: FlaskClient, world: World) -> None:
    vc = issued(client, world.token, generic_credential(), cryptosuite="eddsa-jcs-2022")
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verify_vc(client, vc).get_json()["verified"] is True
    unknown = issue(client, world.token, generic_credential(), cryptosuite="rsa-2048")
    problem(unknown, 422)


def test_an_issuer_object_keeps_its_members_and_ids_are_respected(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    did = issuer_did(ctx, world.issuer_slug)
    vc = issued(client, world.token, ob_credential(
        issuer={"id": did, "name": "The Guild of Mentors"}))
    assert vc["issuer"]["name"] == "The Guild of Mentors"
    assert vc["issuer"]["type"] == ["Profile"]
    own_id = str(uuid.uuid4())
    chosen = issued(client, world.token, generic_credential(
        id=f"{BASE_URL}/credentials/{own_id}", issuer=did))
    assert chosen["id"] == f"{BASE_URL}/credentials/{own_id}"
    assert session.get(Credential, own_id) is not None
    again = issue(client, world.token, generic_credential(id=f"{BASE_URL}/credentials/{own_id}"))
    problem(again, 409)
    urn = issued(client, world.token, generic_credential(id=f"urn:uuid:{uuid.uuid4()}"))
    assert urn["id"].startswith("urn:uuid:")
    assert verify_vc(client, urn).get_json()["verified"] is True


@pytest.mark.parametrize("issuer_value", [
    "did:web:badges.test:issuers:other",
    {"id": "did:web:badges.test:issuers:other", "type": ["Profile"], "name": "Other"},
    "did:example:someone-else",
])
def test_issuing_as_another_issuer_is_refused(client: FlaskClient, world: World,
                                              session: Session, issuer_value: Any) -> None:
    body = problem(issue(client, world.token, ob_credential(issuer=issuer_value)), 422)
    assert "issuer" in body["detail"]
    assert count(session) == 0


def test_the_other_token_issues_as_the_other_issuer(client: FlaskClient, world: World,
                                                   ctx: ServiceContext) -> None:
    vc = issued(client, world.other_token, generic_credential())
    assert vc["issuer"] == issuer_did(ctx, world.other_slug)
    assert verify_vc(client, vc).get_json()["verified"] is True


def test_an_undefined_term_is_refused_by_name(client: FlaskClient, world: World,
                                              session: Session) -> None:
    credential = ob_credential()
    credential["credentialSubject"]["favouriteColour"] = "green"
    body = problem(issue(client, world.token, credential), 422)
    assert "favouriteColour" in body["detail"]
    assert body["term"] == "favouriteColour"
    assert count(session) == 0


@pytest.mark.parametrize("credential, words", [
    (ob_credential(proof={"type": "DataIntegrityProof"}), "proof"),
    ({**ob_credential(), "@context": [VC_V2, "https://example.org/my-context.jsonld"]},
     "example.org/my-context"),
    ({**ob_credential(), "@context": [OB, VC_V2]}, "first @context"),
    ({**generic_credential(), "@context": [VC_V2, {"@base": "https://example.org/"}]},
     "@base"),
    ({**generic_credential(), "@context": [{"@vocab": "https://example.org#"}, VC_V2]},
     "first @context"),
    ({**generic_credential(), "type": ["ExampleAlumniCredential"]}, "VerifiableCredential"),
    ({**generic_credential(), "credentialSubject": "did:example:1"}, "credentialSubject"),
])
def test_credentials_that_cannot_be_signed_are_refused(
        client: FlaskClient, world: World, session: Session, credential: Any,
        words: str) -> None:
    body = problem(issue(client, world.token, credential), 422)
    assert words in json.dumps(body)
    assert count(session) == 0


def test_an_ob_credential_that_breaks_the_schema_is_refused_with_the_errors(
        client: FlaskClient, world: World, session: Session) -> None:
    credential = ob_credential()
    del credential["credentialSubject"]["achievement"]["criteria"]
    credential["validUntil"] = "next year"
    body = problem(issue(client, world.token, credential), 422)
    joined = " ".join(body["errors"])
    assert "criteria" in joined and "validUntil" in joined
    assert count(session) == 0


def test_null_values_are_refused_because_the_signature_would_not_cover_them(
        client: FlaskClient, world: World, session: Session) -> None:
    credential = generic_credential(description=None, alumniOf=[])
    body = problem(issue(client, world.token, credential), 422)
    assert body["errors"] == ["description: null or empty", "alumniOf: null or empty"]
    assert count(session) == 0


def test_issue_needs_a_valid_token(client: FlaskClient, world: World) -> None:
    response = client.post("/credentials/issue", json={"credential": generic_credential()})
    problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem(client.post("/credentials/issue", json={"credential": generic_credential()},
                        headers=auth("obi_wrong")), 401)


def test_vc_api_request_hygiene(client: FlaskClient, world: World, app: Flask) -> None:
    problem(client.post("/credentials/issue", data="credential=x",
                        content_type="application/x-www-form-urlencoded",
                        headers=auth(world.token)), 415)
    problem(client.post("/credentials/issue", data="{", content_type="application/json",
                        headers=auth(world.token)), 400)
    schema = problem(client.post("/credentials/issue", json={"credentials": {}},
                                 headers=auth(world.token)), 422)
    assert schema["errors"]
    big = "x" * app.config["MAX_CONTENT_LENGTH"]
    problem(client.post("/credentials/issue", json={"credential": generic_credential(note=big)},
                        headers=auth(world.token)), 413)
    problem(client.post("/credentials/verify", json={"verifiableCredential": {"x": big}}), 413)
    problem(client.post("/credentials/verify", data="[]", content_type="text/plain"), 415)
    problem(client.post("/credentials/verify", json={"verifiableCredential": 42}), 422)
    problem(client.post("/presentations/verify", json={"verifiablePresentation": {},
                                                       "options": {"colour": "x"}}), 422)


# --- verify --------------------------------------------------------------------------------


def test_a_vc_jwt_from_a_hosted_issuer_verifies(client: FlaskClient, world: World,
                                                session: Session, ctx: ServiceContext) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    key_row, key = signing_key(ctx, issuer)
    credential = ob_credential(
        id=f"urn:uuid:{uuid.uuid4()}", validFrom="2024-01-01T00:00:00Z",
        issuer={"id": issuer_did(ctx, issuer), "type": ["Profile"], "name": issuer.name})
    token = sign_ob_vc_jwt(credential, key, kid=method_id(ctx, key_row))
    response = verify_vc(client, token)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["format"] == "jwt"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = verify_vc(client, forged)
    assert bad.status_code == 422 and bad.get_json()["verified"] is False


def test_unreadable_credentials_answer_verified_false(client: FlaskClient) -> None:
    response = verify_vc(client, {"hello": "world"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["verified"] is False and body["errors"]


def holder() -> tuple[PrivateKey, str, str]:
    key = PrivateKey.generate("Ed25519")
    did = did_key_from_public_key(key.public_key)
    return key, did, did_key_verification_method_id(did)


def presentation(credentials: list[Any], did: str) -> dict[str, Any]:
    return {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": did,
            "verifiableCredential": credentials}


def sign_vp(vp: dict[str, Any], key: PrivateKey, method: str, ctx: ServiceContext,
            **bound: str) -> dict[str, Any]:
    """A Data Integrity authentication proof, with challenge/domain when given."""
    if not bound:
        return sign_document(vp, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                             verification_method=method, proof_purpose="authentication",
                             ctx=SuiteContext(loader=ctx.loader))
    suite = SIGNING_SUITES["eddsa-rdfc-2022"]
    options = {"type": "DataIntegrityProof", "cryptosuite": suite.name,
               "created": format_datetime(ctx.now()), "verificationMethod": method,
               "proofPurpose": "authentication", **bound}
    sctx = SuiteContext(loader=ctx.loader)
    hashed = suite.hashing(suite.transformation(vp, options, sctx),
                           suite.proof_configuration(options, vp, sctx))
    return {**vp, "proof": [{**options, "proofValue": multibase_encode(key.sign(hashed), "z")}]}


def test_a_presentation_of_an_issued_credential_verifies(
        client: FlaskClient, world: World, ctx: ServiceContext) -> None:
    vc = issued(client, world.token, ob_credential())
    key, did, method = holder()
    vp = sign_vp(presentation([vc], did), key, method, ctx)
    response = verify_vp(client, vp)
    assert response.status_code == 200, response.get_json()
    assert "credentials" in response.get_json()["checks"]

    tampered = copy.deepcopy(vp)
    tampered["verifiableCredential"][0]["name"] = "Changed"
    bad = verify_vp(client, tampered)
    assert bad.status_code == 422
    assert bad.get_json()["verified"] is False


def test_challenge_and_domain_must_match_when_asked(client: FlaskClient, world: World,
                                                   ctx: ServiceContext) -> None:
    vc = issued(client, world.token, generic_credential())
    key, did, method = holder()
    vp = sign_vp(presentation([vc], did), key, method, ctx, challenge="c-123",
                 domain="verifier.example")
    good = verify_vp(client, vp, challenge="c-123", domain="verifier.example")
    assert good.status_code == 200, good.get_json()
    assert {"challenge", "domain"} <= set(good.get_json()["checks"])
    replay = verify_vp(client, vp, challenge="c-456")
    assert replay.status_code == 422
    assert [e["id"] for e in replay.get_json()["errors"]] == ["challenge"]
    unbound = sign_vp(presentation([vc], did), key, method, ctx)
    assert verify_vp(client, unbound, challenge="c-123").status_code == 422


def test_an_enveloped_jwt_credential_in_a_presentation_verifies(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    key_row, key = signing_key(ctx, issuer)
    credential = generic_credential(id=f"urn:uuid:{uuid.uuid4()}",
                                    issuer=issuer_did(ctx, issuer),
                                    validFrom="2024-01-01T00:00:00Z")
    jwt = encode_compact({"alg": "EdDSA", "typ": "vc+jwt", "kid": method_id(ctx, key_row)},
                         credential, key)
    hkey, did, method = holder()
    enveloped = {"@context": [VC_V2], "type": ["EnvelopedVerifiableCredential"],
                 "id": f"data:application/vc+jwt,{jwt}"}
    vp = sign_vp(presentation([enveloped], did), hkey, method, ctx)
    response = verify_vp(client, vp)
    assert response.status_code == 200, response.get_json()


def test_credentials_and_presentations_go_to_their_own_endpoints(
        client: FlaskClient, world: World, ctx: ServiceContext) -> None:
    vc = issued(client, world.token, generic_credential())
    key, did, method = holder()
    vp = sign_vp(presentation([vc], did), key, method, ctx)
    as_vp = verify_vp(client, vc)
    assert as_vp.status_code == 422
    assert "presentation" in json.dumps(as_vp.get_json()["errors"])
    as_vc = verify_vc(client, vp)
    assert as_vc.status_code == 422
    assert "/presentations/verify" in json.dumps(as_vc.get_json()["errors"])


def test_a_signature_that_would_not_verify_is_never_handed_out(
    client: FlaskClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signed credential is verified again before it is stored (fault injected here:
    a signer whose output does not match what it signed)."""
    import issuer.services.signing as signing

    real_sign = signing.sign_document

    def faulty_sign(document: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        signed = real_sign(document, *args, **kwargs)
        return {**signed, "name": "Not what was signed"}

    monkeypatch.setattr(signing, "sign_document", faulty_sign)
    def counts() -> tuple[int | None, int | None]:
        session.expire_all()
        return (session.scalar(select(func.count()).select_from(Credential)),
                session.scalar(select(func.count()).select_from(StatusAllocation)))

    before = counts()
    response = issue(client, world.token, ob_credential())
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert "would not verify" in body["detail"]
    assert any(e.startswith("proof:") for e in body["errors"])
    assert counts() == before  # no credential, and its status index given back
