"""Discovery, dynamic client registration, the authorization code grant with PKCE, refresh
and revocation of the Open Badges 3.0 API (OB 3.0 §7; RFC 7591, RFC 7636, RFC 7009)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from issuer.app import create_app, runtime
from issuer.config import Settings
from tests.conftest import TEST_PASSWORD_HASHING
from tests.web.ob_api.conftest import (
    API,
    PATH,
    REDIRECT,
    Consumer,
    pkce,
    registration,
)
from tests.web.ob_api.openapi import check, schema_errors

READ = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
PROFILE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"


def test_discovery_is_unprotected_and_describes_the_oauth_flow(client: FlaskClient) -> None:
    response = client.get(f"{PATH}/discovery")
    body = check(response, "get", "/discovery")
    assert schema_errors(body, "ServiceDescriptionDocument") == []
    scheme = body["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["x-imssf-registrationUrl"] == f"{API}/oauth/register"
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{API}/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == f"{API}/oauth/token"
    assert len(flow["scopes"]) == 4
    assert client.get(body["info"]["termsOfService"].removeprefix("https://badges.test")
                      ).status_code == 200


def test_registration_answers_201_with_a_secret_stored_only_hashed(
        consumer: Consumer, session: Any) -> None:
    from sqlalchemy import select

    from issuer.storage.ob_api import ObApiClient

    response = consumer.register()
    assert response.status_code == 201
    body = response.get_json()
    assert body["client_name"] == "Example Backpack"
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["client_secret_expires_at"] == 0 and body["client_id_issued_at"] > 0
    row = session.scalar(select(ObApiClient).where(ObApiClient.client_id == body["client_id"]))
    assert row is not None and body["client_secret"] not in row.client_secret_hash


@pytest.mark.parametrize(("changes", "error"), [
    ({"client_name": None}, "invalid_client_metadata"),
    ({"software_id": None}, "invalid_client_metadata"),
    ({"scope": None}, "invalid_client_metadata"),
    ({"redirect_uris": ["http://backpack.example/callback"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://elsewhere.example/callback"]}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"logo_uri": "http://backpack.example/logo.png"}, "invalid_client_metadata"),
    ({"tos_uri": "https://other.example/terms"}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "client_secret_post"}, "invalid_client_metadata"),
    ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
    ({"grant_types": ["authorization_code", "implicit"]}, "invalid_client_metadata"),
    ({"response_types": ["token"]}, "invalid_client_metadata"),
    ({"scope": "openid"}, "invalid_client_metadata"),
    ({"software_statement": "a.b.c"}, "invalid_client_metadata"),
])
def test_registration_refusals(consumer: Consumer, changes: dict[str, Any],
                               error: str) -> None:
    response = consumer.register(**changes)
    assert response.status_code == 400
    assert response.get_json()["error"] == error


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b'{"a": 1, "a": 2}', b"\xff"])
def test_registration_refuses_what_is_not_a_json_object(client: FlaskClient,
                                                        body: bytes) -> None:
    response = client.post(f"{PATH}/oauth/register", data=body,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"


def test_the_whole_flow_gives_tokens_that_read_the_api(consumer: Consumer) -> None:
    tokens = consumer.connect()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] == 3600 and tokens["refresh_token"]
    assert set(tokens["scope"].split()) == set(registration()["scope"].split())
    response = consumer.api.get(f"{PATH}/profile", headers=consumer.bearer())
    profile = check(response, "get", "/profile")
    assert profile["email"] == "learner@guild.test"


def test_pkce_is_required_even_of_a_confidential_client(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    for url in (consumer.authorize_url(None, method=None),
                consumer.authorize_url(None, method="S256"),
                consumer.authorize_url(pkce()[1], method="plain"),
                consumer.authorize_url(pkce()[1], method=None)):
        page = consumer.browser.get(url)
        assert page.status_code == 302
        query = parse_qs(urlsplit(page.headers["Location"]).query)
        assert query["error"] == ["invalid_request"] and query["state"] == ["xyz"]


def test_the_code_verifier_must_match(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    verifier, challenge = pkce()
    code = consumer.code(challenge)
    assert consumer.exchange(code, None).get_json()["error"] == "invalid_request"
    wrong = consumer.exchange(code, pkce()[0])
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    assert consumer.exchange(code, verifier).status_code == 200


def test_a_reused_code_is_refused_and_revokes_its_tokens(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    verifier, challenge = pkce()
    code = consumer.code(challenge)
    first = consumer.exchange(code, verifier)
    assert first.status_code == 200
    consumer.tokens = first.get_json()
    assert consumer.api.get(f"{PATH}/profile", headers=consumer.bearer()).status_code == 200
    again = consumer.exchange(code, verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    response = consumer.api.get(f"{PATH}/profile", headers=consumer.bearer())
    assert response.status_code == 401
    check(response, "get", "/profile")


def test_requests_without_state_or_redirect_uri_or_with_unknown_clients(
        consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    challenge = pkce()[1]
    no_state = consumer.browser.get(consumer.authorize_url(challenge, state=None))
    assert no_state.status_code == 302
    assert "error=invalid_request" in no_state.headers["Location"]
    # Without a redirect URI that is the client's, the answer stays on this site.
    for url in (consumer.authorize_url(challenge, redirect_uri=None),
                consumer.authorize_url(challenge, redirect_uri="https://evil.example/cb")):
        page = consumer.browser.get(url)
        assert page.status_code == 400 and "cannot be used" in page.get_data(as_text=True)
    consumer.client_id = "unknown"
    assert consumer.browser.get(consumer.authorize_url(challenge)).status_code == 400


def test_a_scope_the_client_did_not_register_is_refused(consumer: Consumer) -> None:
    assert consumer.register(scope=READ).status_code == 201
    page = consumer.browser.get(consumer.authorize_url(pkce()[1], scope=f"{READ} {PROFILE}"))
    assert page.status_code == 302
    assert "error=invalid_scope" in page.headers["Location"]


def test_a_learner_who_refuses_sends_the_client_access_denied(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    answer = consumer.consent(consumer.authorize_url(pkce()[1]), decision="deny")
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query


def test_signed_out_learners_sign_in_first(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    url = consumer.authorize_url(pkce()[1])
    anonymous = consumer.api.get(url)
    assert anonymous.status_code == 302
    location = urlsplit(anonymous.headers["Location"])
    assert location.path == "/learn/sign-in"
    # The request is longer than a sign-in link's next page may be: it waits here.
    resume = parse_qs(location.query)["next"][0]
    assert resume.startswith(f"{PATH}/oauth/authorize/resume/") and len(resume) < 100
    back = consumer.browser.get(resume)
    assert back.status_code == 302 and back.headers["Location"].endswith(url)
    gone = consumer.browser.get(f"{PATH}/oauth/authorize/resume/unknown")
    assert gone.status_code == 404 and gone.mimetype == "text/html"


def test_the_consent_form_needs_its_csrf_token(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    url = consumer.authorize_url(pkce()[1])
    response = consumer.browser.post(url, data={"decision": "allow"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "The form expired" in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_refresh_gives_new_tokens_and_ends_the_old_ones(consumer: Consumer) -> None:
    old = consumer.connect()
    refreshed = consumer.api.post(f"{PATH}/oauth/token", headers=consumer.basic(), data={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)
    new = refreshed.get_json()
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert consumer.api.get(f"{PATH}/profile", headers={
        "Authorization": f"Bearer {old['access_token']}"}).status_code == 401
    assert consumer.api.get(f"{PATH}/profile", headers={
        "Authorization": f"Bearer {new['access_token']}"}).status_code == 200
    reused = consumer.api.post(f"{PATH}/oauth/token", headers=consumer.basic(), data={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"]})
    assert reused.status_code == 400 and reused.get_json()["error"] == "invalid_grant"


def test_refresh_cannot_widen_the_scope(consumer: Consumer) -> None:
    tokens = consumer.connect(scope=READ)
    wider = consumer.api.post(f"{PATH}/oauth/token", headers=consumer.basic(), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "scope": f"{READ} {PROFILE}"})
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"


def test_revocation_ends_the_token_and_answers_200_for_unknown_ones(
        consumer: Consumer) -> None:
    tokens = consumer.connect()
    for token in ("not-a-token", tokens["access_token"], tokens["access_token"]):
        response = consumer.api.post(f"{PATH}/oauth/revoke", headers=consumer.basic(),
                                     data={"token": token, "token_type_hint": "access_token"})
        assert response.status_code == 200
    assert consumer.api.get(f"{PATH}/profile", headers=consumer.bearer()).status_code == 401
    refresh = consumer.api.post(f"{PATH}/oauth/token", headers=consumer.basic(), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400


def test_token_endpoint_needs_the_client_secret(consumer: Consumer) -> None:
    assert consumer.register().status_code == 201
    verifier, challenge = pkce()
    code = consumer.code(challenge)
    wrong = consumer.api.post(f"{PATH}/oauth/token",
                              headers=consumer.basic(secret="wrong"),
                              data={"grant_type": "authorization_code", "code": code,
                                    "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    posted = consumer.api.post(f"{PATH}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": consumer.client_id,
        "client_secret": consumer.client_secret})
    assert posted.status_code == 401
    assert consumer.exchange(code, verifier).status_code == 200


def test_protected_operations_refuse_missing_wrong_and_narrow_tokens(
        consumer: Consumer) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = consumer.api.get(f"{PATH}/credentials", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        check(response, "get", "/credentials")
    consumer.connect(scope=PROFILE)
    response = consumer.api.get(f"{PATH}/credentials", headers=consumer.bearer())
    assert response.status_code == 403
    check(response, "get", "/credentials")
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_an_http_site_refuses_oauth_in_the_protocols_form(database_url: str,
                                                          keys_dir: Path) -> None:
    settings = Settings(database_url=database_url, base_url="http://badges.test",
                        keys_dir=keys_dir, secret_key="test-secret-key-not-for-production",
                        password_hashing=TEST_PASSWORD_HASHING,
                        verify_offline=True).validated()
    app = create_app(settings, TESTING=True)
    try:
        client = app.test_client()
        for path in ("/oauth/token", "/oauth/revoke", "/oauth/register"):
            response = client.post(f"{PATH}{path}", json=registration())
            assert response.status_code == 400, path
            assert response.get_json()["error"] == "insecure_transport"
        assert client.get(f"{PATH}/discovery").status_code == 200
    finally:
        runtime(app).engine.dispose()


def test_oauth_endpoints_answer_routing_errors_in_their_own_form(client: FlaskClient) -> None:
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/register"):
        response = client.get(f"{PATH}{path}")
        assert response.status_code == 405 and "POST" in response.headers["Allow"]
        assert response.get_json()["error"] == "invalid_request"
    too_large = client.post(f"{PATH}/oauth/register", data=b"{" + b" " * 3_000_000 + b"}",
                            content_type="application/json")
    assert too_large.status_code == 413 and too_large.get_json()["error"] == "invalid_request"


def test_the_consent_page_says_which_methods_it_allows(client: FlaskClient) -> None:
    wrong = client.put(f"{PATH}/oauth/authorize")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
