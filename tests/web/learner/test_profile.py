"""The learner's badges and public profile: private by default, shown only by choice.

Badges are awarded through the real award use case (as staff do from the admin page, the API
or a bulk upload) to the learner's address, and reach the learner when they open their badges.
"""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.profiles import link_badges
from issuer.storage.learning import AuditEvent, Learner, LearnerBadge
from issuer.storage.models import Credential
from tests import learning_fixtures
from tests.conftest import BASE_URL, World
from tests.learning_fixtures import (
    LEARNER_EMAIL,
    LEARNER_NAME,
    LearnerClient,
    make_learner,
    post_form,
    signed_in_client,
)

learner = learning_fixtures.learner
peers = learning_fixtures.peers


def _award(session: Session, ctx: ServiceContext, email: str, *, issuer: str = "guild",
           credits: float | None = None) -> Credential:
    row = award(session, ctx, get_issuer(session, issuer),
                get_achievement(session, get_issuer(session, issuer), "peer-scaffolder"),
                AwardRequest(recipient=Recipient.parse(email), credits_earned=credits),
                actor="staff@guild.test")
    session.commit()
    return row


def _badges(session: Session, learner_id: int) -> list[LearnerBadge]:
    session.expire_all()
    return list(session.scalars(select(LearnerBadge).where(LearnerBadge.learner_id == learner_id)
                                .order_by(LearnerBadge.id)))


def _badge_id(session: Session, learner_id: int, credential_id: str) -> int:
    return next(b.id for b in _badges(session, learner_id) if b.credential_id == credential_id)


def _show(client: FlaskClient, badge_id: int, action: str = "show") -> int:
    response = post_form(client, "/learn/badges", {"action": action, "badge": str(badge_id)},
                         token_from="/learn/badges")
    return response.status_code


# --- linking and privacy -------------------------------------------------------------------


def test_badges_awarded_by_staff_to_the_address_are_linked_and_private(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient) -> None:
    mine = _award(session, ctx, LEARNER_EMAIL.upper(), credits=2.5)  # any case: same address
    other_issuer = _award(session, ctx, LEARNER_EMAIL, issuer="other")
    _award(session, ctx, "someone.else@guild.test")

    response = learner.get("/learn/badges")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Guild Guild" in page and "Other Guild" in page  # both issuers' badges are listed
    assert f"/credentials/{mine.id}/verify" in page
    assert f"/credentials/{other_issuer.id}/verify" in page
    assert f"{BASE_URL}/people/{learner.handle}" in page
    assert "Your profile is <strong>private</strong>" in page

    badges = _badges(session, learner.learner_id)
    assert sorted(b.credential_id for b in badges) == sorted([mine.id, other_issuer.id])
    assert all(b.shown is False for b in badges)
    by_credential = {b.credential_id: b for b in badges}
    assert by_credential[mine.id].cpd_hours == 2.5  # from the award's creditsEarned
    assert by_credential[other_issuer.id].cpd_hours is None
    assert by_credential[mine.id].earned_on == mine.issued_at.date()

    # Opening the page again links nothing twice.
    assert learner.get("/learn/badges").status_code == 200
    assert len(_badges(session, learner.learner_id)) == 2
    # Nothing is shown yet, so the profile does not exist for anyone.
    assert learner.get(f"/people/{learner.handle}").status_code == 404


def test_link_badges_is_idempotent_and_takes_only_the_learners_address(
        session: Session, ctx: ServiceContext, world: World) -> None:
    row = make_learner(session, ctx, "grace@guild.test")
    session.commit()
    first = _award(session, ctx, "grace@guild.test")
    _award(session, ctx, "ada@guild.test")
    assert link_badges(session, row) == 1
    assert link_badges(session, row) == 0
    session.commit()
    second = _award(session, ctx, "grace@guild.test")
    assert link_badges(session, row) == 1
    session.commit()
    assert sorted(b.credential_id for b in _badges(session, row.id)) == sorted(
        [first.id, second.id])


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ("/learn/badges", "/learn/transcript", "/learn/transcript.csv",
                "/learn/transcript.json", "/learn/transcript/chart.svg"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/learn/sign-in" in response.headers["Location"]


# --- showing a badge -----------------------------------------------------------------------


def test_showing_a_badge_needs_the_csrf_token(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient) -> None:
    credential = _award(session, ctx, LEARNER_EMAIL)
    learner.get("/learn/badges")
    badge_id = _badge_id(session, learner.learner_id, credential.id)

    forged = learner.post("/learn/badges", data={"action": "show", "badge": str(badge_id)})
    assert forged.status_code == 400
    assert _badges(session, learner.learner_id)[0].shown is False

    assert _show(learner, badge_id) == 303
    assert _badges(session, learner.learner_id)[0].shown is True
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "profile.badge-shown")).all()
    assert [e.actor for e in events] == [f"learner:{learner.learner_id}"]
    assert events[0].detail == {"credential": credential.id}

    assert _show(learner, badge_id, "hide") == 303
    assert _badges(session, learner.learner_id)[0].shown is False


