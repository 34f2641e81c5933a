"""Staff choose the scaffolding level a claim policy requires, and reviewers read each peer's
answers on how they were helped, with the level each one reaches — over the Flask test client
with CSRF on, on the real database."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.storage.learning import AchievementPolicy
from tests import learning_fixtures
from tests.conftest import World
from tests.learning_fixtures import LearnerClient, OpenAchievement, post_form
from tests.services.test_attestations import attest, new_link, ready_claim
from tests.web.admin.test_pages import page, signed_in_as, snapshot, submit
from tests.web.learner.test_claims import claim_row

learner = learning_fixtures.learner
peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

GUILD = "/admin/issuers/guild"
POLICY = f"{GUILD}/achievements/peer-scaffolder/policy"
LATER_WORK = "https://code.example/pulls/7"
FULL = {"functions": ["reduction-in-degrees-of-freedom", "demonstration"],
        "contingency": "yes", "fading": "yes", "transfer": "yes", "transfer_url": LATER_WORK,
        "show_name": "yes"}
SOME = {"functions": ["recruitment"], "contingency": "no", "fading": "unsure",
        "transfer": "no"}
BASE = {"attestations_required": "2", "review_required": "yes",
        "attestation_kind": "helped-me-learn", "cpd_category": "Mentoring",
        "open_to_claims": "yes"}


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def _level(session: Session, target: OpenAchievement) -> int:
    session.expire_all()
    policy = session.get(AchievementPolicy, target.achievement_id)
    assert policy is not None
    return policy.scaffolding_level_required


def _checked(text: str) -> list[str]:
    return [part.split('"', 1)[0] for part in
            text.split('name="scaffolding_level_required" value="')[1:]
            if '" checked' in part.split(">", 1)[0]]


# --- the policy page -------------------------------------------------------------------------


def test_the_policy_page_offers_none_or_a_level_and_saves_it(
        staff: FlaskClient, session: Session, open_achievement: OpenAchievement) -> None:
    text = html.unescape(page(staff, POLICY))
    assert "Scaffolding level required" in text
    assert "None: any attestation will do" in text
    for words in ("L1 Attested", "L2 Responsive help", "L3 Help to independence"):
        assert words in text
    assert _checked(text) == ["0"]

    response = submit(staff, POLICY, {**BASE, "scaffolding_level_required": "3"})
    assert response.status_code == 302
    assert _level(session, open_achievement) == 3
    assert _checked(page(staff, POLICY)) == ["3"]

    # Saving the form without choosing keeps no level: the radio "None" is what is sent.
    assert submit(staff, POLICY, {**BASE, "scaffolding_level_required": "0"}).status_code == 302
    assert _level(session, open_achievement) == 0


@pytest.mark.parametrize(("data", "message"), [
    ({"scaffolding_level_required": "4"}, "a level from 1 to 3, or none"),
    ({"scaffolding_level_required": "L2"}, "a level from 1 to 3, or none"),
    ({"scaffolding_level_required": "2", "attestation_kind": "genuine-contribution"},
     "needs at least one peer attestation that the learner helped them learn"),
    ({"scaffolding_level_required": "2", "attestations_required": "0"},
     "needs at least one peer attestation that the learner helped them learn"),
])
def test_the_policy_page_refuses_a_level_it_cannot_reach(
        staff: FlaskClient, session: Session, open_achievement: OpenAchievement,
        data: dict[str, str], message: str) -> None:
    before = snapshot(session)
    response = submit(staff, POLICY, {**BASE, **data})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert message in text
    field = "f-scaffolding_level_required"
    assert f'aria-describedby="{field}-hint {field}-error"' in text
    assert snapshot(session) == before


# --- the claim page --------------------------------------------------------------------------


def _attested_claim(learner: LearnerClient, peers: tuple[LearnerClient, ...],
                    target: OpenAchievement, *answers: dict[str, Any]) -> str:
    public_id = ready_claim(learner, target)
    token = new_link(learner, public_id)
    for peer, said in zip(peers, answers, strict=False):
        assert attest(peer, token, **said).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    return public_id


def _entries(text: str) -> list[str]:
    listing = text.split('class="review-attestations"', 1)[1].split("</ul>", 1)[0]
    return listing.split("<li>")[1:]


def test_the_claim_page_shows_each_peers_answers_and_level(
        staff: FlaskClient, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        session: Session, open_achievement: OpenAchievement) -> None:
    public_id = _attested_claim(learner, peers, open_achievement, FULL, SOME)
    text = html.unescape(page(staff, f"{GUILD}/reviews/{public_id}"))
    full, some = _entries(text)
    assert "Grace Peer" in full
    assert "Scaffolding level</dt><dd>L3 Help to independence" in full
    assert ("How they were helped</dt><dd>broke it down into manageable steps; "
            "showed a worked example") in full
    assert ("Before helping, did they first check what you had tried or already knew?</dt>"
            "<dd>Yes") in full
    assert "Did they step back as you got the hang of it?</dt><dd>Yes" in full
    assert f'href="{LATER_WORK}"' in full

    assert "Scaffolding level</dt><dd>L1 Attested" in some
    assert "How they were helped</dt><dd>got them engaged" in some
    assert ("Before helping, did they first check what you had tried or already knew?</dt>"
            "<dd>No") in some
    assert "Did they step back as you got the hang of it?</dt><dd>Not sure, or not answered" \
        in some
    assert "Can you now do it without help?</dt><dd>No" in some
    assert "Later work done unaided" not in some
    assert "Highest scaffolding level so far: <strong>L3 Help to independence</strong>" in text
    assert claim_row(session, public_id).status == "submitted"


def test_the_claim_page_says_which_level_is_missing(
        staff: FlaskClient, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        session: Session, open_achievement: OpenAchievement) -> None:
    assert submit(staff, POLICY, {**BASE, "scaffolding_level_required": "2"}).status_code == 302
    public_id = _attested_claim(learner, peers, open_achievement, SOME, SOME)
    text = html.unescape(page(staff, f"{GUILD}/reviews/{public_id}"))
    assert "At least one attestation must reach scaffolding level L2 Responsive help." in text
    assert ("Highest scaffolding level so far: <strong>L1 Attested</strong>; the policy "
            "requires L2 Responsive help.") in text
    assert 'value="approve" disabled' in text


def test_a_statement_not_about_help_shows_no_level(
        staff: FlaskClient, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        session: Session, open_achievement: OpenAchievement) -> None:
    policy = session.scalar(select(AchievementPolicy).where(
        AchievementPolicy.achievement_id == open_achievement.achievement_id))
    assert policy is not None
    policy.attestation_kind = "genuine-contribution"
    session.commit()
    genuine = {"kind": "genuine-contribution"}
    public_id = _attested_claim(learner, peers, open_achievement, genuine, genuine)
    text = html.unescape(page(staff, f"{GUILD}/reviews/{public_id}"))
    assert len(_entries(text)) == 2
    assert "Scaffolding level" not in text and "Highest scaffolding level" not in text
