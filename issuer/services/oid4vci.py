"""Handing a badge to a wallet by OpenID for Verifiable Credential Issuance 1.0, with the
pre-authorized code flow.

1. :func:`create_offer` makes a credential offer for one award and the link a wallet opens,
   ``openid-credential-offer://?credential_offer_uri=…`` (§4.1, by reference §4.1.3). The
   wallet reads the offer (:func:`offer_document`) and the issuer's metadata
   (:mod:`issuer.services.oid4vci_metadata`).
2. Token endpoint (§6): :func:`redeem_code` trades the single-use pre-authorized code (and
   the transaction code, when the offer has one) for a short-lived Bearer access token.
3. Nonce endpoint (§7): :func:`new_nonce` gives a single-use ``c_nonce``.
4. Credential endpoint (§8): :func:`issue_credential` checks the key proof
   (:mod:`issuer.core.oid4vci_proofs`), uses its nonce up, and issues a copy of the award
   bound to the proven key's DID (:mod:`issuer.services.bound_copies`), as ``ldp_vc`` (Data
   Integrity ``eddsa-rdfc-2022``) or ``jwt_vc_json`` (an OB 3.0 VC-JWT of the same
   credential; the copy's URL serves its Data Integrity form).

The offer id in the link is the capability: the pre-authorized code is derived from it, and
only digests of the offer id, the code, the transaction code, access tokens and nonces are
stored. Errors carry the protocol's own codes (RFC 6749 §5.2, OID4VCI §6.3, §8.3.1.2).
Nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.core.errors import EXIT_INVALID, IssuerError
from issuer.core.oid4vci_proofs import (
    KeyProofError,
    ProvenKey,
    verify_di_vp_proof,
    verify_jwt_proof,
)
from issuer.core.proofs.data_integrity import SuiteContext
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.services.bound_copies import (
    copyable_document,
    ensure_copyable,
    issue_bound_copy,
    unsecured,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.holder_dids import holder_resolver
from issuer.services.issuers import method_id, signing_key
from issuer.services.oid4vci_metadata import (
    CONFIGURATIONS,
    GRANT_TYPE,
    JWT_VC_JSON,
    credential_issuer,
)
from issuer.services.profiles import owned_credential
from issuer.services.secret_digest import digest
from issuer.storage.learning import Learner
from issuer.storage.models import Credential
from issuer.storage.oid4vci import AccessToken, CredentialOffer, Issuance, Nonce

__all__ = [
    "GRANT_TYPE",
    "LIFETIME",
    "NONCE_LIFETIME",
    "TOKEN_LIFETIME",
    "CredentialRequestDenied",
    "InvalidCredentialRequest",
    "InvalidGrant",
    "InvalidNonce",
    "InvalidProof",
    "InvalidRequest",
    "InvalidToken",
    "Offer",
    "ProtocolError",
    "UnknownCredentialConfiguration",
    "UnsupportedGrantType",
    "access_of",
    "create_offer",
    "issue_credential",
    "new_nonce",
    "new_tx_code",
    "offer_document",
    "offer_for_learner",
    "offer_uri",
    "record_wrong_tx_code",
    "redeem_code",
]

#: How long an offer's code may be redeemed: a QR code is scanned within minutes (§13.6).
LIFETIME = timedelta(minutes=15)
TOKEN_LIFETIME = timedelta(minutes=5)
NONCE_LIFETIME = timedelta(minutes=5)
#: Oldest key proof accepted (its ``iat`` or ``created``).
PROOF_MAX_AGE = timedelta(minutes=5)
#: Wrong transaction codes after which an offer is dead: a short code must not be guessed.
MAX_TX_CODE_FAILURES = 5
TX_CODE_LENGTH = 6
#: The longest secret a wallet may send (ours are 43 characters).
_MAX_SECRET = 200
_CODE_LABEL = b"oid4vci pre-authorized_code "


# --- errors in the protocol's own words ----------------------------------------------------


class ProtocolError(IssuerError):
    """An error answered as ``{"error": …, "error_description": …}`` (RFC 6749 §5.2)."""

    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = EXIT_INVALID
    error: ClassVar[str] = "invalid_request"


class InvalidRequest(ProtocolError):
    error = "invalid_request"


class UnsupportedGrantType(ProtocolError):
    error = "unsupported_grant_type"


class InvalidGrant(ProtocolError):
    """RFC 6749 §5.2, OID4VCI §6.3: unknown, expired or used code, or wrong tx_code."""

    error = "invalid_grant"

    def __init__(self, message: str, *, wrong_tx_code_of: int | None = None) -> None:
        super().__init__(message)
        #: The offer whose transaction code was wrong: the failure must be counted.
        self.wrong_tx_code_of = wrong_tx_code_of


class InvalidToken(ProtocolError):
    """RFC 6750 §3.1: a missing, unknown or expired access token (401)."""

    http_status = 401
    error = "invalid_token"

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        #: No token was sent at all: RFC 6750 §3.1 then names no error in the challenge.
        self.missing = missing


class InvalidCredentialRequest(ProtocolError):
    error = "invalid_credential_request"


class UnknownCredentialConfiguration(ProtocolError):
    error = "unknown_credential_configuration"


class InvalidProof(ProtocolError):
    error = "invalid_proof"


class InvalidNonce(ProtocolError):
    """OID4VCI §8.3.1.2: the proof's nonce is not a live one; get a fresh one (§7)."""

    error = "invalid_nonce"


