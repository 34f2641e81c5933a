"""Peer attestations: the people a learner helped say so, through a link the learner shares.

The learner creates a link (``/attest/<token>``; only the SHA-256 of the token is stored, and
it works for 30 days) and may have it emailed to a peer. Any signed-in learner with the link
may attest once to the claim — a link shared in a community reaches several peers — with
these rules:

- no self-attestation: the claim's owner cannot attest to it (403);
- one attestation per peer per claim: a unique constraint in the database, so two submissions
  at the same moment cannot both be stored (409);
- only while the claim is undecided (draft, submitted or returned);
- nobody can edit or delete an attestation once given, the learner least of all.

A peer is named in the credential only if they opt in (``show_name``); otherwise a pairwise
pseudonymous identifier stands in (``issuer.services.pseudonyms``, used by the reviews when
the credential is issued).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.services import audit
from issuer.services.attestation_scaffolding import Answers, codes_of
from issuer.services.attestation_wording import DEFAULT_KIND, KINDS, SCAFFOLDING_KINDS
from issuer.services.claim_policy import policy_for
from issuer.services.claims import OPEN, STATUS_WORDS
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Gone, Invalid, NotFound, PermissionDenied
from issuer.services.mail import render_mail, send_mail
from issuer.services.reviews import maybe_auto_approve
from issuer.storage.learning import Attestation, AttestationRequest, Claim, Learner

REQUEST_DAYS = 30
#: Requests per claim: enough for any honest learner, too few to use the service for spam.
MAX_REQUESTS = 50
MAX_COMMENT = 2000
MAX_NOTE = 1000
MAX_URL = 1000
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


class LinkExpired(Gone):
    """The attestation link was real but is past its date (410 Gone)."""

    code = "gone"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(ctx: ServiceContext, token: str) -> str:
    return f"{ctx.base}/attest/{token}"


def default_kind(session: Session, claim: Claim) -> str:
    kind = policy_for(session, claim.achievement).attestation_kind
    return kind if kind in KINDS else DEFAULT_KIND


def create_request(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim, *,
                   email: str | None = None, note: str | None = None
                   ) -> tuple[AttestationRequest, str]:
    """A new link for peers (and a message to ``email`` if given); returns the row and token.

    The token is returned once, here: only its digest is stored, so a copy of the database
    does not let anybody attest in a peer's place.
    """
    if claim.learner_id != learner.id:
        raise NotFound("There is no such claim among yours.")
    if claim.status not in OPEN:
        raise Conflict("Peers can no longer attest to this claim: it is "
                       f"{STATUS_WORDS.get(claim.status, claim.status).lower()}.")
    errors: dict[str, str] = {}
    address = (email or "").strip() or None
    if address is not None:
        if not EMAIL.match(address) or len(address) > 320:
            errors["email"] = "enter an email address such as name@example.org"
        elif address.lower() == learner.email.lower():
            errors["email"] = "ask somebody else: you cannot attest to your own claim"
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        errors["note"] = f"at most {MAX_NOTE} characters"
    if errors:
        raise Invalid("Please check the request: " + "; ".join(errors.values()), errors)
    count = session.scalar(select(func.count()).select_from(AttestationRequest)
                           .where(AttestationRequest.claim_id == claim.id)) or 0
    if count >= MAX_REQUESTS:
        raise Conflict(f"This claim already has {MAX_REQUESTS} links for peers; "
                       "share one of those.")
    token = secrets.token_urlsafe(32)
    now = ctx.now()
    request = AttestationRequest(claim_id=claim.id, email=address, token_hash=token_hash(token),
                                 created_at=now, expires_at=now + timedelta(days=REQUEST_DAYS))
    session.add(request)
    session.flush()
    if address is not None:
        _mail_invitation(session, ctx, learner, claim, request, token, note)
    audit.record(session, ctx, actor=audit.learner_actor(learner.email),
                 action="attestation.requested", issuer_id=claim.issuer_id, claim_id=claim.id,
                 detail={"request_id": request.id, "emailed": address is not None,
                         "expires_at": request.expires_at.isoformat()})
    return request, token


def _mail_invitation(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
                     request: AttestationRequest, token: str, note: str | None) -> None:
    assert request.email is not None
    subject, body = render_mail(
        "attestation_requested", learner_name=learner.display_name or learner.email,
        achievement_name=claim.achievement.name, issuer_name=claim.issuer.name,
        link=link(ctx, token), message=note,
        expires_on=_day(request.expires_at))
    send_mail(session, ctx, to=request.email, subject=subject, body=body,
              kind="attestation_requested")


#: What became of a request, as the learner's claim page lists it.
WAITING, ANSWERED, EXPIRED, SHARED = "waiting", "answered", "expired", "shared"
REQUEST_STATE_WORDS = {
    WAITING: "Waiting for an answer",
    ANSWERED: "Answered",
    EXPIRED: "Link expired",
    SHARED: "Link to share; anyone you gave it to can answer",
}


@dataclass(frozen=True)
class RequestLine:
    """One request for a peer's attestation and what became of it."""

    id: int
    #: The address it was emailed to; None for a link the learner shares themselves.
    email: str | None
    created_at: datetime
    expires_at: datetime
    state: str
    #: True when the learner may send it again (emailed, not answered, claim still open).
    resendable: bool

    @property
    def state_words(self) -> str:
        return REQUEST_STATE_WORDS[self.state]


