"""A wallet receives a badge by OpenID for Verifiable Credential Issuance 1.0 (pre-authorized
code), over HTTP: offer → metadata → token → nonce → credential, with a ``jwt`` and a
``di_vp`` key proof; and every misuse is refused with the error code the protocol names."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.core.proofs.vc_jwt import decode_compact
from issuer.services.context import ServiceContext
from issuer.services.oid4vci import create_offer
from issuer.services.verification import verify
from issuer.storage.models import Credential
from issuer.storage.oid4vci import CredentialOffer, Issuance, Nonce
from tests.conftest import BASE_URL
from tests.web.oid4vci.wallet import GRANT, JWT_VC_JSON, LDP_VC, Wallet, start


def _offer(session: Session, ctx: ServiceContext, badge: Credential,
           tx_code: str | None = None) -> str:
    offer = create_offer(session, ctx, badge, tx_code=tx_code, created_by="test")
    session.commit()
    return offer.link


def _request(configuration: str, proof_type: str, proof: Any) -> dict[str, Any]:
    return {"credential_configuration_id": configuration, "proofs": {proof_type: [proof]}}


def _error(answer: Any, code: str, status: int = 400) -> None:
    assert answer.status == status, answer
    assert answer.body["error"] == code, answer.body
    assert answer.headers.get("Cache-Control") == "no-store"


def test_the_metadata_describe_the_flow(wallet: Wallet) -> None:
    issuer, server = wallet.metadata(BASE_URL)
    assert issuer["credential_issuer"] == BASE_URL
    assert issuer["credential_endpoint"] == f"{BASE_URL}/oid4vci/credential"
    assert issuer["nonce_endpoint"] == f"{BASE_URL}/oid4vci/nonce"
    ldp = issuer["credential_configurations_supported"][LDP_VC]
    assert ldp["format"] == "ldp_vc"
    # Offline (as here), a did:web holder's document cannot be read.
    assert ldp["cryptographic_binding_methods_supported"] == ["did:key", "did:jwk"]
    assert "OpenBadgeCredential" in ldp["credential_definition"]["type"]
    assert ldp["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "EdDSA", "Ed25519", "ES256"]
    assert ldp["proof_types_supported"]["di_vp"]["proof_signing_alg_values_supported"] == [
        "eddsa-rdfc-2022"]
    assert issuer["credential_configurations_supported"][JWT_VC_JSON]["format"] == \
        "jwt_vc_json"
    assert server["issuer"] == BASE_URL
    assert server["token_endpoint"] == f"{BASE_URL}/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True
    assert GRANT in server["grant_types_supported"]


def test_a_jwt_proof_gets_a_badge_bound_to_the_wallet_s_did(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    link = _offer(session, ctx, badge)
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    flow = start(wallet, link)
    assert flow.offer["credential_configuration_ids"] == [LDP_VC, JWT_VC_JSON]
    assert "tx_code" not in flow.offer["grants"][GRANT]
    nonce = wallet.nonce(flow.metadata["nonce_endpoint"])
    proof = wallet.jwt_proof(audience=flow.issuer, nonce=nonce)
    answer = wallet.credential(flow.metadata["credential_endpoint"], flow.access_token,
                               _request(LDP_VC, "jwt", proof))
    assert answer.status == 200, answer
    assert answer.headers["Cache-Control"] == "no-store"
    (entry,) = answer.body["credentials"]
    vc = entry["credential"]
    assert vc["credentialSubject"]["id"] == wallet.did
    assert vc["credentialSubject"]["achievement"] == json.loads(
        badge.document)["credentialSubject"]["achievement"]
    assert vc["id"] != json.loads(badge.document)["id"]
    report = verify(session, ctx, vc)
    assert report.valid, report.failed
    # The copy is a credential of its own, with its own status entries, recorded as a
    # copy of the badge.
    copy = session.get(Credential, vc["id"].rsplit("/", 1)[1])
    assert copy is not None and copy.recipient_did == wallet.did
    assert copy.status_allocation_id not in (None, badge.status_allocation_id)
    issuance = session.scalar(select(Issuance).where(Issuance.issued_credential_id == copy.id))
    assert issuance is not None and issuance.credential_id == badge.id


def test_a_jwt_proof_by_a_bare_jwk_gets_a_vc_jwt_naming_its_did_jwk(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    flow = start(wallet, _offer(session, ctx, badge))
    nonce = wallet.nonce(flow.metadata["nonce_endpoint"])
    proof = wallet.jwt_proof(audience=flow.issuer, nonce=nonce, key="jwk")
    answer = wallet.credential(flow.metadata["credential_endpoint"], flow.access_token,
                               _request(JWT_VC_JSON, "jwt", proof))
    assert answer.status == 200, answer
    token = answer.body["credentials"][0]["credential"]
    payload = decode_compact(token).payload
    holder = payload["credentialSubject"]["id"]
    assert holder.startswith("did:jwk:")
    assert json.loads(_b64(holder.removeprefix("did:jwk:"))) == {
        k: wallet.p256.as_dict(private=False)[k] for k in ("crv", "kty", "x", "y")}
    report = verify(session, ctx, token)
    assert report.valid, report.failed


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_di_vp_proof_gets_a_badge_bound_to_the_wallet_s_did(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    flow = start(wallet, _offer(session, ctx, badge, tx_code="493817"), tx_code="493817")
    assert flow.offer["grants"][GRANT]["tx_code"]["length"] == 6
    assert flow.offer["grants"][GRANT]["tx_code"]["input_mode"] == "numeric"
    nonce = wallet.nonce(flow.metadata["nonce_endpoint"])
    vp = wallet.di_vp_proof(domain=flow.issuer, challenge=nonce)
    answer = wallet.credential(flow.metadata["credential_endpoint"], flow.access_token,
                               _request(LDP_VC, "di_vp", vp))
    assert answer.status == 200, answer
    vc = answer.body["credentials"][0]["credential"]
    assert vc["credentialSubject"]["id"] == wallet.did
    assert verify(session, ctx, vc).valid


# --- refusals ------------------------------------------------------------------------------


def test_a_code_is_used_once(wallet: Wallet, session: Session, ctx: ServiceContext,
                             badge: Credential) -> None:
    link = _offer(session, ctx, badge)
    offer = wallet.open_link(link)
    code = offer["grants"][GRANT]["pre-authorized_code"]
    token_endpoint = f"{BASE_URL}/oid4vci/token"
    first = wallet.token(token_endpoint, code)
    assert first.status == 200
    assert (first.headers["Cache-Control"], first.headers["Pragma"]) == ("no-store", "no-cache")
    _error(wallet.token(token_endpoint, code), "invalid_grant")
    # Once used, the offer is no longer served.
    assert wallet.transport.request("GET", offer_uri(link)).status == 404


def offer_uri(link: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(link).query)["credential_offer_uri"][0]


def test_an_expired_or_unknown_code_is_an_invalid_grant(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    offer = wallet.open_link(_offer(session, ctx, badge))
    code = offer["grants"][GRANT]["pre-authorized_code"]
    session.execute(update(CredentialOffer).values(
        expires_at=ctx.now() - timedelta(seconds=1)))
    session.commit()
    token_endpoint = f"{BASE_URL}/oid4vci/token"
    _error(wallet.token(token_endpoint, code), "invalid_grant")
    _error(wallet.token(token_endpoint, "not-a-code"), "invalid_grant")


def test_a_wrong_tx_code_is_an_invalid_grant_and_a_missing_one_an_invalid_request(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    offer = wallet.open_link(_offer(session, ctx, badge, tx_code="493817"))
    code = offer["grants"][GRANT]["pre-authorized_code"]
    token_endpoint = f"{BASE_URL}/oid4vci/token"
    _error(wallet.token(token_endpoint, code, "000000"), "invalid_grant")
    _error(wallet.token(token_endpoint, code), "invalid_request")
    # The wrong guess is counted although the request was refused; after five, the right
    # code is refused too, so a six-digit code cannot be guessed.
    session.expire_all()
    assert session.scalar(select(CredentialOffer.failed_tx_codes)) == 1
    for _ in range(4):
        _error(wallet.token(token_endpoint, code, "111111"), "invalid_grant")
    _error(wallet.token(token_endpoint, code, "493817"), "invalid_grant")


def test_a_tx_code_the_offer_does_not_have_is_an_invalid_request(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    offer = wallet.open_link(_offer(session, ctx, badge))
    code = offer["grants"][GRANT]["pre-authorized_code"]
    _error(wallet.token(f"{BASE_URL}/oid4vci/token", code, "1234"), "invalid_request")


@pytest.mark.parametrize("form", [
    "grant_type=authorization_code&code=x",
    "pre-authorized_code=x",
    f"grant_type={GRANT}",
])
def test_a_malformed_token_request_is_refused(wallet: Wallet, form: str) -> None:
    answer = wallet.transport.request(
        "POST", f"{BASE_URL}/oid4vci/token", data=form.encode("ascii"),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    expected = "unsupported_grant_type" if form.startswith("grant_type=auth") else \
        "invalid_request"
    _error(answer, expected)


def test_a_token_request_in_json_is_an_invalid_request(wallet: Wallet) -> None:
    answer = wallet.transport.request(
        "POST", f"{BASE_URL}/oid4vci/token", data=b'{"grant_type": "x"}',
        headers={"Content-Type": "application/json"})
    _error(answer, "invalid_request")


def _ready(wallet: Wallet, session: Session, ctx: ServiceContext,
           badge: Credential) -> tuple[Any, str]:
    flow = start(wallet, _offer(session, ctx, badge))
    return flow, wallet.nonce(flow.metadata["nonce_endpoint"])


def test_a_used_nonce_is_an_invalid_nonce(wallet: Wallet, session: Session,
                                          ctx: ServiceContext, badge: Credential) -> None:
    flow, nonce = _ready(wallet, session, ctx, badge)
    endpoint = flow.metadata["credential_endpoint"]
    first = wallet.credential(endpoint, flow.access_token, _request(
        LDP_VC, "jwt", wallet.jwt_proof(audience=flow.issuer, nonce=nonce)))
    assert first.status == 200, first
    again = wallet.credential(endpoint, flow.access_token, _request(
        JWT_VC_JSON, "jwt", wallet.jwt_proof(audience=flow.issuer, nonce=nonce)))
    _error(again, "invalid_nonce")


def test_a_stale_or_unknown_nonce_is_an_invalid_nonce(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    flow, nonce = _ready(wallet, session, ctx, badge)
    session.execute(update(Nonce).values(expires_at=ctx.now() - timedelta(seconds=1)))
    session.commit()
    endpoint = flow.metadata["credential_endpoint"]
    for value in (nonce, "made-up"):
        answer = wallet.credential(endpoint, flow.access_token, _request(
            LDP_VC, "jwt", wallet.jwt_proof(audience=flow.issuer, nonce=value)))
        _error(answer, "invalid_nonce")
    vp = wallet.di_vp_proof(domain=flow.issuer, challenge=nonce)
    _error(wallet.credential(endpoint, flow.access_token, _request(LDP_VC, "di_vp", vp)),
           "invalid_nonce")


def test_a_proof_by_another_key_is_an_invalid_proof(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from joserfc.jwk import OKPKey

    flow, nonce = _ready(wallet, session, ctx, badge)
    endpoint = flow.metadata["credential_endpoint"]
    # The kid names the wallet's key; another key signed.
    forged = wallet.jwt_proof(audience=flow.issuer, nonce=nonce,
                              signer=OKPKey.generate_key("Ed25519"))
    _error(wallet.credential(endpoint, flow.access_token, _request(LDP_VC, "jwt", forged)),
           "invalid_proof")
    vp = wallet.di_vp_proof(domain=flow.issuer, challenge=nonce,
                            signer=Ed25519PrivateKey.generate())
    _error(wallet.credential(endpoint, flow.access_token, _request(LDP_VC, "di_vp", vp)),
           "invalid_proof")
    # The refusals left the nonce unused: the wallet's own proof still succeeds.
    good = wallet.jwt_proof(audience=flow.issuer, nonce=nonce)
    assert wallet.credential(endpoint, flow.access_token,
                             _request(LDP_VC, "jwt", good)).status == 200


@pytest.mark.parametrize("change", ["audience", "typ", "old", "future", "no nonce"])
def test_a_jwt_proof_with_wrong_claims_is_an_invalid_proof(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential,
        change: str) -> None:
    import time

    flow, nonce = _ready(wallet, session, ctx, badge)
    now = int(time.time())
    proof = {
        "audience": lambda: wallet.jwt_proof(audience="https://elsewhere.test", nonce=nonce),
        "typ": lambda: wallet.jwt_proof(audience=flow.issuer, nonce=nonce, typ="JWT"),
        "old": lambda: wallet.jwt_proof(audience=flow.issuer, nonce=nonce, iat=now - 3600),
        "future": lambda: wallet.jwt_proof(audience=flow.issuer, nonce=nonce,
                                           iat=now + 3600),
        "no nonce": lambda: wallet.jwt_proof(audience=flow.issuer, nonce=None),
    }[change]()
    _error(wallet.credential(flow.metadata["credential_endpoint"], flow.access_token,
                             _request(LDP_VC, "jwt", proof)), "invalid_proof")


def test_a_di_vp_proof_for_another_domain_is_an_invalid_proof(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    flow, nonce = _ready(wallet, session, ctx, badge)
    vp = wallet.di_vp_proof(domain="https://elsewhere.test", challenge=nonce)
    _error(wallet.credential(flow.metadata["credential_endpoint"], flow.access_token,
                             _request(LDP_VC, "di_vp", vp)), "invalid_proof")


@pytest.mark.parametrize("body,code", [
    ({"credential_configuration_id": "Nope", "proofs": {"jwt": ["x"]}},
     "unknown_credential_configuration"),
    ({"proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
    ({"credential_configuration_id": LDP_VC}, "invalid_proof"),
    ({"credential_configuration_id": LDP_VC, "proofs": {"jwt": ["a", "b"]}}, "invalid_proof"),
    ({"credential_configuration_id": JWT_VC_JSON, "proofs": {"di_vp": [{}]}},
     "invalid_proof"),
    ({"credential_configuration_id": LDP_VC, "proofs": {"jwt": ["not.a.jwt"]}},
     "invalid_proof"),
    ([1, 2], "invalid_credential_request"),
])
def test_a_malformed_credential_request_is_refused(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential,
        body: Any, code: str) -> None:
    flow = start(wallet, _offer(session, ctx, badge))
    _error(wallet.credential(flow.metadata["credential_endpoint"], flow.access_token, body),
           code)


def test_a_missing_or_unknown_access_token_is_an_invalid_token(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    endpoint = f"{BASE_URL}/oid4vci/credential"
    body = _request(LDP_VC, "jwt", "x.y.z")
    answer = wallet.credential(endpoint, "unknown-token", body)
    _error(answer, "invalid_token", 401)
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    no_token = wallet.transport.request("POST", endpoint, data=json.dumps(body).encode(),
                                        headers={"Content-Type": "application/json"})
    _error(no_token, "invalid_token", 401)
    # RFC 6750 §3.1: a request without a token gets a challenge naming no error.
    assert no_token.headers["WWW-Authenticate"] == 'Bearer realm="oid4vci"'
    not_json = wallet.transport.request("POST", endpoint, data=b"x",
                                        headers={"Content-Type": "text/plain"})
    _error(not_json, "invalid_token", 401)


def test_a_configuration_is_issued_once_per_access_token(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    flow, nonce = _ready(wallet, session, ctx, badge)
    endpoint = flow.metadata["credential_endpoint"]
    assert wallet.credential(endpoint, flow.access_token, _request(
        LDP_VC, "jwt", wallet.jwt_proof(audience=flow.issuer, nonce=nonce))).status == 200
    second = wallet.nonce(flow.metadata["nonce_endpoint"])
    _error(wallet.credential(endpoint, flow.access_token, _request(
        LDP_VC, "jwt", wallet.jwt_proof(audience=flow.issuer, nonce=second))),
        "invalid_credential_request")


def test_a_revoked_badge_is_not_issued(wallet: Wallet, session: Session,
                                       ctx: ServiceContext, badge: Credential) -> None:
    flow, nonce = _ready(wallet, session, ctx, badge)
    session.execute(update(Credential).where(Credential.id == badge.id)
                    .values(status="revoked"))
    session.commit()
    _error(wallet.credential(flow.metadata["credential_endpoint"], flow.access_token,
                             _request(LDP_VC, "jwt",
                                      wallet.jwt_proof(audience=flow.issuer, nonce=nonce))),
           "credential_request_denied")


@pytest.mark.parametrize("data,media", [(b"{not json", "application/json"),
                                        (b'{"a": 1, "a": 2}', "application/json"),
                                        (b"proofs=x", "application/x-www-form-urlencoded")])
def test_a_credential_request_that_is_not_one_json_object_is_refused(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential,
        data: bytes, media: str) -> None:
    flow = start(wallet, _offer(session, ctx, badge))
    answer = wallet.transport.request(
        "POST", flow.metadata["credential_endpoint"], data=data,
        headers={"Content-Type": media, "Authorization": f"Bearer {flow.access_token}"})
    _error(answer, "invalid_credential_request")
