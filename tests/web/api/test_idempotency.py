"""``Idempotency-Key`` on ``POST /api/v1/awards`` and ``POST /api/v1/awards/batch``: the same
request sent again gets the first answer's credentials, and its recipients no second mail
(over real SMTP on loopback); through the production server, requests sent at once with one
key issue once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.services.idempotency import KEEP_FOR
from issuer.storage.idempotency import IdempotentRequest
from issuer.storage.models import Base, Credential
from tests.conftest import World
from tests.databases import new_database
from tests.services.test_mail import SmtpSink, smtp_server, with_smtp
from tests.services.test_status_indexes_live import _served

__all__ = ["smtp_server"]  # a fixture, used by name

AWARD = {"achievement": "peer-scaffolder", "recipient": {"email": "ada@example.org"}}
BATCH = {"awards": [AWARD, {"achievement": "peer-scaffolder",
                            "recipient": {"did": "did:example:bo"}}]}


@pytest.fixture()
def settings(settings: Settings, smtp_server: SmtpSink) -> Settings:
    return with_smtp(settings, smtp_server)


def keyed(token: str, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}


def credentials(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


def test_an_award_sent_again_with_its_key_is_answered_with_the_first_credential(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    first = client.post("/api/v1/awards", headers=keyed(world.token, '"award-1"'), json=AWARD)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    again = client.post("/api/v1/awards", headers=keyed(world.token, "award-1"), json=AWARD)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert again.get_data() == first.get_data()  # the same text, the mail's state included
    assert credentials(session) == 1
    assert [m["To"] for m in smtp_server.messages] == ["ada@example.org"]
    # Without a key, or with another, the same body is a new award.
    assert client.post("/api/v1/awards", headers=keyed(world.token, "award-2"),
                       json=AWARD).get_json()["id"] != first.get_json()["id"]
    assert credentials(session) == 2


def test_a_batch_sent_again_with_its_key_is_answered_with_the_first_credentials(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    first = client.post("/api/v1/awards/batch", headers=keyed(world.token, "b"), json=BATCH)
    assert first.status_code == 201
    again = client.post("/api/v1/awards/batch", headers=keyed(world.token, "b"), json=BATCH)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert [a["id"] for a in again.get_json()["awards"]] == [
        a["id"] for a in first.get_json()["awards"]]
    assert [a["email"]["status"] for a in again.get_json()["awards"]] == ["sent", "no_address"]
    assert credentials(session) == 2
    assert len(smtp_server.messages) == 1


def test_a_key_sent_with_another_body_is_refused(
        client: FlaskClient, world: World, session: Session) -> None:
    client.post("/api/v1/awards", headers=keyed(world.token, "k"), json=AWARD)
    other = {**AWARD, "recipient": {"email": "eve@example.org"}}
    refused = client.post("/api/v1/awards", headers=keyed(world.token, "k"), json=other)
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"Idempotency-Key": "used for another request"}
    assert credentials(session) == 1


def test_a_key_belongs_to_one_issuer_and_one_route(
        client: FlaskClient, world: World, session: Session) -> None:
    mine = client.post("/api/v1/awards", headers=keyed(world.token, "shared"), json=AWARD)
    theirs = client.post("/api/v1/awards", headers=keyed(world.other_token, "shared"),
                         json=AWARD)
    batch = client.post("/api/v1/awards/batch", headers=keyed(world.token, "shared"),
                        json={"awards": [AWARD]})
    assert (mine.status_code, theirs.status_code, batch.status_code) == (201, 201, 201)
    assert not {"Idempotent-Replayed"} & {*theirs.headers.keys(), *batch.headers.keys()}
    assert credentials(session) == 3


def test_a_refused_request_leaves_its_key_free(
        client: FlaskClient, world: World, session: Session) -> None:
    wrong = {"awards": [AWARD, {**AWARD, "validUntil": "2020-01-01"}]}
    assert client.post("/api/v1/awards/batch", headers=keyed(world.token, "fix"),
                       json=wrong).status_code == 422
    assert session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0
    right = client.post("/api/v1/awards/batch", headers=keyed(world.token, "fix"), json=BATCH)
    assert right.status_code == 201 and "Idempotent-Replayed" not in right.headers
    assert credentials(session) == 2


def test_a_key_is_forgotten_after_a_day(
        client: FlaskClient, world: World, session: Session) -> None:
    first = client.post("/api/v1/awards", headers=keyed(world.token, "old"), json=AWARD)
    for row in session.scalars(select(IdempotentRequest)):
        row.created_at -= KEEP_FOR + timedelta(minutes=1)
    session.commit()
    later = client.post("/api/v1/awards", headers=keyed(world.token, "old"), json=AWARD)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.get_json()["id"] != first.get_json()["id"]
    assert session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1


@pytest.mark.parametrize("key", ["", '""', "x" * 256, "tab\there", 'in"side', "é"])
def test_a_malformed_key_is_refused_before_anything_is_issued(
        client: FlaskClient, world: World, session: Session, key: str) -> None:
    headers = {"Authorization": f"Bearer {world.token}"}
    response = client.post("/api/v1/awards", headers=[*headers.items(),
                                                       ("Idempotency-Key", key)], json=AWARD)
    assert response.status_code == 400, response.get_json()
    assert "Idempotency-Key" in response.get_json()["detail"]
    assert credentials(session) == 0


def test_the_migration_makes_the_table_the_rows_describe(session: Session) -> None:
    differences = [d for d in compare_metadata(MigrationContext.configure(session.connection()),
                                               Base.metadata)
                   if "idempotent_requests" in repr(d)]
    assert differences == []


@pytest.mark.slow
def test_requests_sent_at_once_with_one_key_issue_once(tmp_path: Path) -> None:
    """Four gunicorn workers; twelve clients send the same keyed batch at the same moment."""
    import http.client

    clients = 12
    with new_database(tmp_path, "keys") as url, _served(tmp_path, url) as (port, token):
        start = threading.Barrier(clients)
        answers: list[tuple[int, Any]] = []
        lock = threading.Lock()
        body = json.dumps({"awards": [
            {"achievement": "helper", "recipient": {"email": f"p{n}@example.org"}}
            for n in range(5)]})

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            start.wait(timeout=60)
            conn.request("POST", "/api/v1/awards/batch", body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "Idempotency-Key": "the-same"})
            response = conn.getresponse()
            with lock:
                answers.append((response.status, json.loads(response.read())))
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert [status for status, _ in answers] == [201] * clients, answers[:2]
        ids = {tuple(a["id"] for a in answer["awards"]) for _, answer in answers}
        assert len(ids) == 1
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Credential)) == 5
        finally:
            engine.dispose()
