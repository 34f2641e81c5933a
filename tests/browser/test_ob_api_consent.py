"""A learner approves an application on the consent page in a real browser (headless
Chromium), against a real server (`issuer serve --init-demo`, gunicorn): the application
registers over HTTP, sends the learner to the authorization URL, gets tokens for the code,
reads the learner's demo badge, stores a badge from another issuer and reads it back equal.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.live_server import Server, live_server
from tests.web.ob_api.badges import Elsewhere
from tests.web.ob_api.conftest import ALL_SCOPES, pkce
from tests.web.ob_api.openapi import check

pytestmark = pytest.mark.slow

LEARNER = "learner@example.org"
TIMEOUT_MS = 10_000
#: Where the application says it lives; nothing listens there, the browser's request to the
#: redirect URI is answered by the test.
APP = "http://127.0.0.1:9"
REDIRECT = f"{APP}/callback"


class Answer:
    """An HTTP answer with the attributes the OpenAPI check reads."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.mimetype = (headers.get("Content-Type") or "").split(";")[0].strip()
        self.body = body

    def get_json(self) -> Any:
        return json.loads(self.body)

    def get_data(self, as_text: bool = False) -> Any:
        return self.body.decode() if as_text else self.body


def _call(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
          method: str | None = None) -> Answer:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers, exc.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The application's loopback redirect URI is accepted only for an allowed host.
    saved = os.environ.get("ISSUER_VERIFY_ALLOW_HOSTS")
    os.environ["ISSUER_VERIFY_ALLOW_HOSTS"] = "127.0.0.1:9"
    try:
        with live_server(tmp_path_factory.mktemp("ob-api-server")) as running:
            yield running
    finally:
        if saved is None:
            os.environ.pop("ISSUER_VERIFY_ALLOW_HOSTS", None)
        else:
            os.environ["ISSUER_VERIFY_ALLOW_HOSTS"] = saved


def _sign_in(page: Any, server: Server) -> None:
    page.get_by_label("Email address").fill(LEARNER)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto(f"{server.base}/dev/outbox")
    message = page.locator(".outbox-message").filter(
        has=page.locator("dd", has_text=re.compile(f"^{re.escape(LEARNER)}$"))).first
    link = message.locator(".outbox-body a").filter(
        has_text=re.compile(f"^{re.escape(server.base)}/learn/sign-in/"))
    expect(link).to_have_count(1, timeout=TIMEOUT_MS)
    page.goto(str(link.get_attribute("href")))
    page.get_by_role("button", name=f"Sign in as {LEARNER}").click()


def test_a_learner_approves_an_application_in_a_browser(browser: Any, server: Server,
                                                        tmp_path: Path) -> None:
    api = f"{server.base}/ims/ob/v3p0"
    discovery = _call(f"{api}/discovery")
    flow = check(discovery, "get", "/discovery")["components"]["securitySchemes"]["OAuth2ACG"]
    registered = _call(flow["x-imssf-registrationUrl"], data=json.dumps({
        "client_name": "Loopback Backpack", "client_uri": f"{APP}/",
        "logo_uri": f"{APP}/logo.png", "tos_uri": f"{APP}/terms",
        "policy_uri": f"{APP}/privacy", "software_id": "loopback-backpack",
        "software_version": "1.0", "redirect_uris": [REDIRECT], "scope": ALL_SCOPES,
    }).encode(), headers={"Content-Type": "application/json"})
    assert registered.status_code == 201, registered.body
    client = registered.get_json()
    basic = "Basic " + base64.b64encode(
        f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    verifier, challenge = pkce()
    authorize = flow["flows"]["authorizationCode"]["authorizationUrl"] + "?" + urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
        "scope": ALL_SCOPES, "state": "s1", "code_challenge": challenge,
        "code_challenge_method": "S256"})

    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    redirected: list[str] = []

    def answer(route: Any) -> None:
        redirected.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="back at the application")

    page.route(f"{APP}/**", answer)
    page.goto(authorize)
    _sign_in(page, server)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Allow Loopback Backpack to use your badges?")
    expect(page.locator("main")).to_contain_text("see your badges")
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.locator("body")).to_contain_text("back at the application")
    context.close()

    query = parse_qs(urlsplit(redirected[0]).query)
    assert query["state"] == ["s1"]
    tokens = _call(flow["flows"]["authorizationCode"]["tokenUrl"], data=urlencode({
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT, "code_verifier": verifier}).encode(),
        headers={"Authorization": basic,
                 "Content-Type": "application/x-www-form-urlencoded"})
    assert tokens.status_code == 200, tokens.body
    bearer = {"Authorization": f"Bearer {tokens.get_json()['access_token']}"}

    listed = check(_call(f"{api}/credentials", headers=bearer), "get", "/credentials")
    demo = listed["credential"]
    assert len(demo) == 1 and demo[0]["credentialSubject"]["type"] == ["AchievementSubject"]

    badge = Elsewhere().signed(LEARNER, "https://elsewhere.example/badges/browser")
    stored = _call(f"{api}/credentials", data=json.dumps(badge).encode(), method="POST",
                   headers={**bearer, "Content-Type": "application/json"})
    assert stored.status_code == 201, stored.body
    check(stored, "post", "/credentials")
    again = check(_call(f"{api}/credentials", headers=bearer), "get", "/credentials")
    assert badge in again["credential"] and len(again["credential"]) == 2
