"""`issuer init --demo`, run as the command it is, on the real database of these tests.

The demo must show the whole informal-learning flow at once: a learner's claim with evidence,
two peer attestations (one named, one pseudonymous), a reviewer's approval, the credential
that carries all of it, the learner's public profile and CPD transcript. It is built through
the use cases the web pages call, so the claim's audit trail is the one a real claim leaves,
and running the command again must change nothing.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.cli import main
from issuer.config import Settings
from issuer.services.attestation_reading import read_endorsements
from issuer.services.awards import AwardRequest, Recipient, award, credential_url
from issuer.services.context import ServiceContext
from issuer.services.demo import (
    DEMO_ADMIN,
    DEMO_LEARNER,
    DEMO_LEARNER_NAME,
    DEMO_PEERS,
    DEMO_REVIEW,
    DEMO_TRANSFER_URL,
    SUPERSEDED,
    demo_achievement,
)
from issuer.services.issuers import create_issuer
from issuer.services.profiles import link_badges, owned_badges
from issuer.services.reviews import claim_trail, review_queue
from issuer.services.transcripts import period, transcript
from issuer.services.verification import verify
from issuer.storage.learning import Attestation, Claim, Learner
from issuer.storage.models import Base, Credential, Issuer

CLAIM_STEPS = [
    "claim.started", "evidence.added", "evidence.added", "claim.submitted",
    "attestation.requested", "attestation.given", "attestation.requested", "attestation.given",
    "claim.approved", "credential.issued",
]


def _init(settings: Settings, instance: Path) -> str:
    """Run `issuer init --demo` against the tests' database; return what it printed."""
    env = {
        "ISSUER_DATABASE_URL": settings.database_url,
        "ISSUER_BASE_URL": settings.base_url,
        "ISSUER_KEYS_DIR": str(settings.keys_dir),
        "ISSUER_INSTANCE_DIR": str(instance),
        "ISSUER_SECRET_KEY": settings.secret_key,
    }
    result = CliRunner().invoke(main, ["init", "--demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _printed_badge(output: str) -> str:
    match = re.search(r"Demo badge:\s+(\S+)", output)
    assert match, output
    return match.group(1)


def _learner(session: Session, email: str) -> Learner:
    row = session.scalar(select(Learner).where(Learner.email == email))
    assert row is not None, f"no learner {email}"
    return row


def _demo_claim(session: Session) -> Claim:
    claims = list(session.scalars(select(Claim).where(
        Claim.learner_id == _learner(session, DEMO_LEARNER).id)))
    assert len(claims) == 1
    return claims[0]


def _snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(table)).all()
        tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


@pytest.fixture()
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


def test_the_demo_learner_earned_the_badge_through_an_approved_claim(
    settings: Settings, instance: Path, session: Session, ctx: ServiceContext
) -> None:
    output = _init(settings, instance)

    learner = _learner(session, DEMO_LEARNER)
    assert learner.display_name == DEMO_LEARNER_NAME
    claim = _demo_claim(session)
    assert claim.status == "approved"
    assert claim.reviewed_by == DEMO_ADMIN and claim.reviewer_comment == DEMO_REVIEW
    assert claim.credential_id is not None
    # The badge `make run` prints is the one the claim earned.
    assert _printed_badge(output) == credential_url(ctx, claim.credential_id)

    attestations = list(session.scalars(select(Attestation).where(
        Attestation.claim_id == claim.id)))
    peers = {a.peer.email: a for a in attestations}
    assert len(attestations) == 2 and set(peers) == {email for email, _, _ in DEMO_PEERS}
    assert learner.id not in {a.peer_id for a in attestations}
    named, anonymous = (peers[email] for email, _, _ in DEMO_PEERS)
    assert named.show_name and named.peer.display_name == DEMO_PEERS[0][1]
    assert not anonymous.show_name and anonymous.peer.display_name is None

    # The claim is in the issuer's review history, decided.
    issuer = session.scalar(select(Issuer).where(Issuer.slug == "demo"))
    assert issuer is not None
    assert [e.claim.id for e in review_queue(session, issuer, "approved")] == [claim.id]

    trail = claim_trail(session, claim)
    assert [e.action for e in trail] == CLAIM_STEPS
    actors = {e.action: e.actor for e in trail}
    assert actors["claim.started"] == f"learner:{DEMO_LEARNER}"
    assert actors["claim.approved"] == f"staff:{DEMO_ADMIN}"
    given = [e.actor for e in trail if e.action == "attestation.given"]
    assert given == [f"learner:{email}" for email, _, _ in DEMO_PEERS]


def test_the_demo_credential_verifies_with_its_evidence_and_endorsements(
    settings: Settings, instance: Path, session: Session, ctx: ServiceContext
) -> None:
    _init(settings, instance)
    claim = _demo_claim(session)
    row = session.get(Credential, claim.credential_id)
    assert row is not None

    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    endorsements_check = report.check("endorsements")
    assert endorsements_check is not None
    assert endorsements_check.message == "2 endorsements verified", endorsements_check.to_json()

    document = json.loads(row.document)
    subject = document["credentialSubject"]
    # CPD hours are a RawScore result, not academic credits (OB 3.0 §B.1.3 creditsEarned).
    assert "creditsEarned" not in subject
    # Nor does the badge claim a fixed number of credit hours: the hours are the claim's.
    assert "creditsAvailable" not in subject["achievement"]
    results = {r["resultDescription"].rpartition("#")[2]: r for r in subject["result"]}
    assert results["cpd-hours"]["value"] == "2"  # 1.5 + 0.5 hours of evidence
    assert results["peer-attestations"]["value"] == "2"
    assert (subject["activityStartDate"], subject["activityEndDate"]) == (
        "2025-03-14T00:00:00Z", "2025-04-02T00:00:00Z")
    evidence = document["evidence"]
    assert [e["type"] for e in evidence] == [["Evidence"], ["Evidence"]]
    assert evidence[0]["id"] == "https://community.example.org/t/retrieval-practice/42"
    assert all(e["narrative"] for e in evidence)
    assert evidence[0]["description"] == "Activity on 2025-03-14; 1.5 CPD hours"

    endorsements = document["endorsement"]
    assert len(endorsements) == 2
    assert all(e["type"] == ["VerifiableCredential", "EndorsementCredential"]
               for e in endorsements)
    assert all(e["credentialSubject"]["id"] == document["id"] for e in endorsements)
    comments = [e["credentialSubject"]["endorsementComment"] for e in endorsements]
    assert comments[0].startswith(f"{DEMO_PEERS[0][1]} attests: {DEMO_LEARNER_NAME} helped")
    assert comments[1].startswith("A peer (pseudonymous id urn:uuid:")
    assert DEMO_PEERS[1][0] not in row.document  # the unnamed peer stays unnamed


def test_the_demo_attestations_say_how_the_peers_were_helped(
    settings: Settings, instance: Path, session: Session, ctx: ServiceContext,
    client: FlaskClient
) -> None:
    """Each peer names different scaffolding functions; the first links to later work done
    alone, so the badge shows a real level (L3), and its page says it in words."""
    _init(settings, instance)
    claim = _demo_claim(session)
    by_peer = {a.peer.email: a for a in claim.attestations}
    named, anonymous = (by_peer[email] for email, _, _ in DEMO_PEERS)
    assert named.scaffolding_functions and anonymous.scaffolding_functions
    assert not set(named.scaffolding_functions.split()) & set(
        anonymous.scaffolding_functions.split())
    assert (named.contingency, named.transfer, named.transfer_url) == (
        True, True, DEMO_TRANSFER_URL)
    assert (anonymous.contingency, anonymous.transfer) == (True, False)

    row = session.get(Credential, claim.credential_id)
    assert row is not None
    document = json.loads(row.document)
    readings = read_endorsements(session, ctx, document)
    assert [(r.verified, r.level) for r in readings] == [(True, 3), (True, 2)]
    assert readings.scaffolding is not None
    assert readings.scaffolding.level == "L3 Help to independence"
    assert readings.scaffolding.transfers == "1" and readings.scaffolding.peers == "2"

    page = html.unescape(client.get(f"/credentials/{row.id}").get_data(as_text=True))
    assert "L3 Help to independence" in page
    assert "showed a worked example" in page.lower() and "got them engaged" in page.lower()
    assert DEMO_TRANSFER_URL in page


def test_the_demo_badge_is_on_the_public_profile_and_counts_in_the_transcript(
    settings: Settings, instance: Path, session: Session, ctx: ServiceContext,
    client: FlaskClient
) -> None:
    _init(settings, instance)
    learner = _learner(session, DEMO_LEARNER)
    claim = _demo_claim(session)

    [owned] = owned_badges(session, ctx, learner)
    assert owned.credential.id == claim.credential_id and owned.badge.shown and owned.valid

    response = client.get(f"/people/{learner.profile_handle}",
                          headers={"Accept": "application/json"})
    assert response.status_code == 200
    profile = response.get_json()
    assert profile["name"] == DEMO_LEARNER_NAME
    assert [b["credential"] for b in profile["badges"]] == [
        credential_url(ctx, str(claim.credential_id))]
    page = client.get(f"/people/{learner.profile_handle}")
    assert page.status_code == 200
    assert b"Peer Scaffolder" in page.data and DEMO_LEARNER.encode() not in page.data

    result = transcript(session, ctx, learner, period())
    # One activity per evidence item; items without a category count under the badge's.
    assert [(e.achievement, e.category, e.hours) for e in result.entries] == [
        ("Peer Scaffolder", "Mentoring", 1.5), ("Peer Scaffolder", "Mentoring", 0.5)]


def test_a_second_init_changes_nothing(
    settings: Settings, instance: Path, session: Session
) -> None:
    first = _init(settings, instance)
    before = _snapshot(session)
    session.rollback()  # a new transaction: see what the second run committed

    second = _init(settings, instance)

    assert _snapshot(session) == before
    assert second == first  # the same badge and the same remembered password


def test_init_retires_the_badge_an_older_demo_awarded_directly(
    settings: Settings, instance: Path, session: Session, ctx: ServiceContext
) -> None:
    """Demos before the claim flow awarded learner@example.org directly (``actor="demo"``):
    upgrading such an installation leaves one valid Peer Scaffolder badge, not two."""
    issuer = create_issuer(session, ctx, slug="demo", name="Demo Community of Practice")
    achievement = demo_achievement(session, ctx, issuer)
    old = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse(DEMO_LEARNER, DEMO_LEARNER_NAME)), actor="demo")
    someone_else = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse("someone@example.org", None)), actor="demo")
    session.commit()
    old_id, someone_else_id = old.id, someone_else.id

    output = _init(settings, instance)
    session.expire_all()

    claim = _demo_claim(session)
    assert _printed_badge(output) == credential_url(ctx, str(claim.credential_id))
    retired = session.get(Credential, old_id)
    assert retired is not None
    assert retired.status == "revoked" and retired.status_reason == SUPERSEDED
    other = session.get(Credential, someone_else_id)
    assert other is not None and other.status == "active"  # not the demo learner's: kept
    learner = _learner(session, DEMO_LEARNER)
    link_badges(session, learner)  # what signing in as the learner does
    states = {b.credential.id: b.state for b in owned_badges(session, ctx, learner)}
    assert states == {claim.credential_id: "active", old_id: "revoked"}