class CredentialRequestDenied(ProtocolError):
    error = "credential_request_denied"


# --- digests -------------------------------------------------------------------------------



def _code_of(offer_id: str) -> str:
    """The pre-authorized code of an offer, derived from its id: both are in the offer any
    holder of the link reads, so neither needs storing."""
    return hashlib.sha256(_CODE_LABEL + offer_id.encode("utf-8")).hexdigest()


def _tx_digest(code: str, tx_code: str) -> str:
    # Keyed by the code, which is not stored: a short transaction code cannot be found from
    # the database alone.
    return hmac.new(code.encode("utf-8"), tx_code.encode("utf-8"), hashlib.sha256).hexdigest()


# --- offers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A fresh credential offer."""

    offer_id: str
    #: ``openid-credential-offer://?credential_offer_uri=…``: what a QR code carries.
    link: str
    #: Where the wallet reads the offer.
    offer_uri: str
    pre_authorized_code: str
    tx_code: str | None
    expires_at: datetime
    credential_id: str


def offer_uri(ctx: ServiceContext, offer_id: str) -> str:
    return f"{ctx.base}/oid4vci/offers/{offer_id}"


def new_tx_code() -> str:
    """A random numeric transaction code, to be sent to the learner by another channel."""
    return "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))


def create_offer(session: Session, ctx: ServiceContext, credential: Credential, *,
                 tx_code: str | None = None, created_by: str | None = None) -> Offer:
    """A new single-use offer of ``credential`` for :data:`LIFETIME` (OID4VCI §4.1.1).

    ``tx_code``, when given, is the transaction code (§4.1.1 ``tx_code``) the wallet must
    send with the pre-authorized code: digits are asked for with a numeric keypad.
    """
    ensure_copyable(session, credential, ctx.now())
    if tx_code is not None:
        tx_code = tx_code.strip()
        if not tx_code or len(tx_code) > 32 or not tx_code.isascii() or not tx_code.isprintable():
            raise Invalid("the transaction code must be 1 to 32 printable characters",
                          {"tx_code": "1 to 32 printable characters"})
    offer_id = secrets.token_urlsafe(32)
    code = _code_of(offer_id)
    now = ctx.now()
    row = CredentialOffer(
        offer_hash=digest(offer_id), code_hash=digest(code), credential_id=credential.id,
        tx_code_hash=_tx_digest(code, tx_code) if tx_code else None,
        tx_code_length=len(tx_code) if tx_code else None,
        tx_code_input_mode=(("numeric" if tx_code.isdigit() else "text") if tx_code
                            else None),
        created_by=created_by, created_at=now, expires_at=now + LIFETIME)
    session.add(row)
    session.flush()
    uri = offer_uri(ctx, offer_id)
    return Offer(offer_id=offer_id,
                 link="openid-credential-offer://?credential_offer_uri=" + quote(uri, safe=""),
                 offer_uri=uri, pre_authorized_code=code, tx_code=tx_code,
                 expires_at=row.expires_at, credential_id=credential.id)


def offer_for_learner(session: Session, ctx: ServiceContext, learner: Learner,
                      credential_id: str) -> Offer:
    """An offer of one of ``learner``'s own badges; another's answers as a missing one."""
    credential = owned_credential(session, learner, credential_id)
    if credential is None:
        raise NotFound("no such badge")
    return create_offer(session, ctx, credential, created_by="learner")


