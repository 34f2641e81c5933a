""""Send to my backpack" between two instances of the service on loopback, each a real
server (`issuer serve --init-demo`, gunicorn): one plays the Service Consumer, the other the
Service Provider (host). In headless Chromium the learner, signed in on the first, names the
second; the first reads its discovery document, registers, sends the learner to its consent
page (where they sign in and allow it), exchanges the code with PKCE and upserts the badge.
The host verified it and keeps it byte for byte: equal to the badge the first one issued.

The badge comes from a did:key issuer of the first instance, so the host verifies it
without HTTPS to the first (did:web documents are only ever fetched over https).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.live_server import ISSUER, Server, live_server

pytestmark = pytest.mark.slow

LEARNER = "learner@example.org"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two servers, each allowed to reach the other over http on loopback."""
    saved = os.environ.get("ISSUER_VERIFY_ALLOW_HOSTS")
    os.environ["ISSUER_VERIFY_ALLOW_HOSTS"] = "127.0.0.1"
    try:
        with live_server(tmp_path_factory.mktemp("consumer")) as consumer, \
                live_server(tmp_path_factory.mktemp("provider")) as provider:
            yield consumer, provider
    finally:
        if saved is None:
            os.environ.pop("ISSUER_VERIFY_ALLOW_HOSTS", None)
        else:
            os.environ["ISSUER_VERIFY_ALLOW_HOSTS"] = saved


def _award_did_key_badge(server: Server) -> dict[str, Any]:
    """A did:key issuer on ``server`` awards a badge to the demo learner, as staff would."""
    def cli(*args: str) -> str:
        done = subprocess.run([ISSUER, *args], env=server.env, capture_output=True,
                              text=True, timeout=60, check=True)
        return done.stdout

    cli("issuers", "create", "--slug", "guild", "--name", "Key Guild", "--did-method", "key")
    token = cli("tokens", "create", "--issuer", "guild").strip().split()[-1]

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{server.base}/api/v1{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    post("/achievements", {"slug": "mentor", "name": "Mentor", "description": "Mentored.",
                           "criteria": {"narrative": "Mentored two newcomers."}})
    awarded = post("/awards", {"achievement": "mentor", "recipient": {"email": LEARNER},
                               "notify": False})
    credential: dict[str, Any] = awarded["credential"]
    return credential


def _sign_in(page: Any, server: Server) -> None:
    expect(page.get_by_label("Email address")).to_be_visible(timeout=TIMEOUT_MS)
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


def test_a_badge_goes_from_one_instance_to_the_others_backpack(
        browser: Any, pair: tuple[Server, Server]) -> None:
    consumer, provider = pair
    credential = _award_did_key_badge(consumer)

    # Both servers are on 127.0.0.1, and cookies do not tell ports apart (RFC 6265 §8.5):
    # the learner's browser at each one is a context of its own, as two sites would be.
    at_consumer = browser.new_context()
    at_consumer.set_default_timeout(TIMEOUT_MS)
    page = at_consumer.new_page()
    page.goto(f"{consumer.base}/learn/backpack/send")
    _sign_in(page, consumer)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Send a badge")
    page.get_by_label("Badge").select_option(credential["id"].rsplit("/", 1)[-1])
    page.get_by_label("Backpack address").fill(provider.base)
    page.get_by_role("button", name="Send to my backpack").click()
    onward = page.get_by_role("link", name="Continue to Open Badges API")
    authorization_url = str(onward.get_attribute("href"))
    assert authorization_url.startswith(f"{provider.base}/ims/ob/v3p0/oauth/authorize?")

    # On the host: sign in there, then allow this service to add badges.
    at_provider = browser.new_context()
    at_provider.set_default_timeout(TIMEOUT_MS)
    host_page = at_provider.new_page()
    host_page.goto(authorization_url)
    _sign_in(host_page, provider)
    expect(host_page.get_by_role("heading", level=1)).to_contain_text(
        "Allow Open Badges issuer")
    expect(host_page.locator("main")).to_contain_text("add badges to your backpack")
    callback = f"{consumer.base}/learn/backpack/send/callback?"
    with host_page.expect_request(lambda request: request.url.startswith(callback)) as sent:
        host_page.get_by_role("button", name="Allow", exact=True).click()
    back = sent.value.url

    # Back at the consumer (in the browser that is signed in there).
    page.goto(back)
    expect(page.locator("main")).to_contain_text("Your badge is now in your backpack")
    page.goto(back)  # the same answer again sends nothing twice
    expect(page.locator("main")).to_contain_text("already sent")

    at_consumer.close()
    at_provider.close()

    # The learner's backpack on the host shows it, verified. (A fresh browser: the consumer's
    # answer to the redirect above set its own cookie for 127.0.0.1 in the other one.)
    at_host = browser.new_context()
    at_host.set_default_timeout(TIMEOUT_MS)
    host_page = at_host.new_page()
    host_page.goto(f"{provider.base}/learn/backpack")
    _sign_in(host_page, provider)
    host_page.goto(f"{provider.base}/learn/backpack")
    expect(host_page.locator("main")).to_contain_text("Mentor")
    expect(host_page.locator("main")).to_contain_text("Verified when it arrived")
    at_host.close()

    engine = create_engine(provider.env["ISSUER_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            stored = conn.execute(text(
                "SELECT document, verified FROM ob_api_upserted_credentials")).all()
    finally:
        engine.dispose()
    assert len(stored) == 1 and stored[0][1]
    assert json.loads(stored[0][0]) == credential
