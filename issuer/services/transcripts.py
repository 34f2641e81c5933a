"""The CPD transcript: hours per period and category, as a table, a CSV file and a signed CLR.

USERS.md §G4: professionals report continuing professional development (CPD) hours per cycle.
Like a professional body's CPD log, the transcript counts each activity on its own: a badge
earned through a claim counts the evidence items of the claim, each with its own category
(the badge's when the learner gave none), activity dates and hours, on the day the activity
started (not the day the badge was issued).
A badge awarded without a claim counts once, with ``LearnerBadge.cpd_hours`` and
``cpd_category``, on the day it was earned. The badges themselves are bundled into a CLR 2.0
ClrCredential that an employer or professional body can verify without asking anyone.

Only badges that are valid now are counted: a revoked, suspended or expired badge no longer
carries the issuer's word, and enclosing one would make the whole record fail verification.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.core.credentials import (
    ACHIEVEMENT_CREDENTIAL_TYPES,
    Achievement,
    Alignment,
    ClrCredential,
    ClrSubject,
    Criteria,
    IdentityObject,
    Image,
    Profile,
    ResultDescription,
    RubricCriterionLevel,
    hashed_email,
)
from issuer.core.errors import InputError
from issuer.core.nodes import types_of
from issuer.services.audit import record
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import create_issuer, profile
from issuer.services.profiles import OwnedBadge, actor, owned_badges
from issuer.services.signing import SigningRefused, sign_as
from issuer.storage.learning import Claim, EvidenceRecord, Learner
from issuer.storage.models import Issuer

#: The service's own issuer that signs transcripts (a reserved short name, see issuers.py).
RECORDS_SLUG = "records"
RECORDS_NAME = "Learning records"
RECORDS_DESCRIPTION = ("Signs CPD transcripts (CLR 2.0) that bundle the badges a learner "
                       "earned from the issuers hosted on this service.")
UNCATEGORISED = "Uncategorised"
#: The columns of a revalidation CPD log (method, topic, relevance, dates, hours, participatory
#: hours, the standard of the framework, evidence), then the badge the activity counted for.
CSV_COLUMNS = ("start date", "end date", "method", "topic", "relevance to practice", "hours",
               "participatory hours", "framework reference", "evidence", "achievement",
               "issuer", "credential URL")
#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOT_VALID = {
    "revoked": "revoked by its issuer",
    "suspended": "suspended by its issuer",
    "expired": "expired",
}


# --- the period ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From and to (both included); None leaves that end open."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def describe(self) -> str:
        if self.start and self.end:
            return f"from {_human(self.start)} to {_human(self.end)}"
        if self.start:
            return f"since {_human(self.start)}"
        if self.end:
            return f"up to {_human(self.end)}"
        return "to date"


def _human(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def parse_date(value: str | None, what: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"the {what} date must be a date such as 2024-01-31, not {text[:40]!r}",
                      {what: "use YYYY-MM-DD"}) from None


def period(start: str | date | None = None, end: str | date | None = None) -> Period:
    """A period from form or command-line values; a bad date or a reversed period is refused."""
    first = start if isinstance(start, date) or start is None else parse_date(start, "from")
    last = end if isinstance(end, date) or end is None else parse_date(end, "to")
    if first and last and last < first:
        raise Invalid("the period ends before it starts", {"to": "after the start"})
    return Period(first, last)


# --- the transcript ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One counted activity: an evidence item of a claim, or a badge awarded without one."""

    #: The first day of the activity; the hours count on this day.
    day: date
    achievement: str
    issuer: str
    #: The method of learning, as the learner categorised the activity.
    category: str
    hours: float | None
    url: str
    badge: OwnedBadge
    end: date | None = None
    participatory_hours: float | None = None
    topic: str = ""
    relevance: str = ""
    framework_reference: str = ""
    evidence_url: str = ""

    @property
    def quarter(self) -> str:
        return quarter_of(self.day)

    @property
    def month(self) -> str:
        return f"{self.day:%Y-%m}"


