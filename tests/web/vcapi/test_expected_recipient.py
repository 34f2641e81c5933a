"""VC API ``options.expectedRecipient``: is the credential the person's it should be?"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from tests.conftest import World
from tests.web.public.test_verify import issue

pytestmark = pytest.mark.db


def verify(client: FlaskClient, credential: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"verifiableCredential": credential}
    if options:
        body["options"] = options
    return client.post("/credentials/verify", json=body)


def recipient(body: dict[str, Any]) -> dict[str, Any]:
    [found] = [r for r in body["results"] if r["id"] == "recipient"]
    return found


def test_the_recipient_matches_by_its_hashed_email(client: FlaskClient, session: Session,
                                                   ctx: ServiceContext, world: World) -> None:
    credential = json.loads(issue(session, ctx, world).document)
    response = verify(client, credential, expectedRecipient="Grace@Example.org")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["verified"] is True and "recipient" in body["checks"]
    assert recipient(body) == {"id": "recipient", "title": "Recipient", "outcome": "passed",
                               "message": "the credential was awarded to Grace@Example.org"}


@pytest.mark.parametrize(("wanted", "words"), [
    ("ada@example.org", "the credential was not awarded to ada@example.org: the e-mail "
                        "address it names is a different one"),
    ("https://people.example/grace", "the credential names no web address for its "
                                     "recipient, so it cannot be matched to "
                                     "https://people.example/grace"),
])
def test_another_recipient_fails_the_verification(client: FlaskClient, session: Session,
                                                  ctx: ServiceContext, world: World,
                                                  wanted: str, words: str) -> None:
    credential = json.loads(issue(session, ctx, world).document)
    response = verify(client, credential, expectedRecipient=wanted)
    body = response.get_json()
    assert response.status_code == 422
    assert body["verified"] is False
    assert [e["id"] for e in body["errors"]] == ["recipient"]
    assert recipient(body)["message"] == words


def test_without_the_option_there_is_no_recipient_check(client: FlaskClient, session: Session,
                                                        ctx: ServiceContext,
                                                        world: World) -> None:
    credential = json.loads(issue(session, ctx, world).document)
    body = verify(client, credential).get_json()
    assert body["verified"] is True
    assert all(r["id"] != "recipient" for r in body["results"])


@pytest.mark.parametrize("wanted", ["", 42, "x" * 2001])
def test_a_malformed_expected_recipient_is_refused(client: FlaskClient, world: World,
                                                   wanted: Any) -> None:
    response = verify(client, {"type": "VerifiableCredential"}, expectedRecipient=wanted)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
