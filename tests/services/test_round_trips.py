"""What issuing and verifying ask of the database about the status lists.

Issuing is the service's busiest write and verifying its busiest read, so their round trips
are held to what they need: once the issuer has lists, an award takes its status index from
its worker's block, and a block of indexes costs one INSERT … SELECT for many awards; the VC
API's check of what it signed does not read or rebuild the
status lists; and verifying reads the status of the one credential at each entry's index, not
the whole list, so it costs the same however many credentials an issuer has. On SQLite, and
on PostgreSQL when ISSUER_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.services import status_lists
from issuer.services.issuers import get_issuer
from issuer.services.revocation import revoke, suspend
from issuer.services.verification import verify
from tests.conftest import BASE_URL, World

OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block, whitespace collapsed."""
    seen: list[str] = []
    engine = runtime(app).engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def touching_status(seen: list[str]) -> list[str]:
    return [s for s in seen if "status_lists" in s or "status_allocations" in s]


def award(client: FlaskClient, world: World, email: str) -> dict[str, Any]:
    response = client.post("/api/v1/awards", headers=auth(world.token), json={
        "achievement": world.achievement_slug, "recipient": {"email": email}})
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_awards_take_their_status_indexes_from_a_block_one_statement_per_block(
    app: Flask, client: FlaskClient, world: World, session: Session
) -> None:
    award(client, world, "first@example.org")  # opens the issuer's first pair of lists
    with statements(app) as seen:
        bodies = [award(client, world, f"n{n}@example.org") for n in range(status_lists.BLOCK)]
    status = touching_status(seen)
    # The newest list's size, then the block: one INSERT … SELECT for BLOCK awards.
    assert len(status) == 2, status
    assert status[1].startswith("INSERT INTO status_allocations")
    indexes = [b["credential"]["credentialStatus"][0]["statusListIndex"] for b in bodies]
    assert len(set(indexes)) == status_lists.BLOCK
    entries = bodies[-1]["credential"]["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    assert verify(session, runtime(app).services, bodies[-1]["credential"]).valid


def test_the_first_award_tries_its_first_draw_in_the_new_list(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no list yet, the first draw could not be tried; it is not thrown away.
    draws = iter([4242])
    monkeypatch.setattr(status_lists, "draw_index", lambda size: next(draws))
    body = award(client, world, "first@example.org")
    assert body["credential"]["credentialStatus"][0]["statusListIndex"] == "4242"


def test_the_vc_api_does_not_read_the_status_lists_to_check_what_it_signed(
    app: Flask, client: FlaskClient, world: World, session: Session
) -> None:
    award(client, world, "first@example.org")
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", OB],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Workshop Host",
        "credentialSubject": {
            "type": ["AchievementSubject"], "id": "did:example:learner",
            "achievement": {
                "id": f"{BASE_URL}/issuers/guild/achievements/peer-scaffolder",
                "type": ["Achievement"], "name": "Peer Scaffolder",
                "description": "Helped peers learn.",
                "criteria": {"narrative": "Two peer attestations."},
            },
        },
    }
    award(client, world, "second@example.org")  # takes this worker's block of indexes
    with statements(app) as seen:
        response = client.post("/credentials/issue", headers=auth(world.token),
                               json={"credential": credential})
    assert response.status_code == 201, response.get_data(as_text=True)
    # Its index comes from the block: the status lists are neither read nor rebuilt.
    assert touching_status(seen) == []
    issued = json.loads(response.get_data(as_text=True))["verifiableCredential"]
    report = verify(session, runtime(app).services, issued)
    assert report.valid, [c.to_json() for c in report.failed]
    checked = report.check("status")
    assert checked is not None and checked.outcome == "passed"


def test_verifying_reads_only_the_status_at_each_entrys_index(
    app: Flask, client: FlaskClient, world: World, session: Session
) -> None:
    ctx = runtime(app).services
    kept, revoked, suspended = (award(client, world, f"{name}@example.org")
                                for name in ("kept", "revoked", "suspended"))
    issuer = get_issuer(session, "guild")
    revoke(session, ctx, issuer, revoked["id"], reason="Plagiarism", actor="test")
    suspend(session, ctx, issuer, suspended["id"], reason="Under review", actor="test")
    session.commit()

    with statements(app) as seen:
        report = verify(session, ctx, kept["credential"])
    assert report.valid
    checked = report.check("status")
    assert checked is not None and checked.outcome == "passed"
    reads = [s for s in seen if "status_allocations" in s]
    assert len(reads) == 2, reads  # one per entry: revocation, suspension
    assert all("status_allocations.list_index =" in s for s in reads), reads

    for body, word in ((revoked, "revoked"), (suspended, "suspended")):
        failed = verify(session, ctx, body["credential"]).check("status")
        assert failed is not None and failed.outcome == "failed"
        assert failed.message.startswith(word)
