"""Claims: a learner asks an issuer for an achievement and brings the evidence.

States (see ``issuer.storage.learning.Claim``)::

    draft → submitted → (returned → submitted)* → approved | rejected
    draft | submitted | returned → withdrawn   (the learner gives up; a new claim may start)

Evidence can change only while the claim is with the learner (draft or returned). Each item
is private unless the learner marks it public: private items are seen only by the learner and
the issuer's reviewers (USERS.md §3.13: evidence URLs can expose the learner). Every change
writes an audit row in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from issuer.services import audit
from issuer.services.claim_policy import closed_to_claims, is_open, policy_for
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from issuer.services.evidence_files import check_file
from issuer.services.reviews import maybe_auto_approve
from issuer.storage.learning import Attestation, Claim, EvidenceRecord, Learner
from issuer.storage.models import Achievement, Issuer, Membership, User

#: The learner can still change the claim.
EDITABLE = ("draft", "returned")
#: Not decided yet: peers may still attest, the learner may withdraw.
OPEN = ("draft", "submitted", "returned")
#: A learner holds at most one claim per achievement in these states.
BLOCKING = (*OPEN, "approved")

STATUS_WORDS = {
    "draft": "Draft — not sent for review yet",
    "submitted": "Waiting for review",
    "returned": "Returned to you for changes",
    "approved": "Approved",
    "rejected": "Not approved",
    "withdrawn": "Withdrawn",
}

MAX_EVIDENCE_ITEMS = 20
MAX_CPD_HOURS = Decimal(1000)
LIMITS = {"statement": 5000, "title": 300, "narrative": 10000, "url": 1000,
          "cpd_category": 100, "reflection": 5000, "practice_change": 5000,
          "framework_reference": 300}


@dataclass(frozen=True)
class Progress:
    """Peer attestations given so far against what the achievement's policy requires."""

    given: int
    required: int

    @property
    def complete(self) -> bool:
        return self.given >= self.required


@dataclass(frozen=True)
class EvidenceInput:
    """One evidence item as the learner typed it; checked by :func:`add_evidence`."""

    url: str | None = None
    title: str | None = None
    narrative: str | None = None
    activity_date: str | date | None = None
    activity_end_date: str | date | None = None
    cpd_hours: str | float | None = None
    participatory_hours: str | float | None = None
    cpd_category: str | None = None
    reflection: str | None = None
    practice_change: str | None = None
    framework_reference: str | None = None
    public: bool = False
    file_name: str | None = None
    file_data: bytes | None = None


def learner_label(learner: Learner) -> str:
    """How a learner is named to peers: the display name they chose, or nothing personal."""
    return learner.display_name or "a learner"


# --- reading -------------------------------------------------------------------------------


def claimable(session: Session) -> list[tuple[Issuer, list[Achievement]]]:
    """Issuers with the achievements learners may claim, by issuer name then badge name."""
    rows = session.scalars(
        select(Achievement).join(Issuer, Issuer.id == Achievement.issuer_id)
        .where(Achievement.id.not_in(closed_to_claims()))
        .order_by(Issuer.name, Achievement.name))
    grouped: dict[int, tuple[Issuer, list[Achievement]]] = {}
    for achievement in rows:
        grouped.setdefault(achievement.issuer_id, (achievement.issuer, []))[1].append(
            achievement)
    return list(grouped.values())


def find_achievement(session: Session, issuer_slug: str, achievement_slug: str) -> Achievement:
    achievement = session.scalar(
        select(Achievement).join(Issuer, Issuer.id == Achievement.issuer_id)
        .where(Issuer.slug == (issuer_slug or ""), Achievement.slug == (achievement_slug or "")))
    if achievement is None:
        raise NotFound("There is no such badge.")
    return achievement


def claims_of(session: Session, learner: Learner) -> list[Claim]:
    """The learner's claims, newest first."""
    return list(session.scalars(select(Claim).where(Claim.learner_id == learner.id)
                                .order_by(Claim.created_at.desc(), Claim.id.desc())))


