"""Peers say how they were helped (scaffolding), and the badge carries and shows it.

Through the peer's page, the review, the signed credential, the public page and the verify
form, on the real database and over the Flask test client.
"""

from __future__ import annotations

import copy
import html
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.attestation_endorsements import read_comment
from issuer.services.attestation_reading import read_endorsements
from issuer.services.claim_policy import set_policy
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.reviews import approval_blocker, approve
from issuer.services.transcripts import build_clr
from issuer.services.verification import verify
from issuer.storage.learning import Attestation, Claim, Learner
from issuer.storage.models import Achievement, Credential
from tests import learning_fixtures
from tests.learning_fixtures import LearnerClient, OpenAchievement, post_form
from tests.services.test_attestations import attest, count, new_link, ready_claim
from tests.web.learner.test_claims import claim_row

learner = learning_fixtures.learner
peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

BROWSER = "text/html,application/xhtml+xml"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LATER_WORK = "https://code.example/pulls/7"
FULL = {"functions": ["reduction-in-degrees-of-freedom", "demonstration"],
        "contingency": "yes", "fading": "yes", "transfer": "yes", "transfer_url": LATER_WORK,
        "show_name": "yes"}
SOME = {"functions": ["demonstration"], "contingency": "yes", "fading": "unsure",
        "transfer": "no"}


def _approved(learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
              ctx: ServiceContext, target: OpenAchievement) -> Credential:
    public_id = ready_claim(learner, target)
    token = new_link(learner, public_id)
    assert attest(peers[0], token, **FULL).status_code == 302
    assert attest(peers[1], token, **SOME).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    row = approve(session, ctx, claim_row(session, public_id), "staff@guild.test", "Well done.")
    session.commit()
    return row


