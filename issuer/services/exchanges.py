"""Handing a badge to a wallet through a VC API exchange, as the Learner Credential Wallet does.

The flow (W3C CCG VC API, "Exchanges"; Verifiable Presentation Request v0.2):

1. :func:`start_exchange` makes a single-use exchange with a short lifetime for one
   credential and the links a wallet opens: ``https://lcw.app/request.html?…`` (the wallet's
   direct form: it posts its DID authentication to ``vc_request_url`` with the ``challenge``
   given) and ``dccrequest://request?request=…`` (whose ``protocols.vcapi`` is the exchange).
2. ``POST /exchanges/<id>`` with ``{}``: :func:`presentation_request` answers a
   ``DIDAuthentication`` query with a challenge, this service's origin as domain, and the
   transaction endpoint under ``interact.service`` (UnmediatedPresentationService2021).
3. ``POST /exchanges/<id>/<tx>`` (or straight to ``/exchanges/<id>``) with the wallet's
   presentation: :func:`complete_exchange` verifies it (:mod:`issuer.core.didauth`), uses the
   exchange up, and issues a copy of the badge whose ``credentialSubject.id`` is the wallet's
   DID, signed by the issuer, with status entries of its own
   (:func:`issuer.services.bound_copies.issue_bound_copy`, as OpenID4VCI makes them).
   The copy is a credential of its own; revoking or suspending the original does the same
   to it (:mod:`issuer.services.revocation` asks :func:`issuer.services.bound_copies.copies_of`).

The exchange id is a bearer capability, so only its SHA-256 is stored; the challenge is the
transaction id of step 3, as the wallet expects. Nothing here commits.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.core.didauth import verify_did_auth
from issuer.services.bound_copies import (
    WalletCopy,
    ensure_copyable,
    issue_bound_copy,
    wallet_copies,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Gone, Invalid, NotFound
from issuer.services.holder_dids import holder_resolver
from issuer.services.profiles import owned_credential
from issuer.services.secret_digest import digest
from issuer.storage.learning import Learner
from issuer.storage.models import Credential
from issuer.storage.wallets import WalletExchange

__all__ = [
    "LIFETIME",
    "LearnerWallet",
    "StartedExchange",
    "complete_exchange",
    "exchange_copies",
    "interaction",
    "presentation_request",
    "start_exchange",
    "start_for_learner",
    "wallet_page_url",
]

#: How long a wallet has to answer: a QR code is scanned within minutes, and a leaked link
#: is worth nothing after that.
LIFETIME = timedelta(minutes=15)
PENDING = "pending"
COMPLETED = "completed"
#: Who started an exchange from the learner's own pages or email.
LEARNER = "learner"
LCW_REQUEST = "https://lcw.app/request.html"
#: The largest identifier a wallet may send in a path (ours are 43 characters).
_MAX_ID = 100


@dataclass(frozen=True)
class StartedExchange:
    """A fresh exchange and every address a wallet may start from."""

    exchange_id: str
    challenge: str
    expires_at: datetime
    credential_id: str
    #: ``POST`` here: ``{}`` asks for the request, a presentation completes the exchange.
    exchange_url: str
    #: The Learner Credential Wallet's direct deep link.
    lcw_link: str
    #: The ``dccrequest://`` deep link (credentialRequestOrigin and protocols.vcapi).
    dcc_link: str
    #: ``GET`` here: the protocols this exchange speaks.
    interaction_url: str


@dataclass(frozen=True)
class LearnerWallet:
    """What the learner's "Add to wallet" page shows."""

    started: StartedExchange
    credential: Credential



def origin(ctx: ServiceContext) -> str:
    """This service's origin (RFC 6454 §6.2), the domain a wallet's proof is bound to."""
    parts = urlsplit(ctx.base)
    return f"{parts.scheme}://{parts.netloc}"


def exchange_url(ctx: ServiceContext, exchange_id: str) -> str:
    return f"{ctx.base}/exchanges/{exchange_id}"


def wallet_page_url(ctx: ServiceContext, credential_id: str) -> str:
    """The recipient's "Add to wallet" page, which starts an exchange once they sign in
    (the badge mail links here: an exchange itself would expire before it is read)."""
    return f"{ctx.base}/learn/wallet/{credential_id}"


def _links(ctx: ServiceContext, exchange_id: str, challenge: str) -> dict[str, str]:
    endpoint = exchange_url(ctx, exchange_id)
    lcw = LCW_REQUEST + "?" + urlencode({
        "issuer": urlsplit(ctx.base).netloc,
        "auth_type": "bearer",
        "challenge": challenge,
        "vc_request_url": endpoint,
    })
    request = json.dumps({"credentialRequestOrigin": origin(ctx),
                          "protocols": {"vcapi": endpoint}}, separators=(",", ":"))
    return {
        "exchange_url": endpoint,
        "lcw_link": lcw,
        "dcc_link": "dccrequest://request?request=" + quote(request, safe=""),
        "interaction_url": f"{endpoint}?iuv=1",
    }


# --- starting ------------------------------------------------------------------------------


