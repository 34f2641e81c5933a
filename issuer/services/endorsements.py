"""EndorsementCredentials (OB 3.0 §B.1.7): signing them, and endorsements between organisations.

Two uses share the signing here:

* a peer's attestation, signed by the issuer that reviewed it and embedded in the learner's
  AchievementCredential (see :mod:`issuer.services.reviews`);
* one organisation vouching for another issuer or one of its achievements. An issuer hosted
  here signs with its own key; an endorsement signed elsewhere can be pasted in and is kept
  only when it verifies and is about the issuer it is filed under.

Every endorsement shown on a public page is verified again when the page is shown (OB 3.0
§9.2 EndorsementCredential Verification), so a revoked key or a tampered record shows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.credentials import EndorsementCredential, EndorsementSubject
from issuer.core.errors import InputError
from issuer.core.json_input import parse_json
from issuer.core.nodes import issuer_id
from issuer.core.verify import CHECK_TITLES
from issuer.services import audit
from issuer.services.achievements import achievement_id, get_achievement
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.issuers import get_issuer, issuer_did, issuer_url, profile
from issuer.services.signing import SigningRefused, sign_as
from issuer.services.verification import verify
from issuer.storage.learning import Endorsement
from issuer.storage.models import Achievement, Issuer

#: A pasted endorsement is one small JSON document; anything larger is not one.
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_COMMENT = 2000


def sign_endorsement(ctx: ServiceContext, issuer: Issuer, *, credential_id: str, name: str,
                     subject_id: str, comment: str, now: datetime) -> dict[str, Any]:
    """An EndorsementCredential by ``issuer`` about ``subject_id``, signed eddsa-rdfc-2022.

    OB 3.0 §B.1.7 (name required), §B.1.8 EndorsementSubject, §8.3 proof. Raises
    SigningRefused (an Invalid) when it cannot be built or signed; nothing is stored here.
    """
    try:
        document = EndorsementCredential(
            id=credential_id, issuer=profile(ctx, issuer), validFrom=now, name=name,
            credentialSubject=EndorsementSubject(id=subject_id, endorsementComment=comment),
        ).to_json()
    except InputError as exc:
        raise SigningRefused("endorsement", exc) from None
    return sign_as(ctx, issuer, document, now, what="endorsement").document


# --- organisation endorsements ------------------------------------------------------------


def _dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _comment(text: str | None) -> str:
    comment = (text or "").strip()
    if not comment:
        raise Invalid("write what you endorse and why", {"comment": "required"})
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"keep the comment under {MAX_COMMENT} characters", {"comment": "too long"})
    return comment


def endorse(session: Session, ctx: ServiceContext, endorser: Issuer, *, target_slug: str,
            achievement_slug: str | None = None, comment: str, actor: str) -> Endorsement:
    """``endorser`` vouches for another issuer hosted here, or for one of its achievements.

    The subject is the achievement's id, or the issuer's Profile id (its DID), as they appear
    in that issuer's credentials (OB 3.0 §B.1.8). An issuer does not endorse itself.
    """
    text = _comment(comment)
    try:
        target = get_issuer(session, (target_slug or "").strip())
    except NotFound:
        raise Invalid("choose an organisation to endorse", {"target": "unknown"}) from None
    if target.id == endorser.id:
        raise Invalid("an organisation cannot endorse itself or its own badges",
                      {"target": "choose another organisation"})
    achievement: Achievement | None = None
    if achievement_slug:
        try:
            achievement = get_achievement(session, target, achievement_slug)
        except NotFound:
            raise Invalid(f"{target.name} has no badge {achievement_slug!r}",
                          {"target": "unknown badge"}) from None
    subject = achievement_id(ctx, achievement) if achievement else issuer_did(ctx, target)
    about = f"“{achievement.name}” by {target.name}" if achievement else target.name
    now = ctx.now()
    signed = sign_endorsement(
        ctx, endorser, credential_id=f"urn:uuid:{uuid.uuid4()}",
        name=f"Endorsement of {about} by {endorser.name}", subject_id=subject, comment=text,
        now=now)
    row = Endorsement(target_issuer_id=target.id,
                      target_achievement_id=achievement.id if achievement else None,
                      endorser_name=endorser.name[:200], document=_dumps(signed),
                      created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, ctx, actor=actor, action="endorsement.issued", issuer_id=endorser.id,
                 detail={"endorsement_id": row.id, "credential": signed["id"],
                         "target_issuer": target.slug,
                         "target_achievement": achievement.slug if achievement else None})
    return row


def _subject_target(session: Session, ctx: ServiceContext, issuer: Issuer,
                    subject_id: Any) -> tuple[bool, Achievement | None]:
    """Whether the subject is ``issuer`` or one of its achievements, and which achievement."""
    if not isinstance(subject_id, str):
        return False, None
    if subject_id in (issuer_did(ctx, issuer), issuer_url(ctx, issuer.slug)):
        return True, None
    prefix = f"{issuer_url(ctx, issuer.slug)}/achievements/"
    if subject_id.startswith(prefix):
        try:
            return True, get_achievement(session, issuer, subject_id[len(prefix):])
        except NotFound:
            return False, None
    return False, None


def _issuer_name(document: Mapping[str, Any]) -> str:
    value = document.get("issuer")
    if isinstance(value, Mapping):
        name = value.get("name") or value.get("id")
        return str(name) if name else "Unknown organisation"
    return str(value) if isinstance(value, str) else "Unknown organisation"


def import_endorsement(session: Session, ctx: ServiceContext, issuer: Issuer,
                       data: str | bytes, *, actor: str) -> Endorsement:
    """Keep an EndorsementCredential signed elsewhere about ``issuer`` or its achievements.

    It is verified first (OB 3.0 §9.2) and refused unless every check passes: a tampered,
    expired or unverifiable endorsement is never shown as one.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_DOCUMENT_BYTES:
            raise Invalid("that file is too large to be an endorsement", {"document": "too large"})
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("the endorsement must be JSON text", {"document": "not text"}) from None
    text = (data or "").strip()
    if not text:
        raise Invalid("paste an endorsement or choose a file", {"document": "required"})
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise Invalid("that is too large to be an endorsement", {"document": "too large"})
    try:
        document = parse_json(text)
    except InputError as exc:
        raise Invalid(f"the endorsement is not valid JSON: {exc.message}",
                      {"document": "not JSON"}) from None
    if not isinstance(document, dict):
        raise Invalid("an endorsement is one JSON object", {"document": "not an object"})
    types = document.get("type")
    if not (isinstance(types, list) and "EndorsementCredential" in types):
        raise Invalid("this is not an Open Badges EndorsementCredential",
                      {"document": "wrong type"})
    subject = document.get("credentialSubject")
    about_us, achievement = _subject_target(
        session, ctx, issuer, subject.get("id") if isinstance(subject, Mapping) else None)
    if not about_us:
        raise Invalid(f"this endorsement is not about {issuer.name} or one of its badges",
                      {"document": "about someone else"})
    report = verify(session, ctx, document)
    if not report.valid:
        failed = report.failed[0]
        raise Invalid(
            f"the endorsement did not verify ({CHECK_TITLES.get(failed.id, failed.id)}: "
            f"{failed.message}); it was not saved", {"document": "not verified"})
    endorser_did = report.issuer
    if endorser_did == issuer_did(ctx, issuer):
        raise Invalid("an organisation cannot endorse itself", {"document": "self-endorsement"})
    cid = document.get("id")
    for existing in session.scalars(select(Endorsement).where(
            Endorsement.target_issuer_id == issuer.id)):
        if _parsed(existing.document).get("id") == cid:
            raise Conflict("this endorsement is already on file")
    row = Endorsement(target_issuer_id=issuer.id,
                      target_achievement_id=achievement.id if achievement else None,
                      endorser_name=_issuer_name(document)[:200], document=_dumps(document),
                      created_at=ctx.now())
    session.add(row)
    session.flush()
    audit.record(session, ctx, actor=actor, action="endorsement.imported", issuer_id=issuer.id,
                 detail={"endorsement_id": row.id, "credential": cid, "endorser": endorser_did,
                         "target_achievement": achievement.slug if achievement else None})
    return row