def test_a_learner_cannot_show_someone_elses_badge(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient,
        peers: tuple[LearnerClient, ...]) -> None:
    credential = _award(session, ctx, LEARNER_EMAIL)
    learner.get("/learn/badges")
    badge_id = _badge_id(session, learner.learner_id, credential.id)
    intruder = peers[0]
    assert _show(intruder, badge_id) == 404
    assert _badges(session, learner.learner_id)[0].shown is False
    assert learner.get(f"/people/{learner.handle}").status_code == 404


@pytest.mark.parametrize("badge", ["", "abc", "999999"])
def test_showing_an_unknown_badge_is_not_found(
        world: World, learner: LearnerClient, badge: str) -> None:
    response = post_form(learner, "/learn/badges", {"action": "show", "badge": badge},
                         token_from="/learn/badges")
    assert response.status_code == 404


# --- the public profile --------------------------------------------------------------------


def test_public_profile_shows_only_chosen_badges_and_never_the_address(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient,
        client: FlaskClient) -> None:
    shown = _award(session, ctx, LEARNER_EMAIL)
    hidden = _award(session, ctx, LEARNER_EMAIL, issuer="other")
    learner.get("/learn/badges")
    assert _show(learner, _badge_id(session, learner.learner_id, shown.id)) == 303

    page = client.get(f"/people/{learner.handle}")  # anyone, not signed in
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert LEARNER_NAME in html
    assert f"/credentials/{shown.id}/verify" in html
    assert f"/credentials/{shown.id}\"" in html
    assert hidden.id not in html and "Other Guild" not in html
    assert LEARNER_EMAIL not in html and "learner@" not in html
    assert "style=" not in html and "<script>" not in html

    for kwargs in ({"headers": {"Accept": "application/json"}},
                   {"headers": {"Accept": "application/ld+json"}},
                   {"query_string": {"format": "json"}}):
        response = client.get(f"/people/{learner.handle}", **kwargs)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        body = response.get_json(force=True)
        assert body == {
            "name": LEARNER_NAME,
            "url": f"{BASE_URL}/people/{learner.handle}",
            "badges": [{
                "credential": f"{BASE_URL}/credentials/{shown.id}",
                "achievement": "Peer Scaffolder",
                "issuer": "Guild Guild",
                "issued": shown.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "verify": f"{BASE_URL}/credentials/{shown.id}/verify",
            }],
        }
        text = response.get_data(as_text=True)
        assert LEARNER_EMAIL not in text and hidden.id not in text

    # The verify link it gives checks the badge for real: from the stored bytes, now.
    link = body["badges"][0]["verify"]
    assert f'href="{link}"' in html  # the page gives the same link
    verified = client.get(link.removeprefix(BASE_URL))
    assert verified.status_code == 200
    assert verified.headers["Cache-Control"] == "no-store"  # a verdict is never replayed
    report = verified.get_data(as_text=True)
    assert "<title>Valid badge" in report and "✓</span> Valid" in report
    assert "Not valid" not in report
    for check in ("Signature", "Validity period", "Revocation and suspension"):
        assert f"<strong>{check}</strong>" in report
    assert "<dd>Peer Scaffolder</dd>" in report and ">Guild Guild</a>" in report

    # Once the issuer revokes it, the same link says so (and the profile no longer lists it).
    from issuer.services.revocation import change_status

    change_status(session, ctx, get_issuer(session, "guild"), shown.id, "revoke",
                  reason="Copied evidence", actor="staff@guild.test")
    session.commit()
    revoked = client.get(link.removeprefix(BASE_URL)).get_data(as_text=True)
    assert "<title>Badge not valid" in revoked and "✗</span> Not valid" in revoked
    assert "✓</span> Valid" not in revoked
    assert "The issuer has revoked or suspended this badge." in revoked
    assert ("revoked: the issuer&#39;s status list marks this credential as "
            "revoked") in revoked
    assert client.get(f"/people/{learner.handle}").status_code == 404


def test_a_nameless_learner_appears_as_a_learner(
        app: object, session: Session, ctx: ServiceContext, world: World,
        client: FlaskClient) -> None:
    row = make_learner(session, ctx, "nameless@guild.test")
    session.commit()
    nameless = signed_in_client(app, row)  # type: ignore[arg-type]
    credential = _award(session, ctx, "nameless@guild.test")
    nameless.get("/learn/badges")
    assert _show(nameless, _badge_id(session, row.id, credential.id)) == 303
    html = client.get(f"/people/{row.profile_handle}").get_data(as_text=True)
    assert "<h1>A learner</h1>" in html
    assert "nameless@" not in html
    body = client.get(f"/people/{row.profile_handle}?format=json").get_json()
    assert body["name"] == "A learner"


