"""A wallet whose holder is a did:web authenticates in an exchange once the service reads
its DID document, through the guarded fetcher, from a real HTTPS server on loopback that
the settings allow; a key the document does not list for authentication, and a site the
settings do not allow, are refused (the latter before any connection)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.exchanges import StartedExchange, start_exchange
from issuer.storage.models import Credential
from tests.conftest import BASE_URL
from tests.net.servers import Pki, Reply, Server, serving
from tests.web.wallet.web_holders import (
    WebHolder,
    did_document,
    https,
    loopback_only,
    pki,
    settings,
    web_did,
)

__all__ = ["https", "loopback_only", "pki", "settings"]  # fixtures, imported for pytest

pytestmark = pytest.mark.db
PATH = BASE_URL.removesuffix("/")


def _holder(server: Server, *, relationships: tuple[str, ...] = ("authentication",)
            ) -> WebHolder:
    holder = WebHolder(Ed25519PrivateKey.generate(), web=web_did(server))
    raw = holder.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    server.routes["/.well-known/did.json"] = Reply(
        json.dumps(did_document(holder.did, raw, relationships=relationships)).encode(),
        headers={"Content-Type": "application/did+json"})
    return holder


def _start(session: Session, ctx: ServiceContext, badge: Credential) -> StartedExchange:
    started = start_exchange(session, ctx, badge, started_by="test")
    session.commit()
    return started


def _answer(client: FlaskClient, started: StartedExchange, vp: dict[str, Any]) -> Any:
    return client.post(f"{started.exchange_url}/{started.challenge}".removeprefix(PATH),
                       json=vp)


@pytest.mark.parametrize("suite", ["Ed25519Signature2020", "eddsa-rdfc-2022"])
def test_a_did_web_holder_receives_the_copy(client: FlaskClient, session: Session,
                                            ctx: ServiceContext, badge: Credential,
                                            https: Server, suite: str) -> None:
    holder = _holder(https)
    started = _start(session, ctx, badge)
    answered = _answer(client, started, holder.did_auth(
        challenge=started.challenge, domain=PATH, suite=suite))
    assert answered.status_code == 200, answered.get_data(as_text=True)
    (vc,) = answered.get_json()["verifiablePresentation"]["verifiableCredential"]
    assert vc["credentialSubject"]["id"] == holder.did
    assert https.connections >= 1
    stored = session.get(Credential, vc["id"].rsplit("/", 1)[-1])
    assert stored is not None and stored.recipient_did == holder.did


def test_a_key_not_listed_for_authentication_is_refused(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        https: Server) -> None:
    holder = _holder(https, relationships=("assertionMethod",))
    started = _start(session, ctx, badge)
    answered = _answer(client, started, holder.did_auth(challenge=started.challenge,
                                                        domain=PATH))
    assert answered.status_code == 422
    assert answered.mimetype == "application/problem+json"
    assert "authentication" in answered.get_json()["detail"]


def test_a_did_web_on_a_site_not_allowed_is_not_fetched(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        pki: Pki) -> None:
    with serving(pki) as hidden:  # loopback, but not on the settings' allowlist
        holder = _holder(hidden)
        started = _start(session, ctx, badge)
        answered = _answer(client, started, holder.did_auth(challenge=started.challenge,
                                                            domain=PATH))
        assert hidden.connections == 0
    assert answered.status_code == 422
    assert "loopback" in answered.get_json()["detail"]
    # The refusal left the exchange usable.
    assert client.post(started.exchange_url.removeprefix(PATH), json={}).status_code == 200


def test_one_answer_makes_the_service_fetch_two_documents_at_most(
        ctx: ServiceContext, https: Server) -> None:
    from issuer.core.errors import ResolutionError
    from issuer.services.holder_dids import MAX_FETCHES, holder_resolver

    resolver = holder_resolver(ctx)
    dids = [f"{web_did(https)}:wallets:{n}" for n in range(MAX_FETCHES + 1)]
    for did in dids:
        https.routes[f"/wallets/{did.rsplit(':', 1)[1]}/did.json"] = Reply(json.dumps(
            did_document(did, b"\x01" * 32)).encode())
    for did in dids[:MAX_FETCHES]:
        assert resolver.controller_document(did).id == did
    with pytest.raises(ResolutionError, match="one holder"):
        resolver.controller_document(dids[-1])
    assert len(https.seen) == MAX_FETCHES
