"""OpenID for Verifiable Credential Issuance 1.0 endpoints, pre-authorized code flow.

* ``GET /.well-known/openid-credential-issuer`` (§12.2.2) and
  ``GET /.well-known/oauth-authorization-server`` (RFC 8414 §3): metadata.
* ``GET /oid4vci/offers/<id>``: a Credential Offer by reference (§4.1.3).
* ``POST /oid4vci/token``: Token Endpoint (§6), form-encoded (RFC 6749 §4.1.3).
* ``POST /oid4vci/nonce``: Nonce Endpoint (§7).
* ``POST /oid4vci/credential``: Credential Endpoint (§8), Bearer token (RFC 6750 §2.1).

Errors are answered in the protocol's own form, ``{"error": …, "error_description": …}``
(RFC 6749 §5.2, OID4VCI §6.3, §8.3.1.2): the protocol's codes here, and
:mod:`issuer.web.errors` gives the rest (a wrong address or method, a body too large) the
same form. An ``invalid_token`` is a 401 with ``WWW-Authenticate`` (RFC 6750 §3.1).
Tokens, nonces and credentials are never cached (RFC 6749 §5.1, OID4VCI §7.2). Browser-based
wallets may call every endpoint here from any origin (:mod:`issuer.web.cors`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from issuer.core.errors import InputError
from issuer.core.json_input import parse_json
from issuer.services.oid4vci import (
    InvalidCredentialRequest,
    InvalidGrant,
    InvalidRequest,
    InvalidToken,
    ProtocolError,
    access_of,
    issue_credential,
    new_nonce,
    offer_document,
    record_wrong_tx_code,
    redeem_code,
)
from issuer.services.oid4vci_metadata import (
    authorization_server_metadata,
    credential_issuer_metadata,
)
from issuer.web.api.common import json_response
from issuer.web.blueprints import oid4vci as bp
from issuer.web.context import db, keep, services
from issuer.web.errors import oauth_error

_FORM = "application/x-www-form-urlencoded"
_JSON = ("application/json",)


@bp.errorhandler(ProtocolError)
def _protocol_error(exc: ProtocolError) -> Response:
    if isinstance(exc, InvalidGrant) and exc.wrong_tx_code_of is not None:
        offer = exc.wrong_tx_code_of
        keep(lambda session: record_wrong_tx_code(session, offer))
    response = oauth_error(exc.http_status, exc.message, exc.error)
    if isinstance(exc, InvalidToken):
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="oid4vci"' if exc.missing else
            f'Bearer error="invalid_token", error_description="{exc.message}"')
    return response


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/openid-credential-issuer")
def credential_issuer() -> Response:
    return json_response(credential_issuer_metadata(services()))


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server() -> Response:
    return json_response(authorization_server_metadata(services()))


@bp.get("/oid4vci/offers/<offer_id>")
def offer(offer_id: str) -> Response:
    return _no_store(json_response(offer_document(db(), services(), offer_id)))


@bp.post("/oid4vci/token")
def token() -> Response:
    if request.mimetype != _FORM:
        raise InvalidRequest(f"send the token request as {_FORM} (RFC 6749 §4.1.3)")
    form = request.form
    for name in form:
        if len(form.getlist(name)) > 1:
            # RFC 6749 §3.2: request parameters must not be included more than once.
            raise InvalidRequest(f"the parameter {name!r} is sent more than once")
    response = _no_store(json_response(redeem_code(db(), services(), form.to_dict())))
    # RFC 6749 §5.1: the token response also forbids caching to HTTP/1.0 caches.
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oid4vci/nonce")
def nonce() -> Response:
    return _no_store(json_response(new_nonce(db(), services())))


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _json_body() -> Any:
    if request.mimetype not in _JSON:
        raise InvalidCredentialRequest("send the credential request as application/json")
    try:
        return parse_json(request.get_data(cache=True))
    except InputError as exc:
        raise InvalidCredentialRequest(exc.message) from None


@bp.post("/oid4vci/credential")
def credential() -> Response:
    session, ctx = db(), services()
    # The token is checked first: without one, nothing about the request is answered.
    token = access_of(session, ctx, _bearer())
    return _no_store(json_response(issue_credential(session, ctx, token, _json_body())))