def start_exchange(session: Session, ctx: ServiceContext, credential: Credential, *,
                   started_by: str | None) -> StartedExchange:
    """A new single-use exchange for ``credential``, valid for :data:`LIFETIME`."""
    ensure_copyable(session, credential, ctx.now())
    exchange_id = secrets.token_urlsafe(32)
    challenge = secrets.token_urlsafe(32)
    now = ctx.now()
    row = WalletExchange(exchange_hash=digest(exchange_id), credential_id=credential.id,
                         challenge=challenge, started_by=started_by, state=PENDING,
                         created_at=now, expires_at=now + LIFETIME)
    session.add(row)
    session.flush()
    return StartedExchange(exchange_id=exchange_id, challenge=challenge,
                           expires_at=row.expires_at, credential_id=credential.id,
                           **_links(ctx, exchange_id, challenge))


def start_for_learner(session: Session, ctx: ServiceContext, learner: Learner,
                      credential_id: str) -> LearnerWallet:
    """An exchange for one of ``learner``'s own badges; another's answers as a missing one."""
    credential = owned_credential(session, learner, credential_id)
    if credential is None:
        raise NotFound("no such badge")
    return LearnerWallet(started=start_exchange(session, ctx, credential, started_by=LEARNER),
                         credential=credential)


# --- the wallet's side ---------------------------------------------------------------------


def _open(session: Session, ctx: ServiceContext, exchange_id: str) -> WalletExchange:
    if not exchange_id or len(exchange_id) > _MAX_ID:
        raise NotFound("no such exchange")
    row = session.scalar(select(WalletExchange).where(
        WalletExchange.exchange_hash == digest(exchange_id)))
    if row is None:
        raise NotFound("no such exchange")
    if row.state != PENDING:
        raise Gone("this exchange has been used already; start a new one from the badge")
    if row.expires_at <= ctx.now():
        raise Gone("this exchange has expired; start a new one from the badge")
    return row


def interaction(session: Session, ctx: ServiceContext, exchange_id: str) -> dict[str, Any]:
    """The interaction URL's answer (``?iuv=1``): the protocols the exchange speaks."""
    _open(session, ctx, exchange_id)
    return {"protocols": {"vcapi": exchange_url(ctx, exchange_id)}}


def presentation_request(session: Session, ctx: ServiceContext,
                         exchange_id: str) -> dict[str, Any]:
    """VC API exchange step one: a Verifiable Presentation Request (VPR v0.2 §3.2 DID
    Authentication) naming the challenge, the domain and where to answer."""
    row = _open(session, ctx, exchange_id)
    return {"verifiablePresentationRequest": {
        "query": [{"type": "DIDAuthentication"}],
        "challenge": row.challenge,
        "domain": origin(ctx),
        "interact": {"service": [{
            "type": "UnmediatedPresentationService2021",
            "serviceEndpoint": f"{exchange_url(ctx, exchange_id)}/{row.challenge}",
        }]},
    }}


def _presentation(body: Any) -> Mapping[str, Any]:
    """The wallet's presentation, sent bare or as ``{"verifiablePresentation": …}``."""
    if not isinstance(body, Mapping):
        raise Invalid("send the DID authentication presentation as a JSON object")
    wrapped = body.get("verifiablePresentation")
    if wrapped is not None:
        if not isinstance(wrapped, Mapping):
            raise Invalid("verifiablePresentation must be a JSON object",
                          {"verifiablePresentation": "not an object"})
        return wrapped
    return body


def complete_exchange(session: Session, ctx: ServiceContext, exchange_id: str,
                      transaction: str | None, body: Any) -> dict[str, Any]:
    """VC API exchange step two: verify the wallet's DID authentication, use the exchange
    up, and answer with the DID-bound copy in a presentation.

    ``transaction`` is the path's transaction id (None when the wallet posted to the
    exchange itself, with the challenge of the link). 404 unknown, 410 used or expired,
    422 a presentation that does not authenticate a DID for this exchange.
    """
    row = _open(session, ctx, exchange_id)
    if transaction is not None and not secrets.compare_digest(transaction, row.challenge):
        raise NotFound("no such transaction in this exchange")
    proven = verify_did_auth(_presentation(body), challenge=row.challenge,
                             domain=origin(ctx), loader=ctx.loader, budget=ctx.budget,
                             now=ctx.now(), resolver=holder_resolver(ctx))
    now = ctx.now()
    # The state in the WHERE clause makes the exchange single-use even when two answers
    # arrive at once: only one update matches.
    used = session.execute(
        update(WalletExchange)
        .where(WalletExchange.id == row.id, WalletExchange.state == PENDING)
        .values(state=COMPLETED, used_at=now, holder_did=proven.holder)
        .execution_options(synchronize_session=False))
    if getattr(used, "rowcount", 0) != 1:
        raise Gone("this exchange has been used already; start a new one from the badge")
    original = session.get(Credential, row.credential_id)
    if original is None:  # the foreign key cascades, so only a race gets here
        raise NotFound("the badge of this exchange no longer exists")
    session.refresh(original, ["status"])
    copy = issue_bound_copy(session, ctx, original, proven.holder, now,
                            created_by=f"wallet {proven.holder}")
    session.execute(update(WalletExchange).where(WalletExchange.id == row.id)
                    .values(issued_credential_id=copy.id)
                    .execution_options(synchronize_session=False))
    session.flush()
    return {"verifiablePresentation": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [json.loads(copy.document)],
    }}


# --- what other use cases ask ----------------------------------------------------------------


def exchange_copies(session: Session, credential: Credential) -> list[WalletCopy]:
    """Who received a copy of ``credential``, for the staff page: wallets of either
    protocol, since revoking the badge revokes them all."""
    return wallet_copies(session, credential)
