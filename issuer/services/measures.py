"""The measures of help shown to reviewers, per claim and per learner, and the thresholds an
achievement's measure policy asks of them at approval.

The measures are those of :mod:`issuer.core.activity.measures`, computed from the community
traces stored for the learner (:mod:`issuer.storage.traces`: archives the learner imported
on a claim, or a community export a manager suggested the claim from) and from the peer
attestations (transfer: peers who say they can now do it unaided). Per claim: the traces
imported for that claim. Per learner: every trace the learner imported, and the transfer
attested on their claims to one issuer.

Traces of several archives are measured together: the learner's handles become one person,
and everybody else is kept apart by platform, since the same name on two platforms need
not be the same person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from issuer.core.activity.measures import Measures, Thresholds, measure, shortfalls
from issuer.core.activity.model import Acknowledgement, Interaction
from issuer.services import audit
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.learning import Attestation, Claim, Learner
from issuer.storage.measure_policies import MeasurePolicy
from issuer.storage.models import Achievement, Issuer
from issuer.storage.traces import TraceImport, TraceItem

__all__ = [
    "LIMITS",
    "ClaimMeasures",
    "claim_measures",
    "learner_measures",
    "measure_blocker",
    "measure_imports",
    "set_thresholds",
    "stored_thresholds",
    "thresholds_for",
]

#: Threshold name → (largest value, words for the form and the errors).
LIMITS: dict[str, tuple[int, str]] = {
    "min_people": (1000, "different people whose acknowledgement counts"),
    "min_acknowledgements": (10000, "acknowledgements counted"),
    "min_rate": (100, "per cent of answers acknowledged"),
    "min_transfer": (100, "peers attesting they can now do it unaided"),
    "min_threads": (10000, "threads answered in"),
    "min_communities": (100, "communities with acknowledged help"),
    "min_months": (600, "months active"),
}
#: The learner, whatever their handle in each archive.
_SELF = "\x00learner"


@dataclass(frozen=True)
class ClaimMeasures:
    """What a reviewer sees: the measures (None: no traces), the thresholds and what is
    missing of them, and the archives measured."""

    measures: Measures | None
    thresholds: Thresholds
    missing: list[str]
    imports: list[TraceImport]

    @property
    def handles(self) -> list[str]:
        return sorted({f"{row.handle} ({row.platform})" for row in self.imports})


# --- thresholds -----------------------------------------------------------------------------


def stored_thresholds(session: Session, achievement: Achievement) -> MeasurePolicy | None:
    return session.get(MeasurePolicy, achievement.id)


def thresholds_for(session: Session, achievement: Achievement) -> Thresholds:
    """The achievement's thresholds; none asked when staff set none."""
    row = stored_thresholds(session, achievement)
    if row is None:
        return Thresholds()
    return Thresholds(**{name: getattr(row, name) for name in LIMITS})


def _number(name: str, value: Any, errors: dict[str, str]) -> int | float:
    """A threshold as typed: a whole number, or for counted acknowledgements a number in
    halves (a reciprocal pair's acknowledgement weighs half)."""
    top, words = LIMITS[name]
    halves = name == "min_acknowledgements"
    text = str(value if value is not None else "").strip() or "0"
    try:
        number: int | float = float(text) if halves else int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= top or (halves and (number * 2) % 1):
        errors[name] = f"{words}: from 0 to {top}" + (", in halves" if halves else "")
        return 0
    return number


def set_thresholds(session: Session, ctx: ServiceContext, achievement: Achievement,
                   data: Mapping[str, Any], *, actor: str) -> Thresholds:
    """Store what ``achievement`` asks of the measures (absent keys: 0, nothing asked).

    Counted acknowledgements may be halves: a reciprocal pair's weighs half.
    """
    unknown = set(data) - set(LIMITS)
    if unknown:
        raise Invalid(f"unknown thresholds: {', '.join(sorted(unknown))}",
                      {name: "unknown" for name in unknown})
    errors: dict[str, str] = {}
    values = {name: _number(name, data.get(name), errors) for name in LIMITS}
    if errors:
        raise Invalid("Please check the thresholds: " + "; ".join(errors.values()), errors)
    row = stored_thresholds(session, achievement)
    before = {name: getattr(row, name) for name in LIMITS} if row is not None else None
    if row is None:
        row = MeasurePolicy(achievement_id=achievement.id)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by = actor[:320]
    row.updated_at = ctx.now()
    session.flush()
    audit.record(session, ctx, actor=actor, action="policy.measures_updated",
                 issuer_id=achievement.issuer_id,
                 detail={"achievement": achievement.slug, "before": before, "after": values})
    return thresholds_for(session, achievement)


# --- measuring ------------------------------------------------------------------------------