def offer_document(session: Session, ctx: ServiceContext, offer_id: str) -> dict[str, Any]:
    """The Credential Offer (§4.1.1) served at its URI; an unknown, used or expired offer is
    answered as missing."""
    if not offer_id or len(offer_id) > _MAX_SECRET:
        raise NotFound("no such credential offer")
    row = session.scalar(select(CredentialOffer).where(
        CredentialOffer.offer_hash == digest(offer_id)))
    if row is None or row.redeemed_at is not None or row.expires_at <= ctx.now():
        raise NotFound("no such credential offer, or it was used or has expired")
    grant: dict[str, Any] = {"pre-authorized_code": _code_of(offer_id)}
    if row.tx_code_hash is not None:
        grant["tx_code"] = {
            "length": row.tx_code_length,
            "input_mode": row.tx_code_input_mode,
            "description": "Enter the code you were given with this badge offer.",
        }
    return {
        "credential_issuer": credential_issuer(ctx),
        "credential_configuration_ids": list(CONFIGURATIONS),
        "grants": {GRANT_TYPE: grant},
    }


# --- token endpoint ------------------------------------------------------------------------


def _secret(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_SECRET:
        raise InvalidRequest(f"'{name}' is not valid")
    return value


def redeem_code(session: Session, ctx: ServiceContext,
                form: Mapping[str, Any]) -> dict[str, Any]:
    """Token Request with the pre-authorized code grant (§6.1) → Token Response (§6.2)."""
    grant_type = _secret(form, "grant_type")
    if grant_type is None:
        raise InvalidRequest("'grant_type' is missing")
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantType(f"only the grant type {GRANT_TYPE} is supported")
    code = _secret(form, "pre-authorized_code")
    if code is None:
        raise InvalidRequest("'pre-authorized_code' is missing")
    tx_code = _secret(form, "tx_code")
    row = session.scalar(select(CredentialOffer).where(
        CredentialOffer.code_hash == digest(code)))
    now = ctx.now()
    if row is None:
        raise InvalidGrant("the pre-authorized code is not valid")
    if row.redeemed_at is not None:
        raise InvalidGrant("the pre-authorized code has been used already")
    if row.expires_at <= now:
        raise InvalidGrant("the pre-authorized code has expired")
    if row.tx_code_hash is None and tx_code is not None:
        raise InvalidRequest("this offer has no transaction code; do not send 'tx_code'")
    if row.tx_code_hash is not None:
        if tx_code is None:
            raise InvalidRequest("this offer needs its transaction code ('tx_code')")
        if row.failed_tx_codes >= MAX_TX_CODE_FAILURES:
            raise InvalidGrant("too many wrong transaction codes: ask for a new offer")
        if not hmac.compare_digest(row.tx_code_hash, _tx_digest(code, tx_code)):
            raise InvalidGrant("the transaction code is wrong", wrong_tx_code_of=row.id)
    # The condition makes the code single-use even when two requests race: one update wins.
    used = session.execute(
        update(CredentialOffer)
        .where(CredentialOffer.id == row.id, CredentialOffer.redeemed_at.is_(None))
        .values(redeemed_at=now).execution_options(synchronize_session=False))
    if getattr(used, "rowcount", 0) != 1:
        raise InvalidGrant("the pre-authorized code has been used already")
    token = secrets.token_urlsafe(32)
    session.add(AccessToken(token_hash=digest(token), offer_id=row.id, created_at=now,
                            expires_at=now + TOKEN_LIFETIME))
    session.flush()
    return {"access_token": token, "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds())}


def record_wrong_tx_code(session: Session, offer_row_id: int) -> None:
    """Count a wrong transaction code; kept even though the request is refused."""
    session.execute(update(CredentialOffer).where(CredentialOffer.id == offer_row_id)
                    .values(failed_tx_codes=CredentialOffer.failed_tx_codes + 1)
                    .execution_options(synchronize_session=False))


# --- nonce endpoint ------------------------------------------------------------------------


def new_nonce(session: Session, ctx: ServiceContext) -> dict[str, str]:
    """Nonce Response (§7.2): a fresh single-use ``c_nonce``; expired ones are cleared."""
    now = ctx.now()
    session.execute(delete(Nonce).where(Nonce.expires_at < now)
                    .execution_options(synchronize_session=False))
    nonce = secrets.token_urlsafe(32)
    session.add(Nonce(nonce_hash=digest(nonce), created_at=now,
                      expires_at=now + NONCE_LIFETIME))
    session.flush()
    return {"c_nonce": nonce}


def _use_nonce(session: Session, nonce: str, now: datetime) -> None:
    if len(nonce) > _MAX_SECRET:
        raise InvalidNonce("the proof's nonce is not one this issuer gave")
    used = session.execute(
        update(Nonce)
        .where(Nonce.nonce_hash == digest(nonce), Nonce.used_at.is_(None),
               Nonce.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if getattr(used, "rowcount", 0) != 1:
        raise InvalidNonce("the proof's nonce is unknown, used or expired: get a fresh one "
                           "from the nonce endpoint")


# --- credential endpoint -------------------------------------------------------------------


def access_of(session: Session, ctx: ServiceContext, token: str | None) -> AccessToken:
    """The live access token a credential request carries (RFC 6750 §2.1), or invalid_token."""
    if not token:
        raise InvalidToken("a Bearer access token from the token endpoint is required",
                           missing=True)
    if len(token) > _MAX_SECRET:
        raise InvalidToken("the access token is unknown or has expired")
    row = session.scalar(select(AccessToken).where(AccessToken.token_hash == digest(token)))
    if row is None or row.expires_at <= ctx.now():
        raise InvalidToken("the access token is unknown or has expired")
    return row


def _one_proof(body: Mapping[str, Any], configuration_id: str) -> tuple[str, Any]:
    proofs = body.get("proofs")
    if "proof" in body:
        raise InvalidCredentialRequest("send key proofs in 'proofs' (OID4VCI 1.0), not 'proof'")
    if not isinstance(proofs, Mapping) or len(proofs) != 1:
        raise InvalidProof("'proofs' must be an object with one proof type")
    ((proof_type, values),) = proofs.items()
    allowed = CONFIGURATIONS[configuration_id]["proof_types_supported"]
    if proof_type not in allowed:
        raise InvalidProof(f"{configuration_id} accepts the proof types "
                           + ", ".join(sorted(allowed)))
    if not isinstance(values, list) or len(values) != 1:
        raise InvalidProof("send exactly one key proof: this issuer issues one credential "
                           "per request")
    return proof_type, values[0]


def _verify_proof(ctx: ServiceContext, proof_type: str, proof: Any) -> ProvenKey:
    audience = credential_issuer(ctx)
    now = ctx.now()
    resolver = holder_resolver(ctx)
    try:
        if proof_type == "jwt":
            proven = verify_jwt_proof(proof, audience=audience, now=now,
                                      max_age=PROOF_MAX_AGE, resolver=resolver)
        else:
            proven = verify_di_vp_proof(proof, domain=audience, now=now,
                                        max_age=PROOF_MAX_AGE,
                                        ctx=SuiteContext(loader=ctx.loader, budget=ctx.budget),
                                        resolver=resolver)
    except KeyProofError as exc:
        raise InvalidProof(exc.message) from None
    if proven.nonce is None:
        raise InvalidProof("the key proof must carry a c_nonce from the nonce endpoint")
    return proven


def issue_credential(session: Session, ctx: ServiceContext, token: AccessToken,
                     body: Any) -> dict[str, Any]:
    """Credential Request (§8.2) → Credential Response (§8.3) with one credential, for the
    access token :func:`access_of` found."""
    if not isinstance(body, Mapping):
        raise InvalidCredentialRequest("the credential request must be a JSON object")
    if "credential_identifier" in body:
        raise InvalidCredentialRequest("this issuer gives no credential identifiers; name "
                                       "a 'credential_configuration_id'")
    configuration_id = body.get("credential_configuration_id")
    if not isinstance(configuration_id, str):
        raise InvalidCredentialRequest("'credential_configuration_id' is missing")
    if configuration_id not in CONFIGURATIONS:
        raise UnknownCredentialConfiguration(
            "unknown credential configuration; this issuer offers " + ", ".join(CONFIGURATIONS))
    proof_type, proof = _one_proof(body, configuration_id)
    proven = _verify_proof(ctx, proof_type, proof)
    now = ctx.now()
    _use_nonce(session, proven.nonce or "", now)
    original = token.offer.credential
    session.refresh(original, ["status"])
    try:
        copyable_document(original, now)
    except Conflict as exc:
        raise CredentialRequestDenied(exc.message) from None
    record = Issuance(token_id=token.id, configuration_id=configuration_id,
                      credential_id=original.id, holder_did=proven.holder, issued_at=now)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        raise InvalidCredentialRequest(
            f"a {configuration_id} credential was issued for this access token already") from None
    copy = issue_bound_copy(session, ctx, original, proven.holder, now,
                            created_by=f"wallet {proven.holder}")
    record.issued_credential_id = copy.id
    session.flush()
    return {"credentials": [{"credential": _delivered(ctx, copy, configuration_id)}]}


def _delivered(ctx: ServiceContext, copy: Credential, configuration_id: str) -> Any:
    if configuration_id != JWT_VC_JSON:
        return json.loads(copy.document)
    key_row, key = signing_key(ctx, copy.issuer)
    return sign_ob_vc_jwt(unsecured(copy), key, kid=method_id(ctx, key_row))