def test_the_answers_are_stored_signed_aligned_and_verified(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    page = peers[0].get(f"/attest/{new_link(learner, ready_claim(learner, open_achievement))}")
    text = page.get_data(as_text=True)
    assert "They broke it down into steps I could manage" in text
    assert "did they first check what you had tried or already knew?" in text

    row = _approved(learner, peers, session, ctx, open_achievement)
    claim_page = html.unescape(learner.get(
        f"/learn/claims/{row_claim(session, row)}").get_data(as_text=True))
    assert ("How they were helped: broke it down into manageable steps; showed a worked "
            "example; checked first what they had tried; stepped back as they got it; they "
            "can now do it unaided.") in claim_page
    assert "Scaffolding level of this attestation: L3" in claim_page
    stored = session.scalars(select(Attestation).where(Attestation.transfer_url.is_not(None)))
    (first,) = stored.all()
    assert (first.scaffolding_functions, first.contingency, first.fading, first.transfer) == (
        "reduction-in-degrees-of-freedom demonstration", True, True, True)

    document = json.loads(row.document)
    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    full, some = (e["credentialSubject"] for e in document["endorsement"])
    assert [a["targetCode"] for a in full["alignment"]] == [
        "reduction-in-degrees-of-freedom", "demonstration", "contingency", "fading", "transfer"]
    assert full["alignment"][1]["targetUrl"] == (
        "http://badges.test/frameworks/scaffolding#demonstration")
    assert full["endorsementComment"] == (
        "Grace Peer attests: Ada Learner helped them learn: broke it down into manageable "
        "steps, showed a worked example; checked first what they had tried; stepped back as "
        "they got it; they can now do it unaided (later work: https://code.example/pulls/7). "
        "“They explained recursion patiently.”")
    assert [a["targetCode"] for a in some["alignment"]] == ["demonstration", "contingency"]
    # The alignments are signed: a changed one no longer verifies.
    endorsement = copy.deepcopy(document["endorsement"][1])
    assert verify(session, ctx, json.dumps(endorsement)).valid
    endorsement["credentialSubject"]["alignment"][0]["targetCode"] = "recruitment"
    assert not verify(session, ctx, json.dumps(endorsement)).valid
    parts = read_comment(full["endorsementComment"])
    assert parts is not None and parts.words == "They explained recursion patiently."
    assert parts.transfer_url == LATER_WORK

    subject = document["credentialSubject"]
    results = {r["resultDescription"].rpartition("#")[2]: r for r in subject["result"]}
    descriptions = {d["id"].rpartition("#")[2]: d
                    for d in subject["achievement"]["resultDescription"]}
    level = descriptions["scaffolding-level"]
    assert level["resultType"] == "RubricCriterionLevel"
    assert [lv["level"] for lv in level["rubricCriterionLevel"]] == ["L1", "L2", "L3"]
    assert results["scaffolding-level"]["achievedLevel"] == f"{level['id']}-3"
    assert [a["targetCode"] for a in results["scaffolding-level"]["alignment"]] == [
        "reduction-in-degrees-of-freedom", "demonstration", "contingency", "fading", "transfer"]
    assert results["transfer-attestations"]["value"] == "1"
    assert descriptions["transfer-attestations"]["resultType"] == "RawScore"

    readings = read_endorsements(session, ctx, document)
    assert [(r.verified, r.level) for r in readings] == [(True, 3), (True, 2)]
    assert readings[0].help_given == ("broke it down into manageable steps",
                                      "showed a worked example")
    assert readings[0].transfer_url == LATER_WORK
    assert readings[1].qualities == ("checked first what they had tried",)
    assert readings.scaffolding is not None
    assert readings.scaffolding.level == "L3 Help to independence"
    assert (readings.scaffolding.peers, readings.scaffolding.transfers) == ("2", "1")


def row_claim(session: Session, row: Credential) -> str:
    claim = session.scalars(select(Claim).where(Claim.credential_id == row.id)).one()
    return claim.public_id


def _section(page: str) -> str:
    start = page.index('id="attestations-heading"')
    return html.unescape(page[start:page.index("</section>", start)])


def test_the_public_page_and_the_verify_result_say_it_in_plain_words(
        client: FlaskClient, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        session: Session, ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    row = _approved(learner, peers, session, ctx, open_achievement)
    shown = client.get(f"/credentials/{row.id}", headers={"Accept": BROWSER})
    token = CSRF.search(client.get("/verify").get_data(as_text=True))
    assert token
    checked = client.post("/verify", data={"csrf_token": token.group(1),
                                           "credential": row.document})
    for page in (shown, checked):
        assert page.status_code == 200
        section = _section(page.get_data(as_text=True))
        for words in ("Scaffolding level:", "L3 Help to independence",
                      "2 peers attested; 1 can now do it unaided",
                      "Broke it down into manageable steps", "Showed a worked example",
                      "Checked first what they had tried", "They can now do it unaided",
                      f'href="{LATER_WORK}"', "Scaffolding level of this statement: L2"):
            assert words in section, words
    framework = client.get("/frameworks/scaffolding")
    assert framework.status_code == 200
    text = framework.get_data(as_text=True)
    assert 'id="reduction-in-degrees-of-freedom"' in text and "Wood, Bruner" in text
    assert 'id="transfer"' in text and "L3 Help to independence" in text


@pytest.mark.parametrize(("fields", "field"), [
    ({"functions": ["mind-reading"]}, "functions"),
    ({"contingency": "maybe"}, "contingency"),
    ({"transfer": "no", "transfer_url": LATER_WORK}, "transfer_url"),
    ({"transfer": "yes", "transfer_url": "javascript:alert(1)"}, "transfer_url"),
])
def test_bad_answers_are_refused_and_nothing_stored(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement, fields: dict[str, object], field: str) -> None:
    token = new_link(learner, ready_claim(learner, open_achievement))
    response = attest(peers[0], token, **fields)
    assert response.status_code == 422
    assert 'id="f-' + field in response.get_data(as_text=True)
    assert count(session) == 0


def test_a_statement_that_is_not_about_help_keeps_no_answers(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    token = new_link(learner, ready_claim(learner, open_achievement))
    assert attest(peers[0], token, kind="genuine-contribution", **FULL).status_code == 302
    stored = session.scalars(select(Attestation)).one()
    assert (stored.scaffolding_functions, stored.contingency, stored.transfer_url) == (
        None, None, None)


def test_a_policy_may_require_a_scaffolding_level(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    achievement = session.get(Achievement, open_achievement.achievement_id)
    assert achievement is not None
    policy = {"attestations_required": 1, "review_required": True,
              "attestation_kind": "helped-me-learn", "open_to_claims": True}
    with pytest.raises(Invalid) as refused:
        set_policy(session, ctx, achievement, {**policy, "scaffolding_level_required": "4"},
                   actor="staff")
    assert "scaffolding_level_required" in refused.value.fields
    with pytest.raises(Invalid):
        set_policy(session, ctx, achievement, {**policy, "attestation_kind":
                   "genuine-contribution", "scaffolding_level_required": "2"}, actor="staff")
    set_policy(session, ctx, achievement, {**policy, "scaffolding_level_required": "3"},
               actor="staff")
    # A later save that does not name the level keeps it.
    stored = set_policy(session, ctx, achievement, policy, actor="staff")
    assert stored.scaffolding_level_required == 3
    session.commit()

    public_id = ready_claim(learner, open_achievement)
    token = new_link(learner, public_id)
    assert attest(peers[1], token, **SOME).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    assert approval_blocker(session, claim_row(session, public_id)) == (
        "It needs a peer attestation at scaffolding level L3 Help to independence before it "
        "can be approved; the highest so far is L2 Responsive help.")
    assert attest(peers[0], token, **FULL).status_code == 302
    claim = claim_row(session, public_id)
    assert approval_blocker(session, claim) is None
    row = approve(session, ctx, claim, "staff@guild.test", "Fine.")
    subject = json.loads(row.document)["credentialSubject"]
    level = next(d for d in subject["achievement"]["resultDescription"]
                 if d["id"].endswith("#scaffolding-level"))
    assert level["requiredLevel"] == f"{level['id']}-3"


def test_the_cpd_record_keeps_the_levels_the_result_names(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        ctx: ServiceContext, open_achievement: OpenAchievement) -> None:
    row = _approved(learner, peers, session, ctx, open_achievement)
    owner = session.get(Learner, learner.learner_id)
    assert owner is not None
    clr = build_clr(session, ctx, owner)
    assert verify(session, ctx, json.dumps(clr)).valid
    (achievement,) = clr["credentialSubject"]["achievement"]
    level = next(d for d in achievement["resultDescription"]
                 if d["id"].endswith("#scaffolding-level"))
    issued = json.loads(row.document)["credentialSubject"]["achievement"]
    assert level == next(d for d in issued["resultDescription"] if d["id"] == level["id"])
