"""The peer flow and the learner's dead ends, over real HTTP: a new link is shown by a GET
(Post/Redirect/Get), the claim page lists every request with its state and sends one again,
the emailed link names the learner and the badge and fills in the invited address, and an
approved claim leads to its badge with the reviewer's comment."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.reviews import approve
from issuer.storage.learning import AttestationRequest, MailMessage
from tests import learning_fixtures
from tests.learning_fixtures import LearnerClient, OpenAchievement, post_form
from tests.services.test_attestations import attest, new_link, ready_claim
from tests.web.learner.test_claims import add, claim_row

learner = learning_fixtures.learner
peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

LINK = re.compile(r"http://badges\.test/attest/([A-Za-z0-9_-]{20,})")


def _requests(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AttestationRequest)) or 0


def test_making_a_link_redirects_and_a_reload_makes_no_other(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    made = post_form(learner, f"/learn/claims/{public_id}/requests", {"email": ""})
    assert made.status_code == 302
    page_url = made.headers["Location"]
    first = learner.get(page_url).get_data(as_text=True)
    again = learner.get(page_url)
    assert again.status_code == 200
    token = LINK.search(first)
    assert token and token.group(1) in again.get_data(as_text=True)
    assert _requests(session) == 1
    # Another browser (or the same after its session ended) is not shown the link: only its
    # digest is stored, so the page says how to get a new one.
    other = learning_fixtures.signed_in_client(learner.application, claim_row(
        session, public_id).learner)
    gone = other.get(page_url)
    assert gone.status_code == 302 and gone.headers["Location"].endswith("#attestations")


def test_the_claim_page_lists_every_request_and_sends_one_again(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    answered = new_link(learner, public_id, email=peers[0].email)
    new_link(learner, public_id, email="quiet@example.org")
    new_link(learner, public_id)
    assert attest(peers[0], answered).status_code == 302

    page = html.unescape(learner.get(f"/learn/claims/{public_id}").get_data(as_text=True))
    table = page.split('class="claims-requests"', 1)[1].split("</table>", 1)[0]
    assert peers[0].email in table and "Answered" in table
    assert "quiet@example.org" in table and "Waiting for an answer" in table
    assert "A link you shared" in table
    assert table.count("Send again") == 1  # only the emailed request nobody answered

    row = session.scalar(select(AttestationRequest)
                         .where(AttestationRequest.email == "quiet@example.org"))
    assert row is not None
    old_hash = row.token_hash
    sent = post_form(learner, f"/learn/claims/{public_id}/requests/{row.id}/resend",
                     token_from=f"/learn/claims/{public_id}")
    assert sent.status_code == 302
    shown = learner.get(sent.headers["Location"]).get_data(as_text=True)
    fresh = LINK.search(shown)
    assert fresh
    session.expire_all()
    mails = list(session.scalars(select(MailMessage)
                                 .where(MailMessage.to_address == "quiet@example.org")))
    assert len(mails) == 2 and fresh.group(1) in mails[-1].body
    assert session.get(AttestationRequest, row.id).token_hash != old_hash  # type: ignore[union-attr]
    # The answered request cannot be sent again.
    done = session.scalar(select(AttestationRequest)
                          .where(AttestationRequest.email == peers[0].email))
    assert done is not None
    refused = post_form(learner, f"/learn/claims/{public_id}/requests/{done.id}/resend",
                        token_from=f"/learn/claims/{public_id}")
    assert refused.status_code == 409


def test_the_emailed_link_names_the_learner_and_fills_in_the_address(
        client: FlaskClient, learner: LearnerClient, session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id, email="friend@example.org")
    opened = client.get(f"/attest/{token}")
    assert opened.status_code == 302
    page = html.unescape(client.get(opened.headers["Location"]).get_data(as_text=True))
    assert "Ada Learner is claiming the badge" in page and open_achievement.name in page
    assert 'value="friend@example.org"' in page
    # A link that is not valid names nobody.
    plain = client.get("/learn/sign-in?next=/attest/not-a-token").get_data(as_text=True)
    assert "is claiming" not in plain and 'value=""' in plain


def test_an_approved_claim_leads_to_its_badge_with_the_comment(
        app: Flask, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        session: Session, ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    for peer in peers:
        assert attest(peer, token).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    approve(session, ctx, claim_row(session, public_id), "staff@guild.test",
            "Well evidenced <b>work</b>.")
    session.commit()
    credential_id = claim_row(session, public_id).credential_id
    assert credential_id
    for url in (f"/learn/claims/{public_id}", "/learn/"):
        page = learner.get(url).get_data(as_text=True)
        assert "Well evidenced &lt;b&gt;work&lt;/b&gt;." in page
        assert f'href="/credentials/{credential_id}"' in page


def test_empty_badges_point_to_claiming_one(learner: LearnerClient) -> None:
    page = learner.get("/learn/badges").get_data(as_text=True)
    assert "You have no badges yet" in page
    assert 'href="/learn/#start"' in page


def test_the_name_asked_at_the_start_is_the_name_the_badge_is_awarded_to(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        ctx: ServiceContext, client: FlaskClient, open_achievement: OpenAchievement) -> None:
    target = open_achievement
    form = learner.get(f"/learn/claims/new?issuer={target.issuer_slug}"
                       f"&achievement={target.achievement_slug}").get_data(as_text=True)
    assert 'name="recipient_name" value="Ada Learner"' in form  # pre-filled from the profile
    fields = {"issuer": target.issuer_slug, "achievement": target.achievement_slug,
              "statement": "I helped."}
    refused = post_form(learner, "/learn/claims/new", {**fields, "recipient_name": "  "})
    assert refused.status_code == 422
    assert 'id="f-recipient_name-error"' in refused.get_data(as_text=True)
    started = post_form(learner, "/learn/claims/new",
                        {**fields, "recipient_name": "Ada  King <Lovelace>"})
    assert started.status_code == 302
    public_id = started.headers["Location"].rsplit("/", 1)[1]
    add(learner, public_id, title="Forum", url="https://forum.example/t/1", public="yes")
    token = new_link(learner, public_id)
    peer_page = peers[0].get(f"/attest/{token}").get_data(as_text=True)
    assert "Ada King &lt;Lovelace&gt; claims" in peer_page
    for peer in peers:
        assert attest(peer, token).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    approve(session, ctx, claim_row(session, public_id), "staff@guild.test", "Fine.")
    session.commit()
    credential_id = claim_row(session, public_id).credential_id
    badge = client.get(f"/credentials/{credential_id}",
                       headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Awarded to <strong>Ada King &lt;Lovelace&gt;</strong>" in badge
    document = client.get(f"/credentials/{credential_id}",
                          headers={"Accept": "application/vc+ld+json"}).get_json()
    assert {"type": "IdentityObject", "identityHash": "Ada King <Lovelace>",
            "identityType": "name", "hashed": False} in document["credentialSubject"][
                "identifier"]
