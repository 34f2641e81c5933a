"""The OAuth 2.0 authorization server of the Open Badges 3.0 API (OB 3.0 §7), built on
Authlib: the authorization code grant with PKCE S256 required of every client, confidential
ones included (RFC 7636, OB 3.0 §7.1.2), refresh tokens that are replaced on each use
(RFC 6749 §6), token revocation (RFC 7009) and dynamic client registration without an
initial access token (RFC 7591, OB 3.0 §7.1.1).

Authlib decides the protocol; the rows live in :mod:`issuer.storage.ob_api` and are written
through :mod:`issuer.services.ob_api_clients` and :mod:`issuer.services.ob_api_tokens` in
the request's unit of work. Requests are seen at the configured public address
(``ISSUER_BASE_URL``), never at the Host header a client sent: that is the address clients
registered against, and OAuth 2.0 refuses it unless it is https (or a loopback address).
"""

from __future__ import annotations

from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import (
    FlaskJsonPayload,
    FlaskJsonRequest,
    FlaskOAuth2Payload,
    FlaskOAuth2Request,
)
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InsecureTransportError,
    InvalidGrantError,
    InvalidRequestError,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError
from authlib.oauth2.rfc7591.errors import InvalidRedirectURIError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import current_app, request

from issuer.services import ob_api_clients, ob_api_tokens
from issuer.services.ob_api_clients import SCOPES, RegistrationRefused
from issuer.storage.learning import Learner
from issuer.storage.ob_api import ObApiAuthorizationCode, ObApiClient, ObApiToken
from issuer.web.context import db, keep, services

__all__ = ["Client", "authorization_server", "insecure"]

EXTENSION = "issuer.ob_api"


class Client(ClientMixin):  # type: ignore[misc]
    """A registered client as Authlib asks about it."""

    def __init__(self, row: ObApiClient) -> None:
        self.row = row
        self.metadata: dict[str, Any] = row.client_metadata

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OB 3.0 §7.1.2 makes redirect_uri a required parameter: there is no default.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        asked = (scope or "").split()
        allowed = set(str(self.metadata.get("scope", "")).split())
        if not asked or any(s not in allowed for s in asked):
            return None
        return " ".join(dict.fromkeys(asked))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.metadata.get("redirect_uris", [])

    def check_client_secret(self, client_secret: str) -> bool:
        return ob_api_clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.metadata.get("grant_types", [])


