"""The learner's badges and public profile: what is shown, to whom, and nothing more.

A badge is private until the learner shows it (USERS.md §3: evidence and identity privacy);
the public profile carries a display name and the shown badges with their verify links, never
the learner's e-mail address. Badges awarded directly by staff (admin page, API, bulk) reach
a learner through the e-mail address they were awarded to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.credentials import normalize_email
from issuer.core.datetimes import format_datetime
from issuer.core.errors import InputError
from issuer.services.audit import record
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, NotFound
from issuer.storage.learning import AchievementPolicy, Learner, LearnerBadge
from issuer.storage.models import Credential

_status_view: Callable[[Session, ServiceContext, Credential], Any] | None
try:  # Revocation and suspension: the issuer's status lists, when that feature is present.
    from issuer.services.revocation import credential_status as _status_view
except ImportError:  # pragma: no cover - only without the status feature
    _status_view = None

ACTIVE = "active"
EXPIRED = "expired"
#: The name a profile shows when the learner has not given one.
ANONYMOUS = "A learner"
MAX_NAME = 200
#: Profile handles are generated (random, at most 32 characters); longer is never one.
MAX_HANDLE = 32


@dataclass(frozen=True)
class OwnedBadge:
    """One of the learner's badges with what the issuer's records say about it now."""

    badge: LearnerBadge
    credential: Credential
    #: ``active``, ``revoked``, ``suspended`` or ``expired``.
    state: str
    reason: str | None
    document: dict[str, Any]

    @property
    def valid(self) -> bool:
        return self.state == ACTIVE

    @property
    def issuer_name(self) -> str:
        issuer = self.document.get("issuer")
        if isinstance(issuer, dict) and isinstance(issuer.get("name"), str):
            return str(issuer["name"])
        return self.credential.issuer.name

    @property
    def earned_on(self) -> date:
        """The day the badge was earned; the day it was issued when that is not recorded."""
        if self.badge.earned_on is not None:
            return self.badge.earned_on
        return self.credential.issued_at.astimezone(UTC).date()


def actor(learner: Learner) -> str:
    """How a learner appears in the audit trail (never the address: the trail is for staff,
    but it outlives a change of e-mail address)."""
    return f"learner:{learner.id}"


def parse_document(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


#: The fragment of the ResultDescription whose RawScore result is the CPD hours an award
#: records (the one approved claims write, ``issuer.services.reviews.hours_results``).
CPD_HOURS_FRAGMENT = "#cpd-hours"
#: More hours than any single award honestly records: a larger value is not taken as hours.
MAX_AWARD_HOURS = 10_000.0


def _hours(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except ValueError:
        return None
    return number if 0 <= number <= MAX_AWARD_HOURS else None  # NaN fails both


def _result_hours(subject: dict[str, Any]) -> float | None:
    """The value of the subject's ``#cpd-hours`` result, when its ResultDescription (in the
    credential's achievement, OB 3.0 §B.1.17) is a ``RawScore``, or is not described there."""
    achievement = subject.get("achievement")
    described = achievement.get("resultDescription") if isinstance(achievement, dict) else None
    kinds = {d.get("id"): d.get("resultType")
             for d in (described if isinstance(described, list) else [described])
             if isinstance(d, dict)}
    results = subject.get("result")
    for result in results if isinstance(results, list) else [results]:
        if not isinstance(result, dict):
            continue
        ref = result.get("resultDescription")
        if isinstance(ref, str) and ref.endswith(CPD_HOURS_FRAGMENT) \
                and kinds.get(ref, "RawScore") == "RawScore":
            return _hours(result.get("value"))
    return None


