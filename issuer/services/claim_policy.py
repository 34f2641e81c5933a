"""How an achievement is earned through a claim: its policy, read and written here only.

An achievement's policy says whether learners may claim it, how many peers must attest and
to what, the scaffolding level (:mod:`issuer.services.attestation_scaffolding`) at least one
of them must reach, whether a reviewer decides or the attestations approve it, and the CPD
category of the hours it records. An achievement without a stored policy has the default one:
open to claims, no attestations required, a reviewer decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from issuer.services import audit
from issuer.services.attestation_scaffolding import MAX_LEVEL, level_words
from issuer.services.attestation_wording import (
    ATTESTATION_KINDS,
    DEFAULT_KIND,
    SCAFFOLDING_KINDS,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.learning import AchievementPolicy
from issuer.storage.models import Achievement

__all__ = [
    "MAX_ATTESTATIONS",
    "MAX_CATEGORY",
    "closed_to_claims",
    "is_open",
    "policies_for",
    "policy_for",
    "set_policy",
    "stored_policy",
]

MAX_ATTESTATIONS = 20
MAX_CATEGORY = 100


def _default(achievement_id: int) -> AchievementPolicy:
    return AchievementPolicy(achievement_id=achievement_id, attestations_required=0,
                             review_required=True, attestation_kind=DEFAULT_KIND,
                             cpd_category=None, open_to_claims=True,
                             scaffolding_level_required=0)


def stored_policy(session: Session, achievement: Achievement) -> AchievementPolicy | None:
    """The policy staff stored for ``achievement``; None when it has the default one."""
    return session.get(AchievementPolicy, achievement.id)


def policy_for(session: Session, achievement: Achievement) -> AchievementPolicy:
    """The stored policy, or (not stored) the default: no attestations, a reviewer decides.

    A default policy is not added to the session: reading a policy never stores one.
    """
    stored = stored_policy(session, achievement)
    return stored if stored is not None else _default(achievement.id)


def policies_for(session: Session,
                 achievement_ids: Iterable[int]) -> dict[int, AchievementPolicy]:
    """The policies of several achievements, read at once; the default for those without."""
    wanted = set(achievement_ids)
    found = {p.achievement_id: p for p in session.scalars(
        select(AchievementPolicy).where(AchievementPolicy.achievement_id.in_(wanted)))
    } if wanted else {}
    return {i: found.get(i) or _default(i) for i in wanted}


def is_open(session: Session, achievement: Achievement) -> bool:
    """Whether learners may claim ``achievement`` (they may, without a stored policy)."""
    return policy_for(session, achievement).open_to_claims


def closed_to_claims() -> Select[tuple[int]]:
    """The ids of the achievements whose policy closes them to claims, as a subquery."""
    return select(AchievementPolicy.achievement_id).where(
        AchievementPolicy.open_to_claims.is_(False))


def _count(value: Any) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid("the number of attestations must be a whole number",
                      {"attestations_required": "a whole number"}) from None
    if not 0 <= number <= MAX_ATTESTATIONS:
        raise Invalid(f"the number of attestations must be between 0 and {MAX_ATTESTATIONS}",
                      {"attestations_required": f"0 to {MAX_ATTESTATIONS}"})
    return number


def _level(value: Any) -> int:
    text = str(value if value is not None else "").strip()
    if text in {"", "0"}:
        return 0
    if text not in {str(n) for n in range(1, MAX_LEVEL + 1)}:
        raise Invalid(f"the scaffolding level must be a level from 1 to {MAX_LEVEL}, or none",
                      {"scaffolding_level_required": f"none, or 1 to {MAX_LEVEL}"})
    return int(text)


def set_policy(session: Session, ctx: ServiceContext, achievement: Achievement,
               data: Mapping[str, Any], *, actor: str) -> AchievementPolicy:
    """Store how ``achievement`` is earned through a claim.

    Keys: ``attestations_required`` (0–20), ``review_required``, ``attestation_kind``,
    ``cpd_category``, ``open_to_claims`` and ``scaffolding_level_required`` (absent: the
    stored level stays while the policy still asks peers about help given).
    Automatic approval needs at least one attestation: otherwise the issuer would sign
    whatever anybody claims, unseen. A scaffolding level needs peers who say how they were
    helped, so at least one attestation about help given.
    """
    required = _count(data.get("attestations_required", 0))
    review = bool(data.get("review_required"))
    kind = str(data.get("attestation_kind") or "").strip()
    if kind not in ATTESTATION_KINDS:
        raise Invalid("choose what peers attest to", {"attestation_kind": "unknown kind"})
    category = str(data.get("cpd_category") or "").strip() or None
    if category is not None and len(category) > MAX_CATEGORY:
        raise Invalid(f"keep the CPD category under {MAX_CATEGORY} characters",
                      {"cpd_category": "too long"})
    policy = stored_policy(session, achievement)
    scaffolded = kind in SCAFFOLDING_KINDS and required > 0
    if "scaffolding_level_required" in data:
        level = _level(data["scaffolding_level_required"])
    else:  # kept, unless the new policy leaves nothing to reach it with
        level = (policy.scaffolding_level_required or 0) if policy and scaffolded else 0
    if level and not scaffolded:
        raise Invalid(f"a scaffolding level ({level_words(level)}) needs at least one peer "
                      "attestation that the learner helped them learn",
                      {"scaffolding_level_required": "needs attestations of help given"})
    if not review and required == 0:
        raise Invalid("automatic approval needs at least one peer attestation; require some "
                      "attestations or keep a reviewer", {"review_required": "needs attestations"})
    if policy is None:
        policy = AchievementPolicy(achievement_id=achievement.id)
        session.add(policy)
    before = _policy_detail(policy)
    policy.attestations_required = required
    policy.review_required = review
    policy.attestation_kind = kind
    policy.cpd_category = category
    policy.open_to_claims = bool(data.get("open_to_claims"))
    policy.scaffolding_level_required = level
    session.flush()
    audit.record(session, ctx, actor=actor, action="policy.updated",
                 issuer_id=achievement.issuer_id,
                 detail={"achievement": achievement.slug, "before": before,
                         "after": _policy_detail(policy)})
    return policy


def _policy_detail(policy: AchievementPolicy) -> dict[str, Any]:
    return {"attestations_required": policy.attestations_required,
            "review_required": policy.review_required,
            "attestation_kind": policy.attestation_kind,
            "cpd_category": policy.cpd_category, "open_to_claims": policy.open_to_claims,
            "scaffolding_level_required": policy.scaffolding_level_required or 0}
