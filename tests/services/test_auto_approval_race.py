"""The automatic approval when the last two attestations of a claim arrive at the same moment.

Each peer posts through their own client on the running app, so each attestation is its own
request and its own transaction. Both requests are held just before deciding until both
attestations are written, which is the moment the race is lost without a lock: each sees
only its own uncommitted attestation and neither approves.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.services import attestations
from issuer.services.context import ServiceContext
from issuer.storage.learning import AchievementPolicy, AuditEvent, LearnerBadge
from tests import learning_fixtures
from tests.learning_fixtures import (
    LearnerClient,
    OpenAchievement,
    make_learner,
    post_form,
    signed_in_client,
)
from tests.services.test_attestations import attest, new_link, ready_claim
from tests.web.learner.test_claims import claim_row

peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

CLAIMS = 10

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("ISSUER_TEST_DATABASE_URL"),
                       reason="needs PostgreSQL (ISSUER_TEST_DATABASE_URL)"),
]


def held_until_both_attested(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Hold every attestation request before it decides until its twin is there too.

    Returns a function that starts a new pair. The real decision runs after the wait.
    """
    real = attestations.maybe_auto_approve
    barrier = [threading.Barrier(2)]

    def paused(session: Session, ctx: ServiceContext, claim: Any) -> Any:
        barrier[0].wait(timeout=30)
        return real(session, ctx, claim)

    monkeypatch.setattr(attestations, "maybe_auto_approve", paused)

    def next_pair() -> None:
        barrier[0] = threading.Barrier(2)

    return next_pair


def test_simultaneous_last_attestations_approve_once_on_postgresql(
        app: Flask, session: Session, ctx: ServiceContext, peers: tuple[LearnerClient, ...],
        open_achievement: OpenAchievement, monkeypatch: pytest.MonkeyPatch) -> None:
    assert runtime(app).engine.dialect.name == "postgresql"
    policy = session.get(AchievementPolicy, open_achievement.achievement_id)
    assert policy is not None and policy.attestations_required == 2
    policy.review_required = False
    session.commit()
    claims: list[tuple[LearnerClient, str, str]] = []
    for n in range(CLAIMS):
        row = make_learner(session, ctx, f"learner{n}@example.org", f"Learner {n}")
        session.commit()
        learner = signed_in_client(app, row)
        public_id = ready_claim(learner, open_achievement)
        token = new_link(learner, public_id)
        assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
        claims.append((learner, public_id, token))

    next_pair = held_until_both_attested(monkeypatch)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for learner, public_id, token in claims:
            next_pair()
            answers = list(pool.map(lambda peer, t=token: attest(peer, t), peers))
            assert [a.status_code for a in answers] == [302, 302]  # type: ignore[attr-defined]
            claim = claim_row(session, public_id)
            assert claim.status == "approved", f"claim {public_id} left {claim.status}"
            assert claim.credential_id is not None
            badges = session.scalar(select(func.count()).select_from(LearnerBadge)
                                    .where(LearnerBadge.learner_id == learner.learner_id))
            assert badges == 1
            approvals = session.scalar(
                select(func.count()).select_from(AuditEvent)
                .where(AuditEvent.claim_id == claim.id,
                       AuditEvent.action == "claim.auto_approved"))
            assert approvals == 1
