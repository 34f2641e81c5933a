"""The review path: policy, queue, the three decisions, and approval into a signed credential
whose peer attestations are embedded as EndorsementCredentials — through the use cases and
through the staff pages with CSRF on, on the real database."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.credentials import OB_V3
from issuer.core.jsonld import ContextLoader
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid
from issuer.services.issuers import issuer_did
from issuer.services.pseudonyms import peer_identifier
from issuer.services.reviews import (
    approve,
    maybe_auto_approve,
    reject,
    return_for_revision,
    review_queue,
)
from issuer.services.verification import verify
from issuer.storage.learning import (
    AchievementPolicy,
    Attestation,
    AuditEvent,
    Claim,
    EvidenceRecord,
    Learner,
    LearnerBadge,
    MailMessage,
)
from issuer.storage.models import Achievement, Credential, Issuer
from tests.conftest import World
from tests.learning_fixtures import (  # noqa: F401 - fixtures used by name
    OpenAchievement,
    make_learner,
    open_achievement,
)
from tests.web.admin.test_pages import csrf_token, location_path, page, signed_in_as, snapshot

GUILD = "/admin/issuers/guild"
NAMED_PEER = "Grace Namedpeer"
HIDDEN_PEER = "Hidden Quietpeer"
PRIVATE_URL = "https://private.example/thread/secret-42"
PRIVATE_TEXT = "Confidential mentoring notes about a colleague"
PUBLIC_URL = "https://forum.example/t/recursion"
FILE_BYTES = b"%PDF-1.4 notes of three mentoring sessions"


@dataclass
class Scene:
    claim_id: int
    public_id: str
    learner_id: int
    peer_ids: list[int]


def _claim(session: Session, ctx: ServiceContext, achievement: OpenAchievement, *,
           attesting: int, status: str = "submitted", learner_email: str = "ada@guild.test",
           submitted_days_ago: int = 1) -> Scene:
    """A claim by a learner with public and private evidence and ``attesting`` peers.

    The first peer agreed to be named; the others did not.
    """
    learner = make_learner(session, ctx, learner_email, "Ada Learner")
    now = ctx.now()
    claim = Claim(public_id=str(uuid.uuid4()), learner_id=learner.id,
                  issuer_id=achievement.issuer_id, achievement_id=achievement.achievement_id,
                  status=status, statement="I helped newcomers learn recursion.",
                  created_at=now - timedelta(days=submitted_days_ago + 1),
                  submitted_at=now - timedelta(days=submitted_days_ago))
    session.add(claim)
    session.flush()
    session.add_all([
        EvidenceRecord(claim_id=claim.id, url=PUBLIC_URL, title="Answer on the forum",
                       narrative="Explained recursion with a worked example.",
                       activity_date=date(2025, 3, 1), cpd_hours=2.0,
                       cpd_category="Mentoring", public=True, created_at=now),
        EvidenceRecord(claim_id=claim.id, url=PRIVATE_URL, title="Private thread",
                       narrative=PRIVATE_TEXT, cpd_hours=1.5, public=False, created_at=now),
        EvidenceRecord(claim_id=claim.id, title="Session notes", file_name="notes.pdf",
                       media_type="application/pdf", file_data=FILE_BYTES,
                       sha256=hashlib.sha256(FILE_BYTES).hexdigest(), public=False,
                       created_at=now),
    ])
    peers = []
    for n in range(attesting):
        peer = make_learner(session, ctx, f"peer{n}.{claim.public_id[:8]}@guild.test",
                            NAMED_PEER if n == 0 else f"{HIDDEN_PEER} {n}")
        session.add(Attestation(claim_id=claim.id, peer_id=peer.id, kind="helped-me-learn",
                                comment=f"Patient explanations, number {n + 1}.",
                                show_name=n == 0, created_at=now))
        peers.append(peer.id)
    session.commit()
    return Scene(claim.id, claim.public_id, learner.id, peers)


def _load(session: Session, scene: Scene) -> Claim:
    session.expire_all()
    claim = session.get(Claim, scene.claim_id)
    assert claim is not None
    return claim


def _mails(session: Session, to: str) -> list[tuple[str, str]]:
    rows = session.scalars(select(MailMessage).where(MailMessage.to_address == to)
                           .order_by(MailMessage.id))
    return [(m.kind, m.body) for m in rows]


def _actions(session: Session, claim_id: int) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.claim_id == claim_id)
                                .order_by(AuditEvent.id)))


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


# --- the use cases -----------------------------------------------------------------------------


def test_approval_issues_a_credential_that_verifies_with_its_endorsements(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    claim = _load(session, scene)
    row = approve(session, ctx, claim, "staff@guild.test", "Convincing evidence, well done.")
    session.commit()

    document = json.loads(row.document)
    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    endorsements_check = report.check("endorsements")
    assert endorsements_check is not None
    assert endorsements_check.outcome == "passed", endorsements_check.to_json()
    assert endorsements_check.message == "2 endorsements verified"

    did = issuer_did(ctx, claim.issuer)
    endorsements = document["endorsement"]
    assert [e["name"] for e in endorsements] == ["Peer attestation", "Peer attestation"]
    for n, endorsement in enumerate(endorsements, start=1):
        assert endorsement["type"] == ["VerifiableCredential", "EndorsementCredential"]
        assert endorsement["id"] == f"{document['id']}/endorsements/{n}"
        assert endorsement["issuer"]["id"] == did
        assert endorsement["credentialSubject"]["id"] == document["id"]
        assert endorsement["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
        assert verify(session, ctx, endorsement).valid
    first, second = (e["credentialSubject"]["endorsementComment"] for e in endorsements)
    assert first == (f"{NAMED_PEER} attests: Ada Learner helped them learn. "
                     "“Patient explanations, number 1.”")
    # The peer who did not agree to be named appears only by a pairwise pseudonym.
    hidden = session.get(Learner, scene.peer_ids[1])
    assert hidden is not None
    pseudonym = peer_identifier(hidden, claim.learner, did)
    assert second.startswith(f"A peer (pseudonymous id {pseudonym}) attests:")
    assert HIDDEN_PEER not in row.document and "Quietpeer" not in row.document
    assert hidden.email not in row.document

    subject = document["credentialSubject"]
    # CPD hours are not academic credits (OB 3.0 §B.1.3 creditsEarned: "semester or quarter
    # credit hours"): they are a RawScore result, and the activity's days are its dates.
    assert "creditsEarned" not in subject
    assert subject["activityStartDate"] == subject["activityEndDate"] == "2025-03-01T00:00:00Z"
    descriptions = {d["id"].rpartition("#")[2]: d
                    for d in subject["achievement"]["resultDescription"]}
    results = {r["resultDescription"].rpartition("#")[2]: r for r in subject["result"]}
    assert (descriptions["peer-attestations"]["resultType"],
            descriptions["peer-attestations"]["valueMin"]) == ("RawScore", "2")
    assert results["peer-attestations"] == {
        "type": ["Result"], "resultDescription": descriptions["peer-attestations"]["id"],
        "value": "2"}
    assert (descriptions["cpd-hours"]["resultType"], results["cpd-hours"]["value"]) == (
        "RawScore", "3.5")
    assert "participatory-hours" not in results, "none were given"
    # The learner's address travels only hashed; the display name as a name identifier.
    assert "ada@guild.test" not in row.document
    assert {"type": "IdentityObject", "identityHash": "Ada Learner", "identityType": "name",
            "hashed": False} in subject["identifier"]

    evidence = document["evidence"]
    public = next(e for e in evidence if e.get("id") == PUBLIC_URL)
    assert public["narrative"] == "Explained recursion with a worked example."
    assert "2 CPD hours" in public["description"] and "2025-03-01" in public["description"]
    private = [e for e in evidence if e["name"] == "Private evidence"]
    file_digest = hashlib.sha256(FILE_BYTES).hexdigest()
    text_digest = hashlib.sha256(f"{PRIVATE_URL}\n{PRIVATE_TEXT}".encode()).hexdigest()
    assert sorted(e["id"] for e in private) == sorted(
        [f"urn:sha256:{file_digest}", f"urn:sha256:{text_digest}"])
    assert all(e["description"] == "Reviewed by Guild Guild; not public" for e in private)
    assert all("narrative" not in e for e in private)
    for secret in (PRIVATE_URL, "private.example", PRIVATE_TEXT, "Private thread",
                   "Session notes", "notes.pdf", "I helped newcomers"):
        assert secret not in row.document, secret

    session.expire_all()
    claim = _load(session, scene)
    assert (claim.status, claim.credential_id) == ("approved", row.id)
    assert claim.reviewed_by == "staff@guild.test" and claim.decided_at is not None
    assert claim.reviewer_comment == "Convincing evidence, well done."
    badge = session.scalar(select(LearnerBadge).where(LearnerBadge.credential_id == row.id))
    assert badge is not None and badge.learner_id == scene.learner_id
    assert (badge.cpd_hours, badge.cpd_category, badge.shown) == (3.5, "Mentoring", False)
    assert badge.earned_on == ctx.now().date()
    kinds = [kind for kind, _ in _mails(session, "ada@guild.test")]
    assert kinds == ["claim_reviewed", "badge_awarded"]
    assert "Convincing evidence, well done." in _mails(session, "ada@guild.test")[0][1]
    assert row.id in _mails(session, "ada@guild.test")[1][1]
    assert _actions(session, scene.claim_id)[-2:] == ["claim.approved", "credential.issued"]


def test_approval_waits_for_the_required_attestations(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=1)
    before = snapshot(session)
    with pytest.raises(Conflict, match="needs 2 peer attestations"):
        approve(session, ctx, _load(session, scene), "staff@guild.test", "Looks fine.")
    session.rollback()
    assert snapshot(session) == before


def test_the_learners_own_attestation_does_not_count(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=1)
    session.add(Attestation(claim_id=scene.claim_id, peer_id=scene.learner_id,
                            kind="helped-me-learn", comment="I was great.", show_name=True,
                            created_at=ctx.now()))
    session.commit()
    with pytest.raises(Conflict):
        approve(session, ctx, _load(session, scene), "staff@guild.test", "Fine.")
    session.rollback()


@pytest.mark.parametrize("decide", [approve, reject, return_for_revision])
def test_every_decision_needs_a_comment(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement,  # noqa: F811
    decide: Any,
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    before = snapshot(session)
    with pytest.raises(Invalid) as caught:
        decide(session, ctx, _load(session, scene), "staff@guild.test", "   ")
    assert caught.value.fields == {"comment": "required"}
    session.rollback()
    assert snapshot(session) == before


@pytest.mark.parametrize(("decide", "status", "words"), [
    (reject, "rejected", "Guild Guild did not approve your claim"),
    (return_for_revision, "returned", "Guild Guild returned your claim"),
])
def test_reject_and_return_change_the_status_and_tell_the_learner(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement,  # noqa: F811
    decide: Any, status: str, words: str,
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=0)
    decide(session, ctx, _load(session, scene), "staff@guild.test", "Add the forum link.")
    session.commit()
    claim = _load(session, scene)
    assert claim.status == status and claim.credential_id is None
    assert claim.reviewer_comment == "Add the forum link."
    [(kind, body)] = _mails(session, "ada@guild.test")
    assert kind == "claim_reviewed" and words in body and "Add the forum link." in body
    assert f"/learn/claims/{scene.public_id}" in body
    assert _actions(session, scene.claim_id)[-1] == f"claim.{status}"
    assert session.scalars(select(Credential)).all() == []
    with pytest.raises(Conflict):
        approve(session, ctx, claim, "staff@guild.test", "Changed my mind.")
    session.rollback()


def _without_ob_context(ctx: ServiceContext) -> ServiceContext:
    """A context whose loader lacks the OB 3.0 context: every signature fails."""
    kept = {url: ctx.loader.get(url) for url in ctx.loader.urls if url != OB_V3}
    return dataclasses.replace(ctx, loader=ContextLoader(kept))


@pytest.mark.parametrize("attesting", [0, 2])
def test_when_signing_fails_nothing_is_stored(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement,  # noqa: F811
    attesting: int,
) -> None:
    """With 0 attestations the credential's own signature fails, after the claim was taken;
    with 2, the first endorsement's. Either way the claim is as it was."""
    policy = session.get(AchievementPolicy, open_achievement.achievement_id)
    assert policy is not None
    policy.attestations_required = attesting
    session.commit()
    scene = _claim(session, ctx, open_achievement, attesting=attesting)
    before = snapshot(session)
    claim = _load(session, scene)
    with pytest.raises(Invalid, match="could not be signed"):
        approve(session, _without_ob_context(ctx), claim, "staff@guild.test", "Approved.")
    # Even before the caller rolls back, the session holds no trace of the approval.
    assert claim.status == "submitted" and claim.credential_id is None
    assert session.scalars(select(Credential)).all() == []
    assert session.scalars(select(LearnerBadge)).all() == []
    assert session.scalars(select(MailMessage)).all() == []
    session.rollback()
    assert snapshot(session) == before


