"""VC API behaviour the W3C conformance suites rely on: request options, presentations
without a holder, proof shape, status and the VCDM 2.0 rules on issue."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, issuer_did
from issuer.services.signing import sign_as
from tests.conftest import World
from tests.web.vcapi.test_endpoints import (
    generic_credential,
    holder,
    issue,
    issued,
    problem,
    sign_vp,
    verify_vp,
)


def verify_vc(client: FlaskClient, vc: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"verifiableCredential": vc}
    if options:
        body["options"] = options
    return client.post("/credentials/verify", json=body)


# --- verify options ------------------------------------------------------------------------


def test_verify_accepts_the_vc_api_options_and_reports_the_checks(
        client: FlaskClient, world: World) -> None:
    vc = issued(client, world.token, generic_credential())
    response = verify_vc(client, vc, checks=["proof"], expectedProofPurpose="assertionMethod")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {"proof", "proofPurpose"} <= set(body["checks"])
    unknown = verify_vc(client, vc, checks=["proof", "teleportation"]).get_json()
    assert unknown["verified"] is True
    assert [w["id"] for w in unknown["warnings"]] == ["checks"]
    assert "teleportation" in unknown["warnings"][0]["message"]


def test_verify_options_still_refuse_unknown_members(client: FlaskClient,
                                                     world: World) -> None:
    vc = issued(client, world.token, generic_credential())
    body = problem(verify_vc(client, vc, checks=["proof"], colour="blue"), 422)
    assert "colour" in str(body)


def test_a_negative_verification_with_options_fails_on_the_proof(
        client: FlaskClient, world: World) -> None:
    vc = issued(client, world.token, generic_credential())
    vc["credentialSubject"]["alumniOf"] = "Another School"
    response = verify_vc(client, vc, checks=["proof"])
    assert response.status_code == 422
    assert [e["id"] for e in response.get_json()["errors"]] == ["proof"]


def test_another_proof_purpose_is_refused(client: FlaskClient, world: World) -> None:
    vc = issued(client, world.token, generic_credential())
    response = verify_vc(client, vc, expectedProofPurpose="authentication")
    assert response.status_code == 422
    assert [e["id"] for e in response.get_json()["errors"]] == ["proofPurpose"]


# --- presentations -------------------------------------------------------------------------


def _vp(credentials: list[Any]) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"], "verifiableCredential": credentials}


def test_a_presentation_without_holder_verifies_with_its_proof(
        client: FlaskClient, world: World, ctx: ServiceContext) -> None:
    vc = issued(client, world.token, generic_credential())
    key, _did, method = holder()
    vp = sign_vp(_vp([vc]), key, method, ctx, challenge="c-1", domain="verifier.test")
    good = verify_vp(client, vp, challenge="c-1", domain="verifier.test")
    assert good.status_code == 200, good.get_json()
    assert {"proof", "challenge", "domain", "credentials"} <= set(good.get_json()["checks"])
    vp["proof"][0]["challenge"] = "c-2"
    assert verify_vp(client, vp, challenge="c-2").status_code == 422


def test_a_presentation_without_holder_or_proof_is_checked_for_its_credentials(
        client: FlaskClient, world: World) -> None:
    vc = issued(client, world.token, generic_credential())
    response = verify_vp(client, _vp([vc]))
    assert response.status_code == 200, response.get_json()
    assert [w["id"] for w in response.get_json()["warnings"]] == ["proof"]
    # Asking for a challenge needs a proof that carries it.
    assert verify_vp(client, _vp([vc]), challenge="c-1").status_code == 422
    vc["credentialSubject"]["alumniOf"] = "Changed"
    assert verify_vp(client, _vp([vc])).status_code == 422


def test_a_presentation_proof_must_use_authentication(
        client: FlaskClient, world: World, ctx: ServiceContext, session: Session) -> None:
    vc = issued(client, world.token, generic_credential())
    key, _did, method = holder()
    vp = sign_vp(_vp([vc]), key, method, ctx)
    vp["proof"] = {**vp["proof"][0], "proofPurpose": "assertionMethod"} \
        if isinstance(vp["proof"], list) else {**vp["proof"], "proofPurpose": "assertionMethod"}
    assert verify_vp(client, vp).status_code == 422


@pytest.mark.parametrize("name", ["checks", "expectedProofPurpose"])
def test_presentation_options_accept_the_vc_api_members(
        client: FlaskClient, world: World, ctx: ServiceContext, name: str) -> None:
    vc = issued(client, world.token, generic_credential())
    key, did, method = holder()
    vp = sign_vp({**_vp([vc]), "holder": did}, key, method, ctx)
    value: Any = ["proof"] if name == "checks" else "authentication"
    response = verify_vp(client, vp, **{name: value})
    assert response.status_code == 200, response.get_json()


def test_issue_options_refuse_unknown_members(client: FlaskClient, world: World) -> None:
    problem(issue(client, world.token, generic_credential(), colour="blue"), 422)


# --- proof shape ---------------------------------------------------------------------------


def test_one_proof_is_an_object_and_an_open_badge_keeps_its_list(
        client: FlaskClient, world: World) -> None:
    from tests.web.vcapi.test_endpoints import ob_credential

    vc = issued(client, world.token, generic_credential())
    assert isinstance(vc["proof"], dict) and vc["proof"]["type"] == "DataIntegrityProof"
    assert verify_vc(client, vc).status_code == 200
    # The OB 3.0 JSON Schemas model proof as a list.
    badge = issued(client, world.token, ob_credential())
    assert isinstance(badge["proof"], list) and len(badge["proof"]) == 1


# --- the VC Data Model rules on issue ------------------------------------------------------

SRI = "sha384-" + "A" * 64
MULTIHASH = "uEiB" + "A" * 43  # sha2-256 (0x12 0x20) and 32 bytes, base64url


@pytest.mark.parametrize(("member", "value", "rule"), [
    ("credentialSubject", {}, "§4.8"),
    ("validFrom", "Sat 25 Feb 2023 07:16:31 PM CST", "§4.9"),
    ("validUntil", "2025-01-01T00:00:00", "§4.9"),
    ("credentialSchema", {"id": "https://example.org/schema.json"}, "§4.11"),
    ("credentialSchema", {"type": "JsonSchema"}, "§4.11"),
    ("refreshService", {"id": "https://example.org/refresh"}, "§5.4"),
    ("termsOfUse", {"id": "https://example.org/terms"}, "§5.5"),
    ("evidence", [{"id": "https://example.org/evidence/1"}], "§5.6"),
    ("relatedResource", [{"digestSRI": SRI}], "§5.3"),
    ("relatedResource", [{"id": "https://example.org/a", "digestSRI": SRI},
                         {"id": "https://example.org/a", "digestSRI": SRI}], "§5.3"),
    ("relatedResource", [{"id": "https://example.org/a"}], "§5.3"),
    ("relatedResource", [{"id": "https://example.org/a", "digestSRI": "md5-abc"}], "§5.3"),
    ("relatedResource", [{"id": "https://example.org/a", "digestMultibase": "zzz"}], "§5.3"),
    ("credentialStatus", {"id": "https://example.org/status#1"}, "§4.10"),
])
def test_issuing_refuses_what_breaks_the_vc_data_model(
        client: FlaskClient, world: World, member: str, value: Any, rule: str) -> None:
    credential = generic_credential(**{member: value})
    body = problem(issue(client, world.token, credential), 422)
    assert member in body["detail"] and rule in body["detail"], body


def test_well_formed_related_resources_are_issued(client: FlaskClient, world: World) -> None:
    credential = generic_credential(relatedResource=[
        {"id": "https://example.org/a", "digestSRI": SRI},
        {"id": "https://example.org/b", "digestMultibase": MULTIHASH}])
    vc = issued(client, world.token, credential)
    assert verify_vc(client, vc).status_code == 200


def test_verifying_applies_the_same_rules(client: FlaskClient, world: World,
                                          session: Session, ctx: ServiceContext) -> None:
    """A credential signed outside the VC API, with an empty subject, fails the schema check."""
    issuer = get_issuer(session, world.issuer_slug)
    credential = {**generic_credential(), "issuer": issuer_did(ctx, issuer),
                  "credentialSubject": {}, "validFrom": "2024-01-01T00:00:00Z"}
    signed = sign_as(ctx, issuer, credential, ctx.now()).document
    response = verify_vc(client, signed)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["id"] == "schema" and "§4.8" in " ".join(error["details"])


# --- caller's status -----------------------------------------------------------------------

CALLER_STATUS = {"id": "https://status.example/lists/1#42", "type": "BitstringStatusListEntry",
                 "statusPurpose": "revocation", "statusListIndex": "42",
                 "statusListCredential": "https://status.example/lists/1"}


def test_a_generic_credential_keeps_its_own_status(client: FlaskClient,
                                                   world: World) -> None:
    vc = issued(client, world.token, generic_credential(credentialStatus=CALLER_STATUS))
    assert vc["credentialStatus"] == CALLER_STATUS
    both = issued(client, world.token, generic_credential(credentialStatus=CALLER_STATUS),
                  credentialStatus={"type": "BitstringStatusListEntry"})
    assert both["credentialStatus"][0] == CALLER_STATUS
    assert [e["statusPurpose"] for e in both["credentialStatus"][1:]] == [
        "revocation", "suspension"]


def test_our_status_is_added_to_vc2_credentials_without_one(client: FlaskClient,
                                                             world: World) -> None:
    vc = issued(client, world.token, generic_credential())
    assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]


def test_an_open_badge_brings_no_status_of_its_own(client: FlaskClient, world: World) -> None:
    from tests.web.vcapi.test_endpoints import ob_credential

    body = problem(issue(client, world.token, ob_credential(credentialStatus=CALLER_STATUS)),
                   422)
    assert body["errors"] == ["credentialStatus: must be absent"]


def test_the_self_check_reads_the_dates_as_verify_does(client: FlaskClient,
                                                       world: World) -> None:
    later = issued(client, world.token, generic_credential(validFrom="2099-01-01T00:00:00Z"))
    assert later["validFrom"] == "2099-01-01T00:00:00Z"
    body = problem(issue(client, world.token, generic_credential(
        validFrom="2030-01-01T00:00:00Z", validUntil="2029-01-01T00:00:00Z")), 422)
    # Refused before signing, for the rule it breaks (VCDM 2.0 §4.9), as verify refuses it.
    assert any(e.startswith("validUntil: earlier than validFrom") for e in body["errors"])


# --- inline contexts -----------------------------------------------------------------------

V2 = "https://www.w3.org/ns/credentials/v2"


def test_an_inline_context_after_the_base_is_signed_and_verified(
        client: FlaskClient, world: World) -> None:
    inline = {"MembershipCredential": "https://example.org/vocab#MembershipCredential",
              "memberOf": {"@id": "https://example.org/vocab#memberOf", "@type": "@id"}}
    credential = {"@context": [V2, inline],
                  "type": ["VerifiableCredential", "MembershipCredential"],
                  "credentialSubject": {"id": "did:example:member",
                                        "memberOf": "https://example.org/guild"}}
    vc = issued(client, world.token, credential)
    assert vc["@context"] == [V2, inline]
    assert verify_vc(client, vc).status_code == 200
    vc["credentialSubject"]["memberOf"] = "https://example.org/other"
    assert verify_vc(client, vc).status_code == 422


@pytest.mark.parametrize(("inline", "words"), [
    ({"name": "https://example.org/vocab#name"}, "protected term"),
    ({"@import": "https://example.org/remote-context.jsonld"}, "only bundled contexts"),
    ({"memberOf": {"@id": "https://example.org/vocab#memberOf",
                   "@context": "https://example.org/scoped.jsonld"}}, "only bundled contexts"),
])
def test_an_inline_context_that_would_change_or_fetch_meaning_is_refused(
        client: FlaskClient, world: World, inline: dict[str, Any], words: str) -> None:
    credential = {**generic_credential(), "@context": [V2, inline]}
    body = problem(issue(client, world.token, credential), 422)
    assert words in body["detail"], body


def test_repeated_entries_without_id_are_kept_apart_and_signed(
        client: FlaskClient, world: World) -> None:
    """Each object without an id is a node of its own, so two equal ones are both signed."""
    inline = {"OdrlPolicy2017": "https://example.org/examples#OdrlPolicy2017"}
    credential = {"@context": [V2, inline], "type": ["VerifiableCredential"],
                  "credentialSubject": {"id": "did:example:subject"},
                  "termsOfUse": [{"type": "OdrlPolicy2017"}, {"type": "OdrlPolicy2017"}]}
    vc = issued(client, world.token, credential)
    assert verify_vc(client, vc).status_code == 200
    vc["termsOfUse"] = vc["termsOfUse"][:1]
    assert verify_vc(client, vc).status_code == 422
    # Repeated values (here the same URL twice) are still refused: a set keeps one.
    repeated = generic_credential()
    repeated["credentialSubject"]["alumniOf"] = ["The Guild", "The Guild"]
    body = problem(issue(client, world.token, repeated), 422)
    assert "repeated" in str(body), body
