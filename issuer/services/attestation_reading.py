"""The endorsements a credential carries, read for people and each checked on its own.

An employer looking at a badge should see who vouched for it, when, in what words and for
what kind of help, and whether each of those statements is genuine. Peer attestations travel
in the credential as EndorsementCredentials (OB 3.0 §B.1.7, embedded in ``endorsement``);
each one is verified here as a credential in its own right (OB 3.0 §9.1 step 6 verifies
embedded endorsements the same way as the credential), so one forged statement is marked
as such while the others stay verified.

A peer's attestation also says how they were helped: the scaffolding functions and
characteristics it aligns to (OB 3.0 §B.1.5 Alignment, to the framework of
:mod:`issuer.services.attestation_scaffolding`), read here back into plain words; and the
credential's ``result`` records the rubric level the attestations reached (§B.1.16 Result,
§B.1.18 RubricCriterionLevel), read with :func:`read_scaffolding`.

Everything shown comes from the signed documents, never from this service's tables: the
same reading serves a credential hosted here and one pasted into the verify form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from issuer.core.verify import CHECK_TITLES, Verifier
from issuer.services.attestation_endorsements import ENDORSEMENT_NAME, read_comment
from issuer.services.attestation_results import LEVEL_FRAGMENT
from issuer.services.attestation_scaffolding import (
    CHARACTERISTICS,
    FRAMEWORK_NAME,
    FUNCTIONS,
    Answers,
    item,
    level_of,
)
from issuer.services.attestation_wording import READER_KINDS
from issuer.services.context import ServiceContext
from issuer.services.verification import make_verifier

__all__ = ["EndorsementReading", "EndorsementReadings", "ScaffoldingReading",
           "read_endorsements", "read_scaffolding"]

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
    #: How the peer was helped: the scaffolding functions, in plain words about the holder.
    help_given: tuple[str, ...] = ()
    #: The characteristics of scaffolding the peer affirmed, in plain words.
    qualities: tuple[str, ...] = ()
    #: Later work the peer did unaided, as they link to it.
    transfer_url: str | None = None
    #: The rubric level of this attestation (1–3); None when it says nothing of help.
    level: int | None = None


@dataclass(frozen=True)
class ScaffoldingReading:
    """The scaffolding level a credential records (its ``#scaffolding-level`` result)."""

    #: The level as the achievement names it, e.g. "L3 Help to independence".
    level: str
    description: str | None
    #: The level the achievement requires, named the same way; None when none is.
    required: str | None
    #: Distinct peers who attested, and those who can now do it unaided.
    peers: str | None
    transfers: str | None
    #: Everything the peers affirmed, in plain words.
    help_given: tuple[str, ...]


class EndorsementReadings(list[EndorsementReading]):
    """The readings of a credential's endorsements, and the scaffolding level it records."""

    scaffolding: ScaffoldingReading | None = None


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


def _objects(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [i for i in items if isinstance(i, Mapping)]


def _codes(alignment: Any) -> list[str]:
    """The codes of the scaffolding framework among ``alignment`` entries."""
    return [a["targetCode"] for a in _objects(alignment)
            if a.get("targetFramework") == FRAMEWORK_NAME
            and isinstance(a.get("targetCode"), str) and item(a["targetCode"]) is not None]


def _words(codes: Sequence[str]) -> tuple[str, ...]:
    """The framework items of ``codes`` as an employer reads them."""
    return tuple(found.reader for found in map(item, codes) if found is not None)


def _answers(codes: list[str], transfer_url: str | None) -> Answers:
    said = set(codes)
    return Answers(functions=tuple(f.code for f in FUNCTIONS if f.code in said),
                   contingency="contingency" in said, fading="fading" in said,
                   transfer="transfer" in said, transfer_url=transfer_url)


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
    answers = _answers(_codes(subject.get("alignment")) if parts is not None else [],
                       parts.transfer_url if parts is not None else None)
    helped = parts is not None and parts.kind == "helped-me-learn"
    return EndorsementReading(
        peer=parts is not None,
        who=parts.peer_name if parts is not None else signed_by,
        pseudonym=parts.pseudonym if parts is not None else None,
        kind=READER_KINDS.get(parts.kind or "") if parts is not None else None,
        words=parts.words if parts is not None else comment,
        signed_by=signed_by,
        signed_on=_date(endorsement.get("validFrom") or endorsement.get("issuanceDate")),
        verified=report.valid, problem=problem, details=details,
        help_given=_words(answers.functions),
        qualities=tuple(c.reader for c in CHARACTERISTICS if c.code in answers.affirmed),
        transfer_url=(answers.transfer_url if answers.transfer and answers.transfer_url
                      and answers.transfer_url.lower().startswith(("https://", "http://"))
                      else None),
        level=level_of(answers) if helped else None)


def _subject(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject")
    subjects = _objects(subject)
    return subjects[0] if subjects else {}


def _named_level(description: Mapping[str, Any], level_id: Any) -> Mapping[str, Any] | None:
    return next((lv for lv in _objects(description.get("rubricCriterionLevel"))
                 if lv.get("id") == level_id), None)


def _level_name(level: Mapping[str, Any] | None) -> str | None:
    if level is None:
        return None
    parts = [_text(level.get("level")), _text(level.get("name"))]
    return " ".join(p for p in parts if p) or None


def read_scaffolding(credential: Mapping[str, Any] | None) -> ScaffoldingReading | None:
    """The scaffolding level ``credential`` records, as its achievement describes the level;
    None for a credential without one (OB 3.0 §B.1.16 ``achievedLevel`` names a
    RubricCriterionLevel of a ResultDescription in the credential's achievement)."""
    if not isinstance(credential, Mapping):
        return None
    subject = _subject(credential)
    achievement = subject.get("achievement")
    descriptions = {d.get("id"): d for d in _objects(
        achievement.get("resultDescription") if isinstance(achievement, Mapping) else None)}
    values: dict[str, Any] = {}
    found: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
    for result in _objects(subject.get("result")):
        ref = result.get("resultDescription")
        if not isinstance(ref, str) or ref not in descriptions:
            continue
        values[ref.rpartition("#")[2]] = _text(result.get("value"))
        if ref.endswith(LEVEL_FRAGMENT) and \
                descriptions[ref].get("resultType") == "RubricCriterionLevel":
            found = (result, descriptions[ref])
    if found is None:
        return None
    result, description = found
    level = _named_level(description, result.get("achievedLevel"))
    name = _level_name(level)
    if level is None or name is None:
        return None
    codes = _codes(result.get("alignment"))
    return ScaffoldingReading(
        level=name, description=_text(level.get("description")),
        required=_level_name(_named_level(description, description.get("requiredLevel"))),
        peers=values.get("peer-attestations"), transfers=values.get("transfer-attestations"),
        help_given=_words(codes))


def read_endorsements(session: Session, ctx: ServiceContext,
                      credential: Mapping[str, Any] | None,
                      verifier: Verifier | None = None) -> EndorsementReadings:
    """The endorsements embedded in ``credential`` (its ``endorsement``), each verified, with
    the scaffolding level the credential records (``scaffolding``)."""
    readings = EndorsementReadings()
    if not isinstance(credential, Mapping):
        return readings
    readings.scaffolding = read_scaffolding(credential)
    found = credential.get("endorsement")
    entries = [e for e in (found if isinstance(found, list) else [found])
               if isinstance(e, Mapping)][:MAX_SHOWN]
    if entries:
        checker = verifier or make_verifier(session, ctx)
        readings.extend(_reading(checker, entry) for entry in entries)
    return readings
