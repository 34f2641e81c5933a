"""``POST /api/v1/awards/batch``: up to 100 awards in one request, all or none, each answered
as ``POST /api/v1/awards`` answers one, and their mail sent over real SMTP on loopback once
the batch has committed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.config import Settings
from issuer.services.award_batches import MAX_AWARDS
from issuer.storage.learning import MailMessage
from issuer.storage.models import ApiToken, Credential, StatusAllocation
from tests.conftest import BASE_URL, World
from tests.services.test_mail import SmtpSink, smtp_server, with_smtp

__all__ = ["smtp_server"]  # a fixture, used by name

BATCH = "/api/v1/awards/batch"


@pytest.fixture()
def settings(settings: Settings, smtp_server: SmtpSink) -> Settings:
    """This module's app sends its mail to the loopback SMTP server."""
    return with_smtp(settings, smtp_server)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def item(email: str | None = None, *, did: str | None = None, name: str | None = None,
         **more: Any) -> dict[str, Any]:
    recipient = {"email": email} if email else {"did": did}
    if name:
        recipient["name"] = name
    return {"achievement": "peer-scaffolder", "recipient": recipient, **more}


def counts(session: Session) -> tuple[int, int, int]:
    """Credentials, status allocations and stored mail."""
    session.expire_all()
    return tuple(int(session.scalar(select(func.count()).select_from(model)) or 0)
                 for model in (Credential, StatusAllocation, MailMessage))  # type: ignore[return-value]


def test_a_batch_issues_every_award_in_order_and_mails_after_the_commit(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    sent = [item(f"p{n}@example.org", name=f"Person {n}") for n in range(6)]
    sent[2]["notify"] = False
    sent[4] = item(did="did:example:dana", narrative="Ran the study group.")
    response = client.post(BATCH, headers=auth(world.token), json={"awards": sent})
    assert response.status_code == 201, response.get_data(as_text=True)
    awards = response.get_json()["awards"]
    assert [list(a) for a in awards] == [["id", "url", "credential", "email"]] * 6
    assert [a["email"]["status"] for a in awards] == [
        "sent", "sent", "none", "sent", "no_address", "sent"]
    # Each answer holds the stored text itself, byte for byte.
    text = response.get_data(as_text=True)
    for answer in awards:
        row = session.get(Credential, answer["id"])
        assert row is not None and row.created_by and row.created_by.startswith("api-token")
        assert f'"credential":{row.document},"email":' in text
        assert answer["url"] == f"{BASE_URL}/credentials/{row.id}" == answer["credential"]["id"]
    names = [a["credential"]["credentialSubject"]["identifier"][-1].get("identityHash")
             for a in awards if a["credential"]["credentialSubject"].get("id") is None]
    assert names == ["Person 0", "Person 1", "Person 2", "Person 3", "Person 5"]
    assert awards[4]["credential"]["credentialSubject"]["id"] == "did:example:dana"
    indexes = {(a["credential"]["credentialStatus"][0]["statusListCredential"],
                a["credential"]["credentialStatus"][0]["statusListIndex"]) for a in awards}
    assert len(indexes) == 6
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "p0@example.org", "p1@example.org", "p3@example.org", "p5@example.org"]
    assert all(awards[n]["url"] in str(smtp_server.to(f"p{n}@example.org")[0])
               for n in (0, 1, 3, 5))


def test_each_credential_of_a_batch_verifies_and_is_revoked_alone(
        client: FlaskClient, world: World) -> None:
    response = client.post(BATCH, headers=auth(world.token),
                           json={"awards": [item("a@example.org"), item("b@example.org")]})
    first, second = response.get_json()["awards"]
    revoked = client.post(f"/api/v1/credentials/{first['id']}/revoke",
                          headers=auth(world.token), json={"reason": "issued in error"})
    assert revoked.status_code == 200, revoked.get_data(as_text=True)
    verdicts = [client.post("/credentials/verify", json={
        "verifiableCredential": a["credential"]}).get_json()["verified"] for a in (first, second)]
    assert verdicts == [False, True]


