"""The web answers every error with the status the error states (RFC 9457, RFC 9110 §15).

Every error class of the package (:mod:`tests.error_classes`) is raised from a route of the
real app, as one a view leaves unhandled would be: machines get problem details, people a
page, both with the class's ``http_status``.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer.core.errors import IssuerError
from issuer.services.errors import TooManyRequests
from issuer.web.errors import SERVER_FAULT
from tests.error_classes import class_id, error_classes, sample


@pytest.fixture()
def raising(app: Flask) -> FlaskClient:
    """A client of the app with routes that raise the error class they are given."""
    by_name = {class_id(cls): cls for cls in error_classes()}

    def fail(name: str) -> None:
        raise sample(by_name[name])

    app.add_url_rule("/api/test-errors/<name>", "api_test_error", fail)
    app.add_url_rule("/test-errors/<name>", "page_test_error", fail)
    return app.test_client()


@pytest.mark.parametrize("cls", error_classes(), ids=class_id)
def test_problem_details_carry_the_status_the_error_states(
        raising: FlaskClient, cls: type[IssuerError]) -> None:
    exc = sample(cls)
    response = raising.get(f"/api/test-errors/{class_id(cls)}")
    assert response.status_code == cls.http_status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == cls.http_status
    if cls.http_status < 500:
        assert body["detail"] == exc.message
        listed = getattr(exc, "fields", None) or getattr(exc, "errors", None)
        assert body.get("errors") == (listed or None)
    else:
        # The service's own fault: its message may name server paths, so it stays in the log.
        assert body["detail"] == SERVER_FAULT
        assert exc.message not in response.get_data(as_text=True)


@pytest.mark.parametrize("cls", error_classes(), ids=class_id)
def test_pages_carry_the_status_the_error_states(
        raising: FlaskClient, cls: type[IssuerError]) -> None:
    exc = sample(cls)
    response = raising.get(f"/test-errors/{class_id(cls)}", headers={"Accept": "text/html"})
    assert response.status_code == cls.http_status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert (exc.message in page) == (cls.http_status < 500)


@pytest.mark.parametrize("cls", [cls for cls in error_classes()
                                 if issubclass(cls, TooManyRequests)], ids=class_id)
def test_too_many_requests_says_when_to_come_back(
        raising: FlaskClient, cls: type[IssuerError]) -> None:
    response = raising.get(f"/api/test-errors/{class_id(cls)}")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"  # RFC 6585 §4


@pytest.mark.parametrize("path, form", [
    ("/oid4vci/no-such-address", "oauth"),
    ("/.well-known/openid-credential-issuer/no-such-address", "oauth"),
    ("/.well-known/oauth-authorization-server/no-such-address", "oauth"),
    ("/ims/ob/v3p0/oauth/no-such-address", "oauth"),
    ("/ims/ob/v3p0/no-such-address", "imsx"),
])
def test_protocols_answer_routing_errors_in_their_own_form(
        client: FlaskClient, path: str, form: str) -> None:
    """Where a protocol names its own error body (RFC 6749 §5.2; OB 3.0 §B.3 Imsx_StatusInfo)
    its clients get that body for an address or a method nothing serves too, whatever
    they accept (schemas/openapi.yaml documents these prefixes' errors so)."""
    for accept in ("application/json", "text/html", "*/*"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404, (path, accept)
        assert response.mimetype == "application/json", (path, accept)
        body = response.get_json()
        if form == "oauth":
            assert body == {"error": "invalid_request", "error_description": body[
                "error_description"]}, (path, accept)
            assert response.headers["Cache-Control"] == "no-store"
        else:
            assert body["imsx_codeMajor"] == "failure", (path, accept)
            assert body["imsx_codeMinor"]["imsx_codeMinorField"][0][
                "imsx_codeMinorFieldValue"] == "not_found"
