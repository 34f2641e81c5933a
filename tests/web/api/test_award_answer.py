"""``POST /api/v1/awards`` writes the credential with one INSERT and answers with the stored
text itself: what the caller gets is byte for byte what is stored, status-listed, signed,
verifiable and revocable like any other credential."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.storage.models import Credential
from tests.conftest import World


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _award(client: FlaskClient, token: str) -> tuple[str, dict[str, Any], str]:
    response = client.post("/api/v1/awards", headers=auth(token), json={
        "achievement": "peer-scaffolder", "recipient": {"email": "ada@example.org",
                                                        "name": "Ada"}})
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return response.get_data(as_text=True), body, response.headers["Location"]


def test_the_answer_holds_the_stored_text_and_the_mail_report(
        client: FlaskClient, world: World, session: Session) -> None:
    text, body, location = _award(client, world.token)
    assert list(body) == ["id", "url", "credential", "email"]
    assert location == body["url"]
    row = session.get(Credential, body["id"])
    assert row is not None
    assert f',"credential":{row.document},"email":' in text
    assert json.loads(row.document) == body["credential"]
    assert row.status_allocation_id is not None
    assert body["credential"]["credentialStatus"]
    assert body["email"]["status"] in {"held", "queued", "sent"}
    assert body["email"]["to"] == "ada@example.org"


def test_an_award_writes_its_credential_with_one_insert(
        app: Flask, client: FlaskClient, world: World) -> None:
    _award(client, world.token)  # warms this worker's copies
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CREDENTIALS"):
            inserts.append(statement)

    engine = runtime(app).engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        _award(client, world.token)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(inserts) == 1


def test_the_answered_credential_verifies_and_can_be_revoked(
        client: FlaskClient, world: World) -> None:
    _, body, _ = _award(client, world.token)
    checked = client.post("/credentials/verify",
                          json={"verifiableCredential": body["credential"]}).get_json()
    assert checked["verified"] is True, checked
    revoked = client.post(f"/api/v1/credentials/{body['id']}/revoke",
                          headers=auth(world.token), json={"reason": "issued in error"})
    assert revoked.status_code == 200, revoked.get_data(as_text=True)
    again = client.post("/credentials/verify",
                        json={"verifiableCredential": body["credential"]}).get_json()
    assert again["verified"] is False
