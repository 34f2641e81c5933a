"""A Learner Credential Wallet exchange played over a real server, as the wallet plays it.

`issuer serve` runs in a subprocess on its own database; `issuer wallet-links` starts the
exchanges; the wallet (tests.web.wallet.holder: its own did:key and signatures) follows
both link forms over HTTP. The copy it receives verifies with the core verifier and names
the wallet's DID; a replayed, an expired and a misdirected answer are refused, and revoking
the award revokes the copy.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine, update

from issuer import config
from issuer.core.resolve import Resolver
from issuer.core.verify import Verifier
from issuer.storage.wallets import WalletExchange
from tests.live_server import ISSUER, Server, live_server, printed
from tests.web.wallet.holder import Holder, parse_dcc_link, parse_lcw_link


def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"),
                                     method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), json.loads(exc.read())


def _get(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


def _cli(server: Server, *args: str) -> list[str]:
    done = subprocess.run([ISSUER, *args], env=server.env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def _links(server: Server, credential_id: str) -> tuple[str, str]:
    lines = _cli(server, "wallet-links", credential_id)
    lcw = next(line for line in lines if line.startswith("https://lcw.app/"))
    dcc = next(line for line in lines if line.startswith("dccrequest://"))
    return lcw, dcc


def _verified(server: Server, vc: dict[str, Any]) -> None:
    issuer_id = vc["issuer"]["id"]
    slug = printed(server, "Demo issuer").rstrip("/").rsplit("/", 1)[-1]
    did_document = _get(f"{server.base}/issuers/{slug}/did.json")
    assert did_document["id"] == issuer_id
    verifier = Verifier(loader=config.context_loader(), schemas=config.schema_registry(),
                        resolver=Resolver.with_trusted([did_document]))
    report = verifier.verify(vc)
    assert report.valid, [c.to_json() for c in report.checks]
    assert report.check("proof") is not None
    assert report.check("proof").outcome.value == "passed"  # type: ignore[union-attr]


def test_a_wallet_takes_the_badge_by_both_links(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        credential_id = printed(server, "Demo badge").rsplit("/", 1)[-1]
        origin = server.base

        # The wallet's direct form: post DID authentication to vc_request_url.
        lcw_link, dcc_link = _links(server, credential_id)
        lcw = parse_lcw_link(lcw_link)
        # Both links start the same exchange.
        assert parse_dcc_link(dcc_link)["protocols"]["vcapi"] == lcw.vc_request_url
        assert lcw.auth_type == "bearer"
        assert lcw.issuer == urlsplit(origin).netloc
        wallet = Holder.generate()
        answer = wallet.did_auth(challenge=lcw.challenge, domain=None)
        status, body = _post(lcw.vc_request_url, answer)
        assert status == 200, body
        (vc,) = body["verifiablePresentation"]["verifiableCredential"]
        assert vc["credentialSubject"]["id"] == wallet.did
        assert vc["id"] != f"{origin}/credentials/{credential_id}"
        _verified(server, vc)
        # Replayed: the exchange was used up.
        status, body = _post(lcw.vc_request_url, answer)
        assert status == 410, body
        assert body["status"] == 410

        # The request form, of a new exchange: origin and protocols, the interaction URL,
        # then the VPR.
        _, dcc_link = _links(server, credential_id)
        request = parse_dcc_link(dcc_link)
        assert request["credentialRequestOrigin"] == origin
        exchange = request["protocols"]["vcapi"]
        assert _get(f"{exchange}?iuv=1") == {"protocols": {"vcapi": exchange}}
        status, body = _post(exchange, {})
        assert status == 200, body
        vpr = body["verifiablePresentationRequest"]
        assert vpr["query"] == [{"type": "DIDAuthentication"}]
        assert vpr["domain"] == origin
        (service,) = vpr["interact"]["service"]
        assert service["type"] == "UnmediatedPresentationService2021"
        second = Holder.generate()
        # A wrong challenge or domain is refused, and leaves the exchange usable.
        for wrong in ({"challenge": "guessed", "domain": vpr["domain"]},
                      {"challenge": vpr["challenge"], "domain": "https://evil.example"}):
            status, body = _post(service["serviceEndpoint"],
                                 second.did_auth(suite="eddsa-rdfc-2022", **wrong))
            assert status == 422, body
        answer = second.did_auth(challenge=vpr["challenge"], domain=vpr["domain"],
                                 suite="eddsa-rdfc-2022")
        status, body = _post(service["serviceEndpoint"], {"verifiablePresentation": answer})
        assert status == 200, body
        (copy,) = body["verifiablePresentation"]["verifiableCredential"]
        assert copy["credentialSubject"]["id"] == second.did
        _verified(server, copy)
        status, body = _post(service["serviceEndpoint"], {"verifiablePresentation": answer})
        assert status == 410, body

        # Expired: a quarter of an hour later the exchange is refused.
        _, dcc_link = _links(server, credential_id)
        exchange = parse_dcc_link(dcc_link)["protocols"]["vcapi"]
        engine = create_engine(server.env["ISSUER_DATABASE_URL"])
        try:
            with engine.begin() as conn:
                conn.execute(update(WalletExchange).values(
                    expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        finally:
            engine.dispose()
        status, body = _post(exchange, {})
        assert status == 410, body

        # Revoking the award revokes both copies.
        for received in (vc, copy):
            status, body = _post(f"{origin}/credentials/verify",
                                 {"verifiableCredential": received})
            assert status == 200 and "status" in body["checks"], body
        _cli(server, "revoke", credential_id, "--reason", "awarded in error")
        for received in (vc, copy):
            status, body = _post(f"{origin}/credentials/verify",
                                 {"verifiableCredential": received})
            assert status == 422, body
            assert [e["id"] for e in body["errors"]] == ["status"], body
