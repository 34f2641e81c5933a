"""VC API behaviour the W3C conformance suites rely on: request options, presentations
without a holder, proof shape, status and the VCDM 2.0 rules on issue."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
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