def test_automatic_approval_once_the_attestations_are_in(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement  # noqa: F811
) -> None:
    policy = session.get(AchievementPolicy, open_achievement.achievement_id)
    assert policy is not None
    policy.review_required = False
    session.commit()
    scene = _claim(session, ctx, open_achievement, attesting=1)
    assert maybe_auto_approve(session, ctx, _load(session, scene)) is None
    session.rollback()
    assert _load(session, scene).status == "submitted"

    late = make_learner(session, ctx, "late.peer@guild.test", "Late Peer")
    session.add(Attestation(claim_id=scene.claim_id, peer_id=late.id, kind="helped-me-learn",
                            comment="Helped me too.", show_name=False, created_at=ctx.now()))
    session.commit()
    row = maybe_auto_approve(session, ctx, _load(session, scene))
    assert row is not None
    session.commit()
    assert maybe_auto_approve(session, ctx, _load(session, scene)) is None  # idempotent
    claim = _load(session, scene)
    assert claim.status == "approved" and claim.credential_id == row.id
    assert claim.reviewed_by is None
    report = verify(session, ctx, row.document)
    assert report.valid and report.check("endorsements").outcome == "passed"  # type: ignore[union-attr]
    assert "Late Peer" not in row.document
    assert [k for k, _ in _mails(session, "ada@guild.test")] == ["badge_awarded"]
    assert "claim.auto_approved" in _actions(session, scene.claim_id)
    assert len(session.scalars(select(Credential)).all()) == 1