def _parsed(document: str) -> dict[str, Any]:
    try:
        value = json.loads(document)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def endorsements_for(session: Session, issuer: Issuer,
                     achievement: Achievement | None = None) -> list[Endorsement]:
    """Endorsements of ``achievement``, or of ``issuer`` itself when no achievement is given."""
    stmt = select(Endorsement).where(Endorsement.target_issuer_id == issuer.id)
    if achievement is None:
        stmt = stmt.where(Endorsement.target_achievement_id.is_(None))
    else:
        stmt = stmt.where(Endorsement.target_achievement_id == achievement.id)
    return list(session.scalars(stmt.order_by(Endorsement.created_at, Endorsement.id)))


def endorsements_received(session: Session, issuer: Issuer) -> list[Endorsement]:
    """Every endorsement of ``issuer`` and of its achievements, newest first."""
    return list(session.scalars(
        select(Endorsement).where(Endorsement.target_issuer_id == issuer.id)
        .order_by(Endorsement.created_at.desc(), Endorsement.id.desc())))


def endorsements_given(session: Session, ctx: ServiceContext,
                       issuer: Issuer) -> list[Endorsement]:
    """Endorsements ``issuer`` signed, found by the issuer id in the signed document."""
    did = issuer_did(ctx, issuer)
    rows = session.scalars(
        select(Endorsement).where(Endorsement.document.contains(json.dumps(did),
                                                                autoescape=True))
        .order_by(Endorsement.created_at.desc(), Endorsement.id.desc()))
    return [r for r in rows if issuer_id(_parsed(r.document)) == did]


@dataclass(frozen=True)
class EndorsementView:
    """What a page shows of one endorsement, with the outcome of verifying it just now."""

    endorser: str
    comment: str | None
    subject_id: str | None
    valid_from: str | None
    verified: bool
    explanation: str
    document: str


def view(session: Session, ctx: ServiceContext, row: Endorsement) -> EndorsementView:
    """Verify ``row`` now and describe it in plain words (OB 3.0 §9.2)."""
    document = _parsed(row.document)
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    report = verify(session, ctx, row.document)
    if report.valid:
        explanation = "Verified: the signature checks out and the endorsement is current."
    else:
        failed = report.failed[0]
        explanation = (f"Not verified — {CHECK_TITLES.get(failed.id, failed.id).lower()}: "
                       f"{failed.message}")
    comment = subject.get("endorsementComment")
    valid_from = document.get("validFrom")
    return EndorsementView(
        endorser=_issuer_name(document) if document else row.endorser_name,
        comment=comment if isinstance(comment, str) else None,
        subject_id=subject.get("id") if isinstance(subject.get("id"), str) else None,
        valid_from=valid_from if isinstance(valid_from, str) else None,
        verified=report.valid, explanation=explanation, document=row.document)


__all__ = ["EndorsementView", "endorse", "endorsements_for", "endorsements_given",
           "endorsements_received", "import_endorsement", "sign_endorsement", "view"]
