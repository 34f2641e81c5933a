"""Reviewing claims: the review queue and the three decisions.

Approval turns a claim into a signed OB 3.0 AchievementCredential in one transaction: the
learner's evidence as Evidence objects (§B.1.9); what the peer attestations add up to as
Results (§B.1.16) with their ResultDescriptions (§B.1.17)
(:mod:`issuer.services.attestation_results`); the CPD hours as ``RawScore`` Results and the
activity's first and last day as ``activityStartDate`` / ``activityEndDate`` (§B.1.3); and
every peer attestation as an EndorsementCredential (§B.1.7) signed by the issuer and
embedded in ``endorsement`` (:mod:`issuer.services.attestation_endorsements`). The hours are
not ``creditsEarned``: that field counts academic credits ("generally in semester or quarter
credit hours", §B.1.3), which CPD hours are not. The credential's ``validFrom`` and
``awardedDate`` are the day of approval, when the issuer attests to the learning. Evidence the
learner kept private appears only as a digest (USERS.md §3.13). What a claim needs before it
is approved is its achievement's policy (:mod:`issuer.services.claim_policy`).

Organisation endorsements of the achievement are not copied into new credentials: they live
on the achievement's public page, where they are verified when shown, and credentials stay
small.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session, object_session

from issuer.services import audit
from issuer.services.achievements import achievement_id
from issuer.services.attestation_endorsements import endorsements_of
from issuer.services.attestation_results import attestation_results, scaffolding_level
from issuer.services.attestation_scaffolding import level_words
from issuer.services.award_mail import queue_award_mail
from issuer.services.awards import AwardRequest, EvidenceItem, Recipient, award
from issuer.services.claim_policy import policies_for, policy_for
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.mail import render_mail, send_mail
from issuer.services.measures import measure_blocker
from issuer.services.trace_provenance import evidence_traces
from issuer.storage.learning import (
    Attestation,
    AuditEvent,
    Claim,
    EvidenceRecord,
    LearnerBadge,
)
from issuer.storage.models import Credential, Issuer

log = logging.getLogger(__name__)

MAX_COMMENT = 5000
#: The claim states a reviewer sees; drafts are the learner's own until submitted.
REVIEW_STATUSES = ("submitted", "returned", "approved", "rejected")
AUTO_COMMENT = "Approved automatically: the required peer attestations are in."
SYSTEM = "system"
EVIDENCE_GENRE = "Informal learning"


# --- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    """One claim in the review queue, with its attestation progress."""

    claim: Claim
    attestations: int
    required: int
    automatic: bool

    @property
    def complete(self) -> bool:
        return self.attestations >= self.required


def peer_attestations(claim: Claim) -> list[Attestation]:
    """The attestations that count: never the learner's own."""
    return [a for a in claim.attestations if a.peer_id != claim.learner_id]


def review_queue(session: Session, issuer: Issuer, status: str | None = None) -> list[QueueEntry]:
    """The issuer's claims: submitted ones first, oldest first; drafts are never listed."""
    if status is not None and status not in REVIEW_STATUSES:
        raise Invalid(f"unknown status {status!r}", {"status": "unknown"})
    stmt = select(Claim).where(Claim.issuer_id == issuer.id)
    stmt = (stmt.where(Claim.status == status) if status
            else stmt.where(Claim.status.in_(REVIEW_STATUSES)))
    stmt = stmt.order_by(case((Claim.status == "submitted", 0), else_=1),
                         func.coalesce(Claim.submitted_at, Claim.created_at), Claim.id)
    claims = list(session.scalars(stmt.limit(500)))
    ids = [c.id for c in claims]
    counts: dict[int, int] = {}
    if ids:
        counts = {claim_id: n for claim_id, n in session.execute(
            select(Attestation.claim_id, func.count())
            .join(Claim, and_(Claim.id == Attestation.claim_id,
                              Claim.learner_id != Attestation.peer_id))
            .where(Attestation.claim_id.in_(ids)).group_by(Attestation.claim_id))}
    policies = policies_for(session, {c.achievement_id for c in claims})
    entries = []
    for claim in claims:
        policy = policies[claim.achievement_id]
        entries.append(QueueEntry(
            claim=claim, attestations=counts.get(claim.id, 0),
            required=policy.attestations_required, automatic=not policy.review_required))
    return entries


def get_claim(session: Session, issuer: Issuer, public_id: str) -> Claim:
    """A claim made to ``issuer`` that has been submitted at least once."""
    claim = session.scalar(select(Claim).where(Claim.public_id == (public_id or "")[:36],
                                               Claim.issuer_id == issuer.id))
    if claim is None or claim.status not in REVIEW_STATUSES:
        raise NotFound("no such claim for this issuer")
    return claim