def test_automatic_approval_never_applies_when_a_reviewer_is_required(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=3)
    assert maybe_auto_approve(session, ctx, _load(session, scene)) is None
    session.rollback()
    assert _load(session, scene).status == "submitted"


def test_queue_lists_submitted_claims_first_oldest_first(
    session: Session, ctx: ServiceContext, open_achievement: OpenAchievement  # noqa: F811
) -> None:
    newer = _claim(session, ctx, open_achievement, attesting=1, learner_email="n@guild.test",
                   submitted_days_ago=1)
    returned = _claim(session, ctx, open_achievement, attesting=0, status="returned",
                      learner_email="r@guild.test", submitted_days_ago=9)
    older = _claim(session, ctx, open_achievement, attesting=2, learner_email="o@guild.test",
                   submitted_days_ago=5)
    draft = _claim(session, ctx, open_achievement, attesting=0, status="draft",
                   learner_email="d@guild.test")
    issuer = session.scalar(select(Issuer).where(Issuer.slug == "guild"))
    assert issuer is not None
    entries = review_queue(session, issuer)
    assert [e.claim.public_id for e in entries] == [older.public_id, newer.public_id,
                                                   returned.public_id]
    assert [(e.attestations, e.required, e.complete) for e in entries] == [
        (2, 2, True), (1, 2, False), (0, 2, False)]
    assert [e.claim.public_id for e in review_queue(session, issuer, "returned")] == [
        returned.public_id]
    assert draft.public_id not in {e.claim.public_id for e in entries}
    session.rollback()


