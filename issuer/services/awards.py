"""Awarding a badge: build the OB 3.0 AchievementCredential, sign it, store it byte for byte."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from issuer.core.credentials import (
    AchievementCredential,
    AchievementSubject,
    Evidence,
    IdentityObject,
    Result,
    ResultDescription,
    hashed_email,
    normalize_email,
)
from issuer.core.errors import InputError
from issuer.services.achievements import achievement_builder
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, NotFound
from issuer.services.issuers import profile
from issuer.services.signing import DEFAULT_SUITE, sign_as
from issuer.services.status_lists import Slot, reserved
from issuer.storage.models import Achievement, Credential, Issuer

EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$")


def credential_url(ctx: ServiceContext, credential_id: str) -> str:
    return f"{ctx.base}/credentials/{credential_id}"


@dataclass(frozen=True)
class Recipient:
    """Who receives the badge: an email (hashed in the credential) or a DID, and a name."""

    email: str | None = None
    did: str | None = None
    name: str | None = None

    @classmethod
    def parse(cls, identity: str, name: str | None = None) -> Recipient:
        identity = (identity or "").strip()
        name = (name or "").strip() or None
        if name is not None and len(name) > 200:
            raise Invalid("the recipient's name is too long", {"recipient_name": "too long"})
        if identity.startswith("did:"):
            if not DID.match(identity) or len(identity) > 500:
                raise Invalid(f"{identity!r} is not a valid DID", {"recipient": "invalid DID"})
            return cls(did=identity, name=name)
        if EMAIL.match(identity) and len(identity) <= 320:
            return cls(email=normalize_email(identity), name=name)
        raise Invalid("the recipient must be an email address or a DID",
                      {"recipient": "email address or DID"})


@dataclass(frozen=True)
class EvidenceItem:
    url: str | None = None
    name: str | None = None
    narrative: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


@dataclass(frozen=True)
class AwardRequest:
    recipient: Recipient
    evidence: Sequence[EvidenceItem] = ()
    narrative: str | None = None
    valid_until: datetime | None = None
    result: Sequence[Mapping[str, Any]] = ()
    #: Academic credits (OB 3.0 §B.1.3 ``creditsEarned``, "generally in semester or quarter
    #: credit hours"); CPD hours are a ``result`` instead.
    credits_earned: float | None = None
    #: OB 3.0 §B.1.3 ``activityStartDate`` / ``activityEndDate``: when the learning happened,
    #: as against ``awardedDate``, when the issuer attests to it.
    activity_start: datetime | None = None
    activity_end: datetime | None = None
    endorsements: Sequence[Mapping[str, Any]] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: ResultDescriptions (OB 3.0 §B.1.17) added to this credential's copy of the achievement,
    #: so that each ``result`` can name the description it answers.
    result_descriptions: Sequence[Mapping[str, Any]] = ()


def _subject_identity(recipient: Recipient) -> tuple[str | None, tuple[IdentityObject, ...]]:
    identifiers: list[IdentityObject] = []
    if recipient.email:
        identifiers.append(hashed_email(recipient.email))
    if recipient.name:
        # OB 3.0 §B.1.12: a display name travels as a plain (unhashed) "name" identifier.
        identifiers.append(IdentityObject(identityHash=recipient.name, identityType="name",
                                          hashed=False))
    return recipient.did, tuple(identifiers)


def build_credential(ctx: ServiceContext, issuer: Issuer, achievement: Achievement,
                     request: AwardRequest, credential_id: str,
                     now: datetime,
                     credential_status: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    subject_id, identifiers = _subject_identity(request.recipient)
    try:
        evidence = tuple(
            Evidence(id=e.url, name=e.name, narrative=e.narrative, description=e.description,
                     genre=e.genre, audience=e.audience)
            for e in request.evidence
        )
        results = tuple(Result(**dict(r)) for r in request.result)
        described = achievement_builder(ctx, achievement)
        if request.result_descriptions:
            described = replace(described, resultDescription=tuple(
                ResultDescription(**dict(r)) for r in request.result_descriptions))
        subject = AchievementSubject(
            achievement=described,
            id=subject_id,
            identifier=identifiers,
            result=results,
            creditsEarned=request.credits_earned,
            activityStartDate=request.activity_start,
            activityEndDate=request.activity_end,
            narrative=request.narrative,
        )
        credential = AchievementCredential(
            id=credential_url(ctx, credential_id),
            issuer=profile(ctx, issuer),
            validFrom=now,
            validUntil=request.valid_until,
            awardedDate=now,
            name=achievement.name,
            description=achievement.description,
            credentialSubject=subject,
            evidence=evidence,
            endorsement=tuple(request.endorsements),
            credentialStatus=tuple(credential_status),
        )
    except InputError as exc:
        raise Invalid(exc.message) from None
    except TypeError as exc:
        raise Invalid(f"the award could not be built: {exc}") from None
    return credential.to_json()


def award(
    session: Session,
    ctx: ServiceContext,
    issuer: Issuer,
    achievement: Achievement,
    request: AwardRequest,
    *,
    actor: str | None = None,
    credential_id: str | None = None,
    bulk_job_id: int | None = None,
    flush: bool = True,
    slot: Slot | None = None,
    add: bool = True,
) -> Credential:
    """Issue one AchievementCredential signed with eddsa-rdfc-2022 (OB 3.0 §8.3).

    It carries revocation and suspension entries (W3C Bitstring Status List §2.1), taken
    in the same transaction before signing. Nothing is stored unless signing succeeds (a
    refused award gives its status index back); the caller commits. With ``flush=False``
    the row is written at once with one INSERT and not kept in the session (an answer that
    only reads what was written needs no unit of work).
    ``slot`` is a status index the caller allocated already (a bulk award allocates a
    batch's at once); if the award is refused, the slot stays unused and the caller's.
    With ``add=False`` the row is not put in the session at all: the caller writes it with
    :func:`write_credentials` (a bulk award writes a batch with one statement).
    """
    if achievement.issuer_id != issuer.id:
        raise NotFound("that achievement belongs to another issuer")
    now = ctx.now()
    if request.valid_until is not None and request.valid_until <= now:
        raise Invalid("the expiry date must be in the future", {"valid_until": "in the past"})
    credential_id = credential_id or str(uuid.uuid4())
    given = nullcontext(slot) if slot is not None else reserved(session, ctx, issuer)
    with given as taken:
        return _issue(session, ctx, issuer, achievement, request, taken,
                      credential_id=credential_id, now=now, actor=actor,
                      bulk_job_id=bulk_job_id, flush=flush, add=add)


def _issue(session: Session, ctx: ServiceContext, issuer: Issuer, achievement: Achievement,
           request: AwardRequest, slot: Slot, *, credential_id: str, now: datetime,
           actor: str | None, bulk_job_id: int | None, flush: bool, add: bool) -> Credential:
    """Build, sign and add the credential that holds ``slot``'s status entries."""
    document = build_credential(ctx, issuer, achievement, request, credential_id, now,
                                slot.entries)
    signed = sign_as(ctx, issuer, document, now)
    row = Credential(
        id=credential_id,
        issuer_id=issuer.id,
        achievement_id=achievement.id,
        signing_key_id=signed.key.id,
        recipient_name=request.recipient.name,
        recipient_email=request.recipient.email,
        recipient_did=request.recipient.did,
        achievement_name=achievement.name,
        proof_format=DEFAULT_SUITE,
        document=json.dumps(signed.document, ensure_ascii=False, separators=(",", ":")),
        issued_at=now,
        valid_until=request.valid_until,
        bulk_job_id=bulk_job_id,
        created_by=actor,
        status_allocation_id=slot.allocation_id,
    )
    if add and flush:
        session.add(row)
        session.flush()
    elif add:
        insert_credential(session, row)
    return row


def insert_credential(session: Session, row: Credential) -> None:
    """Write ``row`` with one INSERT in the session's transaction, leaving it out of the
    session: the unit of work would cost more than the row does to write. The rows it refers
    to (issuer, achievement, key, status index) must be stored already; ``row`` then holds
    what was written, for an answer that only reads it."""
    session.connection().execute(_CREDENTIALS.insert(), _column_values(row))


def write_credentials(session: Session, rows: Sequence[Credential]) -> None:
    """Insert credentials made with ``award(add=False)`` in one statement (an executemany).

    The unit of work spends more on fifty objects than the database does on fifty rows; the
    rows are written as they are, the columns they leave unset taking their defaults.
    """
    if rows:
        session.execute(insert(Credential), [_column_values(row) for row in rows])


def _column_values(row: Credential) -> dict[str, Any]:
    state = row.__dict__
    return {key: state[key] for key in _COLUMN_KEYS if key in state}


_COLUMN_KEYS = tuple(attribute.key for attribute in sa_inspect(Credential).column_attrs)
_CREDENTIALS = Credential.__table__


def get_credential(session: Session, credential_id: str) -> Credential:
    try:
        uuid.UUID(credential_id)
    except (ValueError, TypeError):
        raise NotFound("no such credential") from None
    row = session.get(Credential, credential_id)
    if row is None:
        raise NotFound("no such credential")
    return row


def search_credentials(session: Session, issuer: Issuer, query: str | None = None,
                       limit: int = 50, offset: int = 0) -> Sequence[Credential]:
    stmt = select(Credential).where(Credential.issuer_id == issuer.id)
    if query:
        # % and _ typed by a user are literal characters, not wildcards.
        escaped = (query.strip().lower().replace("\\", "\\\\").replace("%", "\\%")
                   .replace("_", "\\_"))
        like = f"%{escaped}%"
        stmt = stmt.where(or_(
            Credential.recipient_email.ilike(like, escape="\\"),
            Credential.recipient_name.ilike(like, escape="\\"),
            Credential.recipient_did.ilike(like, escape="\\"),
            Credential.achievement_name.ilike(like, escape="\\"),
            Credential.id.ilike(like, escape="\\"),
        ))
    stmt = stmt.order_by(Credential.issued_at.desc(), Credential.id).limit(limit).offset(offset)
    return session.scalars(stmt).all()
