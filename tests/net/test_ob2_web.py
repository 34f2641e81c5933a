"""The verify page with Open Badges 2.0 assertions: pasted, the issuer's documents fetched
from HTTPS servers on loopback through the guarded fetcher."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from issuer.config import Settings
from tests.conftest import BASE_URL, TEST_PASSWORD_HASHING
from tests.core.ob2_helpers import Ob2Issuer
from tests.net.servers import Pki, Reply, Server

pytestmark = pytest.mark.db

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def settings(database_url: str, keys_dir: Path, pki: Pki, https: Server) -> Settings:
    """Online, with the loopback site allowed and its CA trusted."""
    base = Settings(database_url=database_url, base_url=BASE_URL, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING).validated()
    return replace(base, verify_offline=False, verify_ca_file=pki.ca_file,
                   verify_allow_hosts=(https.authority,))


@pytest.fixture()
def issuer(https: Server) -> Ob2Issuer:
    made = Ob2Issuer(f"https://{https.authority}")
    publish(https, made.documents())
    return made


def publish(server: Server, documents: dict[str, Any]) -> None:
    for url, document in documents.items():
        server.routes[urlsplit(url).path] = Reply(json.dumps(document).encode())


def submit(client: FlaskClient, text: str) -> str:
    page = client.get("/verify").get_data(as_text=True)
    token = CSRF.search(page)
    assert token
    response = client.post("/verify", data={"csrf_token": token.group(1), "credential": text,
                                            "url": ""}, content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_pasted_hosted_assertion_is_verified(client: FlaskClient, https: Server,
                                               issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    publish(https, {assertion["id"]: assertion})
    page = submit(client, json.dumps(assertion))
    assert "✓</span> Valid" in page and "Not valid" not in page
    issuer.revoked.append(assertion["id"])
    publish(https, {issuer.list_id: issuer.revocation_list()})
    assert "Not valid" in submit(client, json.dumps(assertion))


def test_a_pasted_signed_assertion_is_verified(client: FlaskClient, issuer: Ob2Issuer) -> None:
    token = issuer.sign(issuer.assertion(signed=True))
    assert "✓</span> Valid" in submit(client, token)
    forged = Ob2Issuer(issuer.base).sign(issuer.assertion(signed=True))
    assert "Not valid" in submit(client, forged)
