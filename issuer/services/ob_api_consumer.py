""""Send to my backpack": this service as an Open Badges 3.0 API Service Consumer (Write),
OB 3.0 §6.2.3 and §7.

The learner names a host. Its service description document is read (OB 3.0 §7.1.1), this
service registers there once (RFC 7591) asking only for ``credential.upsert``, sends the
learner to the host's authorization URL with a fresh ``state`` and PKCE S256 challenge, and
when the learner comes back with a code, exchanges it (``client_secret_basic``) and stores
the badge with upsertCredential. Every request to the host goes through the guarded
fetcher's rules (:mod:`issuer.net`); every failure is said in plain words.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.core.errors import InputError, IssuerError
from issuer.core.json_input import parse_json
from issuer.net.addresses import Allowlist
from issuer.net.fetcher import FetchError, fetcher_for
from issuer.net.sending import Sent, send
from issuer.services.context import ServiceContext
from issuer.services.ob_api_clients import SCOPE_BASE
from issuer.services.profiles import owned_credential
from issuer.services.secret_digest import digest
from issuer.storage.learning import Learner
from issuer.storage.models import Credential
from issuer.storage.ob_api import RemoteHost, SendRequest

__all__ = ["CALLBACK_PATH", "SEND_TTL", "SendFailed", "Started", "discovery_url", "finish_send",
           "start_send"]

UPSERT = SCOPE_BASE + "credential.upsert"
CALLBACK_PATH = "/learn/backpack/send/callback"
#: How long the host's authorization may take.
SEND_TTL = timedelta(minutes=30)
#: How long the host may take to store the badge: it verifies it first, which may mean
#: fetching documents from the issuer (its status lists).
UPSERT_TIMEOUT = 30.0
SOFTWARE_ID = "2f1b9d0e-8c47-4a53-b1d6-6c0f3e5a9b21"
_MAX_HOST = 500


class SendFailed(IssuerError):
    """The badge was not sent; the message says why in plain words."""

    code = "send-failed"
    http_status = 400


@dataclass(frozen=True)
class Started:
    """Where to send the learner's browser: the host's authorization URL."""

    authorization_url: str
    host: RemoteHost


def discovery_url(address: str) -> str:
    """The discovery URL for what a learner typed: a site (``https://backpack.example``),
    its API base, or the discovery URL itself (OB 3.0 §6.3: ``…/ims/ob/v3p0/discovery``)."""
    text = (address or "").strip()
    if not text or len(text) > _MAX_HOST or any(c.isspace() for c in text):
        raise SendFailed("Enter the address of your backpack, like https://backpack.example.")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        raise SendFailed("That is not a web address.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise SendFailed("Enter a web address like https://backpack.example.")
    path = parts.path.rstrip("/")
    if path.endswith("/discovery"):
        pass
    elif path.endswith("/ims/ob/v3p0"):
        path += "/discovery"
    else:
        path += "/ims/ob/v3p0/discovery"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _json(sent: Sent, what: str) -> dict[str, Any]:
    try:
        value = parse_json(sent.body)
    except InputError:
        raise SendFailed(f"The backpack's {what} is not JSON.") from None
    if not isinstance(value, dict):
        raise SendFailed(f"The backpack's {what} is not a JSON object.")
    return value


def _read_discovery(ctx: ServiceContext, url: str) -> dict[str, Any]:
    fetcher = fetcher_for(ctx.settings)
    if fetcher is None:
        raise SendFailed("This service works offline (ISSUER_VERIFY_OFFLINE), so it cannot "
                         "reach your backpack.")
    try:
        document = fetcher.json(url)
    except FetchError as exc:
        raise SendFailed(f"Your backpack could not be reached: {exc.message}") from None
    if document is None:
        raise SendFailed("There is no Open Badges API at that address (its discovery "
                         "document was not found).")
    return dict(document)


def _secure(ctx: ServiceContext, url: str) -> bool:
    """https, or http to a host the operator allowed (ISSUER_VERIFY_ALLOW_HOSTS)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and Allowlist.of(ctx.settings.verify_allow_hosts).allows(
        parts.hostname, port or 80)


def _endpoints(ctx: ServiceContext, document: Mapping[str, Any],
               url: str) -> dict[str, str]:
    """The registration, authorization and token URLs the document names (OB 3.0 §7.1.1)."""
    try:
        scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
        flow = scheme["flows"]["authorizationCode"]
        found = {"registration": scheme["x-imssf-registrationUrl"],
                 "authorization": flow["authorizationUrl"], "token": flow["tokenUrl"]}
        scopes = flow.get("scopes", {})
    except (KeyError, TypeError):
        raise SendFailed("The backpack's discovery document does not say how to connect "
                         "(no OAuth 2.0 authorization code flow).") from None
    if not all(isinstance(v, str) and _secure(ctx, v) for v in found.values()):
        raise SendFailed("The backpack's discovery document names addresses that are not "
                         "https web addresses.")
    if isinstance(scopes, Mapping) and scopes and UPSERT not in scopes:
        raise SendFailed("That backpack does not accept badges from other services.")
    servers = document.get("servers")
    base = servers[0].get("url") if isinstance(servers, list) and servers \
        and isinstance(servers[0], Mapping) else None
    found["api"] = base if isinstance(base, str) and _secure(ctx, base) \
        else url.rsplit("/discovery", 1)[0]
    return found


def _registration(ctx: ServiceContext) -> dict[str, Any]:
    base = ctx.base
    return {
        "client_name": f"Open Badges issuer at {urlsplit(base).netloc}",
        "client_uri": f"{base}/",
        "logo_uri": f"{base}/ims/ob/v3p0/logo.svg",
        "tos_uri": f"{base}/ims/ob/v3p0/terms",
        "policy_uri": f"{base}/ims/ob/v3p0/terms#privacy",
        "software_id": SOFTWARE_ID,
        "software_version": "1.0",
        "redirect_uris": [base + CALLBACK_PATH],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": UPSERT,
    }


def _host(session: Session, ctx: ServiceContext, url: str) -> RemoteHost:
    """This service's registration at the host of ``url``, registering first if need be."""
    key = digest(url)
    known = session.scalar(select(RemoteHost).where(RemoteHost.discovery_key == key))
    if known is not None:
        return known
    document = _read_discovery(ctx, url)
    endpoints = _endpoints(ctx, document, url)
    answer = _send(ctx, "POST", endpoints["registration"],
                   body=json.dumps(_registration(ctx)).encode(),
                   headers={"Content-Type": "application/json",
                            "Accept": "application/json"})
    if answer.status not in (200, 201):
        said = _json(answer, "answer").get("error_description") if answer.body else None
        raise SendFailed("Your backpack refused to register this service"
                         + (f": {str(said)[:200]}" if said else f" (HTTP {answer.status})."))
    registered = _json(answer, "registration answer")
    client_id, secret = registered.get("client_id"), registered.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str):
        raise SendFailed("Your backpack's registration answer has no client id and secret.")
    info = document.get("info")
    title = info.get("title") if isinstance(info, Mapping) else None
    host = RemoteHost(discovery_url=url, discovery_key=key, api_base=endpoints["api"],
                      authorization_url=endpoints["authorization"],
                      token_url=endpoints["token"], client_id=client_id,
                      client_secret=secret, registered_at=ctx.now(),
                      title=str(title)[:500] if isinstance(title, str) else None)
    session.add(host)
    session.flush()
    return host


