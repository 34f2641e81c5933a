"""A badge reaches the learner's CPD record with the hours its credential records: the
``#cpd-hours`` RawScore result (OB 3.0 §B.1.16, §B.1.17) of an approved claim or of a staff
award, and ``creditsEarned`` only in credentials issued before hours became a result.
On the real database, through the award and approval use cases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuer.services.achievements import achievement_id, get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.profiles import link_badges
from issuer.services.reviews import approve
from issuer.storage.learning import Claim, Learner, LearnerBadge
from issuer.storage.models import Credential
from tests.conftest import World
from tests.learning_fixtures import (  # noqa: F401 - fixtures used by name
    OpenAchievement,
    make_learner,
    open_achievement,
)
from tests.services.test_reviews import _claim

EMAIL = "grace@guild.test"


def _hours_award(session: Session, ctx: ServiceContext, value: str, *,
                 result_type: str = "RawScore", fragment: str = "#cpd-hours",
                 credits: float | None = None) -> Credential:
    issuer = get_issuer(session, "guild")
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    ref = achievement_id(ctx, achievement) + fragment
    description: dict[str, Any] = {"id": ref, "name": "CPD hours", "resultType": result_type}
    row = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse(EMAIL), credits_earned=credits,
        result=[{"resultDescription": ref, "value": value}],
        result_descriptions=[description]), actor="staff@guild.test")
    session.commit()
    return row


def _linked_hours(session: Session, learner: Learner) -> list[float | None]:
    assert link_badges(session, learner) >= 1
    session.commit()
    return [b.cpd_hours for b in session.scalars(
        select(LearnerBadge).where(LearnerBadge.learner_id == learner.id)
        .order_by(LearnerBadge.id))]


def test_a_staff_award_counts_its_cpd_hours_result(
        session: Session, ctx: ServiceContext, world: World) -> None:
    learner = make_learner(session, ctx, EMAIL)
    session.commit()
    row = _hours_award(session, ctx, "3.5")
    subject = json.loads(row.document)["credentialSubject"]
    assert "creditsEarned" not in subject
    assert _linked_hours(session, learner) == [3.5]


def test_the_result_is_preferred_to_credits(
        session: Session, ctx: ServiceContext, world: World) -> None:
    learner = make_learner(session, ctx, EMAIL)
    session.commit()
    _hours_award(session, ctx, "2", credits=9.0)
    assert _linked_hours(session, learner) == [2.0]


@pytest.mark.parametrize(("value", "result_type", "fragment"), [
    ("-1", "RawScore", "#cpd-hours"),
    ("NaN", "RawScore", "#cpd-hours"),
    ("many", "RawScore", "#cpd-hours"),
    ("1e9", "RawScore", "#cpd-hours"),
    ("80", "Percent", "#cpd-hours"),  # a grade, not an hour count
    ("4", "RawScore", "#peer-attestations"),  # another count
])
def test_values_that_are_not_hours_count_none(
        session: Session, ctx: ServiceContext, world: World,
        value: str, result_type: str, fragment: str) -> None:
    learner = make_learner(session, ctx, EMAIL)
    session.commit()
    _hours_award(session, ctx, value, result_type=result_type, fragment=fragment)
    assert _linked_hours(session, learner) == [None]


def test_a_claimed_badge_links_with_the_hours_of_its_evidence(
        session: Session, ctx: ServiceContext,
        open_achievement: OpenAchievement) -> None:  # noqa: F811
    """The approved claim's credential records 2 + 1.5 hours as a result; a learner who
    gets the badge through its address (here: the link made at approval is gone) gets them
    too."""
    scene = _claim(session, ctx, open_achievement, attesting=2)
    claim = session.get(Claim, scene.claim_id)
    assert claim is not None
    row = approve(session, ctx, claim, "staff@guild.test", "Well evidenced.")
    session.commit()
    subject = json.loads(row.document)["credentialSubject"]
    assert "creditsEarned" not in subject
    assert [r["value"] for r in subject["result"]
            if r["resultDescription"].endswith("#cpd-hours")] == ["3.5"]
    session.execute(delete(LearnerBadge).where(LearnerBadge.credential_id == row.id))
    session.commit()
    learner = session.get(Learner, scene.learner_id)
    assert learner is not None
    assert _linked_hours(session, learner) == [3.5]
