"""Routing errors under /exchanges/ are problem details like the exchanges' own errors,
whatever the wallet sends as Accept."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert "Set-Cookie" not in response.headers
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/exchanges/abc/def", 405),
    ("PUT", "/exchanges/abc", 405),
    ("DELETE", "/exchanges/abc/def", 405),
    ("POST", "/exchanges/abc/def/ghi", 404),
    ("GET", "/exchanges/", 404),
    ("POST", "/exchanges/", 404),
])
def test_routing_errors_are_problem_details(client: FlaskClient, method: str, path: str,
                                            status: int) -> None:
    for headers in (BROWSER, {"Accept": "application/json"}, {}):
        response = client.open(path, method=method, headers=headers, json={})
        _problem(response, status)
        if status == 405:
            assert "POST" in response.headers["Allow"]
