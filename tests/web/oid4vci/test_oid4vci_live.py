"""An OpenID4VCI wallet over a real server: `issuer serve` in a subprocess on its own
database, `issuer wallet-links --tx-code` makes the offer, and the wallet
(:mod:`tests.web.oid4vci.wallet`) follows it over real HTTP with a ``jwt`` and a ``di_vp``
proof. The credentials it receives verify at the service and name the wallet's DID; a reused
code, a wrong transaction code and a reused nonce are refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.live_server import ISSUER, Server, live_server, printed
from tests.web.oid4vci.wallet import GRANT, LDP_VC, HttpTransport, Wallet, start


def _cli(server: Server, *args: str) -> list[str]:
    done = subprocess.run([ISSUER, *args], env=server.env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def _verifies(wallet: Wallet, server: Server, vc: Any) -> None:
    answer = wallet.transport.request(
        "POST", f"{server.base}/credentials/verify",
        data=json.dumps({"verifiableCredential": vc}).encode("utf-8"),
        headers={"Content-Type": "application/json"})
    assert answer.status == 200, answer
    assert answer.body["verified"] is True, answer.body


def test_a_wallet_takes_the_badge_by_an_offer(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        credential_id = printed(server, "Demo badge").rsplit("/", 1)[-1]
        wallet = Wallet(HttpTransport())

        lines = _cli(server, "wallet-links", credential_id, "--tx-code")
        assert len(lines) == 4, lines
        link, tx_code = lines[2], lines[3]
        assert link.startswith("openid-credential-offer://?credential_offer_uri=")
        assert tx_code.isdigit()
        code = wallet.open_link(link)["grants"][GRANT]["pre-authorized_code"]
        wrong = wallet.token(f"{server.base}/oid4vci/token", code, "not-the-code")
        assert (wrong.status, wrong.body["error"]) == (400, "invalid_grant")
        flow = start(wallet, link, tx_code)
        endpoint, nonces = flow.metadata["credential_endpoint"], flow.metadata["nonce_endpoint"]
        # The code was used: a second token request is refused.
        reused = wallet.token(flow.token_endpoint, code, tx_code)
        assert (reused.status, reused.body["error"]) == (400, "invalid_grant")

        nonce = wallet.nonce(nonces)
        answer = wallet.credential(endpoint, flow.access_token, {
            "credential_configuration_id": LDP_VC,
            "proofs": {"jwt": [wallet.jwt_proof(audience=flow.issuer, nonce=nonce)]}})
        assert answer.status == 200, answer
        vc = answer.body["credentials"][0]["credential"]
        assert vc["credentialSubject"]["id"] == wallet.did
        _verifies(wallet, server, vc)

        # A second offer, printed without a transaction code, and a di_vp proof.
        lines = _cli(server, "wallet-links", credential_id)
        assert len(lines) == 3, lines
        flow = start(wallet, lines[2])
        replayed = wallet.credential(endpoint, flow.access_token, {
            "credential_configuration_id": LDP_VC,
            "proofs": {"di_vp": [wallet.di_vp_proof(domain=flow.issuer, challenge=nonce)]}})
        assert (replayed.status, replayed.body["error"]) == (400, "invalid_nonce")
        fresh = wallet.nonce(nonces)
        answer = wallet.credential(endpoint, flow.access_token, {
            "credential_configuration_id": LDP_VC,
            "proofs": {"di_vp": [wallet.di_vp_proof(domain=flow.issuer, challenge=fresh)]}})
        assert answer.status == 200, answer
        vc = answer.body["credentials"][0]["credential"]
        assert vc["credentialSubject"]["id"] == wallet.did
        _verifies(wallet, server, vc)
