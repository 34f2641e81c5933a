"""The service's verifier online (the VC API and the verify page share it): other sites'
did:web issuers and status lists come through the guarded fetcher, its own stay local."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from tests.conftest import BASE_URL, TEST_PASSWORD_HASHING, World
from tests.net.documents import WebIssuer
from tests.net.servers import Pki, Reply, Server

pytestmark = pytest.mark.db


@pytest.fixture()
def settings(database_url: str, keys_dir: Path, pki: Pki, https: Server,
             other_https: Server) -> Settings:
    """Online, with the two loopback sites allowed and their CA trusted."""
    base = Settings(database_url=database_url, base_url=BASE_URL, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING).validated()
    return replace(base, verify_offline=False, verify_ca_file=pki.ca_file,
                   verify_allow_hosts=(https.authority, other_https.authority))


def verified(client: FlaskClient, credential: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    body: dict[str, Any] = response.get_json()
    return body


def result(body: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in body["results"] if c["id"] == check_id)


@pytest.mark.parametrize("revoked", [False, True])
def test_a_badge_of_another_site_is_verified_with_its_remote_status_list(
        client: FlaskClient, https: Server, other_https: Server, revoked: bool) -> None:
    issuer = WebIssuer(f"did:web:localhost%3A{https.port}")
    https.routes["/.well-known/did.json"] = Reply(json.dumps(issuer.document).encode())
    url = f"https://{other_https.authority}/lists/1"
    other_https.routes["/lists/1"] = Reply(
        json.dumps(issuer.status_list(url, revoked=revoked)).encode())
    body = verified(client, issuer.badge(url))
    assert result(body, "proof")["outcome"] == "passed", body
    status = result(body, "status")
    assert status["outcome"] == ("failed" if revoked else "passed"), status
    assert body["verified"] is not revoked


def test_a_did_web_on_loopback_that_is_not_allowed_is_not_fetched(
        client: FlaskClient, pki: Pki, tmp_path: Path) -> None:
    from tests.net.servers import serving

    with serving(pki) as hidden:  # not on the allowlist
        issuer = WebIssuer(f"did:web:localhost%3A{hidden.port}")
        hidden.routes["/.well-known/did.json"] = Reply(json.dumps(issuer.document).encode())
        body = verified(client, issuer.badge())
        assert hidden.connections == 0
    assert body["verified"] is False
    assert "loopback" in result(body, "proof")["message"]


def test_badges_of_this_service_are_checked_without_the_network(
        client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
        https: Server, other_https: Server) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("grace@example.org", "Grace")))
    session.commit()
    body = verified(client, json.loads(row.document))
    assert body["verified"] is True, body
    assert result(body, "status")["outcome"] == "passed"
    assert https.connections == 0 and other_https.connections == 0