class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: ObApiAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Token(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: ObApiToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.row.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= services().now()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 on every authorization request (OB 3.0 §7.1.2: "MUST be used")."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's attribute

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge "
                                      "(code_challenge_method=S256)")
        if payload.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]  # noqa: RUF012

    @staticmethod
    def validate_authorization_redirect_uri(oauth_request: Any, client: Client) -> str:
        uri = oauth_request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("redirect_uri is required")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("redirect_uri is not one the client registered")
        return str(uri)

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        if not self.request.payload.state:
            # OB 3.0 §7.1.2: state is required (the client's protection against CSRF).
            raise InvalidRequestError("state is required", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, oauth_request: Any) -> None:
        data = oauth_request.payload.data
        ob_api_tokens.save_code(
            db(), services(), client=oauth_request.client.row, learner=oauth_request.user,
            code=code, redirect_uri=oauth_request.payload.redirect_uri,
            scope=oauth_request.scope, code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"])

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        ctx = services()
        row = ob_api_tokens.find_code(db(), ctx, client.row, code)
        if row is None:
            return None
        if row.used_at is not None:
            # RFC 6749 §4.1.2: a code used twice is refused, and what it gave is revoked,
            # also though this answer is an error (which writes nothing else).
            code_id = row.id
            keep(lambda session: ob_api_tokens.revoke_code_tokens(session, ctx, code_id))
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        if not ob_api_tokens.spend_code(db(), services(), authorization_code.row):
            raise InvalidGrantError("the authorization code was already used")

    def authenticate_user(self, authorization_code: Code) -> Learner | None:
        return db().get(Learner, authorization_code.row.learner_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = ob_api_tokens.find_refresh_token(db(), services(), refresh_token)
        return Token(row) if row is not None else None

    def authenticate_user(self, refresh_token: Token) -> Learner | None:
        return db().get(Learner, refresh_token.row.learner_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        ob_api_tokens.revoke_token(db(), services(), refresh_token.row)


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        row = ob_api_tokens.find_token(db(), token_string, token_type_hint)
        return Token(row) if row is not None else None

    def revoke_token(self, token: Token, oauth_request: Any) -> None:
        ob_api_tokens.revoke_token(db(), services(), token.row)


class Registration(ClientRegistrationEndpoint):  # type: ignore[misc]
    """RFC 7591 without an initial access token: anyone may register (OB 3.0 §7.1.1)."""

    def authenticate_token(self, oauth_request: Any) -> bool:
        return True

    def extract_client_metadata(self, oauth_request: Any) -> dict[str, Any]:
        try:
            return ob_api_clients.validate_metadata(services(), oauth_request.payload.data)
        except RegistrationRefused as exc:
            described = _described(exc.message)
            if exc.error == "invalid_redirect_uri":
                raise InvalidRedirectURIError(described) from None
            raise InvalidClientMetadataError(described) from None

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any],
                    oauth_request: Any) -> ObApiClient:
        row = ObApiClient(client_id=client_info["client_id"],
                          client_secret_hash=ob_api_clients.digest(client_info["client_secret"]),
                          client_metadata=client_metadata, issued_at=services().now())
        db().add(row)
        db().flush()
        return row

    def get_server_metadata(self) -> dict[str, Any]:
        return {}


def _described(text: str) -> str:
    """RFC 6749 §5.2: an error_description holds printable ASCII other than " and \\."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "'" if c == '"'
                   else "?" for c in text)


def _public_url() -> str:
    return services().base + request.full_path.rstrip("?")


class _PublicRequest(FlaskOAuth2Request):  # type: ignore[misc]
    def __init__(self, flask_request: Any) -> None:
        super(FlaskOAuth2Request, self).__init__(
            method=flask_request.method, uri=_public_url(), headers=flask_request.headers)
        self._request = flask_request
        self.payload = FlaskOAuth2Payload(flask_request)


class _PublicJsonRequest(FlaskJsonRequest):  # type: ignore[misc]
    def __init__(self, flask_request: Any) -> None:
        super(FlaskJsonRequest, self).__init__(flask_request.method, _public_url(),
                                               flask_request.headers)
        self.payload = FlaskJsonPayload(flask_request)


class Server(AuthorizationServer):  # type: ignore[misc]
    def create_oauth2_request(self, oauth_request: Any) -> Any:
        return _PublicRequest(request)

    def create_json_request(self, oauth_request: Any) -> Any:
        return _PublicJsonRequest(request)


def _query_client(client_id: str) -> Client | None:
    row = ob_api_clients.client_by_id(db(), client_id)
    return Client(row) if row is not None else None


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    code = getattr(oauth_request, "authorization_code", None)
    old = getattr(oauth_request, "refresh_token", None)
    code_id = (code.row.id if isinstance(code, Code)
               else old.row.authorization_code_id if isinstance(old, Token) else None)
    ob_api_tokens.save_token(db(), services(), client=oauth_request.client.row,
                             learner=oauth_request.user, token=token, code_id=code_id)


def _build() -> Server:
    server = Server(query_client=_query_client, save_token=_save_token)
    server.scopes_supported = list(SCOPES)
    server.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=lambda **_: _token(42),
        refresh_token_generator=lambda **_: _token(48),
        expires_generator=lambda client, grant_type: int(
            ob_api_tokens.ACCESS_TTL.total_seconds()),
    ))
    server.register_grant(AuthorizationCodeGrant, [S256Required(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration)
    return server


def _token(length: int) -> str:
    return str(generate_token(length))


def insecure() -> InsecureTransportError | None:
    """The refusal every OAuth 2.0 endpoint answers when this service's public address is
    plain http on a host other than a loopback one (RFC 6749 §3.1, §3.2: TLS is required);
    None when it is served as OAuth 2.0 needs."""
    try:
        InsecureTransportError.check(_public_url())
    except InsecureTransportError as error:
        error.description = ("OAuth 2.0 needs https: this service's address "
                             "(ISSUER_BASE_URL) is plain http")
        return error
    return None


def authorization_server() -> Server:
    """This app's server, built on first use (nothing is built at import time)."""
    server = current_app.extensions.get(EXTENSION)
    if server is None:
        server = current_app.extensions[EXTENSION] = _build()
    return server