def claim_trail(session: Session, claim: Claim) -> list[AuditEvent]:
    return audit.events_of(session, claim.id)


def approval_blocker(session: Session, claim: Claim) -> str | None:
    """Why ``claim`` cannot be approved now, in words for the reviewer; None when it can."""
    if claim.status != "submitted":
        return f"This claim is {claim.status}; only submitted claims can be decided."
    policy = policy_for(session, claim.achievement)
    required = policy.attestations_required
    have = len(peer_attestations(claim))
    if have < required:
        return (f"It needs {required} peer attestation{'s' if required != 1 else ''} before "
                f"it can be approved; {have} {'has' if have == 1 else 'have'} arrived so far.")
    level = policy.scaffolding_level_required or 0
    reached = scaffolding_level(peer_attestations(claim))
    if reached < level:
        return (f"It needs a peer attestation at scaffolding level {level_words(level)} "
                "before it can be approved; the highest so far is "
                f"{level_words(reached)}.")
    return measure_blocker(session, claim)


# --- decisions -----------------------------------------------------------------------------


def _comment(comment: str | None) -> str:
    text = (comment or "").strip()
    if not text:
        raise Invalid("write a comment for the learner: they see it with the decision",
                      {"comment": "required"})
    if len(text) > MAX_COMMENT:
        raise Invalid(f"keep the comment under {MAX_COMMENT} characters", {"comment": "too long"})
    return text


def _take_decision(session: Session, ctx: ServiceContext, claim: Claim, status: str,
                   reviewer: str | None, comment: str) -> None:
    """Record the decision only if the claim is still submitted.

    The conditional UPDATE is what stops two reviewers (or a reviewer and the automatic
    approval) from deciding the same claim twice: the second one matches no row.
    """
    result = session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.status == "submitted")
        .values(status=status, reviewed_by=reviewer, reviewer_comment=comment,
                decided_at=ctx.now())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(claim)
        raise Conflict(f"this claim was already decided (it is {claim.status})")
    session.refresh(claim)


def _claim_link(ctx: ServiceContext, claim: Claim) -> str:
    return f"{ctx.base}/learn/claims/{claim.public_id}"


def _mail_decision(session: Session, ctx: ServiceContext, claim: Claim, status: str,
                   comment: str) -> None:
    subject, body = render_mail(
        "claim_reviewed", achievement_name=claim.achievement.name,
        issuer_name=claim.issuer.name, outcome=status, comment=comment,
        link=_claim_link(ctx, claim))
    send_mail(session, ctx, to=claim.learner.email, subject=subject, body=body,
              kind="claim_reviewed")


def _mail_award(session: Session, ctx: ServiceContext, claim: Claim, row: Credential) -> None:
    queue_award_mail(session, ctx, row, issuer_name=claim.issuer.name,
                     profile_link=f"{ctx.base}/learn/badges")


def _decide(session: Session, ctx: ServiceContext, claim: Claim, reviewer_email: str,
            comment: str, status: str) -> Claim:
    text = _comment(comment)
    if claim.status != "submitted":
        raise Conflict(f"this claim is {claim.status}; only submitted claims can be decided")
    _take_decision(session, ctx, claim, status, reviewer_email, text)
    audit.record(session, ctx, actor=audit.staff_actor(reviewer_email), action=f"claim.{status}",
                 issuer_id=claim.issuer_id, claim_id=claim.id, detail={"comment": text})
    _mail_decision(session, ctx, claim, status, text)
    return claim


def reject(session: Session, ctx: ServiceContext, claim: Claim, reviewer_email: str,
           comment: str) -> Claim:
    """Refuse the claim; the learner sees the comment."""
    return _decide(session, ctx, claim, reviewer_email, comment, "rejected")


def return_for_revision(session: Session, ctx: ServiceContext, claim: Claim,
                        reviewer_email: str, comment: str) -> Claim:
    """Send the claim back to the learner to revise and submit again."""
    return _decide(session, ctx, claim, reviewer_email, comment, "returned")


def approve(session: Session, ctx: ServiceContext, claim: Claim, reviewer_email: str,
            comment: str) -> Credential:
    """Approve ``claim`` and issue its credential; refused (409) until the attestations are in.

    Nothing is stored if anything fails: the endorsements are signed before anything is
    written, and a credential that cannot be signed puts the claim back as it was.
    """
    text = _comment(comment)
    return _approve(session, ctx, claim, reviewer=reviewer_email, comment=text,
                    actor=audit.staff_actor(reviewer_email))