def _credits_earned(document: dict[str, Any]) -> float | None:
    """The CPD hours an award records: its ``#cpd-hours`` RawScore result (OB 3.0 §B.1.16,
    §B.1.17), or in credentials issued before hours became a result, §B.1.3
    ``creditsEarned``; None when it records neither."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if not isinstance(subject, dict):
        return None
    hours = _result_hours(subject)
    if hours is not None:
        return hours
    value = subject.get("creditsEarned")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def link_badges(session: Session, learner: Learner) -> int:
    """Give the learner the badges awarded to their e-mail address that they do not have yet.

    Awards by staff (admin page, API, bulk) know only an address; the learner proved control of
    that address when signing in, so those badges are theirs. Safe to call on every visit: a
    concurrent call inserting the same row is ignored by the (learner, credential) unique
    constraint. Returns how many were linked.
    """
    try:
        email = normalize_email(learner.email)
    except InputError:
        return 0
    taken = select(LearnerBadge.credential_id).where(LearnerBadge.learner_id == learner.id)
    rows = session.execute(
        select(Credential, AchievementPolicy.cpd_category)
        .outerjoin(AchievementPolicy,
                   AchievementPolicy.achievement_id == Credential.achievement_id)
        .where(Credential.recipient_email == email, Credential.id.not_in(taken))
    ).all()
    values = [
        {
            "learner_id": learner.id,
            "credential_id": credential.id,
            "shown": False,
            "cpd_hours": _credits_earned(parse_document(credential.document)),
            "cpd_category": category,
            "earned_on": credential.issued_at.astimezone(UTC).date(),
        }
        for credential, category in rows
    ]
    if values:
        session.execute(_insert_new(session, values))
        session.flush()
    return len(values)


def _insert_new(session: Session, values: list[dict[str, Any]]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on the (learner, credential) pair.

    A lost race is then a normal outcome rather than an error to undo with a savepoint; both
    dialects support ON CONFLICT.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(LearnerBadge).values(values).on_conflict_do_nothing(
            index_elements=["learner_id", "credential_id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(LearnerBadge).values(values).on_conflict_do_nothing(
            index_elements=["learner_id", "credential_id"])
    raise NotImplementedError(f"no duplicate-safe insert for {dialect}")


def _state(session: Session, ctx: ServiceContext,
           credential: Credential) -> tuple[str, str | None]:
    if _status_view is not None:
        view = _status_view(session, ctx, credential)
        state, reason = view.state, view.reason
    else:  # pragma: no cover - only without the status feature
        state, reason = getattr(credential, "status", ACTIVE) or ACTIVE, None
    if state == ACTIVE and credential.valid_until is not None \
            and credential.valid_until <= ctx.now():
        return EXPIRED, None
    return state, reason


def owned_badges(session: Session, ctx: ServiceContext, learner: Learner, *,
                 shown_only: bool = False) -> list[OwnedBadge]:
    """The learner's badges, newest first, each with its current state."""
    stmt = (select(LearnerBadge, Credential)
            .join(Credential, Credential.id == LearnerBadge.credential_id)
            .where(LearnerBadge.learner_id == learner.id))
    if shown_only:
        stmt = stmt.where(LearnerBadge.shown.is_(True))
    stmt = stmt.order_by(Credential.issued_at.desc(), Credential.id)
    owned = []
    for badge, credential in session.execute(stmt).all():
        state, reason = _state(session, ctx, credential)
        owned.append(OwnedBadge(badge=badge, credential=credential, state=state,
                                reason=reason, document=parse_document(credential.document)))
    return owned


def owned_credential(session: Session, learner: Learner,
                     credential_id: str) -> Credential | None:
    """One of ``learner``'s own badges by its credential id (a UUID, in any case); None for
    another learner's badge, as for an id that names none."""
    try:
        canonical = str(uuid.UUID(str(credential_id)))
    except ValueError:
        return None
    return session.scalar(
        select(Credential).join(LearnerBadge, LearnerBadge.credential_id == Credential.id)
        .where(LearnerBadge.learner_id == learner.id, Credential.id == canonical))


def set_shown(session: Session, ctx: ServiceContext, learner: Learner, badge_id: int,
              shown: bool) -> LearnerBadge:
    """Show a badge on the learner's public profile, or hide it again.

    Only the learner's own badges: another learner's badge id is "not found".
    """
    badge = session.get(LearnerBadge, badge_id)
    if badge is None or badge.learner_id != learner.id:
        raise NotFound("you have no such badge")
    if badge.shown != shown:
        badge.shown = shown
        record(session, ctx, actor=actor(learner),
               action="profile.badge-shown" if shown else "profile.badge-hidden",
               detail={"credential": badge.credential_id})
        session.flush()
    return badge


def set_display_name(session: Session, ctx: ServiceContext, learner: Learner,
                     name: str | None) -> Learner:
    """The name the public profile shows; empty clears it ("A learner" is shown instead)."""
    cleaned = " ".join((name or "").split())
    if len(cleaned) > MAX_NAME:
        raise Invalid(f"a name may have up to {MAX_NAME} characters",
                      {"display_name": "too long"})
    if cleaned != (learner.display_name or ""):
        learner.display_name = cleaned or None
        record(session, ctx, actor=actor(learner), action="profile.name-changed")
        session.flush()
    return learner


@dataclass(frozen=True)
class PublicProfile:
    """Exactly what anyone may see: a name, the profile address, and the shown badges."""

    name: str
    url: str
    badges: Sequence[OwnedBadge]

    def to_json(self, ctx: ServiceContext) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "badges": [
                {
                    "credential": credential_url(ctx, b.credential.id),
                    "achievement": b.credential.achievement_name,
                    "issuer": b.issuer_name,
                    "issued": format_datetime(b.credential.issued_at),
                    "verify": f"{credential_url(ctx, b.credential.id)}/verify",
                }
                for b in self.badges
            ],
        }




def profile_url(ctx: ServiceContext, learner: Learner) -> str:
    return f"{ctx.base}/people/{learner.profile_handle}"


def public_profile(session: Session, ctx: ServiceContext, handle: str) -> PublicProfile:
    """The profile at ``/people/<handle>``.

    Only shown badges that are valid now: a revoked, suspended or expired badge is no longer
    something the issuer vouches for. An unknown handle and a profile with nothing to show
    give the same "not found", so a profile does not reveal that its learner exists.
    """
    missing = NotFound("there is no public profile at this address")
    if not handle or len(handle) > MAX_HANDLE:
        raise missing
    learner = session.scalar(select(Learner).where(Learner.profile_handle == handle))
    if learner is None:
        raise missing
    badges = [b for b in owned_badges(session, ctx, learner, shown_only=True) if b.valid]
    if not badges:
        raise missing
    return PublicProfile(name=learner.display_name or ANONYMOUS,
                         url=profile_url(ctx, learner), badges=badges)