def requests_of(session: Session, ctx: ServiceContext, claim: Claim) -> list[RequestLine]:
    """Every request of ``claim``, oldest first, with its state.

    A request is answered when a peer signed in with the address it was sent to has
    attested: the link works for anyone, but the address is whom the learner asked.
    """
    answered = {a.peer.email.lower() for a in attestations_of(session, claim)}
    now = ctx.now()
    lines = []
    rows = session.scalars(select(AttestationRequest)
                           .where(AttestationRequest.claim_id == claim.id)
                           .order_by(AttestationRequest.created_at, AttestationRequest.id))
    for row in rows:
        if row.email is not None and row.email.lower() in answered:
            state = ANSWERED
        elif row.expires_at <= now:
            state = EXPIRED
        else:
            state = WAITING if row.email is not None else SHARED
        lines.append(RequestLine(
            id=row.id, email=row.email, created_at=row.created_at, expires_at=row.expires_at,
            state=state,
            resendable=(row.email is not None and state != ANSWERED and claim.status in OPEN)))
    return lines


def resend_request(session: Session, ctx: ServiceContext, learner: Learner, claim: Claim,
                   request_id: int) -> tuple[AttestationRequest, str]:
    """Email a request again with a fresh link that works for another 30 days.

    Only the digest of a token is stored, so the old link cannot be sent again: a new token
    replaces it, and the old link stops working.
    """
    if claim.learner_id != learner.id:
        raise NotFound("There is no such claim among yours.")
    request = session.get(AttestationRequest, request_id)
    if request is None or request.claim_id != claim.id:
        raise NotFound("There is no such request for this claim.")
    line = next(r for r in requests_of(session, ctx, claim) if r.id == request.id)
    if request.email is None:
        raise Conflict("This link was not emailed; make a new link to share instead.")
    if claim.status not in OPEN:
        raise Conflict("Peers can no longer attest to this claim: it is "
                       f"{STATUS_WORDS.get(claim.status, claim.status).lower()}.")
    if line.state == ANSWERED:
        raise Conflict(f"{request.email} has already answered.")
    token = secrets.token_urlsafe(32)
    now = ctx.now()
    request.token_hash = token_hash(token)
    request.expires_at = now + timedelta(days=REQUEST_DAYS)
    session.flush()
    _mail_invitation(session, ctx, learner, claim, request, token, None)
    audit.record(session, ctx, actor=audit.learner_actor(learner.email),
                 action="attestation.resent", issuer_id=claim.issuer_id, claim_id=claim.id,
                 detail={"request_id": request.id,
                         "expires_at": request.expires_at.isoformat()})
    return request, token


