"""Where an evidence item picked from a community archive came from: its provenance and the
captures of its page, as the reviewer's page and the credential read them (OB 3.0 §B.1.9
Evidence). Reading only, and free of the claims service: the reviews service, which the
claims service imports, reads it when it builds a credential.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.activity.model import ACKNOWLEDGING_KINDS
from issuer.storage.learning import Claim
from issuer.storage.traces import TraceCapture, TraceItem

__all__ = ["PLATFORM_WORDS", "EvidenceTraces", "Provenance", "captures_of", "evidence_traces",
           "linked_items", "provenance_of"]

PLATFORM_WORDS = {"stackexchange": "Stack Exchange", "discourse": "Discourse",
                  "mastodon": "Mastodon", "mbox": "mailing list"}


@dataclass(frozen=True)
class Provenance:
    """Where an evidence item came from, for reviewers and the credential."""

    genre: str | None
    audience: str | None
    platform: str
    post_id: str
    community: str
    created: datetime | None
    acknowledgements: tuple[dict[str, str | None], ...]
    answered: str | None
    content_sha256: str | None
    source_sha256: str

    def facts(self) -> list[str]:
        """The provenance in words, for a credential's Evidence ``description``.

        A mail address is never written out (it would put someone else's address into a
        credential the learner shares): "the person answered" stands in for it.
        """
        facts = [f"{PLATFORM_WORDS.get(self.platform, self.platform)} post {self.post_id} "
                 f"in {self.community}"]
        if self.created is not None:
            facts.append(f"written {self.created.isoformat(timespec='minutes')}")
        for mark in self.acknowledgements:
            if mark.get("kind") not in ACKNOWLEDGING_KINDS:
                continue
            who = mark.get("by")
            named = "the person answered" if who is None or "@" in who else who
            when = f" on {mark['at'][:10]}" if mark.get("at") else ""
            facts.append(f"{mark['kind']} by {named}{when}")
        if self.content_sha256:
            facts.append(f"content SHA-256 {self.content_sha256}")
        facts.append(f"archive SHA-256 {self.source_sha256}")
        return facts


@dataclass(frozen=True)
class EvidenceTraces:
    """What one evidence item carries besides what the learner typed: where it came from
    (when picked from an archive) and the captures of the page it cites."""

    provenance: Provenance | None = None
    captures: tuple[TraceCapture, ...] = ()

    @property
    def genre(self) -> str | None:
        return self.provenance.genre if self.provenance is not None else None

    @property
    def audience(self) -> str | None:
        return self.provenance.audience if self.provenance is not None else None

    def facts(self) -> list[str]:
        """For the credential: the provenance, and each capture as its time and the SHA-256
        of the page (never the page: it may hold other people's words)."""
        facts = self.provenance.facts() if self.provenance is not None else []
        for capture in self.captures:
            facts.append(f"page captured {capture.captured_at.isoformat(timespec='seconds')} "
                         f"(payload SHA-256 {capture.payload_sha256})")
        return facts


def linked_items(session: Session, record_ids: Iterable[int]) -> list[TraceItem]:
    ids = list(record_ids)
    if not ids:
        return []
    return list(session.scalars(select(TraceItem).where(TraceItem.evidence_record_id.in_(ids))
                                .order_by(TraceItem.id)))


def captures_of(session: Session, claim: Claim) -> list[TraceCapture]:
    return list(session.scalars(select(TraceCapture).where(TraceCapture.claim_id == claim.id)
                                .order_by(TraceCapture.id)))


def provenance_of(session: Session, claim: Claim) -> dict[int, Provenance]:
    """Evidence record id → where it came from, for the claim's items picked from traces."""
    found: dict[int, Provenance] = {}
    for item in linked_items(session, (e.id for e in claim.evidence)):
        assert item.evidence_record_id is not None
        found[item.evidence_record_id] = Provenance(
            genre=item.genre, audience=item.audience, platform=item.platform,
            post_id=item.post_id, community=item.community, created=item.created,
            acknowledgements=tuple(item.acknowledgements or ()),
            answered=item.reply_to_person, content_sha256=item.content_sha256,
            source_sha256=item.source_sha256)
    return found


def evidence_traces(session: Session, claim: Claim) -> dict[int, EvidenceTraces]:
    """Evidence record id → its provenance and captures, for the items that have either."""
    captured: dict[int, list[TraceCapture]] = {}
    for capture in captures_of(session, claim):
        captured.setdefault(capture.evidence_record_id, []).append(capture)
    provenance = provenance_of(session, claim)
    return {record_id: EvidenceTraces(provenance.get(record_id),
                                      tuple(captured.get(record_id, ())))
            for record_id in provenance.keys() | captured.keys()}
