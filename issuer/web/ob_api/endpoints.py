"""The Open Badges 3.0 API as a Service Provider, Read and Write (OB 3.0 §6, §7):
the service description document, the OAuth 2.0 endpoints, and the credential and profile
operations a learner authorized a client to call.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from issuer.core.datetimes import format_datetime, parse_datetime
from issuer.core.errors import InputError
from issuer.core.json_input import parse_json
from issuer.services import ob_api_credentials, ob_api_tokens
from issuer.services.ob_api_clients import SCOPE_BASE, SCOPES
from issuer.services.ob_api_credentials import UpsertRefused
from issuer.storage.learning import Learner
from issuer.storage.ob_api import ObApiToken
from issuer.web.blueprints import ob_api as bp
from issuer.web.context import db, services
from issuer.web.ob_api.server import authorization_server, insecure
from issuer.web.ob_api.status_info import QueryRefused, ScopeRefused, TokenRefused
from issuer.web.ob_api.status_info import body as status_body

READ_CREDENTIALS = SCOPE_BASE + "credential.readonly"
UPSERT_CREDENTIAL = SCOPE_BASE + "credential.upsert"
READ_PROFILE = SCOPE_BASE + "profile.readonly"
UPDATE_PROFILE = SCOPE_BASE + "profile.update"
#: OB 3.0 §6.2.3: a compact JWS as the OpenAPI document's pattern states it.
COMPACT_JWS = re.compile(r"^[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]+$")
JSON_TYPES = ("application/json", "application/vc+ld+json", "application/ld+json")
#: The spec wording of each scope (OB 3.0 §6.2.1), for the service description document.
SCOPE_DESCRIPTIONS = {
    READ_CREDENTIALS: "Permission to read AchievementCredentials for the authenticated entity.",
    UPSERT_CREDENTIAL: "Permission to create or update AchievementCredentials for the "
                       "authenticated entity.",
    READ_PROFILE: "Permission to read the profile for the authenticated entity.",
    UPDATE_PROFILE: "Permission to update the profile for the authenticated entity.",
}
#: The largest page one request returns, whatever ``limit`` asks.
MAX_LIMIT = 1000
_INT32 = 2**31 - 1


def _authorized(scope: str) -> tuple[ObApiToken, Learner]:
    """The token of the request and its learner (RFC 6750 §2.1), or 401/403."""
    header = request.headers.get("Authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise TokenRefused("an access token is required (Authorization: Bearer …)")
    token = ob_api_tokens.bearer_token(db(), services(), value.strip())
    if token is None:
        raise TokenRefused("the access token is not valid: it may have expired or been "
                           "revoked")
    if scope not in token.scope.split():
        raise ScopeRefused(scope)
    return token, token.learner


# --- discovery (OB 3.0 §7.1.1) -------------------------------------------------------------


@bp.get("/discovery")
def discovery() -> Response:
    """The Service Description Document; it MUST NOT be protected (OB 3.0 §6.3)."""
    base = services().base
    api = f"{base}/ims/ob/v3p0"
    security = lambda scope: [{"OAuth2ACG": [scope]}]  # noqa: E731
    document = {
        "openapi": "3.0.1",
        "info": {
            "title": "Open Badges API",
            "version": "3.0",
            "description": "The Open Badges 3.0 API of this badge service: learners let "
                           "other applications read and add their badges.",
            "termsOfService": f"{api}/terms",
            "x-imssf-privacyPolicyUrl": f"{api}/terms#privacy",
            "x-imssf-image": f"{api}/logo.svg",
        },
        "servers": [{"url": api}],
        "tags": [{"name": "OpenBadgeCredentials"}, {"name": "Profile"}, {"name": "Discovery"}],
        "paths": {
            "/credentials": {
                "get": {"tags": ["OpenBadgeCredentials"], "operationId": "getCredentials",
                        "security": security(READ_CREDENTIALS),
                        "responses": {"200": {"description": "The learner's credentials"}}},
                "post": {"tags": ["OpenBadgeCredentials"], "operationId": "upsertCredential",
                         "security": security(UPSERT_CREDENTIAL),
                         "responses": {"200": {"description": "Replaced"},
                                       "201": {"description": "Created"}}},
            },
            "/profile": {
                "get": {"tags": ["Profile"], "operationId": "getProfile",
                        "security": security(READ_PROFILE),
                        "responses": {"200": {"description": "The learner's profile"}}},
                "put": {"tags": ["Profile"], "operationId": "putProfile",
                        "security": security(UPDATE_PROFILE),
                        "responses": {"200": {"description": "The updated profile"}}},
            },
            "/discovery": {
                "get": {"tags": ["Discovery"], "operationId": "getServiceDescription",
                        "responses": {"200": {"description": "This document"}}},
            },
        },
        "components": {"securitySchemes": {"OAuth2ACG": {
            "type": "oauth2",
            "description": "OAuth 2.0 authorization code grant with PKCE (S256); clients "
                           "register themselves (RFC 7591) at x-imssf-registrationUrl.",
            "x-imssf-registrationUrl": f"{api}/oauth/register",
            "flows": {"authorizationCode": {
                "authorizationUrl": f"{api}/oauth/authorize",
                "tokenUrl": f"{api}/oauth/token",
                "refreshUrl": f"{api}/oauth/token",
                "scopes": {scope: SCOPE_DESCRIPTIONS[scope] for scope in SCOPES},
            }},
        }}},
    }
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- OAuth 2.0 (OB 3.0 §7.1.1–§7.3) -------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _insecure() -> Response | None:
    error = insecure()
    if error is None:
        return None
    return _oauth_error(400, error.error, error.description)


@bp.post("/oauth/register")
def register() -> Response:
    """RFC 7591 dynamic client registration: 201 with the client's id and secret."""
    refused = _insecure()
    if refused is not None:
        return refused
    if request.mimetype != "application/json":
        return _oauth_error(400, "invalid_client_metadata",
                            "send the client metadata as application/json")
    try:
        data = parse_json(request.get_data(cache=True))
    except InputError as exc:
        return _oauth_error(400, "invalid_client_metadata", exc.message)
    if not isinstance(data, dict) or not data:
        return _oauth_error(400, "invalid_client_metadata",
                            "the client metadata must be a JSON object")
    response: Response = authorization_server().create_endpoint_response("client_registration")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/oauth/token")
