"""Peer attestations through the learner's and the peer's pages, on the real database."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.services import attestations
from issuer.services.attestations import token_hash
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict
from issuer.services.issuers import issuer_did
from issuer.services.pseudonyms import peer_identifier
from issuer.storage.learning import (
    AchievementPolicy,
    Attestation,
    AttestationRequest,
    AuditEvent,
    Claim,
    Learner,
    MailMessage,
)
from tests import learning_fixtures
from tests.learning_fixtures import (
    LearnerClient,
    OpenAchievement,
    make_learner,
    post_form,
    signed_in_client,
)
from tests.web.learner.test_claims import add, claim_row, start

# The shared fixtures, used by name.
learner = learning_fixtures.learner
peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

LINK = re.compile(r"http://badges\.test/attest/([A-Za-z0-9_-]{20,})")


def ready_claim(client: LearnerClient, target: OpenAchievement) -> str:
    public_id = start(client, target, "I helped people learn recursion.")
    add(client, public_id, title="Forum thread", url="https://forum.example/t/9", public="yes")
    return public_id


def new_link(client: LearnerClient, public_id: str, email: str = "", note: str = "") -> str:
    response = post_form(client, f"/learn/claims/{public_id}/requests",
                         {"email": email, "note": note})
    # Post/Redirect/Get: the link is shown by the page the POST redirects to.
    assert response.status_code == 302, response.get_data(as_text=True)
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    found = LINK.search(shown.get_data(as_text=True))
    assert found, "the page shows the link to copy"
    return found.group(1)


def attest(client: FlaskClient, token: str, **fields: str) -> object:
    data = {"kind": "helped-me-learn", "comment": "They explained recursion patiently.",
            **fields}
    return post_form(client, f"/attest/{token}", data, token_from=f"/attest/{token}")


def count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Attestation)) or 0


def trail(session: Session, public_id: str) -> list[tuple[str, str]]:
    claim = claim_row(session, public_id)
    return [(e.actor, e.action) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.claim_id == claim.id).order_by(AuditEvent.id))]


def test_a_link_is_shown_once_and_stored_only_as_a_digest(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    row = session.scalar(select(AttestationRequest))
    assert row is not None
    assert row.token_hash == token_hash(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert row.email is None
    assert session.scalar(select(func.count()).select_from(MailMessage)) == 0
    assert token not in learner.get(f"/learn/claims/{public_id}").get_data(as_text=True)


def test_a_link_can_be_emailed_to_a_peer(learner: LearnerClient, session: Session,
                                         open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id, email="friend@example.org", note="Thanks for asking!")
    mail = session.scalar(select(MailMessage))
    assert mail is not None
    assert (mail.to_address, mail.kind) == ("friend@example.org", "attestation_requested")
    assert f"http://badges.test/attest/{token}" in mail.body
    assert "Ada Learner" in mail.subject and "Peer Scaffolder" in mail.body
    assert "Thanks for asking!" in mail.body
    assert ("learner:learner@guild.test", "attestation.requested") in trail(session, public_id)


@pytest.mark.parametrize("email", ["not-an-address", "learner@guild.test"])
def test_a_bad_request_address_is_refused(learner: LearnerClient, session: Session,
                                          open_achievement: OpenAchievement,
                                          email: str) -> None:
    public_id = ready_claim(learner, open_achievement)
    response = post_form(learner, f"/learn/claims/{public_id}/requests", {"email": email})
    assert response.status_code == 422
    assert 'id="f-email-error"' in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(AttestationRequest)) == 0
    assert session.scalar(select(func.count()).select_from(MailMessage)) == 0


def test_two_peers_attest_and_the_trail_records_each_step(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    first, second = peers

    page = first.get(f"/attest/{token}").get_data(as_text=True)
    assert "Ada Learner claims “Peer Scaffolder”" in page
    assert "Ada Learner helped me learn Peer Scaffolder" in page
    assert 'value="helped-me-learn" checked' in page, "the policy's kind is the default"
    assert "Show my name (Grace Peer) in the badge" in page

    assert attest(first, token, show_name="yes").status_code == 302
    assert attest(second, token, kind="genuine-contribution",
                  comment="Their answers are their own.").status_code == 302
    assert count(session) == 2
    rows = session.scalars(select(Attestation).order_by(Attestation.id)).all()
    assert [(r.peer_id, r.kind, r.show_name) for r in rows] == [
        (first.learner_id, "helped-me-learn", True),
        (second.learner_id, "genuine-contribution", False)]

    claim_page = learner.get(f"/learn/claims/{public_id}").get_data(as_text=True)
    assert "2</strong> of 2 needed" in claim_page
    assert "Grace Peer" in claim_page, "named with consent"
    assert "a peer who chose not to be named" in claim_page
    assert "2 of 2 needed" in learner.get("/learn/").get_data(as_text=True)
    assert "You attested on" in first.get(f"/attest/{token}").get_data(as_text=True)

    assert trail(session, public_id) == [
        ("learner:learner@guild.test", "claim.started"),
        ("learner:learner@guild.test", "evidence.added"),
        ("learner:learner@guild.test", "attestation.requested"),
        ("learner:peer.one@guild.test", "attestation.given"),
        ("learner:peer.two@guild.test", "attestation.given"),
    ]


def test_a_second_attestation_by_the_same_peer_is_a_conflict(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    other_token = new_link(learner, public_id)
    assert attest(peers[0], token).status_code == 302
    # The page no longer offers the form, but a resent or forged POST must still fail,
    # through either link.
    for link in (token, other_token):
        response = post_form(peers[0], f"/attest/{link}",
                             {"kind": "genuine-contribution", "comment": "Changed my mind"},
                             token_from="/learn/")
        assert response.status_code == 409
        assert "already attested" in response.get_data(as_text=True)
    assert count(session) == 1
    only = session.scalar(select(Attestation))
    assert only is not None and only.comment == "They explained recursion patiently."
    assert [a for _, a in trail(session, public_id)].count("attestation.given") == 1


def test_the_database_refuses_a_duplicate_even_without_the_page(
        app: Flask, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        open_achievement: OpenAchievement) -> None:
    """Two requests racing both pass any check made before the insert; the constraint holds."""
    public_id = ready_claim(learner, open_achievement)
    factory = runtime(app).sessions
    with factory() as one, factory() as two:
        claim = one.scalar(select(Claim).where(Claim.public_id == public_id))
        assert claim is not None
        for s in (one, two):
            s.add(Attestation(claim_id=claim.id, peer_id=peers[0].learner_id,
                              kind="helped-me-learn", comment="race", show_name=False))
        one.commit()
        with pytest.raises(IntegrityError):
            two.commit()


def test_a_duplicate_takes_back_only_the_attestation(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    """The use case undoes its own work in a SAVEPOINT: the caller's other work in the same
    transaction stays, and so does the transaction itself (PostgreSQL aborts a transaction
    whose statement failed, unless a savepoint takes the failure)."""
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    assert attest(peers[1], token).status_code == 302
    request = session.scalar(select(AttestationRequest)
                             .where(AttestationRequest.token_hash == token_hash(token)))
    peer = session.get(Learner, peers[1].learner_id)
    assert request is not None and peer is not None and peer.display_name is None
    make_learner(session, ctx, "earlier.work@guild.test")  # the caller's work, flushed
    with pytest.raises(Conflict):
        attestations.attest(session, ctx, peer, request, kind="helped-me-learn",
                            comment="Once more", show_name=True, display_name="Not Kept")
    make_learner(session, ctx, "later.work@guild.test")  # the transaction goes on
    session.commit()
    session.expire_all()
    kept = session.scalars(select(Learner.email).where(Learner.email.like("%.work@guild.test"))
                           .order_by(Learner.email)).all()
    assert kept == ["earlier.work@guild.test", "later.work@guild.test"]
    assert session.get(Learner, peers[1].learner_id).display_name is None  # type: ignore[union-attr]
    assert count(session) == 1


def test_no_self_attestation(learner: LearnerClient, session: Session,
                             open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    page = learner.get(f"/attest/{token}")
    assert page.status_code == 403
    assert "your own claim" in page.get_data(as_text=True)
    response = post_form(learner, f"/attest/{token}",
                         {"kind": "helped-me-learn", "comment": "I am great"})
    assert response.status_code == 403
    assert count(session) == 0


def test_no_attestation_after_the_decision(
        app: Flask, learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    from issuer.services.reviews import approve

    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    for peer in peers:
        assert attest(peer, token).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    claim = claim_row(session, public_id)
    approve(session, ctx, claim, "staff@guild.test", "Well evidenced.")
    session.commit()
    assert claim_row(session, public_id).status == "approved"

    late_row = make_learner(session, ctx, "late@guild.test", "Late Peer")
    session.commit()  # signing in keeps a learner session, in a transaction of its own
    late = signed_in_client(app, late_row)
    page = late.get(f"/attest/{token}").get_data(as_text=True)
    assert "no longer takes attestations" in page and 'name="comment"' not in page
    response = post_form(late, f"/attest/{token}",
                         {"kind": "helped-me-learn", "comment": "Me too"}, token_from="/learn/")
    assert response.status_code == 409
    assert count(session) == 2
    # Nor can the learner make new links for a decided claim.
    assert post_form(learner, f"/learn/claims/{public_id}/requests",
                     {"email": ""}).status_code == 409


def test_unknown_and_expired_links(learner: LearnerClient, peers: tuple[LearnerClient, ...],
                                   session: Session, open_achievement: OpenAchievement) -> None:
    assert peers[0].get("/attest/not-a-real-token").status_code == 404
    assert "not valid" in peers[0].get("/attest/x").get_data(as_text=True)
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    row = session.scalar(select(AttestationRequest))
    assert row is not None
    row.expires_at = row.created_at - timedelta(seconds=1)
    session.commit()
    page = peers[0].get(f"/attest/{token}")
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)
    response = post_form(peers[0], f"/attest/{token}",
                         {"kind": "helped-me-learn", "comment": "Late"}, token_from="/learn/")
    assert response.status_code == 410
    assert count(session) == 0


def test_a_peer_must_sign_in_first(client: FlaskClient, learner: LearnerClient,
                                   session: Session, open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    response = client.get(f"/attest/{token}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/learn/sign-in" in location and f"attest/{token}" in location.replace("%2F", "/")
    assert client.post(f"/attest/{token}", data={"comment": "x"}).status_code in (302, 400)
    assert count(session) == 0


@pytest.mark.parametrize(("fields", "field"), [
    ({"comment": "   "}, "comment"),
    ({"comment": "x" * 2001}, "comment"),
    ({"kind": "best-friend"}, "kind"),
    ({"show_name": "yes"}, "display_name"),
])
def test_bad_attestations_are_refused_and_nothing_stored(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement, fields: dict[str, str], field: str) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    # The second peer has no display name, so opting in needs one.
    response = attest(peers[1], token, **fields)
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in response.get_data(as_text=True)
    assert count(session) == 0
    session.expire_all()
    assert session.get(Learner, peers[1].learner_id).display_name is None  # type: ignore[union-attr]


def test_opting_in_asks_for_a_name_and_keeps_it(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    page = peers[1].get(f"/attest/{token}").get_data(as_text=True)
    assert 'name="display_name"' in page
    assert attest(peers[1], token, show_name="yes", display_name="Alan Peer").status_code == 302
    session.expire_all()
    assert session.get(Learner, peers[1].learner_id).display_name == "Alan Peer"  # type: ignore[union-attr]
    assert "Alan Peer" in learner.get(f"/learn/claims/{public_id}").get_data(as_text=True)


def test_the_learner_cannot_edit_or_delete_an_attestation(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    attest(peers[0], token)
    row = session.scalar(select(Attestation))
    assert row is not None
    page = learner.get(f"/learn/claims/{public_id}").get_data(as_text=True)
    section = page.split('id="attestations"')[1].split("Ask a peer")[0]
    assert "They explained recursion patiently." in section
    assert "<form" not in section and "<button" not in section and "<textarea" not in section
    base = f"/learn/claims/{public_id}"
    for url in [f"{base}/attestations/{row.id}", f"{base}/attestations/{row.id}/delete",
                f"{base}/attestations/{row.id}/edit", f"/attest/{token}/edit",
                f"/learn/attestations/{row.id}"]:
        response = post_form(learner, url, {"comment": "Rewritten", "kind": "genuine-contribution"})
        assert response.status_code in (404, 405), url
    # Through the peer page itself the learner is refused as well.
    assert post_form(learner, f"/attest/{token}", {"comment": "Rewritten"}).status_code == 403
    session.expire_all()
    again = session.scalar(select(Attestation))
    assert again is not None
    assert (again.comment, again.kind) == ("They explained recursion patiently.",
                                           "helped-me-learn")


def test_automatic_policy_approves_when_the_last_attestation_arrives(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    policy = session.get(AchievementPolicy, open_achievement.achievement_id)
    assert policy is not None
    policy.review_required = False
    session.commit()
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    attest(peers[0], token)
    assert claim_row(session, public_id).status == "submitted"
    attest(peers[1], token)
    claim = claim_row(session, public_id)
    assert claim.status == "approved" and claim.credential_id is not None
    assert "Approved" in learner.get("/learn/").get_data(as_text=True)


def test_the_pseudonym_is_stable_per_pair_and_unlinkable_across_pairs(
        session: Session, ctx: ServiceContext) -> None:
    peer = make_learner(session, ctx, "p@example.org")
    ada = make_learner(session, ctx, "ada@example.org")
    bob = make_learner(session, ctx, "bob@example.org")
    guild, other = issuer_did(ctx, "guild"), issuer_did(ctx, "other")
    first = peer_identifier(peer, ada, guild)
    assert first == peer_identifier(peer, ada, guild)
    assert first.startswith("urn:uuid:")
    value = uuid.UUID(first.removeprefix("urn:uuid:"))
    assert value.version == 8 and value.variant == uuid.RFC_4122
    assert peer_identifier(peer, bob, guild) != first
    assert peer_identifier(peer, ada, other) != first
    # Another peer of the same learner gets another identifier.
    assert peer_identifier(bob, ada, guild) != first
    # Nothing of the peer's email or secret is in the identifier.
    assert "p@example.org" not in first and peer.pairwise_secret[:8] not in first
