"""Browser-based wallets run the OpenID4VCI flow from their own origin: the metadata, the
offer, the token, nonce and credential endpoints answer any origin without credentials
(errors included, with the token challenge readable), and preflights are answered; the
learner's offer page, authenticated by the session cookie, is not shared."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.oid4vci import create_offer
from issuer.storage.models import Credential
from tests.conftest import BASE_URL
from tests.learning_fixtures import LearnerClient, learner

__all__ = ["learner"]  # the fixture, imported for pytest

ORIGIN = {"Origin": "https://wallet.example"}
PATH = BASE_URL.removesuffix("/")


def _shared(response: Any) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Set-Cookie" not in response.headers


def _preflight(client: FlaskClient, path: str, method: str, headers: str) -> Any:
    response = client.options(path, headers={
        **ORIGIN, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})
    assert response.status_code == 200
    _shared(response)
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower()
               for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {h.strip().lower() for h in headers.split(",")} <= allowed
    return response


def test_the_whole_flow_is_readable_from_another_origin(
        client: FlaskClient, session: Session, ctx: ServiceContext,
        badge: Credential) -> None:
    for path in ("/.well-known/openid-credential-issuer",
                 "/.well-known/oauth-authorization-server"):
        answer = client.get(path, headers=ORIGIN)
        assert answer.status_code == 200
        _shared(answer)
    offer = create_offer(session, ctx, badge)
    session.commit()
    document = client.get(offer.offer_uri.removeprefix(PATH), headers=ORIGIN)
    assert document.status_code == 200
    _shared(document)
    _preflight(client, "/oid4vci/token", "POST", "content-type")
    token = client.post("/oid4vci/token", headers=ORIGIN, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": offer.pre_authorized_code})
    assert token.status_code == 200
    _shared(token)
    _preflight(client, "/oid4vci/nonce", "POST", "content-type")
    nonce = client.post("/oid4vci/nonce", headers=ORIGIN)
    _shared(nonce)
    # The credential request carries a bearer token: Authorization must be allowed by name.
    _preflight(client, "/oid4vci/credential", "POST", "authorization, content-type")
    refused = client.post("/oid4vci/credential", json={}, headers={
        **ORIGIN, "Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    _shared(refused)
    exposed = refused.headers["Access-Control-Expose-Headers"].lower()
    assert "www-authenticate" in exposed
    # Errors of the token endpoint and routing errors are readable too.
    used = client.post("/oid4vci/token", headers=ORIGIN, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": offer.pre_authorized_code})
    assert used.status_code == 400 and used.get_json()["error"] == "invalid_grant"
    _shared(used)
    _shared(client.get("/oid4vci/token", headers=ORIGIN))
    _shared(client.get("/oid4vci/offers/unknown", headers=ORIGIN))


def test_the_learner_s_offer_page_is_not_shared(learner: LearnerClient,
                                                badge: Credential) -> None:
    for method in ("GET", "POST", "OPTIONS"):
        response = learner.open(f"/learn/wallet/{badge.id}/openid4vci", method=method,
                                headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
        assert not any(name.lower().startswith("access-control-")
                       for name in response.headers.keys()), (method, response.headers)