def maybe_auto_approve(session: Session, ctx: ServiceContext, claim: Claim) -> Credential | None:
    """Approve ``claim`` now if its policy needs no reviewer and its attestations are in.

    Safe to call at any time and more than once: anything else returns None. A failure to
    sign leaves the claim submitted for a reviewer (and says so in the audit trail) rather
    than failing the caller, which is usually a peer's attestation.

    The claim's row is locked first, so that two attestations (or an attestation and the
    submission) arriving at once are decided one after the other: the transaction that
    gets the lock last sees what the first one committed, and approves exactly once.
    """
    _lock_claim(session, claim)
    if claim.status != "submitted":
        return None
    policy = policy_for(session, claim.achievement)
    if policy.review_required or approval_blocker(session, claim) is not None:
        return None
    try:
        return _approve(session, ctx, claim, reviewer=None, comment=AUTO_COMMENT, actor=SYSTEM)
    except Conflict:
        return None  # decided meanwhile by somebody else
    except Invalid as exc:
        log.warning("automatic approval of claim %s failed: %s", claim.public_id, exc.message)
        audit.record(session, ctx, actor=SYSTEM, action="claim.auto_approval_failed",
                     issuer_id=claim.issuer_id, claim_id=claim.id,
                     detail={"error": exc.message})
        return None


def _lock_claim(session: Session, claim: Claim) -> None:
    """Lock ``claim``'s row until the transaction ends, and read it and its attestations again.

    ``FOR NO KEY UPDATE`` rather than ``FOR UPDATE``: inserting an attestation already holds
    ``FOR KEY SHARE`` on the claim (its foreign key), which ``FOR UPDATE`` would wait for, so
    two attesters would deadlock (PostgreSQL, "Row-Level Locks"). SQLite has no row locks and
    needs none: it lets one writer in at a time.
    """
    session.execute(select(Claim).where(Claim.id == claim.id)
                    .with_for_update(key_share=True)
                    .execution_options(populate_existing=True))
    # Attestations committed by others while this transaction waited for the lock.
    session.expire(claim, ["attestations"])


def _approve(session: Session, ctx: ServiceContext, claim: Claim, *, reviewer: str | None,
             comment: str, actor: str) -> Credential:
    blocker = approval_blocker(session, claim)
    if blocker is not None:
        raise Conflict(blocker)
    policy = policy_for(session, claim.achievement)
    issuer, achievement, learner = claim.issuer, claim.achievement, claim.learner
    attestations = peer_attestations(claim)
    credential_id = str(uuid.uuid4())
    now = ctx.now()
    # Signed first, before anything is written: a failure here leaves no trace to undo.
    endorsements = endorsements_of(ctx, claim, attestations, credential_id, now)
    evidence, hours = credential_evidence(claim)
    results, descriptions = attestation_results(ctx, achievement, policy, attestations)
    hour_results, hour_descriptions = hours_results(ctx, claim)
    start, end = activity_span(claim)
    request = AwardRequest(
        recipient=Recipient.parse(learner.email, learner.display_name),
        # The learner's statement is not copied: unlike evidence, it has no "may be public"
        # choice, and the credential is shown to anyone the learner shares it with.
        evidence=evidence, result=[*results, *hour_results],
        result_descriptions=[*descriptions, *hour_descriptions],
        activity_start=start, activity_end=end,
        endorsements=endorsements)
    previous = claim.status
    _take_decision(session, ctx, claim, "approved", reviewer, comment)
    try:
        row = award(session, ctx, issuer, achievement, request, actor=reviewer or SYSTEM,
                    credential_id=credential_id)
    except BaseException:
        # Put the claim back, so a caller that carries on (the automatic approval) keeps a
        # claim a reviewer can still decide; award() has already given back what it took.
        claim.status, claim.reviewed_by, claim.reviewer_comment = previous, None, None
        claim.decided_at = None
        session.flush()
        raise
    claim.credential_id = row.id
    session.add(LearnerBadge(learner_id=learner.id, credential_id=row.id, shown=False,
                             cpd_hours=hours, cpd_category=policy.cpd_category,
                             earned_on=now.date()))
    session.flush()
    action = "claim.approved" if reviewer else "claim.auto_approved"
    audit.record(session, ctx, actor=actor, action=action, issuer_id=issuer.id,
                 claim_id=claim.id, detail={"comment": comment})
    audit.record(session, ctx, actor=actor, action="credential.issued", issuer_id=issuer.id,
                 claim_id=claim.id,
                 detail={"credential": row.id, "attestations": len(attestations),
                         "cpd_hours": hours})
    if reviewer:
        _mail_decision(session, ctx, claim, "approved", comment)
    _mail_award(session, ctx, claim, row)
    return row


