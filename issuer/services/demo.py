"""The demo issuer `make run` shows: an achievement, a staff account and one awarded badge."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.achievements import create_achievement, store_image
from issuer.services.awards import AwardRequest, EvidenceItem, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import create_issuer
from issuer.services.users import create_user, grant
from issuer.storage.models import Credential, Issuer, User

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin@example.org"
DEMO_LEARNER = "learner@example.org"

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
    credential: Credential
    admin_email: str
    admin_password: str | None


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
    """Create the demo data once; later calls find it and change nothing."""
    issuer = session.scalar(select(Issuer).where(Issuer.slug == DEMO_SLUG))
    if issuer is None:
        issuer = create_issuer(
            session, ctx, slug=DEMO_SLUG, name="Demo Community of Practice",
            description="A professional community that recognises peer learning.",
        )
        image = store_image(session, ctx, issuer, DEMO_BADGE_SVG.encode("utf-8"))
        achievement = create_achievement(session, ctx, issuer, {
            "name": "Peer Scaffolder",
            "slug": "peer-scaffolder",
            "description": "Helped colleagues learn a new practice by answering questions, "
                           "sharing worked examples and mentoring.",
            "criteria_narrative": "At least two peers attest that the learner helped them "
                                  "learn, and a reviewer confirms the evidence.",
            "achievement_type": "Competency",
            "credits_available": 2,
            "tags": ["mentoring", "peer learning", "CPD"],
            "image_caption": "A blue round badge reading Peer Scaffolder",
        })
        achievement.image_id = image.id
        award(session, ctx, issuer, achievement, AwardRequest(
            recipient=Recipient.parse(DEMO_LEARNER, "Demo Learner"),
            evidence=(EvidenceItem(
                url="https://community.example.org/t/retrieval-practice/42",
                name="Answer on retrieval practice",
                narrative="Explained retrieval practice with worked examples.",
            ),),
        ), actor="demo")
    admin = session.scalar(select(User).where(User.email == DEMO_ADMIN))
    password = demo_password(instance)
    if admin is None:
        password = secrets.token_urlsafe(12)
        admin = create_user(session, ctx, email=DEMO_ADMIN, name="Demo Admin",
                            password=password)
        grant(session, admin, issuer)
        _remember_password(instance, password)
    credential = session.scalar(
        select(Credential).where(Credential.issuer_id == issuer.id)
        .order_by(Credential.issued_at)
    )
    assert credential is not None
    return DemoInfo(issuer=issuer, credential=credential, admin_email=DEMO_ADMIN,
                    admin_password=password)
