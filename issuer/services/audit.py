"""The audit trail of the evidence-to-badge workflow: who did what to which claim, and when.

Every state change of a claim, its evidence, its attestations and its review writes one row,
in the same transaction as the change, so the trail never records something that did not
happen (the caller's rollback removes both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.storage.learning import AuditEvent


def record(session: Session, ctx: ServiceContext, *, actor: str, action: str,
           issuer_id: int | None = None, claim_id: int | None = None,
           detail: dict[str, Any] | None = None) -> AuditEvent:
    """Add one audit row; ``actor`` names the person (``learner:…``, ``staff:…``, ``system``)."""
    event = AuditEvent(actor=actor[:320], action=action[:64], issuer_id=issuer_id,
                       claim_id=claim_id, detail=dict(detail or {}), at=ctx.now())
    session.add(event)
    session.flush()
    return event


def learner_actor(email: str) -> str:
    """How a learner (or a peer) is named in the trail."""
    return f"learner:{email}"


def staff_actor(email: str) -> str:
    """How a staff member (reviewer) is named in the trail."""
    return f"staff:{email}"


def events_of(session: Session, claim_id: int) -> list[AuditEvent]:
    """A claim's trail, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.claim_id == claim_id)
                                .order_by(AuditEvent.at, AuditEvent.id)))