def active_claim(session: Session, learner: Learner, achievement: Achievement) -> Claim | None:
    """The learner's undecided or approved claim for this achievement, if any."""
    return session.scalar(select(Claim).where(
        Claim.learner_id == learner.id, Claim.achievement_id == achievement.id,
        Claim.status.in_(BLOCKING)).order_by(Claim.id.desc()).limit(1))


def find_claim(session: Session, public_id: str) -> Claim:
    """Any claim by its public id; callers check who may see it."""
    claim = session.scalar(select(Claim).where(Claim.public_id == (public_id or "")))
    if claim is None:
        raise NotFound("There is no such claim.")
    return claim


def own_claim(session: Session, learner: Learner, public_id: str) -> Claim:
    """A claim of this learner; anybody else's claim does not exist for them (404)."""
    claim = session.scalar(select(Claim).where(Claim.public_id == (public_id or "")))
    if claim is None or claim.learner_id != learner.id:
        raise NotFound("There is no such claim among yours.")
    return claim


def progress(session: Session, claim: Claim) -> Progress:
    given = session.scalar(select(func.count()).select_from(Attestation)
                           .where(Attestation.claim_id == claim.id)) or 0
    required = policy_for(session, claim.achievement).attestations_required
    return Progress(given=int(given), required=required)


def cpd_hours(claim: Claim) -> float:
    """The CPD hours of a claim: the sum over its evidence items."""
    return round(sum(item.cpd_hours or 0.0 for item in claim.evidence), 1)


def evidence_item(session: Session, claim: Claim, evidence_id: int) -> EvidenceRecord:
    item = session.get(EvidenceRecord, evidence_id)
    if item is None or item.claim_id != claim.id:
        raise NotFound("There is no such evidence on this claim.")
    return item


def is_reviewer(session: Session, user: User | None, claim: Claim) -> bool:
    """Staff of the claim's issuer review it; staff of other issuers see nothing."""
    if user is None:
        return False
    return session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.issuer_id == claim.issuer_id)) is not None


def evidence_file(session: Session, claim: Claim, evidence_id: int, *,
                  learner: Learner | None, user: User | None) -> EvidenceRecord:
    """An evidence file for its owner or the issuer's reviewers only, public or not."""
    if not ((learner is not None and learner.id == claim.learner_id)
            or is_reviewer(session, user, claim)):
        raise NotFound("There is no such file.")
    item = evidence_item(session, claim, evidence_id)
    if item.sha256 is None:
        raise NotFound("This evidence has no file.")
    return item


