"""The endorsements a credential carries, read for people and each checked on its own.

An employer looking at a badge should see who vouched for it, when, in what words and for
what kind of help, and whether each of those statements is genuine. Peer attestations travel
in the credential as EndorsementCredentials (OB 3.0 §B.1.7, embedded in ``endorsement``);
each one is verified here as a credential in its own right (OB 3.0 §9.1 step 6 verifies
embedded endorsements the same way as the credential), so one forged statement is marked
as such while the others stay verified.

Everything shown comes from the signed documents, never from this service's tables: the
same reading serves a credential hosted here and one pasted into the verify form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from issuer.core.verify import CHECK_TITLES, Verifier
from issuer.services.attestation_endorsements import ENDORSEMENT_NAME, read_comment
from issuer.services.attestation_wording import READER_KINDS
from issuer.services.context import ServiceContext
from issuer.services.verification import make_verifier

__all__ = ["EndorsementReading", "read_endorsements"]

#: Each one shown is a signature check on every page view; more than any honest badge
#: carries, and the same bound as the organisations' endorsements on public pages.
MAX_SHOWN = 20


@dataclass(frozen=True)
class EndorsementReading:
    """One embedded endorsement as an employer reads it."""

    #: True for a peer attestation made through this service's attestation flow.
    peer: bool
    #: Who vouches: the peer's name, or None for a peer who chose not to be named.
    who: str | None
    #: The pairwise pseudonymous identifier standing in for an unnamed peer.
    pseudonym: str | None
    #: What kind of support it records, in plain words (None when not stated).
    kind: str | None
    #: The statement in the endorser's (or the peer's) own words.
    words: str | None
    #: The organisation that signed the statement.
    signed_by: str | None
    signed_on: datetime | None
    verified: bool
    #: Why it could not be verified, in plain words; details are for the curious.
    problem: str | None
    details: tuple[str, ...]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _reading(verifier: Verifier, endorsement: Mapping[str, Any]) -> EndorsementReading:
    report = verifier.verify(endorsement)
    subject = endorsement.get("credentialSubject")
    subject = subject if isinstance(subject, Mapping) else {}
    comment = _text(subject.get("endorsementComment"))
    issuer = endorsement.get("issuer")
    signed_by = (_text(issuer.get("name")) or _text(issuer.get("id"))
                 if isinstance(issuer, Mapping) else _text(issuer))
    parts = (read_comment(comment)
             if comment and endorsement.get("name") == ENDORSEMENT_NAME else None)
    problem = None
    details: tuple[str, ...] = ()
    if not report.valid:
        failed = report.failed[0]
        problem = (f"This statement could not be confirmed "
                   f"({CHECK_TITLES.get(failed.id, failed.id).lower()} check failed); "
                   "do not rely on it.")
        details = tuple(f"{CHECK_TITLES.get(c.id, c.id)}: {c.message}" for c in report.failed)
    return EndorsementReading(
        peer=parts is not None,
        who=parts.peer_name if parts is not None else signed_by,
        pseudonym=parts.pseudonym if parts is not None else None,
        kind=READER_KINDS.get(parts.kind or "") if parts is not None else None,
        words=parts.words if parts is not None else comment,
        signed_by=signed_by,
        signed_on=_date(endorsement.get("validFrom") or endorsement.get("issuanceDate")),
        verified=report.valid, problem=problem, details=details)


def read_endorsements(session: Session, ctx: ServiceContext,
                      credential: Mapping[str, Any] | None,
                      verifier: Verifier | None = None) -> list[EndorsementReading]:
    """The endorsements embedded in ``credential`` (its ``endorsement``), each verified."""
    if not isinstance(credential, Mapping):
        return []
    found = credential.get("endorsement")
    entries = [e for e in (found if isinstance(found, list) else [found])
               if isinstance(e, Mapping)][:MAX_SHOWN]
    if not entries:
        return []
    checker = verifier or make_verifier(session, ctx)
    return [_reading(checker, entry) for entry in entries]
