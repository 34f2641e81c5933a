"""The verify page: a hosted Open Badges 2.0 badge whose address answers 410 Gone is revoked;
the person who showed the badge may be named by a web address as well as by e-mail."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from tests.conftest import World
from tests.core.ob2_helpers import Ob2Issuer
from tests.net.servers import Reply, Server
from tests.web.public.test_verify import issue
from tests.web.public.test_verify_remote import https, pki, settings, submit  # noqa: F401

pytestmark = pytest.mark.db

PROFILE = "https://people.example/grace"


def publish(server: Server, documents: dict[str, Any]) -> None:
    for url, document in documents.items():
        server.routes[urlsplit(url).path] = Reply(json.dumps(document).encode())


def withdrawn(https: Server) -> tuple[Ob2Issuer, dict[str, Any]]:  # noqa: F811
    issuer = Ob2Issuer(f"https://{https.authority}")
    publish(https, issuer.documents())
    assertion = issuer.assertion()
    https.routes[urlsplit(assertion["id"]).path] = Reply(b'{"revoked": true}', 410)
    return issuer, assertion


def test_an_address_answering_410_gone_is_reported_revoked(
    client: FlaskClient, world: World, https: Server  # noqa: F811
) -> None:
    _issuer, assertion = withdrawn(https)
    response = submit(client, url=assertion["id"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not valid" in page
    assert "The issuer has revoked or suspended this badge." in page
    assert "410 Gone, which for a hosted Open Badge means revoked" in page


def test_a_pasted_assertion_whose_address_answers_410_is_revoked(
    client: FlaskClient, world: World, https: Server  # noqa: F811
) -> None:
    _issuer, assertion = withdrawn(https)
    page = submit(client, credential=json.dumps(assertion)).get_data(as_text=True)
    assert "Not valid" in page and "the issuer withdrew this badge" in page


def test_an_address_answering_404_is_not_found_not_revoked(
    client: FlaskClient, world: World, https: Server  # noqa: F811
) -> None:
    issuer = Ob2Issuer(f"https://{https.authority}")
    publish(https, issuer.documents())
    assertion = issuer.assertion(9)
    response = submit(client, url=assertion["id"])
    assert response.status_code == 404
    assert "There is no badge at that address" in response.get_data(as_text=True)
    page = submit(client, credential=json.dumps(assertion)).get_data(as_text=True)
    assert "Not valid" in page and "404 Not Found" in page and "withdrew" not in page


def test_an_ob2_recipient_named_by_a_web_address(
    client: FlaskClient, world: World, https: Server  # noqa: F811
) -> None:
    issuer = Ob2Issuer(f"https://{https.authority}")
    publish(https, issuer.documents())
    salt = "s1"
    digest = hashlib.sha256((PROFILE + salt).encode()).hexdigest()
    assertion = issuer.assertion(recipient={"type": "url", "hashed": True, "salt": salt,
                                            "identity": f"sha256${digest}"})
    publish(https, {assertion["id"]: assertion})
    page = submit(client, url=assertion["id"], email=PROFILE).get_data(as_text=True)
    assert f"This badge was awarded to the owner of {PROFILE}." in page
    page = submit(client, url=assertion["id"],
                  email="https://people.example/ada").get_data(as_text=True)
    assert "This badge was not awarded to the owner of https://people.example/ada" in page
    page = submit(client, url=assertion["id"], email="grace@example.org").get_data(as_text=True)
    assert "This badge names no e-mail address" in page


def test_an_ob3_recipient_named_by_a_web_address(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    document = json.loads(issue(session, ctx, world).document)
    page = submit(client, credential=json.dumps(document),
                  email=PROFILE).get_data(as_text=True)
    assert "This badge names no web address for its owner" in page
    document["credentialSubject"]["identifier"].append(
        {"type": "IdentityObject", "identityType": "url", "hashed": False,
         "identityHash": PROFILE})
    page = submit(client, credential=json.dumps(document),
                  email=PROFILE).get_data(as_text=True)
    assert f"This badge was awarded to the owner of {PROFILE}." in page


@pytest.mark.parametrize("text", ["https://", "https://exa mple.org/x", "http://[::1"])
def test_a_malformed_web_address_is_a_form_problem(client: FlaskClient, world: World,
                                                   text: str) -> None:
    response = submit(client, credential="{}", email=text)
    assert response.status_code == 400
    assert "is not a web address" in response.get_data(as_text=True)


def test_the_form_asks_for_an_email_or_web_address(client: FlaskClient, world: World) -> None:
    page = client.get("/verify").get_data(as_text=True)
    assert "E-mail or web address of the person who showed you this badge" in page