def _interaction(item: TraceItem) -> Interaction:
    # Read here rather than through the traces service, which the claims (and so the
    # approval this module serves) import: the measures stay below both.
    marks = tuple(Acknowledgement(str(m.get("kind", "")), m.get("by"),
                                  datetime.fromisoformat(m["at"]) if m.get("at") else None)
                  for m in item.acknowledgements or [])
    return Interaction(
        platform=item.platform, post_id=item.post_id, author=item.author,
        created=item.created, thread=item.thread, community=item.community,
        permalink=item.permalink, reply_to_post=item.reply_to_post,
        reply_to_person=item.reply_to_person, acknowledgements=marks,
        content_sha256=item.content_sha256, source_sha256=item.source_sha256,
        opens_thread=item.opens_thread, says_thanks=item.says_thanks)


def _other(platform: str, name: str | None, own: set[str]) -> str | None:
    if name is None:
        return None
    return _SELF if name in own else f"{platform}:{name}"


def _as_learner(post: Interaction, own: set[str]) -> Interaction:
    """``post`` with the learner as one person and everybody else kept apart by platform."""
    marks = tuple(Acknowledgement(m.kind, _other(post.platform, m.by, own), m.at)
                  for m in post.acknowledgements)
    return replace(post, author=_other(post.platform, post.author, own),
                   reply_to_person=_other(post.platform, post.reply_to_person, own),
                   acknowledgements=marks)


def _created(rows: Iterable[TraceImport]) -> dict[str, datetime]:
    created: dict[str, datetime] = {}
    for row in rows:
        for person, when in (row.accounts_created or {}).items():
            try:
                created[f"{row.platform}:{person}"] = datetime.fromisoformat(when).astimezone(UTC)
            except (TypeError, ValueError):
                continue
    return created


def measure_imports(rows: Iterable[TraceImport]) -> Measures | None:
    """The learner's measures over the traces of ``rows`` together (transfer 0); None
    without any. A post kept by two imports (the same archive twice) counts once."""
    rows = list(rows)
    if not rows:
        return None
    posts: dict[tuple[str, str], Interaction] = {}
    for row in rows:
        own = {row.handle}
        for item in row.items:
            posts.setdefault((item.platform, item.post_id), _as_learner(_interaction(item), own))
    found = measure(_SELF, posts.values(), _created(rows))
    label = ", ".join(sorted({row.handle for row in rows}))
    return replace(found, handle=label)


def _transfer(session: Session, claims: Iterable[Claim]) -> int:
    """Distinct peers (never the learner) who said they can now do it unaided."""
    pairs = [(c.id, c.learner_id) for c in claims]
    if not pairs:
        return 0
    conditions = [((Attestation.claim_id == claim_id) & (Attestation.peer_id != learner_id))
                  for claim_id, learner_id in pairs]
    return int(session.scalar(
        select(func.count(func.distinct(Attestation.peer_id)))
        .where(Attestation.transfer.is_(True), or_(*conditions))) or 0)


def _claim_imports(session: Session, claim: Claim) -> list[TraceImport]:
    """The archives imported for ``claim``, and those whose posts it cites as evidence."""
    cited = select(TraceItem.import_id).where(
        TraceItem.evidence_record_id.in_([e.id for e in claim.evidence] or [-1]))
    return list(session.scalars(
        select(TraceImport).where(TraceImport.learner_id == claim.learner_id,
                                  or_(TraceImport.claim_id == claim.id,
                                      TraceImport.id.in_(cited)))
        .order_by(TraceImport.id)))


def claim_measures(session: Session, claim: Claim) -> ClaimMeasures:
    """The measures of ``claim``'s traces and attestations, against its badge's thresholds."""
    thresholds = thresholds_for(session, claim.achievement)
    imports = _claim_imports(session, claim)
    found = measure_imports(imports)
    transfer = _transfer(session, [claim])
    if found is not None:
        found = found.with_transfer(transfer)
    missing = shortfalls(found or Measures("", attested_transfer=transfer), thresholds) \
        if thresholds.any else []
    return ClaimMeasures(found, thresholds, missing, imports)


def learner_measures(session: Session, learner: Learner, issuer: Issuer) -> ClaimMeasures:
    """Every trace ``learner`` imported measured together, with the transfer attested on
    their claims to ``issuer`` (no thresholds: they belong to a badge)."""
    imports = list(session.scalars(select(TraceImport).where(
        TraceImport.learner_id == learner.id).order_by(TraceImport.id)))
    claims = session.scalars(select(Claim).where(Claim.learner_id == learner.id,
                                                 Claim.issuer_id == issuer.id))
    found = measure_imports(imports)
    transfer = _transfer(session, claims)
    if found is not None:
        found = found.with_transfer(transfer)
    return ClaimMeasures(found, Thresholds(), [], imports)


def measure_blocker(session: Session, claim: Claim) -> str | None:
    """Why ``claim``'s measured help does not meet its badge's thresholds, in plain words for
    the reviewer; None when it does or the badge asks nothing of it."""
    if not thresholds_for(session, claim.achievement).any:
        return None  # nothing asked: the traces need not be read
    view = claim_measures(session, claim)
    if not view.missing:
        return None
    if view.measures is None:
        return ("This badge requires measured help (see its claim policy), and no community "
                "archive has been imported for this claim.")
    return ("The measured help does not meet this badge's policy yet: "
            + "; ".join(view.missing) + ".")