def token() -> Response:
    """RFC 6749 §4.1.3 (authorization code, with the PKCE verifier) and §6 (refresh)."""
    refused = _insecure()
    if refused is not None:
        return refused
    response: Response = authorization_server().create_token_response()
    return response


@bp.post("/oauth/revoke")
def revoke() -> Response:
    """RFC 7009: 200 also for a token that is unknown or already revoked."""
    refused = _insecure()
    if refused is not None:
        return refused
    response: Response = authorization_server().create_endpoint_response("revocation")
    return response


# --- credentials (OB 3.0 §6.2.2, §6.2.3) ---------------------------------------------------


def _whole_number(name: str, minimum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < minimum or int(raw) > _INT32:
        raise QueryRefused(name, f"{name} must be a whole number of at least {minimum}")
    return int(raw)


def _since() -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except InputError:
        raise QueryRefused("since", "since must be a date-time with a time zone, like "
                                    "2024-05-01T00:00:00Z") from None


def _page_link(limit: int, offset: int, since: datetime | None) -> str:
    query: dict[str, Any] = {"limit": limit, "offset": offset}
    if since is not None:
        query["since"] = format_datetime(since)
    return f"{services().base}/ims/ob/v3p0/credentials?{urlencode(query)}"


def _links(total: int, limit: int, offset: int, since: datetime | None) -> str:
    """OB 3.0 §6.4: first and last always, next while more follow, prev past the first."""
    last = ((total - 1) // limit) * limit if total else 0
    links = [("first", 0), ("last", last)]
    if offset + limit < total:
        links.insert(0, ("next", offset + limit))
    if offset > 0:
        links.append(("prev", max(0, min(offset - limit, last))))
    return ", ".join(f'<{_page_link(limit, at, since)}>; rel="{rel}"' for rel, at in links)


@bp.get("/credentials")
def get_credentials() -> Response:
    _, learner = _authorized(READ_CREDENTIALS)
    limit, offset, since = _whole_number("limit", 1), _whole_number("offset", 0), _since()
    items = ob_api_credentials.learner_credentials(db(), services(), learner, since=since)
    total = len(items)
    page_size = min(limit if limit is not None else max(total, 1), MAX_LIMIT)
    start = offset or 0
    page = items[start:start + page_size]
    body = {
        "credential": [item.value() for item in page if item.format == "json"],
        "compactJwsString": [item.value() for item in page if item.format == "jws"],
    }
    response = jsonify(body)
    response.headers["X-Total-Count"] = str(total)
    if limit is not None or offset is not None or len(page) < total:
        response.headers["Link"] = _links(total, page_size, start, since)
    response.headers["Cache-Control"] = "no-store"
    return response


def _posted() -> tuple[str | dict[str, Any], str]:
    """The posted credential and its text: a JSON object, or a compact JWS as text/plain."""
    text = request.get_data(cache=True)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the request body is not UTF-8 text") from None
    if request.mimetype == "text/plain":
        jws = decoded.strip()
        if not COMPACT_JWS.fullmatch(jws):
            raise InputError("a text/plain body must be a compact JWS (header.payload.signature)")
        return jws, jws
    if request.mimetype in JSON_TYPES:
        data = parse_json(decoded)
        if not isinstance(data, dict):
            raise InputError("the request body must be an AchievementCredential object")
        return data, decoded
    raise UnsupportedMediaType("send the credential as application/json, or a VC-JWT as "
                               "text/plain")


@bp.post("/credentials")
def upsert_credential() -> Response:
    token, learner = _authorized(UPSERT_CREDENTIAL)
    data, text = _posted()
    try:
        created = ob_api_credentials.upsert_credential(
            db(), services(), learner, data, raw=text, client=token.client)
    except UpsertRefused as exc:
        response = jsonify(status_body(exc.status, exc.message))
        response.status_code = exc.status
        return response
    response = Response(text, status=201 if created else 200,
                        mimetype="text/plain" if isinstance(data, str) else "application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- profile (OB 3.0 §6.2.4, §6.2.5) -------------------------------------------------------


@bp.get("/profile")
def get_profile() -> Response:
    _, learner = _authorized(READ_PROFILE)
    response = jsonify(ob_api_credentials.learner_profile(db(), services(), learner))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.put("/profile")
def put_profile() -> Response:
    _, learner = _authorized(UPDATE_PROFILE)
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType("send the Profile as application/json")
    data = parse_json(request.get_data(cache=True))
    response = jsonify(ob_api_credentials.put_profile(db(), services(), learner, data))
    response.headers["Cache-Control"] = "no-store"
    return response
