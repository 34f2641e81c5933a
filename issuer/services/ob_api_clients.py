"""Dynamic client registration for the Open Badges 3.0 API (OB 3.0 §7.1.1, RFC 7591).

A client registers without an initial access token; what it sends is checked against the
rules OB 3.0 lists before anything is stored: every metadata field present, every URL https
and on the client's own host, ``client_secret_basic`` as the only way to authenticate, the
authorization code grant (with refresh tokens) and the ``code`` response type only, and
scopes of this API only. An ``http`` URL is accepted only for a host the operator allowed
(``ISSUER_VERIFY_ALLOW_HOSTS``: tests and private deployments).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.errors import IssuerError
from issuer.net.addresses import Allowlist
from issuer.services.context import ServiceContext
from issuer.services.secret_digest import digest
from issuer.storage.ob_api import ObApiClient

__all__ = ["GRANT_TYPES", "REQUIRED_FIELDS", "SCOPES", "RegistrationRefused", "check_secret",
           "client_by_id", "digest", "register_client"]

SCOPE_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
#: OB 3.0 §6.2.1: the four scopes and what each allows, as the consent page words them.
SCOPES: dict[str, str] = {
    f"{SCOPE_BASE}credential.readonly": "see your badges",
    f"{SCOPE_BASE}credential.upsert": "add badges to your backpack and replace them",
    f"{SCOPE_BASE}profile.readonly": "see your profile (name and email address)",
    f"{SCOPE_BASE}profile.update": "change your profile",
}
GRANT_TYPES = ("authorization_code", "refresh_token")
URL_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
#: OB 3.0 §7.1.1.1: the fields a registration request must carry.
REQUIRED_FIELDS = ("client_name", *URL_FIELDS, "software_id", "software_version",
                   "redirect_uris", "scope")
_MAX_TEXT = 500
_MAX_URL = 2000
_MAX_REDIRECTS = 10


class RegistrationRefused(IssuerError):
    """RFC 7591 §3.2.2: ``error`` is ``invalid_client_metadata`` or ``invalid_redirect_uri``."""

    code = "invalid_client_metadata"

    def __init__(self, message: str, error: str = "invalid_client_metadata") -> None:
        super().__init__(message)
        self.error = error



def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RegistrationRefused(f"{name} is required and must be a non-empty string")
    if len(value) > _MAX_TEXT:
        raise RegistrationRefused(f"{name} may have up to {_MAX_TEXT} characters")
    return value


def _url(ctx: ServiceContext, name: str, value: Any, host: str | None,
         error: str = "invalid_client_metadata") -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_URL:
        raise RegistrationRefused(f"{name} must be a URL", error)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise RegistrationRefused(f"{name} is not a valid URL", error) from None
    if not parts.hostname or any(c.isspace() for c in value):
        raise RegistrationRefused(f"{name} must be an absolute URL", error)
    if parts.fragment and name == "redirect_uris":
        # RFC 6749 §3.1.2: a redirection endpoint has no fragment.
        raise RegistrationRefused("redirect_uris must not have a fragment", error)
    allowed = Allowlist.of(ctx.settings.verify_allow_hosts)
    default_port = 443 if parts.scheme == "https" else 80
    if parts.scheme != "https" and not (
            parts.scheme == "http" and allowed.allows(parts.hostname, port or default_port)):
        raise RegistrationRefused(f"{name} must use https", error)
    if host is not None and parts.hostname.lower() != host:
        raise RegistrationRefused(f"{name} must be on the host of client_uri ({host})", error)
    return value


def validate_metadata(ctx: ServiceContext, data: Any) -> dict[str, Any]:
    """The registered metadata of a request, or RegistrationRefused saying what is wrong."""
    if not isinstance(data, Mapping):
        raise RegistrationRefused("the registration request must be a JSON object")
    if "software_statement" in data:
        raise RegistrationRefused("software statements are not accepted")
    missing = [name for name in REQUIRED_FIELDS if name not in data]
    if missing:
        raise RegistrationRefused(f"missing: {', '.join(missing)}")
    metadata: dict[str, Any] = {
        name: _text(data, name) for name in ("client_name", "software_id", "software_version")
    }
    client_uri = _url(ctx, "client_uri", data["client_uri"], None)
    host = (urlsplit(client_uri).hostname or "").lower()
    metadata["client_uri"] = client_uri
    for name in URL_FIELDS[1:]:
        metadata[name] = _url(ctx, name, data[name], host)
    redirects = data["redirect_uris"]
    if (not isinstance(redirects, list) or not redirects
            or len(redirects) > _MAX_REDIRECTS):
        raise RegistrationRefused(
            f"redirect_uris must be a list of 1 to {_MAX_REDIRECTS} URLs", "invalid_redirect_uri")
    metadata["redirect_uris"] = [
        _url(ctx, "redirect_uris", uri, host, "invalid_redirect_uri") for uri in redirects]
    scope = data["scope"]
    if not isinstance(scope, str) or not scope.split():
        raise RegistrationRefused("scope must name at least one scope")
    unknown = [s for s in scope.split() if s not in SCOPES]
    if unknown:
        raise RegistrationRefused(f"unknown scope: {unknown[0][:200]}")
    metadata["scope"] = " ".join(dict.fromkeys(scope.split()))
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    if method != "client_secret_basic":
        raise RegistrationRefused("token_endpoint_auth_method must be client_secret_basic")
    metadata["token_endpoint_auth_method"] = method
    grants = data.get("grant_types", list(GRANT_TYPES))
    if (not isinstance(grants, list) or not grants
            or any(g not in GRANT_TYPES for g in grants) or "authorization_code" not in grants):
        raise RegistrationRefused(
            "grant_types must be authorization_code, optionally with refresh_token")
    metadata["grant_types"] = list(dict.fromkeys(grants))
    responses = data.get("response_types", ["code"])
    if responses != ["code"]:
        raise RegistrationRefused("response_types must be [\"code\"]")
    metadata["response_types"] = ["code"]
    for name in ("contacts",):
        value = data.get(name)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            metadata[name] = value[:10]
    return metadata


def register_client(session: Session, ctx: ServiceContext,
                    data: Any) -> tuple[ObApiClient, dict[str, Any]]:
    """Store a client for ``data`` and return it with the RFC 7591 §3.2.1 answer (the
    secret appears there only: it is stored as its digest)."""
    metadata = validate_metadata(ctx, data)
    client_id = secrets.token_urlsafe(24)
    secret = secrets.token_urlsafe(32)
    now = ctx.now()
    client = ObApiClient(client_id=client_id, client_secret_hash=digest(secret),
                         client_metadata=metadata, issued_at=now)
    session.add(client)
    session.flush()
    answer = {
        **metadata,
        "client_id": client_id,
        "client_secret": secret,
        "client_id_issued_at": int(now.timestamp()),
        "client_secret_expires_at": 0,
    }
    return client, answer


def client_by_id(session: Session, client_id: Any) -> ObApiClient | None:
    if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
        return None
    return session.scalar(select(ObApiClient).where(ObApiClient.client_id == client_id))


def check_secret(client: ObApiClient, secret: Any) -> bool:
    return isinstance(secret, str) and hmac.compare_digest(client.client_secret_hash,
                                                           digest(secret))