def test_one_refused_award_leaves_nothing_of_the_batch(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    before = counts(session)
    sent = [item("a@example.org"), item("b@example.org"),
            item("c@example.org", validUntil="2020-01-01"), item("d@example.org")]
    response = client.post(BATCH, headers=auth(world.token), json={"awards": sent})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["errors"] == {"awards[2]": "the expiry date must be in the future"}
    assert "Nothing of the batch was issued" in problem["detail"]
    assert counts(session) == before
    assert smtp_server.messages == []
    # The same batch, put right, is issued whole: nothing was left over from the first.
    sent[2].pop("validUntil")
    again = client.post(BATCH, headers=auth(world.token), json={"awards": sent})
    assert again.status_code == 201
    assert counts(session)[0] == before[0] + 4


def test_every_award_at_fault_is_named_before_anything_is_issued(
        client: FlaskClient, world: World, session: Session) -> None:
    before = counts(session)
    malformed = client.post(BATCH, headers=auth(world.token), json={"awards": [
        item("a@example.org"), {"achievement": "peer-scaffolder"}, 7,
        item("not-an-address")]})
    assert malformed.status_code == 422
    errors = malformed.get_json()["errors"]
    assert [e.split(":")[0] for e in errors] == [
        "awards[1]", "awards[2]", "awards[3].recipient.email"]
    assert "'recipient' is missing" in errors[0] and "must be an object" in errors[1]

    other = client.get("/api/v1/issuer", headers=auth(world.other_token)).get_json()[
        "profileUrl"]
    unknown = client.post(BATCH, headers=auth(world.token), json={"awards": [
        item("a@example.org"), {**item("b@example.org"), "achievement": "no-such-badge"},
        {**item("c@example.org"), "achievement": f"{other}/achievements/peer-scaffolder"}]})
    assert unknown.status_code == 422
    assert sorted(unknown.get_json()["errors"]) == ["awards[1]", "awards[2]"]
    assert counts(session) == before


@pytest.mark.parametrize("body, said", [
    ({"awards": []}, "awards: must not be empty"),
    ({"awards": [item("a@example.org")] * (MAX_AWARDS + 1)},
     f"awards: must hold at most {MAX_AWARDS} items, not {MAX_AWARDS + 1}"),
    ({"award": [item("a@example.org")]}, "(body): 'awards' is missing"),
    ([item("a@example.org")], "(body): must be an object, not a list"),
])
def test_a_malformed_batch_is_refused_whole(client: FlaskClient, world: World,
                                            session: Session, body: Any, said: str) -> None:
    before = counts(session)
    response = client.post(BATCH, headers=auth(world.token), json=body)
    assert response.status_code == 422
    assert said in response.get_json()["errors"]
    assert counts(session) == before


def test_a_batch_needs_a_live_token_and_a_json_body(
        client: FlaskClient, world: World, session: Session) -> None:
    body = {"awards": [item("a@example.org")]}
    assert client.post(BATCH, json=body).status_code == 401
    assert client.post(BATCH, headers=auth(world.token), data="awards",
                       content_type="text/plain").status_code == 415
    assert client.post(BATCH, headers=auth(world.token), data="{",
                       content_type="application/json").status_code == 400
    session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC)))
    session.commit()
    assert client.post(BATCH, headers=auth(world.token), json=body).status_code == 401


def test_a_batch_writes_its_credentials_with_one_statement(
        app: Flask, client: FlaskClient, world: World) -> None:
    client.post(BATCH, headers=auth(world.token), json={"awards": [item("w@example.org")]})
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        seen.append(" ".join(text.split()[:3]).upper())

    engine = runtime(app).engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        response = client.post(BATCH, headers=auth(world.token), json={
            "awards": [item(f"n{n}@example.org") for n in range(20)]})
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert response.status_code == 201
    assert seen.count("INSERT INTO CREDENTIALS") == 1
    assert seen.count("INSERT INTO STATUS_ALLOCATIONS") <= 1
    assert json.loads(response.get_data())["awards"][19]["email"]["status"] == "sent"
