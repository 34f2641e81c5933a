"""Each worker keeps copies of the token, issuer and achievement rows an award reads; a change
made through any other worker (here: a second app on the same database) is seen by the very
next request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.services.keys import rotate_key
from issuer.services.tokens import revoke_token
from issuer.storage.models import ApiToken, Issuer
from tests.conftest import World

AWARDS = "/api/v1/awards"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def other_worker(settings: Settings) -> Iterator[Flask]:
    """A second app on the same database: another worker, with caches of its own."""
    app = create_app(settings, TESTING=True)
    yield app
    runtime(app).engine.dispose()


def award(client: FlaskClient, token: str, email: str = "ada@example.org") -> dict[str, Any]:
    response = client.post(AWARDS, headers=auth(token), json={
        "achievement": "peer-scaffolder", "recipient": {"email": email}, "notify": False})
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def lookups(app: Flask) -> Any:
    return runtime(app).services.lookups


def test_a_token_revoked_by_one_worker_is_refused_by_the_next_request_of_another(
        app: Flask, other_worker: Flask, world: World) -> None:
    first, second = app.test_client(), other_worker.test_client()
    award(first, world.token)
    award(second, world.token)
    award(second, world.token)
    assert lookups(other_worker).tokens.hits >= 1  # the second worker answers from its copy

    with runtime(app).sessions() as session:
        token = session.scalars(select(ApiToken).join(Issuer)
                                .where(Issuer.slug == world.issuer_slug)).one()
        revoke_token(session, runtime(app).services, token.issuer, token.id)
        session.commit()

    for client in (second, first):
        refused = client.post(AWARDS, headers=auth(world.token), json={
            "achievement": "peer-scaffolder", "recipient": {"email": "bo@example.org"}})
        assert refused.status_code == 401
        assert client.get("/api/v1/issuer", headers=auth(world.token)).status_code == 401
    # The other issuer's token is untouched.
    assert second.get("/api/v1/issuer", headers=auth(world.other_token)).status_code == 200


def test_an_achievement_edited_through_one_worker_is_used_by_the_next_award_of_another(
        app: Flask, other_worker: Flask, world: World) -> None:
    first, second = app.test_client(), other_worker.test_client()
    before = award(second, world.token)["credential"]["credentialSubject"]["achievement"]
    assert before["name"] == "Peer Scaffolder"
    award(second, world.token)

    edited = first.patch("/api/v1/achievements/peer-scaffolder", headers=auth(world.token),
                         json={"name": "Peer Mentor", "tags": ["mentoring", "peers"]},
                         content_type="application/merge-patch+json")
    assert edited.status_code == 200, edited.get_data(as_text=True)

    after = award(second, world.token)["credential"]["credentialSubject"]["achievement"]
    assert after["name"] == "Peer Mentor"
    assert after["tag"] == ["mentoring", "peers"]
    assert after["id"] == before["id"]


def test_a_key_rotated_by_one_worker_signs_the_next_award_of_another(
        app: Flask, other_worker: Flask, world: World) -> None:
    second = other_worker.test_client()
    old_method = award(second, world.token)["credential"]["proof"][0]["verificationMethod"]
    award(second, world.token)

    ctx = runtime(app).services
    with runtime(app).sessions() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == world.issuer_slug)).one()
        new_key = rotate_key(session, ctx, issuer)
        session.commit()
        fragment = new_key.fragment

    new_method = award(second, world.token)["credential"]["proof"][0]["verificationMethod"]
    assert new_method != old_method
    assert new_method.endswith(f"#{fragment}")


def test_answers_from_a_copy_are_the_answers_from_the_database(
        app: Flask, other_worker: Flask, world: World) -> None:
    warm = app.test_client()
    award(warm, world.token)
    copies = lookups(app)
    hits = (copies.tokens.hits, copies.achievements.hits)
    from_copy = award(warm, world.token, "bo@example.org")["credential"]
    assert (copies.tokens.hits, copies.achievements.hits) == (hits[0] + 1, hits[1] + 1)

    cold = other_worker.test_client()
    lookups(other_worker).clear()
    loaded = award(cold, world.token, "bo@example.org")["credential"]
    assert lookups(other_worker).tokens.hits == 0

    def stable(credential: dict[str, Any]) -> dict[str, Any]:
        # What differs between two awards to one recipient: their ids, times and proofs.
        subject = dict(credential["credentialSubject"])
        return {"issuer": credential["issuer"], "achievement": subject["achievement"],
                "type": credential["type"], "context": credential["@context"],
                "method": credential["proof"][0]["verificationMethod"]}

    assert stable(from_copy) == stable(loaded)
    assert warm.get("/api/v1/issuer", headers=auth(world.token)).get_json() == \
        cold.get("/api/v1/issuer", headers=auth(world.token)).get_json()