def test_unknown_and_empty_profiles_look_the_same(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient,
        client: FlaskClient) -> None:
    _award(session, ctx, LEARNER_EMAIL)
    learner.get("/learn/badges")  # linked, but not shown
    empty = client.get(f"/people/{learner.handle}")
    unknown = client.get("/people/no-such-handle")
    assert empty.status_code == unknown.status_code == 404
    assert empty.get_data(as_text=True) == unknown.get_data(as_text=True)
    too_long = client.get("/people/" + "x" * 300, headers={"Accept": "application/json"})
    assert too_long.status_code == 404
    assert too_long.mimetype == "application/problem+json"
    empty_json = client.get(f"/people/{learner.handle}?format=json")
    unknown_json = client.get("/people/no-such-handle?format=json")
    assert empty_json.status_code == unknown_json.status_code == 404
    assert empty_json.get_json() == unknown_json.get_json()


def test_a_revoked_badge_leaves_the_profile(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient,
        client: FlaskClient) -> None:
    from issuer.services.revocation import change_status

    kept = _award(session, ctx, LEARNER_EMAIL)
    revoked = _award(session, ctx, LEARNER_EMAIL)
    learner.get("/learn/badges")
    for credential in (kept, revoked):
        assert _show(learner, _badge_id(session, learner.learner_id, credential.id)) == 303
    change_status(session, ctx, get_issuer(session, "guild"), revoked.id, "revoke",
                  reason="Copied evidence", actor="staff@guild.test")
    session.commit()

    body = client.get(f"/people/{learner.handle}?format=json").get_json()
    assert [b["credential"] for b in body["badges"]] == [f"{BASE_URL}/credentials/{kept.id}"]
    own = learner.get("/learn/badges").get_data(as_text=True)
    assert "Revoked by the issuer: Copied evidence" in own

    change_status(session, ctx, get_issuer(session, "guild"), kept.id, "revoke",
                  reason="Also copied", actor="staff@guild.test")
    session.commit()
    assert client.get(f"/people/{learner.handle}").status_code == 404


# --- the name on the profile ---------------------------------------------------------------


def test_the_learner_sets_the_name_on_the_profile(
        session: Session, world: World, learner: LearnerClient) -> None:
    response = post_form(learner, "/learn/badges",
                         {"action": "name", "display_name": "  Ada   Lovelace "},
                         token_from="/learn/badges")
    assert response.status_code == 303
    session.expire_all()
    row = session.get(Learner, learner.learner_id)
    assert row is not None and row.display_name == "Ada Lovelace"

    too_long = post_form(learner, "/learn/badges", {"action": "name", "display_name": "x" * 201},
                         token_from="/learn/badges")
    assert too_long.status_code == 422
    assert "up to 200 characters" in too_long.get_data(as_text=True)
    assert f'value="{"x" * 201}"' in too_long.get_data(as_text=True)  # what was typed stays
    session.expire_all()
    assert session.get(Learner, learner.learner_id).display_name == "Ada Lovelace"  # type: ignore[union-attr]

    cleared = post_form(learner, "/learn/badges", {"action": "name", "display_name": ""},
                        token_from="/learn/badges")
    assert cleared.status_code == 303
    session.expire_all()
    assert session.get(Learner, learner.learner_id).display_name is None  # type: ignore[union-attr]


def test_names_and_titles_are_escaped(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient,
        client: FlaskClient) -> None:
    credential = _award(session, ctx, LEARNER_EMAIL)
    learner.get("/learn/badges")
    assert _show(learner, _badge_id(session, learner.learner_id, credential.id)) == 303
    post_form(learner, "/learn/badges",
              {"action": "name", "display_name": "<script>alert(1)</script>"},
              token_from="/learn/badges")
    html = client.get(f"/people/{learner.handle}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r"Content-Security-Policy", str(client.get(
        f"/people/{learner.handle}").headers))


def test_the_profile_json_is_plain_json(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient,
        client: FlaskClient) -> None:
    credential = _award(session, ctx, LEARNER_EMAIL)
    learner.get("/learn/badges")
    assert _show(learner, _badge_id(session, learner.learner_id, credential.id)) == 303
    response = client.get(f"/people/{learner.handle}", headers={"Accept": "application/json"})
    assert json.loads(response.get_data(as_text=True))["badges"][0]["achievement"] == (
        "Peer Scaffolder")
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Accept" in response.headers.get("Vary", "")
