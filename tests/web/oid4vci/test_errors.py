"""Every error under /oid4vci/ and at the two metadata documents is in the protocol's own
form (RFC 6749 §5.2), a routing 404 or 405 as much as a refused code: a wallet parses one
form, whatever it sends as Accept."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _oauth(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == ("invalid_token" if status == 401 else "invalid_request")
    assert body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    return body


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/oid4vci/token", 405),
    ("GET", "/oid4vci/nonce", 405),
    ("GET", "/oid4vci/credential", 405),
    ("DELETE", "/oid4vci/offers/abc", 405),
    ("POST", "/.well-known/openid-credential-issuer", 405),
    ("PUT", "/.well-known/oauth-authorization-server", 405),
    ("GET", "/oid4vci/", 404),
    ("GET", "/oid4vci/authorize", 404),
    ("POST", "/oid4vci/token/extra", 404),
    ("GET", "/oid4vci/offers/unknown-offer", 404),
])
def test_routing_errors_are_oauth_errors(client: FlaskClient, method: str, path: str,
                                         status: int) -> None:
    for headers in (BROWSER, {"Accept": "application/json"}, {}):
        response = client.open(path, method=method, headers=headers)
        _oauth(response, status)
        if status == 405:
            # RFC 9110 §15.5.6: a 405 says what the address allows.
            assert response.headers["Allow"]


def test_a_body_too_large_is_an_oauth_error(app: Flask, client: FlaskClient) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/oid4vci/token", data=b"a=" + b"x" * limit,
                           content_type="application/x-www-form-urlencoded")
    _oauth(response, 413)
    response = client.post("/oid4vci/credential", data=b"{" + b" " * limit + b"}",
                           content_type="application/json",
                           headers={"Authorization": "Bearer whatever"})
    assert response.status_code in (401, 413)
    _oauth(response, response.status_code)


def test_pages_beside_the_protocol_keep_their_own_errors(client: FlaskClient) -> None:
    """Only the protocol's addresses change form: a missing page is still a page."""
    response = client.get("/oid4vcix", headers=BROWSER)
    assert response.status_code == 404 and response.mimetype == "text/html"
    response = client.get("/.well-known/other", headers=BROWSER)
    assert response.status_code == 404 and response.mimetype == "text/html"
