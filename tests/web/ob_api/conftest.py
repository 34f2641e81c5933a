"""The Open Badges 3.0 API on the real app, at an https base URL (OAuth 2.0 refuses plain
http except on loopback), with a learner and a registered client that plays the Service
Consumer through the Flask test client."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.config import Settings
from issuer.services.context import ServiceContext
from issuer.services.ob_api_clients import SCOPES
from tests.conftest import TEST_PASSWORD_HASHING
from tests.learning_fixtures import LearnerClient, make_learner, signed_in_client

BASE = "https://badges.test"
API = f"{BASE}/ims/ob/v3p0"
PATH = "/ims/ob/v3p0"
LEARNER_EMAIL = "learner@guild.test"
CLIENT_HOST = "backpack.example"
REDIRECT = f"https://{CLIENT_HOST}/callback"
ALL_SCOPES = " ".join(SCOPES)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def settings(database_url: str, keys_dir: Path) -> Settings:
    return Settings(database_url=database_url, base_url=BASE, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING, verify_offline=True).validated()


def registration(**changes: Any) -> dict[str, Any]:
    """A registration request as OB 3.0 §7.1.1.1 describes one."""
    request: dict[str, Any] = {
        "client_name": "Example Backpack",
        "client_uri": f"https://{CLIENT_HOST}/",
        "logo_uri": f"https://{CLIENT_HOST}/logo.png",
        "tos_uri": f"https://{CLIENT_HOST}/terms",
        "policy_uri": f"https://{CLIENT_HOST}/privacy",
        "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
        "software_version": "1.0",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": ALL_SCOPES,
    }
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Consumer:
    """A Service Consumer of the API, driving it as a client application would."""

    api: FlaskClient
    browser: LearnerClient
    client_id: str = ""
    client_secret: str = ""
    tokens: dict[str, Any] = field(default_factory=dict)

    def register(self, **changes: Any) -> TestResponse:
        response = self.api.post(f"{PATH}/oauth/register", json=registration(**changes))
        if response.status_code == 201:
            body = response.get_json()
            self.client_id, self.client_secret = body["client_id"], body["client_secret"]
        return response

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        pair = f"{client_id or self.client_id}:{secret or self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def authorize_url(self, challenge: str | None, *, scope: str = ALL_SCOPES,
                      state: str | None = "xyz", method: str | None = "S256",
                      redirect_uri: str | None = REDIRECT) -> str:
        query = {"response_type": "code", "client_id": self.client_id,
                 "redirect_uri": redirect_uri, "scope": scope, "state": state,
                 "code_challenge": challenge, "code_challenge_method": method}
        return f"{PATH}/oauth/authorize?" + urlencode(
            {k: v for k, v in query.items() if v is not None})

    def consent(self, url: str, decision: str = "allow") -> TestResponse:
        page = self.browser.get(url)
        assert page.status_code == 200, page.get_data(as_text=True)
        token = CSRF.search(page.get_data(as_text=True))
        assert token is not None
        return self.browser.post(url, data={"csrf_token": token.group(1),
                                            "decision": decision})

    def code(self, challenge: str, **kwargs: Any) -> str:
        answer = self.consent(self.authorize_url(challenge, **kwargs))
        assert answer.status_code == 302, answer.get_data(as_text=True)
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT + "?")
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == [kwargs.get("state", "xyz")]
        return query["code"][0]

    def exchange(self, code: str, verifier: str | None) -> TestResponse:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "code_verifier": verifier}
        return self.api.post(f"{PATH}/oauth/token", headers=self.basic(),
                             data={k: v for k, v in form.items() if v is not None})

    def connect(self, scope: str = ALL_SCOPES) -> dict[str, Any]:
        """Register (once), authorize and get tokens."""
        if not self.client_id:
            assert self.register().status_code == 201
        verifier, challenge = pkce()
        response = self.exchange(self.code(challenge, scope=scope), verifier)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.tokens = response.get_json()
        return self.tokens

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


@pytest.fixture()
def learner_client(app: Flask, session: Session, ctx: ServiceContext) -> LearnerClient:
    row = make_learner(session, ctx, LEARNER_EMAIL, "Ada Learner")
    session.commit()
    return signed_in_client(app, row)


@pytest.fixture()
def consumer(app: Flask, learner_client: LearnerClient) -> Iterator[Consumer]:
    yield Consumer(api=app.test_client(), browser=learner_client)