# --- the staff pages ---------------------------------------------------------------------------


def _post(client: FlaskClient, url: str, data: dict[str, Any],
          form_page: str | None = None) -> Any:
    token = csrf_token(page(client, form_page or url))
    return client.post(url, data={**data, "csrf_token": token})


def test_queue_page_shows_progress_and_filters(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    waiting = _claim(session, ctx, open_achievement, attesting=1, learner_email="w@guild.test")
    _claim(session, ctx, open_achievement, attesting=0, status="rejected",
           learner_email="x@guild.test")
    html = page(staff, f"{GUILD}/reviews")
    assert f"{GUILD}/reviews/{waiting.public_id}" in html
    assert "1/2" in html and "Waiting for review" in html and "Not approved" in html
    filtered = page(staff, f"{GUILD}/reviews?status=rejected")
    assert waiting.public_id not in filtered and "Not approved" in filtered
    assert "/admin/issuers/guild/reviews" in page(staff, GUILD)


def test_claim_page_shows_evidence_attestations_and_trail(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    session.add(AuditEvent(claim_id=scene.claim_id, issuer_id=open_achievement.issuer_id,
                           actor="learner:ada@guild.test", action="claim.submitted",
                           detail={}, at=ctx.now()))
    session.commit()
    html = page(staff, f"{GUILD}/reviews/{scene.public_id}")
    # Reviewers see the private evidence too, with the file through the owner's route.
    assert PRIVATE_URL in html and PRIVATE_TEXT in html
    claim = _load(session, scene)
    file_item = next(e for e in claim.evidence if e.file_name)
    assert f"/learn/claims/{scene.public_id}/evidence/{file_item.id}/file" in html
    assert NAMED_PEER in html and HIDDEN_PEER not in html
    hidden = session.get(Learner, scene.peer_ids[1])
    assert hidden is not None
    assert peer_identifier(hidden, claim.learner, issuer_did(ctx, claim.issuer)) in html
    assert "Patient explanations, number 2." in html
    assert "Claim submitted" in html and "ada@guild.test (learner)" in html
    assert 'value="approve"' in html and "disabled" not in html.split('value="approve"')[1][:40]
    session.rollback()


def test_approve_button_is_disabled_and_the_post_refused_without_attestations(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=1)
    url = f"{GUILD}/reviews/{scene.public_id}"
    html = page(staff, url)
    assert 'value="approve" disabled' in html
    assert "needs 2 peer attestations before it can be approved; 1 has arrived" in html
    before = snapshot(session)
    response = _post(staff, url, {"decision": "approve", "comment": "Approve anyway."})
    assert response.status_code == 409
    assert "needs 2 peer attestations" in response.get_data(as_text=True)
    assert snapshot(session) == before


def test_decisions_through_the_page_need_a_comment(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    url = f"{GUILD}/reviews/{scene.public_id}"
    before = snapshot(session)
    for decision in ("approve", "reject", "return"):
        response = _post(staff, url, {"decision": decision, "comment": ""})
        assert response.status_code == 422
        assert "write a comment for the learner" in response.get_data(as_text=True).lower()
    assert snapshot(session) == before


def test_approve_through_the_page_issues_a_verifying_badge(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    url = f"{GUILD}/reviews/{scene.public_id}"
    response = _post(staff, url, {"decision": "approve", "comment": "Well evidenced."})
    assert response.status_code == 302 and location_path(response) == url
    claim = _load(session, scene)
    assert claim.status == "approved" and claim.credential_id
    row = session.get(Credential, claim.credential_id)
    assert row is not None and row.created_by == "staff@guild.test"
    report = verify(session, ctx, row.document)
    assert report.valid and report.check("endorsements").outcome == "passed"  # type: ignore[union-attr]
    html = page(staff, url)
    assert "Approved" in html and row.id in html and "Well evidenced." in html
    assert 'name="decision"' not in html  # decided: no more buttons
    public = staff.get(f"/credentials/{row.id}/verify")
    assert public.status_code == 200


@pytest.mark.parametrize(("decision", "status"), [("reject", "rejected"),
                                                   ("return", "returned")])
def test_reject_and_return_through_the_page(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
    decision: str, status: str,
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=0)
    url = f"{GUILD}/reviews/{scene.public_id}"
    response = _post(staff, url, {"decision": decision, "comment": "Needs a <b>link</b>."})
    assert response.status_code == 302
    assert _load(session, scene).status == status
    assert [k for k, _ in _mails(session, "ada@guild.test")] == ["claim_reviewed"]
    html = page(staff, url)
    assert "Needs a &lt;b&gt;link&lt;/b&gt;." in html and "<b>link</b>" not in html


def test_a_reviewer_of_another_issuer_can_neither_see_nor_decide(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    intruder = signed_in_as(client, world.other_staff_email)
    for url in (f"{GUILD}/reviews", f"{GUILD}/reviews/{scene.public_id}",
                f"{GUILD}/achievements/peer-scaffolder/policy", f"{GUILD}/endorsements"):
        assert intruder.get(url).status_code == 403, url
    # Through their own issuer's URL, the claim does not exist.
    assert intruder.get(f"/admin/issuers/other/reviews/{scene.public_id}").status_code == 404
    before = snapshot(session)
    token = csrf_token(page(intruder, "/admin/issuers/other/reviews"))
    for url, data in (
        (f"{GUILD}/reviews/{scene.public_id}", {"decision": "approve", "comment": "Mine."}),
        (f"{GUILD}/reviews/{scene.public_id}", {"decision": "reject", "comment": "Mine."}),
        (f"/admin/issuers/other/reviews/{scene.public_id}",
         {"decision": "approve", "comment": "Mine."}),
        (f"{GUILD}/achievements/peer-scaffolder/policy",
         {"attestations_required": "0", "review_required": "yes",
          "attestation_kind": "helped-me-learn"}),
    ):
        response = intruder.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (403, 404), (url, response.status_code)
    assert snapshot(session) == before


def test_a_decision_without_csrf_token_is_refused(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    before = snapshot(session)
    response = staff.post(f"{GUILD}/reviews/{scene.public_id}",
                          data={"decision": "approve", "comment": "Yes."})
    assert response.status_code == 400
    assert snapshot(session) == before


def test_unknown_or_draft_claims_are_not_found(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    draft = _claim(session, ctx, open_achievement, attesting=0, status="draft")
    assert staff.get(f"{GUILD}/reviews/{draft.public_id}").status_code == 404
    assert staff.get(f"{GUILD}/reviews/{uuid.uuid4()}").status_code == 404


def test_queue_page_approves_completed_automatic_claims(
    staff: FlaskClient, session: Session, ctx: ServiceContext,
    open_achievement: OpenAchievement,  # noqa: F811
) -> None:
    scene = _claim(session, ctx, open_achievement, attesting=2)
    policy = session.get(AchievementPolicy, open_achievement.achievement_id)
    assert policy is not None
    policy.review_required = False
    session.commit()
    html = page(staff, f"{GUILD}/reviews")
    assert "Approved" in html
    claim = _load(session, scene)
    assert claim.status == "approved" and claim.credential_id is not None
    page(staff, f"{GUILD}/reviews")
    assert len(session.scalars(select(Credential)).all()) == 1


# --- the policy page ---------------------------------------------------------------------------


def _policy_row(session: Session, achievement_id: int) -> Sequence[Any]:
    session.expire_all()
    policy = session.get(AchievementPolicy, achievement_id)
    assert policy is not None
    return (policy.attestations_required, policy.review_required, policy.attestation_kind,
            policy.cpd_category, policy.open_to_claims)


def test_policy_page_saves_the_policy(staff: FlaskClient, session: Session,
                                      world: World) -> None:
    url = f"{GUILD}/achievements/peer-scaffolder/policy"
    html = page(staff, url)
    assert 'name="attestations_required"' in html and 'value="0"' in html
    assert url in page(staff, f"{GUILD}/achievements/peer-scaffolder/edit")
    response = _post(staff, url, {"attestations_required": "3", "review_required": "no",
                                  "attestation_kind": "genuine-contribution",
                                  "cpd_category": "Mentoring", "open_to_claims": "yes"})
    assert response.status_code == 302
    achievement = session.scalar(select(Achievement).join(Issuer).where(
        Issuer.slug == "guild", Achievement.slug == "peer-scaffolder"))
    assert achievement is not None
    assert _policy_row(session, achievement.id) == (3, False, "genuine-contribution",
                                                    "Mentoring", True)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "policy.updated"))
    assert [e.actor for e in events] == ["staff:staff@guild.test"]
    html = page(staff, url)
    assert 'value="no" checked' in html and 'value="3"' in html


@pytest.mark.parametrize(("data", "message"), [
    ({"attestations_required": "21", "review_required": "yes"}, "between 0 and 20"),
    ({"attestations_required": "two", "review_required": "yes"}, "whole number"),
    ({"attestations_required": "0", "review_required": "no"}, "needs at least one"),
    ({"attestations_required": "1", "review_required": "yes",
      "attestation_kind": "anything"}, "choose what peers attest to"),
    ({"attestations_required": "1", "review_required": ""}, "choose who approves"),
])
def test_policy_page_refuses_bad_input(staff: FlaskClient, session: Session, world: World,
                                       data: dict[str, str], message: str) -> None:
    url = f"{GUILD}/achievements/peer-scaffolder/policy"
    before = snapshot(session)
    response = _post(staff, url, {"attestation_kind": "helped-me-learn", **data})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).lower()
    assert snapshot(session) == before