def _text(value: Any, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = "must be text"
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > LIMITS[name]:
        errors[name] = f"at most {LIMITS[name]} characters"
        return None
    return value


def _url(value: Any, errors: dict[str, str]) -> str | None:
    text = _text(value, "url", errors)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(
            ch.isspace() for ch in text):
        errors["url"] = "use a web address starting with http:// or https://"
        return None
    return text


def _date(value: Any, ctx: ServiceContext, errors: dict[str, str],
          name: str = "activity_date") -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            errors[name] = "use a date such as 2025-03-31"
            return None
    # "Today" somewhere on Earth: the learner's calendar may be up to 14 hours ahead of UTC.
    if day > (ctx.now() + timedelta(hours=14)).date():
        errors[name] = "the date cannot be in the future"
        return None
    return day


def _hours(value: Any, errors: dict[str, str], name: str = "cpd_hours") -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        hours = Decimal(str(value).strip())
    except InvalidOperation:
        errors[name] = "use a number of hours such as 1.5"
        return None
    if not hours.is_finite() or hours <= 0 or hours > MAX_CPD_HOURS:
        errors[name] = "hours must be more than 0 and at most 1000"
        return None
    if hours != hours.quantize(Decimal("0.1")):
        errors[name] = "use at most one decimal place, such as 1.5"
        return None
    return float(hours)


def _check_cpd(start: date | None, end: date | None, hours: float | None,
               participatory: float | None, errors: dict[str, str]) -> None:
    """The rules a CPD log entry keeps: an end date needs a start and cannot come before it;
    participatory hours are part of the hours, so never more than them."""
    if end is not None and "activity_date" not in errors:
        if start is None:
            errors["activity_date"] = "give the first day of the activity too"
        elif end < start:
            errors["activity_end_date"] = "the last day cannot come before the first"
    if participatory is not None and "cpd_hours" not in errors:
        if hours is None:
            errors["cpd_hours"] = "give the CPD hours the participatory hours are part of"
        elif participatory > hours:
            errors["participatory_hours"] = "at most the CPD hours"


def _require(claim: Claim, learner: Learner, states: tuple[str, ...], doing: str) -> None:
    if claim.learner_id != learner.id:
        raise NotFound("There is no such claim among yours.")
    if claim.status not in states:
        raise Conflict(f"You cannot {doing} now: the claim is "
                       f"{STATUS_WORDS.get(claim.status, claim.status).lower()}.")


def _move(session: Session, claim: Claim, states: tuple[str, ...], status: str,
          **values: Any) -> None:
    """Change the status only if nobody (a reviewer) changed it meanwhile."""
    result = session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.status.in_(states))
        .values(status=status, **values).execution_options(synchronize_session=False))
    session.refresh(claim)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The claim changed meanwhile: it is now "
                       f"{STATUS_WORDS.get(claim.status, claim.status).lower()}.")


def _log(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim, action: str,
         **detail: Any) -> None:
    audit.record(session, ctx, actor=audit.learner_actor(learner.email), action=action,
                 issuer_id=claim.issuer_id, claim_id=claim.id, detail=detail)


#: Longest name the badge carries for its recipient.
MAX_RECIPIENT_NAME = 200


def start_claim(session: Session, ctx: ServiceContext, learner: Learner,
                achievement: Achievement, *, statement: str | None = None,
                recipient_name: str | None = None) -> Claim:
    """Open a draft claim for an achievement that accepts claims.

    ``recipient_name`` is the name the badge will be awarded to; it is the learner's profile
    name, which the credential carries as an unhashed ``name`` identifier of its subject
    (OB 3.0 §B.1.12 IdentityObject). None keeps the profile name as it is.
    """
    if not is_open(session, achievement):
        raise PermissionDenied("This badge is not open to claims.")
    if active_claim(session, learner, achievement) is not None:
        raise Conflict("You already have a claim for this badge.")
    errors: dict[str, str] = {}
    text = _text(statement, "statement", errors)
    name = " ".join((recipient_name or "").split()) or None
    if recipient_name is not None and name is None:
        errors["recipient_name"] = "give the name the badge should be awarded to"
    elif name is not None and len(name) > MAX_RECIPIENT_NAME:
        errors["recipient_name"] = f"at most {MAX_RECIPIENT_NAME} characters"
    if errors:
        raise Invalid("Please check your claim.", errors)
    if name is not None and name != learner.display_name:
        learner.display_name = name
    claim = Claim(public_id=str(uuid.uuid4()), learner_id=learner.id,
                  issuer_id=achievement.issuer_id, achievement_id=achievement.id,
                  status="draft", statement=text, created_at=ctx.now())
    session.add(claim)
    session.flush()
    _log(session, ctx, learner, claim, "claim.started", achievement=achievement.slug)
    return claim


def set_statement(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
                  statement: str | None) -> None:
    _require(claim, learner, EDITABLE, "change the statement")
    errors: dict[str, str] = {}
    text = _text(statement, "statement", errors)
    if errors:
        raise Invalid("Please check your statement.", errors)
    claim.statement = text
    session.flush()
    _log(session, ctx, learner, claim, "claim.statement_changed")