def invited_name(claim: Claim, request: AttestationRequest) -> str:
    """The learner as the person who opens a link knows them: by the name they chose, or by
    the address the invitation came from when it was emailed (its sender is that address);
    a link shared another way names nobody."""
    learner = claim.learner
    if learner.display_name:
        return learner.display_name
    return learner.email if request.email is not None else "a learner"


@dataclass(frozen=True)
class Invitation:
    """What a link tells the person who opens it before they sign in."""

    learner_name: str
    achievement_name: str
    issuer_name: str
    #: The address the request was emailed to, to fill in the sign-in form.
    email: str | None


def invitation(session: Session, ctx: ServiceContext, token: str) -> Invitation | None:
    """The invitation behind a valid, unexpired link; None for anything else."""
    try:
        request = find_request(session, ctx, token)
        claim = claim_of(session, request)
    except (NotFound, Gone):
        return None
    if claim.status not in OPEN:
        return None
    return Invitation(learner_name=invited_name(claim, request),
                      achievement_name=claim.achievement.name,
                      issuer_name=claim.issuer.name, email=request.email)


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def find_request(session: Session, ctx: ServiceContext, token: str) -> AttestationRequest:
    """The request behind a link: unknown → NotFound, past its date → LinkExpired."""
    if not token or len(token) > 200:
        raise NotFound("This attestation link is not valid. Ask the learner for a new one.")
    request = session.scalar(select(AttestationRequest)
                             .where(AttestationRequest.token_hash == token_hash(token)))
    if request is None:
        raise NotFound("This attestation link is not valid. Ask the learner for a new one.")
    if request.expires_at <= ctx.now():
        raise LinkExpired("This attestation link has expired. Ask the learner for a new one.")
    return request


def claim_of(session: Session, request: AttestationRequest) -> Claim:
    claim = session.get(Claim, request.claim_id)
    if claim is None:
        raise NotFound("This attestation link is not valid. Ask the learner for a new one.")
    return claim


def attestation_by(session: Session, claim: Claim, peer: Learner) -> Attestation | None:
    return session.scalar(select(Attestation).where(Attestation.claim_id == claim.id,
                                                    Attestation.peer_id == peer.id))


def check_not_self(claim: Claim, peer: Learner) -> None:
    """No self-attestation: the owner of a claim cannot vouch for it."""
    if claim.learner_id == peer.id:
        raise PermissionDenied("You cannot attest to your own claim. Share the link with the "
                               "people you helped.")


def check_may_attest(claim: Claim, peer: Learner) -> None:
    check_not_self(claim, peer)
    if claim.status not in OPEN:
        raise Conflict("This claim has been "
                       f"{STATUS_WORDS.get(claim.status, claim.status).lower()}; "
                       "it no longer takes attestations.")


#: The answers a peer gives to the yes/no questions; "unsure" (or nothing) stores None.
YES_NO = {"yes": True, "no": False, "unsure": None, "": None}