def quarter_of(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def _quarters_between(first: date, last: date) -> list[str]:
    """Every quarter from ``first`` to ``last``: gaps show as empty bars, not as nothing."""
    labels = []
    year, q = first.year, (first.month - 1) // 3
    while (year, q) <= (last.year, (last.month - 1) // 3):
        labels.append(f"{year} Q{q + 1}")
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return labels


@dataclass
class Transcript:
    period: Period
    entries: list[Entry]
    #: Badges in the period that are not counted, with the reason.
    left_out: list[tuple[OwnedBadge, str]]
    categories: list[str] = field(default_factory=list)
    quarters: list[str] = field(default_factory=list)
    #: hours[quarter][category]
    hours: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return _round(sum(e.hours or 0.0 for e in self.entries))

    @property
    def participatory_total(self) -> float:
        return _round(sum(e.participatory_hours or 0.0 for e in self.entries))

    @property
    def badges(self) -> list[OwnedBadge]:
        """The badges the counted activities belong to, each once, in order."""
        seen: dict[str, OwnedBadge] = {}
        for entry in self.entries:
            seen.setdefault(entry.badge.credential.id, entry.badge)
        return list(seen.values())

    def by_month(self) -> list[tuple[str, list[tuple[str, float]]]]:
        """Hours per month (``YYYY-MM``) with activities, and per category within it."""
        months: dict[str, dict[str, float]] = {}
        for entry in self.entries:
            row = months.setdefault(entry.month, {})
            row[entry.category] = row.get(entry.category, 0.0) + (entry.hours or 0.0)
        return [(m, [(c, _round(months[m][c])) for c in self.categories if c in months[m]])
                for m in sorted(months)]

    def by_category(self) -> list[tuple[str, float]]:
        return [(c, _round(sum(e.hours or 0.0 for e in self.entries if e.category == c)))
                for c in self.categories]

    def by_quarter(self) -> list[tuple[str, float]]:
        return [(q, _round(sum(self.hours.get(q, {}).values()))) for q in self.quarters]

    def by_year(self) -> list[tuple[str, float]]:
        years: dict[str, float] = defaultdict(float)
        for entry in self.entries:
            years[str(entry.day.year)] += entry.hours or 0.0
        return [(y, _round(h)) for y, h in sorted(years.items())]

    def cell(self, quarter: str, category: str) -> float:
        return _round(self.hours.get(quarter, {}).get(category, 0.0))


def _round(hours: float) -> float:
    # Hours are entered with at most a few decimals; this keeps 0.1 + 0.2 from showing.
    return round(hours + 0.0, 2)


def format_hours(hours: float | None) -> str:
    if hours is None:
        return ""
    text = f"{_round(hours):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def hours_phrase(hours: float) -> str:
    """Hours in words: "1 hour", "2.5 hours"."""
    text = format_hours(hours)
    return f"{text} hour" if text == "1" else f"{text} hours"


def _category(value: str | None) -> str:
    return (value or "").strip() or UNCATEGORISED


def _evidence_of(session: Session,
                 badges: Sequence[OwnedBadge]) -> dict[str, list[EvidenceRecord]]:
    """The evidence items with CPD hours of the claims the badges were awarded for."""
    ids = [owned.credential.id for owned in badges]
    found: dict[str, list[EvidenceRecord]] = {}
    if not ids:
        return found
    for claim in session.scalars(select(Claim).where(Claim.credential_id.in_(ids))):
        items = [item for item in claim.evidence if item.cpd_hours]
        if items and claim.credential_id is not None:
            found[claim.credential_id] = items
    return found


def _entries_of(ctx: ServiceContext, owned: OwnedBadge,
                items: Sequence[EvidenceRecord]) -> list[Entry]:
    """The activities a badge counts: its claim's evidence items, or the badge itself."""
    name = owned.credential.achievement_name
    url = credential_url(ctx, owned.credential.id)
    if not items:
        return [Entry(day=owned.earned_on, achievement=name, issuer=owned.issuer_name,
                      category=_category(owned.badge.cpd_category),
                      hours=owned.badge.cpd_hours, url=url, badge=owned, topic=name)]
    return [Entry(
        day=item.activity_date or owned.earned_on,
        achievement=name,
        issuer=owned.issuer_name,
        # An item the learner left without a category counts under the badge's category.
        category=_category(item.cpd_category or owned.badge.cpd_category),
        hours=item.cpd_hours,
        url=url,
        badge=owned,
        end=item.activity_end_date,
        participatory_hours=item.participatory_hours,
        topic=item.title or name,
        relevance=item.practice_change or "",
        framework_reference=item.framework_reference or "",
        evidence_url=item.url or "",
    ) for item in items]


def badge_hours(session: Session, ctx: ServiceContext,
                badges: Sequence[OwnedBadge]) -> dict[str, list[tuple[str | None, float]]]:
    """Per badge (by credential id): its CPD hours per category, as the transcript counts
    them. A badge without a category has None, not "Uncategorised"."""
    evidence = _evidence_of(session, badges)
    found: dict[str, list[tuple[str | None, float]]] = {}
    for owned in badges:
        sums: dict[str | None, float] = {}
        for entry in _entries_of(ctx, owned, evidence.get(owned.credential.id, ())):
            if entry.hours is not None:
                key = None if entry.category == UNCATEGORISED else entry.category
                sums[key] = sums.get(key, 0.0) + entry.hours
        found[owned.credential.id] = [(c, _round(h)) for c, h in sums.items()]
    return found


def transcript(session: Session, ctx: ServiceContext, learner: Learner,
               span: Period) -> Transcript:
    """The learner's counted activities in ``span``, oldest first, and the sums.

    An activity is in the period when it started in it. A badge that is no longer valid is
    listed as left out when any of its activities falls in the period.
    """
    entries: list[Entry] = []
    left_out: list[tuple[OwnedBadge, str]] = []
    badges = owned_badges(session, ctx, learner)
    evidence = _evidence_of(session, badges)
    for owned in badges:
        counted = [e for e in _entries_of(ctx, owned, evidence.get(owned.credential.id, ()))
                   if span.contains(e.day)]
        if not counted:
            continue
        if not owned.valid:
            left_out.append((owned, _NOT_VALID.get(owned.state, owned.state)))
            continue
        if not _enclosable(owned.document):
            left_out.append((owned, "not an Open Badges credential with an embedded proof"))
            continue
        entries.extend(counted)
    entries.sort(key=lambda e: (e.day, e.achievement))
    left_out.sort(key=lambda item: item[0].earned_on)
    result = Transcript(period=span, entries=entries, left_out=left_out)
    named = sorted({e.category for e in entries} - {UNCATEGORISED}, key=str.casefold)
    result.categories = named + ([UNCATEGORISED] if any(
        e.category == UNCATEGORISED for e in entries) else [])
    if entries:
        result.quarters = _quarters_between(entries[0].day, entries[-1].day)
    for entry in entries:
        row = result.hours.setdefault(entry.quarter, {})
        row[entry.category] = row.get(entry.category, 0.0) + (entry.hours or 0.0)
    return result


def _enclosable(document: Mapping[str, Any]) -> bool:
    return bool(set(types_of(document)) & ACHIEVEMENT_CREDENTIAL_TYPES) \
        and bool(document.get("proof"))


# --- CSV -----------------------------------------------------------------------------------


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote before it.

    OWASP "CSV Injection": achievement and issuer names are chosen by others, and a cell
    starting with ``=``, ``+``, ``-`` or ``@`` would run as a formula when the file is opened.
    """
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def transcript_csv(result: Transcript) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 §2
    writer.writerow(CSV_COLUMNS)
    for e in result.entries:
        writer.writerow([safe_cell(v) for v in (
            e.day.isoformat(), (e.end or e.day).isoformat(), e.category, e.topic, e.relevance,
            format_hours(e.hours), format_hours(e.participatory_hours), e.framework_reference,
            e.evidence_url, e.achievement, e.issuer, e.url,
        )])
    return out.getvalue()


# --- CLR 2.0 -------------------------------------------------------------------------------


def records_issuer(session: Session, ctx: ServiceContext) -> Issuer:
    """The issuer that signs transcripts, created with a did:web and a key on first use.

    Two first uses at once: the second fails on the unique short name, in a SAVEPOINT that
    takes back only its own attempt, and uses the other's issuer.
    """
    issuer = session.scalar(select(Issuer).where(Issuer.slug == RECORDS_SLUG))
    if issuer is None:
        try:
            with session.begin_nested():
                issuer = create_issuer(session, ctx, slug=RECORDS_SLUG, name=RECORDS_NAME,
                                       description=RECORDS_DESCRIPTION, reserved=True)
        except IntegrityError:
            issuer = session.scalars(select(Issuer).where(Issuer.slug == RECORDS_SLUG)).one()
    return issuer


def _image(value: Any) -> Image | None:
    if isinstance(value, str):
        return Image(id=value)
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        caption = value.get("caption")
        return Image(id=value["id"], caption=caption if isinstance(caption, str) else None)
    return None


def _picked(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {k: data[k] for k in names if k in data}


_ALIGNMENT = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode",
              "targetType")
_RESULT_DESCRIPTION = ("id", "name", "resultType", "allowedValue", "requiredLevel",
                       "requiredValue", "valueMin", "valueMax")
_LEVEL = ("id", "name", "description", "level", "points")
_ACHIEVEMENT_TEXT = ("achievementType", "creditsAvailable", "humanCode", "fieldOfStudy",
                     "specialization", "version", "inLanguage")


def _objects(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [item for item in items if isinstance(item, Mapping)]


def _alignments(value: Any) -> tuple[Alignment, ...]:
    return tuple(Alignment(**_picked(a, _ALIGNMENT)) for a in _objects(value))


def _result_description(data: Mapping[str, Any]) -> ResultDescription:
    """A ResultDescription with its rubric levels and alignments (OB 3.0 §B.1.17, §B.1.18):
    a result's ``achievedLevel`` names one of those levels, so they travel with it."""
    levels = tuple(RubricCriterionLevel(**_picked(lv, _LEVEL),
                                        alignment=_alignments(lv.get("alignment")))
                   for lv in _objects(data.get("rubricCriterionLevel")))
    return ResultDescription(**_picked(data, _RESULT_DESCRIPTION), rubricCriterionLevel=levels,
                             alignment=_alignments(data.get("alignment")))


def _achievement(data: Any) -> Achievement | None:
    """The Achievement as the credential carries it (OB 3.0 §B.1.1), for ClrSubject.achievement.

    What the badge was issued for, not what the achievement says today. The parts this
    service issues are read back; an achievement that cannot be read back is left out of the
    list (its credential still carries it, and the record stays valid).
    """
    if not isinstance(data, Mapping):
        return None
    criteria = data.get("criteria")
    criteria = criteria if isinstance(criteria, Mapping) else {}
    creator = data.get("creator")
    tags = data.get("tag") or ()
    try:
        return Achievement(
            id=data.get("id"),  # type: ignore[arg-type]  # checked by the builder
            name=data.get("name"),  # type: ignore[arg-type]
            description=data.get("description"),  # type: ignore[arg-type]
            criteria=Criteria(id=criteria.get("id"), narrative=criteria.get("narrative")),
            image=_image(data.get("image")),
            creator=(Profile(**_picked(creator, ("id", "name", "url")))
                     if isinstance(creator, Mapping) else None),
            alignment=tuple(Alignment(**_picked(a, _ALIGNMENT))
                            for a in _objects(data.get("alignment"))),
            resultDescription=tuple(_result_description(r)
                                    for r in _objects(data.get("resultDescription"))),
            tag=tuple(tags) if isinstance(tags, list) else (),
            **_picked(data, _ACHIEVEMENT_TEXT),
        )
    except (InputError, TypeError):
        return None


def _subject_achievement(document: Mapping[str, Any]) -> Any:
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject.get("achievement") if isinstance(subject, Mapping) else None


def _summary(result: Transcript) -> str:
    parts = ", ".join(f"{c}: {format_hours(h)}" for c, h in result.by_category())
    badges = len(result.badges)
    return (f"CPD hours {result.period.describe()}: {format_hours(result.total)} in total"
            f"{f' ({parts})' if parts else ''}, from {badges} badge{'s' if badges != 1 else ''}.")


def sign_clr(session: Session, ctx: ServiceContext, *, name: str, description: str,
             identifiers: Sequence[IdentityObject],
             credentials: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ClrCredential enclosing ``credentials`` (signed AchievementCredentials), signed with
    eddsa-rdfc-2022 by the records issuer's active key.

    Every nested object the service adds carries an id (the achievements, the enclosed
    credentials), so RDF canonicalization has few blank nodes to tell apart (USERS.md §G4).
    The learner has no DID: the subject is identified by a hashed e-mail IdentityObject.
    """
    issuer = records_issuer(session, ctx)
    now = ctx.now()
    achievements: dict[str, Achievement] = {}
    for document in credentials:
        achievement = _achievement(_subject_achievement(document))
        if achievement is not None:
            achievements.setdefault(achievement.id, achievement)
    try:
        clr = ClrCredential(
            id=f"urn:uuid:{uuid.uuid4()}",
            issuer=profile(ctx, issuer),
            validFrom=now,
            name=name,
            description=description,
            # credentialSchema is optional in CLR 2.0, and its JSON Schema is not bundled
            # here: naming it would only make verifiers report a schema they could not check
            # (and would pull in the extensions context for its type).
            credentialSchema=(),
            credentialSubject=ClrSubject(
                identifier=tuple(identifiers),
                verifiableCredential=tuple(credentials),
                achievement=tuple(achievements.values()),
            ),
        ).to_json()
    except InputError as exc:
        raise SigningRefused("transcript", exc) from None
    return sign_as(ctx, issuer, clr, now, what="transcript").document


def _identifiers(learner: Learner) -> list[IdentityObject]:
    """Who the record is about, as the awards say it: a salted hash of the e-mail address
    (OB 3.0 §B.1.12), and the display name the learner chose, unhashed, when there is one."""
    found = [hashed_email(learner.email)]
    if learner.display_name:
        found.append(IdentityObject(identityHash=learner.display_name, identityType="name",
                                    hashed=False))
    return found


def build_clr(session: Session, ctx: ServiceContext, learner: Learner,
              date_from: date | None = None, date_to: date | None = None, *,
              actor_name: str | None = None) -> dict[str, Any]:
    """The learner's signed CLR 2.0 ClrCredential for the period (both ends included).

    CLR 2.0 ClrCredential: ``name``, ``issuer``, ``validFrom`` and at least one credential in
    ``credentialSubject.verifiableCredential`` are required, so a period without a counted
    badge is refused. Each credential is enclosed exactly as stored, with its own proof.
    """
    result = transcript(session, ctx, learner, period(date_from, date_to))
    if not result.entries:
        raise Invalid(f"there are no badges to put in a transcript {result.period.describe()}")
    who = learner.display_name
    signed = sign_clr(
        session, ctx,
        name=f"CPD transcript of {who}" if who else "CPD transcript",
        description=_summary(result),
        identifiers=_identifiers(learner),
        credentials=[owned.document for owned in result.badges],
    )
    record(session, ctx, actor=actor_name or actor(learner), action="transcript.issued",
           detail={"id": signed["id"], "credentials": len(result.badges),
                   "from": date_from.isoformat() if date_from else None,
                   "to": date_to.isoformat() if date_to else None})
    return signed
