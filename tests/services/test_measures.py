"""The measures reviewers are shown, computed from stored traces and attestations, and the
thresholds that block or allow approval — on the real database."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.activity.measures import FRESH, HALF, SAME_PERSON
from issuer.core.activity.rules import FRESH_ACCOUNTS, LOW_DIVERSITY, RECIPROCAL
from issuer.services import claims as claim_service
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid
from issuer.services.measures import (
    claim_measures,
    learner_measures,
    measure_blocker,
    set_thresholds,
)
from issuer.services.reviews import approval_blocker, approve
from issuer.services.suggestions import create_upload, scan, suggest
from issuer.services.traces import import_archive
from issuer.storage.learning import Attestation, Claim
from issuer.storage.models import Achievement, Issuer
from tests.conftest import World
from tests.core.activity.archives import SE_POSTS, SITE, USERS_XML, posts_xml
from tests.learning_fixtures import make_learner

DAY0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
STAFF = "staff:staff@guild.test"


def _mail(n: int, sender: str, day: float, body: str, reply_to: int | None = None) -> str:
    when = DAY0 + timedelta(days=day)
    lines = [f"From {sender} {when:%a %b %d %H:%M:%S %Y}", f"From: <{sender}>",
             f"Date: {when:%a, %d %b %Y %H:%M:%S} +0000", f"Message-ID: <{n}@x.example>",
             "List-Id: <help.x.example>", "Subject: help"]
    if reply_to is not None:
        lines.append(f"In-Reply-To: <{reply_to}@x.example>")
    return "\n".join(lines) + "\n\n" + body + "\n\n"


def twenty_thanks_in_a_week() -> bytes:
    mails = []
    for n in range(20):
        mails += [_mail(100 + n, "friend@x.example", n * 0.3, f"Question {n}?"),
                  _mail(200 + n, "me@x.example", n * 0.3 + 0.01, f"Answer {n}.", 100 + n),
                  _mail(300 + n, "friend@x.example", n * 0.3 + 0.02, "thx", 200 + n)]
    return "".join(mails).encode("utf-8")


def pair_thanking_each_other() -> bytes:
    return "".join([
        _mail(1, "me@x.example", 0, "How?"), _mail(2, "pal@x.example", 0.1, "Like this.", 1),
        _mail(3, "me@x.example", 0.2, "Thanks!", 2), _mail(4, "pal@x.example", 2, "And how?"),
        _mail(5, "me@x.example", 2.1, "Like that.", 4),
        _mail(6, "pal@x.example", 2.2, "Thank you!", 5)]).encode("utf-8")


@pytest.fixture()
def badge(session: Session, world: World) -> Achievement:
    found = session.scalar(select(Achievement).join(Issuer).where(
        Issuer.slug == world.issuer_slug, Achievement.slug == world.achievement_slug))
    assert found is not None
    return found


def _learner_claim(session: Session, ctx: ServiceContext, badge: Achievement,
                   archive: bytes, email: str = "me@x.example") -> Claim:
    """A learner imports their list's archive on their own claim and submits it."""
    learner = make_learner(session, ctx, email, "Me")
    claim = claim_service.start_claim(session, ctx, learner, badge, statement="I helped.")
    import_archive(session, ctx, learner, claim, kind="mbox", handle=email,
                   stream=io.BytesIO(archive), file_name="list.mbox")
    claim_service.add_evidence(session, ctx, learner, claim, claim_service.EvidenceInput(
        url="https://lists.example/help/200", title="An answer", public=True))
    claim_service.submit_claim(session, ctx, learner, claim)
    session.flush()
    return claim


def test_one_person_acknowledging_twenty_times_in_a_week_counts_once_and_blocks(
        session: Session, ctx: ServiceContext, badge: Achievement) -> None:
    claim = _learner_claim(session, ctx, badge, twenty_thanks_in_a_week())
    m = claim_measures(session, claim).measures
    assert m is not None
    assert (m.answers, m.acknowledged, m.people_acknowledging, m.counted_acknowledgements) == (
        20, 20, 1, 1.0)
    assert m.flags == (LOW_DIVERSITY,)
    assert sum(r.outcome == SAME_PERSON for r in m.records) == 19
    assert approval_blocker(session, claim) is None  # the badge asks nothing yet
    set_thresholds(session, ctx, badge, {"min_acknowledgements": "1"}, actor=STAFF)
    blocker = approval_blocker(session, claim)
    assert blocker is not None and "too few different people" in blocker
    with pytest.raises(Conflict, match="too few different people"):
        approve(session, ctx, claim, "staff@guild.test", "Looks fine.")


