"""Every refusal names what is wrong with the credential it refuses.

A verifier that answers 422 to a broken credential only helps if the answer says why: a
credential missing its ``proof.verificationMethod`` must be refused for that, not for
something else it happens to break too. These cases are the mutations public conformance
suites apply to a valid credential, here applied to one whose signing key is bound to its
issuer, so that each refusal can only come from the mutation itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, issuer_did
from tests.conftest import World
from tests.web.vcapi.test_endpoints import EXAMPLES, VC_V2, generic_credential, issue, issued

Credential = dict[str, Any]
#: Words of the refusal a key not bound to the issuer gets; no other refusal may use them.
NOT_THE_ISSUERS = "not by "


def _alumni(issuer: str) -> Credential:
    return {
        "@context": [VC_V2, EXAMPLES],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "name": "Alumni Credential",
        "issuer": issuer,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School"},
    }


def _signed(ctx: ServiceContext, *, issuer: str | None = None) -> Credential:
    """An alumni credential signed with a fresh did:key; its issuer is that did:key unless
    another ``issuer`` is named."""
    key = PrivateKey.generate("Ed25519")
    did = did_key_from_public_key(key.public_key)
    signed: Credential = sign_document(
        _alumni(issuer or did), SIGNING_SUITES["eddsa-rdfc-2022"], key,
        verification_method=did_key_verification_method_id(did),
        proof_purpose="assertionMethod", ctx=SuiteContext(loader=ctx.loader))
    return signed


def _verify(client: FlaskClient, vc: Any) -> Any:
    return client.post("/credentials/verify",
                       json={"verifiableCredential": vc, "options": {"checks": ["proof"]}})


def _errors(response: Any) -> list[tuple[str, str]]:
    """(check id, message and details) of each failed check of a 422 answer."""
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["verified"] is False
    return [(e["id"], " ".join([e["message"], *e.get("details", ())])) for e in body["errors"]]


def _without(*path: str) -> Callable[[Credential], None]:
    def change(vc: Credential) -> None:
        node = vc
        for name in path[:-1]:
            node = node[name]
        del node[path[-1]]
    return change


def _setting(name: str, value: Any) -> Callable[[Credential], None]:
    def change(vc: Credential) -> None:
        vc[name] = value
    return change


def _setting_proof(name: str, value: Any) -> Callable[[Credential], None]:
    def change(vc: Credential) -> None:
        vc["proof"][name] = value
    return change


MUTATIONS: dict[str, tuple[Callable[[Credential], None], str, str]] = {
    # name: (change, id of the check that must fail, words its message must contain)
    "no @context": (_without("@context"), "context", "no @context"),
    "no type": (_without("type"), "type", "VerifiableCredential"),
    "no issuer": (_without("issuer"), "proof", "names no issuer"),
    "no credentialSubject": (_without("credentialSubject"), "schema", "credentialSubject"),
    "no proof": (_without("proof"), "proof", "carries no proof"),
    "no proof.type": (_without("proof", "type"), "proof", "has no type"),
    "another proof.created": (_setting_proof("created", "2020-01-01T00:00:00Z"), "proof",
                              "signature does not match"),
    "no proof.verificationMethod": (_without("proof", "verificationMethod"), "proof",
                                    "no verificationMethod"),
    "no proof.proofValue": (_without("proof", "proofValue"), "proof", "no proofValue"),
    "no proof.proofPurpose": (_without("proof", "proofPurpose"), "proof", "proof purpose"),
    "@context a string": (_setting("@context", "string"), "context", "first context"),
    "@context item a number": (_setting("@context", [VC_V2, 4]), "context",
                               "named by URL"),
    "type not a list": (_setting("type", 4), "type", "VerifiableCredential"),
    "type items not strings": (_setting("type", ["VerifiableCredential", 4]), "context",
                               "type"),
    "issuer a number": (_setting("issuer", 4), "schema", "issuer: must be a URL"),
    "credentialSubject a string": (_setting("credentialSubject", "did:example:abcdefgh"),
                                   "schema", "credentialSubject"),
    # JSON-LD reads a string proof as the IRI of a proof graph; a relative one is refused.
    "proof a string": (_setting("proof", "proof"), "context", "'proof' is not an absolute IRI"),
}


def test_the_unchanged_credential_verifies(client: FlaskClient, ctx: ServiceContext) -> None:
    response = _verify(client, _signed(ctx))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["verified"] is True


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_broken_credential_is_refused_for_what_is_broken(
        client: FlaskClient, ctx: ServiceContext, name: str) -> None:
    change, check, words = MUTATIONS[name]
    vc = copy.deepcopy(_signed(ctx))
    change(vc)
    errors = _errors(_verify(client, vc))
    assert any(found == check and words in message for found, message in errors), errors
    assert not any(NOT_THE_ISSUERS in message for _, message in errors), errors


def test_a_proof_type_this_verifier_does_not_know_is_named_as_such(
        client: FlaskClient, ctx: ServiceContext) -> None:
    vc = _signed(ctx)
    vc["proof"]["type"] = "UnknownProofType"
    [(check, message)] = _errors(_verify(client, vc))
    assert check == "proof"
    assert "'UnknownProofType'" in message, message


def test_a_key_that_is_not_the_issuers_is_refused_and_said_to_be_valid_but_not_bound(
        client: FlaskClient, ctx: ServiceContext) -> None:
    """VCDM 2.0 §7.1 hands the controller of the verification method to the caller, and its
    validation appendix calls it "typically the respective issuer"; this verifier requires
    it to be, for a signature by any key would otherwise let anyone speak for any issuer."""
    vc = _signed(ctx, issuer="https://vc.example/issuers/5678")
    [(check, message)] = _errors(_verify(client, vc))
    assert check == "proof"
    assert "the signature is valid" in message
    assert f"{NOT_THE_ISSUERS}https://vc.example/issuers/5678" in message


# --- issue ---------------------------------------------------------------------------------


def test_a_credential_without_issuer_is_issued_as_the_tokens_issuer(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    """VC API IssueCredentialRequest: the credential's ``issuer`` is optional and should be
    left out; the issuer instance the request is made to supplies it."""
    credential = generic_credential()
    assert "issuer" not in credential
    vc = issued(client, world.token, credential)
    assert vc["issuer"] == issuer_did(ctx, get_issuer(session, world.issuer_slug))


def test_valid_from_after_valid_until_is_refused_for_that(client: FlaskClient,
                                                          world: World) -> None:
    response = issue(client, world.token, generic_credential(
        validFrom="2027-12-06T00:00:00Z", validUntil="2025-12-06T00:00:00Z"))
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.get_json()["errors"]
    assert any("validUntil" in e and "validFrom" in e and "§4.9" in e for e in errors), errors


@pytest.mark.parametrize("entry", [
    {"statusListIndex": True},
    {"statusListIndex": "-1"},
    {"statusListIndex": "7", "statusPurpose": 5},
    {"statusListIndex": "7", "statusListCredential": "not a url"},
])
def test_a_malformed_bitstring_status_entry_is_refused(client: FlaskClient, world: World,
                                                       entry: dict[str, Any]) -> None:
    """W3C Bitstring Status List §2.1 (statusListIndex a base-10 integer string,
    statusPurpose a string, statusListCredential a URL) and §3.1: a malformed value is a
    MALFORMED_VALUE_ERROR, so the service does not sign it."""
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
              "statusListIndex": "7", "statusListCredential": "https://example.com/status/1",
              **entry}
    response = issue(client, world.token, generic_credential(credentialStatus=status))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "credentialStatus" in str(response.get_json()), response.get_json()
