"""The demo issuer `make run` shows: a badge earned the way informal learning is recognised.

``ensure_demo`` builds, through the same use cases the web pages call (so the audit trail is
the one a real claim leaves):

- the issuer "Demo Community of Practice", its badge "Peer Scaffolder" and a staff account;
- the badge's claim policy: two peer attestations ("helped me learn"), then a reviewer;
- the learner ``learner@example.org`` ("Demo Learner") and two peers; the learner claims the
  badge with public evidence (a forum answer and a mentoring session, with dates and CPD
  hours), asks both peers, who attest (one by name, one under a pairwise pseudonym) and say
  how they were helped — different scaffolding functions, and one links to the work they
  then did alone — and the staff account approves with a comment;
- the issued AchievementCredential (OB 3.0 §B.1.9 Evidence; §B.1.7 EndorsementCredentials
  embedded in ``endorsement``, aligned to the scaffolding framework; §B.1.16 Results: the
  rubric level the attestations reach (L3), the peers and transfers counted, and the CPD
  hours as a ``RawScore``), shown on the learner's public profile.

Every step first looks for what an earlier run made, so running it again changes nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services import audit
from issuer.services.achievements import create_achievement, store_image
from issuer.services.attestations import attest, create_request, find_request
from issuer.services.claim_policy import set_policy, stored_policy
from issuer.services.claims import (
    EvidenceInput,
    active_claim,
    add_evidence,
    start_claim,
    submit_claim,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict
from issuer.services.issuers import create_issuer
from issuer.services.learners import ensure_learner
from issuer.services.profiles import set_display_name, set_shown
from issuer.services.reviews import approve
from issuer.services.revocation import revoke
from issuer.services.users import create_user, grant
from issuer.storage.learning import Claim, Learner, LearnerBadge
from issuer.storage.models import Achievement, Credential, Issuer, User

log = logging.getLogger(__name__)

DEMO_SLUG = "demo"
DEMO_ACHIEVEMENT = "peer-scaffolder"
DEMO_ADMIN = "admin@example.org"
DEMO_LEARNER = "learner@example.org"
DEMO_LEARNER_NAME = "Demo Learner"
#: (email, name shown in the badge or None for a pseudonym, what they say).
DEMO_PEERS = (
    ("peer.one@example.org", "Peer One",
     "Their worked examples on retrieval practice changed how I plan my lessons."),
    ("peer.two@example.org", None,
     "After our mentoring session I ran my first retrieval quiz with my own class."),
)
#: Later work the first peer did unaided, which their attestation links to.
DEMO_TRANSFER_URL = "https://community.example.org/t/my-first-retrieval-plan/57"
#: How each peer (in the order of DEMO_PEERS) says they were helped: the first reaches
#: level L3 (two functions, contingent help, transfer shown by later work), the second L2.
DEMO_ANSWERS: tuple[dict[str, Any], ...] = (
    {"functions": ("demonstration", "marking-critical-features"), "contingency": "yes",
     "fading": "yes", "transfer": "yes", "transfer_url": DEMO_TRANSFER_URL},
    {"functions": ("recruitment", "direction-maintenance"), "contingency": "yes",
     "fading": "unsure", "transfer": "no"},
)
DEMO_POLICY = {
    "attestations_required": len(DEMO_PEERS),
    "review_required": True,
    "attestation_kind": "helped-me-learn",
    "cpd_category": "Mentoring",
    "open_to_claims": True,
}
DEMO_STATEMENT = "I helped two colleagues start using retrieval practice in their teaching."
#: Public, so the credential carries them in full; 1.5 + 0.5 CPD hours in all.
DEMO_EVIDENCE = (
    EvidenceInput(
        url="https://community.example.org/t/retrieval-practice/42",
        title="Answer on retrieval practice",
        narrative="Explained retrieval practice with worked examples.",
        activity_date=date(2025, 3, 14), cpd_hours="1.5", public=True),
    EvidenceInput(
        title="Mentoring session on retrieval quizzes",
        narrative="Planned a first retrieval quiz with a colleague and observed the lesson.",
        activity_date=date(2025, 4, 2), cpd_hours="0.5", public=True),
)
DEMO_REVIEW = ("Two peers confirm the mentoring, and the forum thread shows the worked "
               "examples.")
#: Why the badge older versions of the demo awarded directly is revoked (status reason).
SUPERSEDED = "Replaced by the demo badge earned through a claim with peer attestations."

DEMO_BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" \
viewBox="0 0 240 240" role="img" aria-label="Peer Scaffolder badge">
  <circle cx="120" cy="120" r="112" fill="#2f5bd3"/>
  <circle cx="120" cy="120" r="96" fill="none" stroke="#ffffff" stroke-width="4"/>
  <path d="M70 150 L120 70 L170 150 Z" fill="#ffd166"/>
  <text x="120" y="185" text-anchor="middle" font-family="sans-serif" font-size="20" \
fill="#ffffff">Peer Scaffolder</text>
</svg>
"""


@dataclass(frozen=True)
class DemoInfo:
    issuer: Issuer
    #: The badge `make run` prints: the one the demo learner earned through the claim.
    credential: Credential
    admin_email: str
    admin_password: str | None
    learner: Learner | None = None
    claim: Claim | None = None


def _password_file(instance: Path) -> Path:
    return instance / "demo-admin-password"


def _remember_password(instance: Path, password: str) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    path = _password_file(instance)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password)


