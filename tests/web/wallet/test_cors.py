"""Browser-based wallets call the exchanges from their own origin: any origin may read the
answers (errors included) without credentials, and a preflight is answered; the learner's
cookie-authenticated "Add to wallet" page is not readable by another site."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.exchanges import start_exchange
from issuer.storage.models import Credential
from tests.conftest import BASE_URL
from tests.learning_fixtures import LearnerClient, learner
from tests.web.wallet.holder import Holder

__all__ = ["learner"]  # the fixture, imported for pytest

WALLET_ORIGIN = "https://wallet.example"
PATH = BASE_URL.removesuffix("/")


def _open_to_any_origin(response: Any) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_an_exchange_from_another_origin(client: FlaskClient, session: Session,
                                         ctx: ServiceContext, badge: Credential,
                                         holder: Holder) -> None:
    started = start_exchange(session, ctx, badge, started_by="test")
    session.commit()
    endpoint = started.exchange_url.removeprefix(PATH)
    origin = {"Origin": WALLET_ORIGIN}
    preflight = client.options(endpoint, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    _open_to_any_origin(preflight)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    asked = client.post(endpoint, json={}, headers=origin)
    assert asked.status_code == 200
    _open_to_any_origin(asked)
    request = asked.get_json()["verifiablePresentationRequest"]
    answer_at = request["interact"]["service"][0]["serviceEndpoint"].removeprefix(PATH)
    preflight = client.options(answer_at, headers={
        **origin, "Access-Control-Request-Method": "POST"})
    _open_to_any_origin(preflight)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    vp = holder.did_auth(challenge=request["challenge"], domain=request["domain"])
    answered = client.post(answer_at, json=vp, headers=origin)
    assert answered.status_code == 200
    _open_to_any_origin(answered)
    # Errors too: a wallet shows the reason, which it can only read with the header.
    again = client.post(answer_at, json=vp, headers=origin)
    assert again.status_code == 410
    _open_to_any_origin(again)
    interaction = client.get(started.interaction_url.removeprefix(PATH), headers=origin)
    assert interaction.status_code == 410
    _open_to_any_origin(interaction)
    _open_to_any_origin(client.post("/exchanges/a/b/c", json={}, headers=origin))


def test_the_learner_s_pages_are_not_shared(learner: LearnerClient,
                                            badge: Credential) -> None:
    for method in ("GET", "OPTIONS"):
        response = learner.open(f"/learn/wallet/{badge.id}", method=method, headers={
            "Origin": WALLET_ORIGIN, "Access-Control-Request-Method": "POST"})
        assert not any(name.lower().startswith("access-control-")
                       for name in response.headers.keys()), (method, response.headers)
