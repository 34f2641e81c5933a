"""The verify page with badges from anywhere: fetched by address (typed or scanned from a QR
code) from real HTTPS servers on loopback through the guarded fetcher, refused when the
address is private, and matched against an e-mail address."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.services.context import ServiceContext
from tests.conftest import BASE_URL, TEST_PASSWORD_HASHING, World
from tests.core.ob2_helpers import EMAIL, Ob2Issuer
from tests.net.documents import WebIssuer
from tests.net.servers import Pki, Reply, Server, make_pki, serving
from tests.web.public.test_verify import issue

pytestmark = pytest.mark.db

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(Path(tmp_path_factory.mktemp("pki")))


@pytest.fixture()
def https(pki: Pki) -> Iterator[Server]:
    """The allowlisted site badges are fetched from."""
    with serving(pki) as server:
        yield server


@pytest.fixture()
def private(pki: Pki) -> Iterator[Server]:
    """A listener on loopback the operator did not allow: it stands for the private network."""
    with serving(pki) as server:
        yield server


@pytest.fixture()
def settings(database_url: str, keys_dir: Path, pki: Pki, https: Server) -> Settings:
    """Online, with only the first loopback site allowed and the test CA trusted."""
    base = Settings(database_url=database_url, base_url=BASE_URL, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING).validated()
    return replace(base, verify_offline=False, verify_ca_file=pki.ca_file,
                   verify_allow_hosts=(https.authority,))


def submit(client: FlaskClient, **fields: Any) -> Any:
    page = client.get("/verify").get_data(as_text=True)
    token = CSRF.search(page)
    assert token
    data = {"csrf_token": token.group(1), "credential": "", "url": "", "email": "", **fields}
    return client.post("/verify", data=data, content_type="multipart/form-data")


def test_a_badge_on_another_site_is_fetched_checked_and_its_source_named(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, https: Server
) -> None:
    row = issue(session, ctx, world)
    https.routes["/badges/1.json"] = Reply(row.document.encode(), headers={
        "Content-Type": "application/vc+ld+json", "Cache-Control": "max-age=600"})
    url = f"https://{https.authority}/badges/1.json"

    response = submit(client, url=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "✓</span> Valid" in page and "Not valid" not in page
    assert f"Checked: the badge at {url}." in page
    assert re.search(rf"The badge:\s*fetched from <code[^>]*>{re.escape(url)}</code>", page)
    assert [seen.path for seen in https.seen] == ["/badges/1.json"]

    # What a phone's QR scanner gives: the same address, reused from the cache this time.
    again = submit(client, url=f"  URL:{url}\n").get_data(as_text=True)
    assert "✓</span> Valid" in again
    assert re.search(rf"The badge:\s*from the cache, fetched from <code[^>]*>{re.escape(url)}",
                     again)
    assert len(https.seen) == 1


def test_a_changed_remote_badge_is_not_valid(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, https: Server
) -> None:
    row = issue(session, ctx, world)
    document = json.loads(row.document)
    document["credentialSubject"]["achievement"]["name"] = "Something else"
    https.routes["/forged.json"] = Reply(json.dumps(document).encode())
    page = submit(client, url=f"https://{https.authority}/forged.json").get_data(as_text=True)
    assert "Not valid" in page


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_private_address_is_refused_and_never_connected_to(
    client: FlaskClient, world: World, private: Server, host: str
) -> None:
    private.routes["/badge.json"] = Reply(b"{}")
    url = f"https://{host}:{private.port}/badge.json"
    response = submit(client, url=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This address is on a private network and is not fetched" in page
    assert html.escape(url) in page
    assert private.connections == 0 and private.seen == []


@pytest.mark.parametrize(("url", "status", "words"), [
    ("javascript:alert(1)", 400, "That is not a web address"),
    ("ftp://files.example/badge.json", 400, "That is not a web address"),
    ("https://<script>/x", 422, "The badge could not be fetched"),
    ("https://localhost:99999/x", 422, "is on a private network and is not fetched"),
    ("https://[::1/x", 422, "The badge could not be fetched"),
    ("https://user:pw@example.org/x", 422, "The badge could not be fetched"),
])
def test_bad_addresses_get_a_clear_answer(client: FlaskClient, world: World, url: str,
                                          status: int, words: str) -> None:
    response = submit(client, url=url)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert words in page
    assert html.escape(url) in page and "https://<script>" not in page


def test_missing_remote_badge_is_404(client: FlaskClient, world: World, https: Server) -> None:
    response = submit(client, url=f"https://{https.authority}/nothing.json")
    assert response.status_code == 404
    assert "There is no badge at that address" in response.get_data(as_text=True)


def test_the_recipient_check_for_an_ob3_hashed_address(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)  # awarded to grace@example.org, hashed with a salt
    assert "sha256$" in row.document and "grace@example.org" not in row.document
    page = submit(client, credential=row.document,
                  email="Grace@Example.org").get_data(as_text=True)
    assert "This badge was awarded to Grace@Example.org." in page
    page = submit(client, credential=row.document,
                  email="ada@example.org").get_data(as_text=True)
    assert "This badge was not awarded to ada@example.org" in page


def test_the_recipient_check_for_an_ob3_plain_address_and_none(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    document = json.loads(row.document)
    subject = document["credentialSubject"]
    # Unsigned on purpose: the answer is about the recipient, shown whatever the verdict.
    subject["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress",
                              "hashed": False, "identityHash": "grace@example.org"}]
    page = submit(client, credential=json.dumps(document),
                  email="grace@example.org").get_data(as_text=True)
    assert "This badge was awarded to grace@example.org." in page
    assert "did not pass the check" in page
    subject["identifier"] = [i for i in subject["identifier"]
                             if i["identityType"] != "emailAddress"]
    page = submit(client, credential=json.dumps(document),
                  email="grace@example.org").get_data(as_text=True)
    assert "This badge names no e-mail address" in page


def test_the_recipient_check_for_an_ob2_assertion_fetched_by_address(
    client: FlaskClient, world: World, https: Server
) -> None:
    issuer = Ob2Issuer(f"https://{https.authority}")
    assertion = issuer.assertion()
    for url, document in {**issuer.documents(), assertion["id"]: assertion}.items():
        https.routes[urlsplit(url).path] = Reply(json.dumps(document).encode())
    page = submit(client, url=assertion["id"], email=EMAIL).get_data(as_text=True)
    assert "✓</span> Valid" in page
    assert f"This badge was awarded to {EMAIL}." in page
    assert re.search(rf"The badge:\s*fetched from <code[^>]*>{re.escape(assertion['id'])}",
                     page)
    assert "A document the badge points to" in page
    page = submit(client, url=assertion["id"], email="other@example.org").get_data(as_text=True)
    assert "This badge was not awarded to other@example.org" in page


def test_a_malformed_email_is_a_form_problem(client: FlaskClient, world: World) -> None:
    response = submit(client, credential="{}", email="<b>not-an-address</b>")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "&lt;b&gt;not-an-address&lt;/b&gt;” is not an e-mail address" in page


def test_the_issuers_did_document_and_status_list_are_named_with_their_sources(
    client: FlaskClient, world: World, https: Server
) -> None:
    issuer = WebIssuer(f"did:web:localhost%3A{https.port}")
    https.routes["/.well-known/did.json"] = Reply(json.dumps(issuer.document).encode())
    list_url = f"https://{https.authority}/lists/1"
    https.routes["/lists/1"] = Reply(
        json.dumps(issuer.status_list(list_url, revoked=False)).encode())
    https.routes["/badge.json"] = Reply(json.dumps(issuer.badge(list_url)).encode())
    page = submit(client, url=f"https://{https.authority}/badge.json").get_data(as_text=True)
    assert "✓</span> Valid" in page, page
    did_url = f"https://{https.authority}/.well-known/did.json"
    assert re.search(rf"The issuer&#39;s DID document:\s*fetched from <code[^>]*>"
                     rf"{re.escape(did_url)}</code>\s*at \d{{4}}-\d\d-\d\d", page)
    assert re.search(rf"The status list:\s*fetched from <code[^>]*>{re.escape(list_url)}",
                     page)