def demo_password(instance: Path) -> str | None:
    try:
        return _password_file(instance).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def ensure_demo(session: Session, ctx: ServiceContext, instance: Path) -> DemoInfo:
    """Create the demo data once; later calls find it and change nothing. The caller commits."""
    issuer = session.scalar(select(Issuer).where(Issuer.slug == DEMO_SLUG))
    if issuer is None:
        issuer = create_issuer(
            session, ctx, slug=DEMO_SLUG, name="Demo Community of Practice",
            description="A professional community that recognises peer learning.",
        )
    achievement = demo_achievement(session, ctx, issuer)
    password = demo_password(instance)
    if session.scalar(select(User).where(User.email == DEMO_ADMIN)) is None:
        password = secrets.token_urlsafe(12)
        admin = create_user(session, ctx, email=DEMO_ADMIN, name="Demo Admin",
                            password=password)
        grant(session, admin, issuer)
        _remember_password(instance, password)
    # Staff may change the policy later (the browser tests do); a later run keeps theirs.
    if stored_policy(session, achievement) is None:
        set_policy(session, ctx, achievement, DEMO_POLICY, actor=audit.staff_actor(DEMO_ADMIN))
    learner = ensure_learner(session, ctx, DEMO_LEARNER)
    claim = active_claim(session, learner, achievement)
    if claim is None:
        claim = _earn_by_claim(session, ctx, learner, achievement)
        _retire_direct_award(session, ctx, issuer)
    credential = session.get(Credential, claim.credential_id) if claim.credential_id else None
    if credential is None:
        # The demo learner has an undecided claim of their own making (somebody signed in as
        # them): leave it alone and print the issuer's first badge, as older demos did.
        credential = session.scalar(select(Credential).where(Credential.issuer_id == issuer.id)
                                    .order_by(Credential.issued_at, Credential.id))
    assert credential is not None
    return DemoInfo(issuer=issuer, credential=credential, admin_email=DEMO_ADMIN,
                    admin_password=password, learner=learner, claim=claim)


def demo_achievement(session: Session, ctx: ServiceContext, issuer: Issuer) -> Achievement:
    found = session.scalar(select(Achievement).where(Achievement.issuer_id == issuer.id,
                                                     Achievement.slug == DEMO_ACHIEVEMENT))
    if found is not None:
        return found
    image = store_image(session, ctx, issuer, DEMO_BADGE_SVG.encode("utf-8"))
    achievement = create_achievement(session, ctx, issuer, {
        "name": "Peer Scaffolder",
        "slug": DEMO_ACHIEVEMENT,
        "description": "Helped colleagues learn a new practice by answering questions, "
                       "sharing worked examples and mentoring.",
        "criteria_narrative": "At least two peers attest that the learner helped them "
                              "learn, and a reviewer confirms the evidence.",
        # No creditsAvailable: it states the credit hours the badge is worth, the figure
        # creditsEarned (academic credits, OB 3.0 §B.1.3) correlates with. CPD hours differ
        # from claim to claim, so each credential records its own as a RawScore result.
        "achievement_type": "Competency",
        "tags": ["mentoring", "peer learning", "CPD"],
        "image_caption": "A blue round badge reading Peer Scaffolder",
    })
    achievement.image_id = image.id
    return achievement


def _earn_by_claim(session: Session, ctx: ServiceContext, learner: Learner,
                   achievement: Achievement) -> Claim:
    """The learner's claim from start to shown badge, in the order the web pages allow."""
    set_display_name(session, ctx, learner, DEMO_LEARNER_NAME)
    claim = start_claim(session, ctx, learner, achievement, statement=DEMO_STATEMENT)
    for item in DEMO_EVIDENCE:
        add_evidence(session, ctx, learner, claim, item)
    submit_claim(session, ctx, learner, claim)
    for (email, name, words), answers in zip(DEMO_PEERS, DEMO_ANSWERS, strict=True):
        _, token = create_request(session, ctx, learner, claim, email=email,
                                  note="You joined my retrieval practice sessions.")
        peer = ensure_learner(session, ctx, email)
        attest(session, ctx, peer, find_request(session, ctx, token), kind="helped-me-learn",
               comment=words, show_name=name is not None, display_name=name, **answers)
    # The attestations were added by claim id, not through this claim's collection: reload
    # it so the approval counts them, as the reviewer's (fresh) request would.
    session.expire(claim, ["attestations"])
    row = approve(session, ctx, claim, DEMO_ADMIN, DEMO_REVIEW)
    badge = session.scalar(select(LearnerBadge).where(LearnerBadge.learner_id == learner.id,
                                                      LearnerBadge.credential_id == row.id))
    assert badge is not None  # approve() gives the learner the badge
    set_shown(session, ctx, learner, badge.id, True)
    return claim


def _retire_direct_award(session: Session, ctx: ServiceContext, issuer: Issuer) -> None:
    """Revoke the badge demos before the claim flow awarded the learner directly.

    An installation made by an older demo would otherwise show the learner two Peer
    Scaffolder badges. Revoked, not deleted: it was published, and verifiers learn of the
    change from the status list (W3C Bitstring Status List v1.0 §2.1).
    """
    old = session.scalars(select(Credential).where(
        Credential.issuer_id == issuer.id, Credential.created_by == "demo",
        Credential.recipient_email == DEMO_LEARNER, Credential.status == "active"))
    for credential in list(old):
        try:
            revoke(session, ctx, issuer, credential.id, reason=SUPERSEDED, actor=DEMO_ADMIN)
        except Conflict as exc:  # issued before status lists were kept: nothing to change
            log.info("demo badge %s kept: %s", credential.id, exc.message)
