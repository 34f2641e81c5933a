"""An OpenID4VCI wallet whose key is named by a did:web: the service reads the DID document,
through the guarded fetcher, from a real HTTPS server on loopback that the settings allow,
and binds the copy to that DID, with a ``di_vp`` or a ``jwt`` proof; the metadata say so.
A key the document does not list for authentication is an ``invalid_proof``."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.oid4vci import create_offer
from issuer.storage.models import Credential
from tests.conftest import BASE_URL
from tests.net.servers import Reply, Server
from tests.web.oid4vci.wallet import JWT_VC_JSON, LDP_VC, FlaskTransport, start
from tests.web.wallet.web_holders import (
    WebWallet,
    did_document,
    https,
    loopback_only,
    pki,
    settings,
    web_did,
)

__all__ = ["https", "loopback_only", "pki", "settings"]  # fixtures, imported for pytest

pytestmark = pytest.mark.db


def _wallet(client: FlaskClient, server: Server, *,
            relationships: tuple[str, ...] = ("authentication",)) -> WebWallet:
    wallet = WebWallet(FlaskTransport(client, BASE_URL), web=web_did(server))
    raw = wallet._ed25519_private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    server.routes["/.well-known/did.json"] = Reply(
        json.dumps(did_document(wallet.did, raw, relationships=relationships)).encode(),
        headers={"Content-Type": "application/did+json"})
    return wallet


def _take(wallet: WebWallet, session: Session, ctx: ServiceContext, badge: Credential,
          proof_type: str, configuration: str = LDP_VC) -> tuple[int, dict[str, object]]:
    offer = create_offer(session, ctx, badge)
    session.commit()
    flow = start(wallet, offer.link)
    nonce = wallet.nonce(flow.metadata["nonce_endpoint"])
    proof = (wallet.jwt_proof(audience=flow.issuer, nonce=nonce) if proof_type == "jwt" else
             wallet.di_vp_proof(domain=flow.issuer, challenge=nonce))
    answer = wallet.credential(flow.metadata["credential_endpoint"], flow.access_token, {
        "credential_configuration_id": configuration, "proofs": {proof_type: [proof]}})
    return answer.status, answer.body


@pytest.mark.parametrize(("proof_type", "configuration"), [
    ("di_vp", LDP_VC), ("jwt", LDP_VC), ("jwt", JWT_VC_JSON)])
def test_the_copy_is_bound_to_the_did_web(client: FlaskClient, session: Session,
                                          ctx: ServiceContext, badge: Credential,
                                          https: Server, proof_type: str,
                                          configuration: str) -> None:
    wallet = _wallet(client, https)
    status, body = _take(wallet, session, ctx, badge, proof_type, configuration)
    assert status == 200, body
    assert https.connections >= 1
    copy = session.query(Credential).filter(Credential.recipient_did == wallet.did).one()
    assert json.loads(copy.document)["credentialSubject"]["id"] == wallet.did


@pytest.mark.parametrize("proof_type", ["di_vp", "jwt"])
def test_a_key_not_listed_for_authentication_is_an_invalid_proof(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        https: Server, proof_type: str) -> None:
    wallet = _wallet(client, https, relationships=("assertionMethod",))
    status, body = _take(wallet, session, ctx, badge, proof_type)
    assert (status, body["error"]) == (400, "invalid_proof"), body
    assert "authentication" in str(body["error_description"])


def test_online_the_metadata_name_did_web(client: FlaskClient) -> None:
    metadata = client.get("/.well-known/openid-credential-issuer").get_json()
    for configuration in metadata["credential_configurations_supported"].values():
        assert configuration["cryptographic_binding_methods_supported"] == [
            "did:key", "did:jwk", "did:web"]