def test_two_accounts_thanking_each_other_count_half(
        session: Session, ctx: ServiceContext, badge: Achievement) -> None:
    claim = _learner_claim(session, ctx, badge, pair_thanking_each_other())
    m = claim_measures(session, claim).measures
    assert m is not None
    assert (m.acknowledged, m.people_acknowledging, m.counted_acknowledgements) == (1, 1, 0.5)
    assert RECIPROCAL in m.flags and [r.outcome for r in m.records] == [HALF]
    set_thresholds(session, ctx, badge, {"min_acknowledgements": "1"}, actor=STAFF)
    assert "0.5 acknowledgements counted; at least 1 needed" in (
        measure_blocker(session, claim) or "")
    set_thresholds(session, ctx, badge, {"min_acknowledgements": "0.5"}, actor=STAFF)
    assert measure_blocker(session, claim) is None


def test_a_fresh_account_counts_nothing_in_a_suggested_claim(
        session: Session, ctx: ServiceContext, badge: Achievement) -> None:
    """User 10 of the dump: 20 accepted twice (once counted), 21 is a reciprocal pair
    (half), 30's account was five days old (nothing)."""
    set_thresholds(session, ctx, badge, {"min_people": "2"}, actor=STAFF)
    upload = create_upload(session, ctx, badge.issuer, badge, kind="posts_xml",
                           data=posts_xml(SE_POSTS), users=USERS_XML, file_name="Posts.xml",
                           site=SITE, actor=STAFF)
    found = scan(session, ctx, upload)
    ten = next(c for c in found.candidates if c.handle == "10")
    assert ten.meets and ten.email is None
    outcome = suggest(session, ctx, found, [(ten.number, "ines@example.org")], actor=STAFF)
    assert outcome.errors == []
    claim = outcome.created[0][1]
    view = claim_measures(session, claim)
    m = view.measures
    assert m is not None
    assert (m.people_acknowledging, m.counted_acknowledgements) == (2, 1.5)
    assert FRESH_ACCOUNTS in m.flags and RECIPROCAL in m.flags
    assert FRESH in [r.outcome for r in m.records]
    assert view.missing == [] and approval_blocker(session, claim) is None
    # Without Users.xml the fresh account would count: the ages change the measure.
    bare = scan(session, ctx, create_upload(
        session, ctx, badge.issuer, badge, kind="posts_xml", data=posts_xml(SE_POSTS),
        file_name="Posts.xml", site=SITE, actor=STAFF))
    assert next(c for c in bare.candidates if c.handle == "10").measures \
        .counted_acknowledgements == 2.5


def test_attested_transfer_is_required_when_the_policy_asks(
        session: Session, ctx: ServiceContext, badge: Achievement) -> None:
    claim = _learner_claim(session, ctx, badge, pair_thanking_each_other())
    set_thresholds(session, ctx, badge, {"min_transfer": "1"}, actor=STAFF)
    assert "0 peers attested they can now do it unaided; at least 1 needed" in (
        approval_blocker(session, claim) or "")
    peer = make_learner(session, ctx, "pal@x.example", "Pal")
    # The learner's own word is never transfer; a peer's is.
    session.add(Attestation(claim_id=claim.id, peer_id=claim.learner_id, kind="helped-me-learn",
                            comment="I did it.", transfer=True))
    session.flush()
    assert approval_blocker(session, claim) is not None
    session.add(Attestation(claim_id=claim.id, peer_id=peer.id, kind="helped-me-learn",
                            comment="I can do it alone now.", transfer=True))
    session.flush()
    session.expire(claim, ["attestations"])
    assert approval_blocker(session, claim) is None
    assert claim_measures(session, claim).measures.attested_transfer == 1  # type: ignore[union-attr]
    row = approve(session, ctx, claim, "staff@guild.test", "Transfer attested.")
    assert row.id == claim.credential_id
    everything = learner_measures(session, claim.learner, badge.issuer)
    assert everything.measures is not None and everything.measures.attested_transfer == 1


def test_thresholds_are_checked(session: Session, ctx: ServiceContext,
                                badge: Achievement) -> None:
    with pytest.raises(Invalid) as caught:
        set_thresholds(session, ctx, badge, {"min_people": "x", "min_rate": "101",
                                             "followers": "1000"}, actor=STAFF)
    assert set(caught.value.fields) == {"followers"}
    with pytest.raises(Invalid) as caught:
        set_thresholds(session, ctx, badge, {"min_people": "x", "min_rate": "101"},
                       actor=STAFF)
    assert set(caught.value.fields) == {"min_people", "min_rate"}
