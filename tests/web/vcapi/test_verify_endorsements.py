"""The VC API verify answer reports, beside its checks, each peer's attestation a credential
carries (who, when, their words, the kind of help and its level, verified or not) and the
scaffolding level it records — as additional members that leave the VC API shape as it is.
Over the Flask test client, on the real database, with the demo badge (two attestations)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.demo import DEMO_PEERS, DEMO_TRANSFER_URL, ensure_demo
from tests.conftest import World
from tests.web.api.test_openapi import _check
from tests.web.public.test_verify import issue

pytestmark = pytest.mark.db
RESULT_SCHEMA = "/components/schemas/VerificationResult"


@pytest.fixture()
def demo_document(session: Session, ctx: ServiceContext, tmp_path: Path) -> dict[str, Any]:
    info = ensure_demo(session, ctx, tmp_path / "instance")
    session.commit()
    return json.loads(info.credential.document)


def _verify(client: FlaskClient, credential: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    return response.status_code, response.get_json()


def test_each_peers_attestation_is_reported_and_verified(
        client: FlaskClient, demo_document: dict[str, Any]) -> None:
    status, body = _verify(client, demo_document)
    assert status == 200 and body["verified"] is True, body
    # The VC API members are untouched.
    assert "endorsements" in body["checks"] and body["errors"] == []
    _check(body, RESULT_SCHEMA)
    named, unnamed = body["endorsements"]
    assert named["peer"] is True and named["verified"] is True
    assert named["name"] == DEMO_PEERS[0][1] and named["pseudonym"] is None
    assert named["words"] == DEMO_PEERS[0][2]
    assert named["kind"] == "Helped a peer learn (peer scaffolding)"
    assert named["level"] == "L3 Help to independence"
    assert "showed a worked example" in named["helpGiven"]
    assert named["transferUrl"] == DEMO_TRANSFER_URL
    assert named["date"].endswith("Z") and named["problem"] is None
    assert unnamed["name"] is None and unnamed["pseudonym"].startswith("urn:uuid:")
    assert unnamed["words"] == DEMO_PEERS[1][2] and unnamed["verified"] is True
    assert unnamed["level"] == "L2 Responsive help"
    assert "got them engaged" in unnamed["helpGiven"]
    assert DEMO_PEERS[1][0] not in json.dumps(body)  # the unnamed peer stays unnamed
    assert body["scaffolding"]["level"] == "L3 Help to independence"
    assert (body["scaffolding"]["peers"], body["scaffolding"]["transfers"]) == ("2", "1")


def test_a_changed_attestation_is_marked_and_the_others_stay_verified(
        client: FlaskClient, demo_document: dict[str, Any]) -> None:
    forged = copy.deepcopy(demo_document)
    subject = forged["endorsement"][1]["credentialSubject"]
    subject["endorsementComment"] = subject["endorsementComment"].replace(
        "retrieval quiz", "whole course")
    status, body = _verify(client, forged)
    assert status == 422 and body["verified"] is False
    _check(body, RESULT_SCHEMA)
    first, second = body["endorsements"]
    assert first["verified"] is True and first["problem"] is None
    assert second["verified"] is False and "could not be confirmed" in second["problem"]
    assert second["details"]


def test_a_credential_without_endorsements_reports_none(
        client: FlaskClient, session: Session, ctx: ServiceContext, world: World) -> None:
    credential = json.loads(issue(session, ctx, world).document)
    status, body = _verify(client, credential)
    assert status == 200, body
    assert body["endorsements"] == [] and body["scaffolding"] is None
    _check(body, RESULT_SCHEMA)