def _yes_no(value: str | bool | None, name: str, errors: dict[str, str]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value.strip().lower() not in YES_NO:
        errors[name] = "answer yes, no or not sure"
        return None
    return YES_NO[value.strip().lower()]


def _answers(kind: str, functions: Sequence[str], contingency: str | bool | None,
             fading: str | bool | None, transfer: str | bool | None,
             transfer_url: str | None, errors: dict[str, str]) -> Answers:
    """The scaffolding answers, checked; none for a statement that is not about help given."""
    if kind not in SCAFFOLDING_KINDS:
        return Answers()
    chosen = [f.strip() for f in functions if f and f.strip()]
    known = codes_of(chosen)
    if len(known) != len(set(chosen)):
        errors["functions"] = "choose among the kinds of help listed"
    answers = Answers(functions=known, contingency=_yes_no(contingency, "contingency", errors),
                      fading=_yes_no(fading, "fading", errors),
                      transfer=_yes_no(transfer, "transfer", errors))
    url = (transfer_url or "").strip() or None
    if url is not None:
        if not answers.transfer:
            errors["transfer_url"] = ("a link to later work goes with “yes, I can now do it "
                                      "without help”")
        elif len(url) > MAX_URL or not _WEB_URL.match(url):
            errors["transfer_url"] = "a web address starting with https:// (or http://)"
    return Answers(functions=answers.functions, contingency=answers.contingency,
                   fading=answers.fading, transfer=answers.transfer, transfer_url=url)


_WEB_URL = re.compile(r"^https?://[^\s<>\"]+\.[^\s<>\"]+$", re.IGNORECASE)


def attest(session: Session, ctx: ServiceContext, peer: Learner, request: AttestationRequest,
           *, kind: str, comment: str, show_name: bool,
           display_name: str | None = None, functions: Sequence[str] = (),
           contingency: str | bool | None = None, fading: str | bool | None = None,
           transfer: str | bool | None = None, transfer_url: str | None = None
           ) -> Attestation:
    """Record a peer's attestation; the database's unique constraint settles duplicates.

    For a statement that the learner helped them learn, the peer may say how: which of the
    scaffolding functions the learner performed (codes of
    :data:`issuer.services.attestation_scaffolding.FUNCTIONS`) and yes / no / "unsure" to
    contingency, fading and transfer, with an optional link to later work done unaided.

    On a duplicate :class:`Conflict` is raised and nothing of the attestation stays (the
    name it would have shown included): it is written in a SAVEPOINT, rolled back on the
    failed INSERT, which on PostgreSQL would otherwise abort the whole transaction. What
    the caller did before in the same transaction is kept.
    """
    claim = claim_of(session, request)
    check_may_attest(claim, peer)
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = "choose what you confirm"
    answers = _answers(kind, functions, contingency, fading, transfer, transfer_url, errors)
    comment = (comment or "").strip()
    if not comment:
        errors["comment"] = "write a few words about what the learner did"
    elif len(comment) > MAX_COMMENT:
        errors["comment"] = f"at most {MAX_COMMENT} characters (you wrote {len(comment)})"
    name = (display_name or "").strip() or None
    if show_name and not peer.display_name:
        if name is None:
            errors["display_name"] = "give the name to show, or leave the box unticked"
        elif len(name) > 200:
            errors["display_name"] = "at most 200 characters"
    if errors:
        raise Invalid("Please check your attestation: " + "; ".join(errors.values()), errors)
    attestation = Attestation(
        claim_id=claim.id, peer_id=peer.id, kind=kind, comment=comment,
        show_name=bool(show_name), created_at=ctx.now(),
        scaffolding_functions=" ".join(answers.functions) or None,
        contingency=answers.contingency, fading=answers.fading, transfer=answers.transfer,
        transfer_url=answers.transfer_url)
    try:
        with session.begin_nested():
            if show_name and not peer.display_name:
                peer.display_name = name
            session.add(attestation)
    except IntegrityError:
        raise Conflict("You have already attested to this claim. An attestation cannot be "
                       "changed or given twice.") from None
    audit.record(session, ctx, actor=audit.learner_actor(peer.email),
                 action="attestation.given", issuer_id=claim.issuer_id, claim_id=claim.id,
                 detail={"attestation_id": attestation.id, "request_id": request.id,
                         "kind": kind, "show_name": bool(show_name),
                         "functions": list(answers.functions)})
    # A claim sent under an automatic policy is approved by the attestation that completes it.
    maybe_auto_approve(session, ctx, claim)
    return attestation


def attestations_of(session: Session, claim: Claim) -> list[Attestation]:
    return list(session.scalars(select(Attestation).where(Attestation.claim_id == claim.id)
                                .order_by(Attestation.created_at, Attestation.id)))