def _send(ctx: ServiceContext, method: str, url: str, **kwargs: Any) -> Sent:
    fetcher = fetcher_for(ctx.settings)
    if fetcher is None:
        raise SendFailed("This service works offline, so it cannot reach your backpack.")
    try:
        return send(fetcher, method, url, **kwargs)
    except FetchError as exc:
        raise SendFailed(f"Your backpack could not be reached: {exc.message}") from None


def _owned(session: Session, learner: Learner, credential_id: str) -> Credential:
    credential = owned_credential(session, learner, credential_id)
    if credential is None:
        raise SendFailed("You have no such badge.")
    return credential


def start_send(session: Session, ctx: ServiceContext, learner: Learner, credential_id: str,
               address: str) -> Started:
    """Begin sending one of the learner's badges to the host at ``address``."""
    credential_id = _owned(session, learner, credential_id).id
    host = _host(session, ctx, discovery_url(address))
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
    now = ctx.now()
    session.add(SendRequest(state_hash=digest(state), code_verifier=verifier,
                            learner_id=learner.id, credential_id=credential_id,
                            host_id=host.id, created_at=now, expires_at=now + SEND_TTL))
    session.flush()
    query = urlencode({"response_type": "code", "client_id": host.client_id,
                       "redirect_uri": ctx.base + CALLBACK_PATH, "scope": UPSERT,
                       "state": state, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    separator = "&" if "?" in host.authorization_url else "?"
    return Started(f"{host.authorization_url}{separator}{query}", host)


def finish_send(session: Session, ctx: ServiceContext, learner: Learner, *,
                state: str | None, code: str | None, error: str | None) -> str:
    """Complete a send when the host's authorization comes back; the plain-words outcome.

    The request is spent once (a replayed callback does nothing); a refusal by the learner
    or the host, a failed token exchange or a refused upsert raise SendFailed.
    """
    if not state or len(state) > 200:
        raise SendFailed("This link back from your backpack is incomplete.")
    request = session.scalar(select(SendRequest).where(SendRequest.state_hash == digest(state)))
    if request is None or request.learner_id != learner.id:
        raise SendFailed("This link back from your backpack is not one this service made.")
    spent = session.execute(
        update(SendRequest).where(SendRequest.id == request.id,
                                  SendRequest.finished_at.is_(None))
        .values(finished_at=ctx.now()).execution_options(synchronize_session=False))
    if getattr(spent, "rowcount", 0) != 1:
        raise SendFailed("This badge was already sent, or sending it was stopped.")
    if request.expires_at <= ctx.now():
        raise SendFailed("Sending took too long. Start again.")
    if error or not code:
        raise SendFailed("Nothing was sent: the backpack was not allowed to receive it."
                         if error == "access_denied" else
                         f"Your backpack refused the request ({(error or 'no code')[:100]}).")
    host = request.host
    basic = base64.b64encode(f"{host.client_id}:{host.client_secret}".encode()).decode()
    token_answer = _send(ctx, "POST", host.token_url, body=urlencode({
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": ctx.base + CALLBACK_PATH, "code_verifier": request.code_verifier,
        "scope": UPSERT}).encode(), headers={
        "Authorization": f"Basic {basic}", "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded"})
    if token_answer.status != 200:
        raise SendFailed(f"Your backpack did not give access (HTTP {token_answer.status}).")
    access = _json(token_answer, "token answer").get("access_token")
    if not isinstance(access, str) or not access:
        raise SendFailed("Your backpack's token answer has no access token.")
    credential = session.get(Credential, request.credential_id)
    if credential is None:
        raise SendFailed("That badge no longer exists.")
    jws = not credential.document.lstrip().startswith("{")
    stored = _send(ctx, "POST", f"{host.api_base}/credentials",
                   body=credential.document.encode("utf-8"),
                   headers={"Authorization": f"Bearer {access}", "Accept": "application/json",
                            "Content-Type": "text/plain" if jws else "application/json"},
                   timeout=max(UPSERT_TIMEOUT, ctx.settings.verify_timeout))
    return _outcome(stored, host)


def _outcome(stored: Sent, host: RemoteHost) -> str:
    where = host.title or urlsplit(host.api_base).netloc
    if stored.status == 201:
        return f"Your badge is now in your backpack at {where}."
    if stored.status == 200:
        return f"Your backpack at {where} already had this badge; it was updated."
    if stored.status == 304:
        return f"Your backpack at {where} already has this badge, unchanged."
    description = None
    if stored.media_type == "application/json" and stored.body:
        try:
            body = json.loads(stored.body)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("imsx_description"), str):
            description = body["imsx_description"][:300]
    reason = {401: "it did not accept this service's access",
              403: "it does not accept this badge for your account",
              413: "the badge is larger than it accepts"}.get(stored.status)
    detail = description or reason or f"HTTP {stored.status}"
    raise SendFailed(f"Your backpack at {where} did not store the badge: {detail}.")
