"""The learner's credential offer page: from "Add to wallet", a QR code and a link that a
wallet follows to the badge."""

from __future__ import annotations

import html
import re

from flask import Flask

from issuer.storage.models import Credential
from tests.learning_fixtures import LearnerClient, csrf_of
from tests.web.oid4vci.wallet import LDP_VC, FlaskTransport, Wallet, start


def _offer_page(learner: LearnerClient, badge: Credential) -> str:
    wallet_page = f"/learn/wallet/{badge.id}"
    page = learner.get(wallet_page)
    assert page.status_code == 200
    assert f'action="/learn/wallet/{badge.id}/openid4vci"' in page.get_data(as_text=True)
    response = learner.post(f"{wallet_page}/openid4vci",
                            data={"csrf_token": csrf_of(learner, wallet_page)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_the_learner_gets_an_offer_a_wallet_follows(
        app: Flask, learner: LearnerClient, badge: Credential) -> None:
    text = _offer_page(learner, badge)
    assert 'id="offer-qr" src="data:image/png;base64,' in text
    found = re.search(r'id="offer-open" href="([^"]+)"', text)
    assert found
    link = html.unescape(found.group(1))
    wallet = Wallet(FlaskTransport(app.test_client(), "http://badges.test"))
    flow = start(wallet, link)
    nonce = wallet.nonce(flow.metadata["nonce_endpoint"])
    answer = wallet.credential(flow.metadata["credential_endpoint"], flow.access_token, {
        "credential_configuration_id": LDP_VC,
        "proofs": {"jwt": [wallet.jwt_proof(audience=flow.issuer, nonce=nonce)]}})
    assert answer.status == 200, answer
    assert answer.body["credentials"][0]["credential"]["credentialSubject"]["id"] == wallet.did


def test_another_learner_s_badge_is_not_found(
        peers: tuple[LearnerClient, ...], badge: Credential) -> None:
    stranger = peers[0]
    response = stranger.post(f"/learn/wallet/{badge.id}/openid4vci",
                             data={"csrf_token": csrf_of(stranger)})
    assert response.status_code == 404
    response = stranger.post("/learn/wallet/not-a-uuid/openid4vci",
                             data={"csrf_token": csrf_of(stranger)})
    assert response.status_code == 404


def test_the_form_needs_its_csrf_token_and_a_signed_in_learner(
        app: Flask, learner: LearnerClient, badge: Credential) -> None:
    assert learner.post(f"/learn/wallet/{badge.id}/openid4vci").status_code == 400
    anonymous = app.test_client().post(f"/learn/wallet/{badge.id}/openid4vci")
    assert anonymous.status_code in (302, 400)