def add_evidence(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
                 item: EvidenceInput) -> EvidenceRecord:
    """Check every field, then store the item (and its file) in one piece, or nothing."""
    _require(claim, learner, EDITABLE, "add evidence")
    if len(claim.evidence) >= MAX_EVIDENCE_ITEMS:
        raise Invalid(f"A claim can have at most {MAX_EVIDENCE_ITEMS} evidence items.")
    errors: dict[str, str] = {}
    url = _url(item.url, errors)
    title = _text(item.title, "title", errors)
    narrative = _text(item.narrative, "narrative", errors)
    day = _date(item.activity_date, ctx, errors)
    end = _date(item.activity_end_date, ctx, errors, "activity_end_date")
    hours = _hours(item.cpd_hours, errors)
    participatory = _hours(item.participatory_hours, errors, "participatory_hours")
    category = _text(item.cpd_category, "cpd_category", errors)
    reflection = _text(item.reflection, "reflection", errors)
    practice_change = _text(item.practice_change, "practice_change", errors)
    framework = _text(item.framework_reference, "framework_reference", errors)
    _check_cpd(day, end, hours, participatory, errors)
    checked = None
    if item.file_data:
        try:
            checked = check_file(ctx, item.file_name, item.file_data)
        except Invalid as exc:
            errors.update(exc.fields)
            if len(errors) == 1:
                raise
    if not errors and url is None and narrative is None and checked is None:
        errors["url"] = "give a web address, a description or a file"
        raise Invalid("Evidence needs at least a web address, a description or a file.",
                      errors)
    if errors:
        raise Invalid("Please check the evidence: " + "; ".join(
            f"{name.replace('_', ' ')}: {message}" for name, message in errors.items()), errors)
    record = EvidenceRecord(
        claim=claim, url=url, title=title, narrative=narrative, activity_date=day,
        activity_end_date=end, cpd_hours=hours, participatory_hours=participatory,
        cpd_category=category, reflection=reflection, practice_change=practice_change,
        framework_reference=framework, public=bool(item.public),
        created_at=ctx.now(),
        file_name=checked.name if checked else None,
        media_type=checked.media_type if checked else None,
        file_data=checked.data if checked else None,
        sha256=checked.sha256 if checked else None)
    session.add(record)
    session.flush()
    _log(session, ctx, learner, claim, "evidence.added", evidence_id=record.id,
         public=record.public, sha256=record.sha256, cpd_hours=hours)
    return record


def remove_evidence(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
                    evidence_id: int) -> None:
    _require(claim, learner, EDITABLE, "remove evidence")
    record = evidence_item(session, claim, evidence_id)
    claim.evidence.remove(record)
    session.flush()
    _log(session, ctx, learner, claim, "evidence.removed", evidence_id=evidence_id)


def submit_claim(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim) -> None:
    """Send the claim for review; peers may still attest while it waits."""
    _require(claim, learner, EDITABLE, "submit the claim")
    if not claim.evidence:
        raise Invalid("Add at least one piece of evidence before you submit the claim.",
                      {"evidence": "add at least one item"})
    _move(session, claim, EDITABLE, "submitted", submitted_at=ctx.now())
    state = progress(session, claim)
    _log(session, ctx, learner, claim, "claim.submitted", attestations=state.given,
         attestations_required=state.required)
    # With an automatic policy the claim may be complete already (attestations came first).
    maybe_auto_approve(session, ctx, claim)


def withdraw_claim(session: Session, ctx: ServiceContext, learner: Learner,
                   claim: Claim) -> None:
    """The learner takes the claim back for good; peers can no longer attest to it."""
    _require(claim, learner, OPEN, "withdraw the claim")
    previous = claim.status
    _move(session, claim, OPEN, "withdrawn")
    _log(session, ctx, learner, claim, "claim.withdrawn", previous=previous)