# --- what goes into the credential ----------------------------------------------------------


def _hours(value: float | None) -> str:
    return f"{value:g} CPD hour{'s' if value != 1 else ''}" if value else ""


def hours_results(ctx: ServiceContext, claim: Claim
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The CPD hours, and of them the participatory hours, as ``RawScore`` Results.

    OB 3.0 §B.1.17 ResultType ``RawScore``: a count as measured, not scaled or graded, which
    is what an hour count is; the unit is in the description's name.
    """
    base = achievement_id(ctx, claim.achievement)
    results: list[dict[str, Any]] = []
    descriptions: list[dict[str, Any]] = []
    sums = (("cpd-hours", "CPD hours", [e.cpd_hours for e in claim.evidence]),
            ("participatory-hours", "Participatory CPD hours (with others)",
             [e.participatory_hours for e in claim.evidence]))
    for fragment, name, values in sums:
        total = round(sum(v or 0.0 for v in values), 2)
        if total > 0:
            descriptions.append({"id": f"{base}#{fragment}", "name": name,
                                 "resultType": "RawScore", "valueMin": "0"})
            results.append({"resultDescription": f"{base}#{fragment}", "value": f"{total:g}"})
    return results, descriptions


def activity_span(claim: Claim) -> tuple[datetime | None, datetime | None]:
    """OB 3.0 §B.1.3 ``activityStartDate`` / ``activityEndDate``: the first day of the earliest
    evidence item and the last day of the latest, at the start of the day (UTC): the learner
    gives days, not times."""
    starts = [e.activity_date for e in claim.evidence if e.activity_date]
    ends = [e.activity_end_date or e.activity_date for e in claim.evidence if e.activity_date]
    if not starts:
        return None, None
    return _day_start(min(starts)), _day_start(max(ends))


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _private_digest(item: EvidenceRecord) -> str:
    if item.sha256:
        return item.sha256
    text = f"{item.url or ''}\n{item.narrative or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def credential_evidence(claim: Claim) -> tuple[list[EvidenceItem], float | None]:
    """OB 3.0 §B.1.9 Evidence for every item, and the total CPD hours.

    Private items keep only a SHA-256 digest (of the file, or of the URL and narrative), so
    the learner can later prove what was reviewed without it being published.
    An item picked from a community archive carries its ``genre`` and ``audience`` and, in
    its ``description``, its provenance: platform, post id, time, acknowledgement, the
    SHA-256 of the post and of the archive; any item's captured page adds its time and
    SHA-256.
    """
    held = object_session(claim)
    traced = evidence_traces(held, claim) if held is not None else {}
    items: list[EvidenceItem] = []
    seen: set[str] = set()
    total = 0.0
    for record in claim.evidence:
        total += record.cpd_hours or 0.0
        if not record.public:
            ident = f"urn:sha256:{_private_digest(record)}"
            if ident not in seen:
                seen.add(ident)
                items.append(EvidenceItem(
                    url=ident, name="Private evidence",
                    description=f"Reviewed by {claim.issuer.name}; not public"))
            continue
        ident = record.url or (f"urn:sha256:{record.sha256}" if record.sha256 else None)
        if ident in seen:
            ident = None  # two items with one id would merge into one node when signed
        if ident:
            seen.add(ident)
        facts = [f"Activity on {record.activity_date.isoformat()}" if record.activity_date
                 else "", _hours(record.cpd_hours),
                 f"category: {record.cpd_category}" if record.cpd_category else "",
                 f"file {record.file_name} (SHA-256 {record.sha256})"
                 if record.file_name and record.sha256 else ""]
        trace = traced.get(record.id)
        if trace is not None:
            facts.extend(trace.facts())
        items.append(EvidenceItem(
            url=ident, name=record.title or record.file_name or "Evidence",
            narrative=record.narrative or None,
            genre=(trace.genre if trace is not None and trace.genre else EVIDENCE_GENRE),
            audience=trace.audience if trace is not None else None,
            description="; ".join(f for f in facts if f) or None))
    return items, (round(total, 2) if total > 0 else None)


__all__ = ["REVIEW_STATUSES", "QueueEntry", "activity_span", "approval_blocker", "approve",
           "claim_trail", "credential_evidence", "get_claim", "hours_results",
           "maybe_auto_approve", "peer_attestations", "reject", "return_for_revision",
           "review_queue"]
