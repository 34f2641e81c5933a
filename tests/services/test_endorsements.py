"""Endorsements between organisations: signed here or pasted in, stored, and verified again
every time a public page shows them."""

from __future__ import annotations

import copy
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.credentials import EndorsementCredential, EndorsementSubject, Profile
from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.services.context import ServiceContext
from issuer.services.endorsements import endorse, endorsements_for, import_endorsement
from issuer.services.errors import Conflict, Invalid
from issuer.services.issuers import get_issuer, issuer_did
from issuer.services.verification import verify
from issuer.storage.learning import AuditEvent, Endorsement
from issuer.storage.models import Achievement
from tests.conftest import World
from tests.web.admin.test_pages import csrf_token, page, signed_in_as, snapshot

ACHIEVEMENT_PAGE = "/issuers/other/achievements/peer-scaffolder"
ENDORSEMENTS = "/admin/issuers/guild/endorsements"
BODY = "Open Professional Body"


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def _achievement(session: Session, slug: str) -> Achievement:
    issuer = get_issuer(session, slug)
    row = session.scalar(select(Achievement).where(Achievement.issuer_id == issuer.id,
                                                   Achievement.slug == "peer-scaffolder"))
    assert row is not None
    return row


def signed_elsewhere(ctx: ServiceContext, subject_id: str,
                     comment: str = "We recognise this badge for CPD.") -> dict[str, Any]:
    """An EndorsementCredential by a body with its own did:key, not hosted here."""
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    document = EndorsementCredential(
        id=f"urn:uuid:{uuid.uuid4()}", issuer=Profile(id=did, name=BODY),
        validFrom=datetime.now(UTC).replace(microsecond=0), name="Endorsement",
        credentialSubject=EndorsementSubject(id=subject_id, endorsementComment=comment),
    ).to_json()
    return sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                         verification_method=did_key_verification_method_id(did),
                         ctx=SuiteContext(loader=ctx.loader))


def _subject(ctx: ServiceContext, slug: str = "guild") -> str:
    return f"{ctx.base}/issuers/{slug}/achievements/peer-scaffolder"


# --- the use cases -----------------------------------------------------------------------------


def test_an_issuer_endorses_another_issuers_badge(session: Session, ctx: ServiceContext,
                                                  world: World) -> None:
    guild = get_issuer(session, "guild")
    row = endorse(session, ctx, guild, target_slug="other", achievement_slug="peer-scaffolder",
                  comment="Rigorous peer review.", actor="staff:staff@guild.test")
    session.commit()
    document = json.loads(row.document)
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["issuer"]["id"] == issuer_did(ctx, guild)
    assert document["credentialSubject"] == {
        "id": _subject(ctx, "other"), "type": ["EndorsementSubject"],
        "endorsementComment": "Rigorous peer review."}
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    other = get_issuer(session, "other")
    assert endorsements_for(session, other, _achievement(session, "other")) == [row]
    assert endorsements_for(session, other) == []
    assert endorsements_for(session, guild) == []
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["endorsement.issued"]


def test_an_issuer_can_endorse_another_issuer_as_a_whole(session: Session,
                                                         ctx: ServiceContext,
                                                         world: World) -> None:
    guild = get_issuer(session, "guild")
    row = endorse(session, ctx, guild, target_slug="other", comment="Trusted partner.",
                  actor="staff:staff@guild.test")
    session.commit()
    other = get_issuer(session, "other")
    assert json.loads(row.document)["credentialSubject"]["id"] == issuer_did(ctx, other)
    assert endorsements_for(session, other) == [row]


@pytest.mark.parametrize(("target", "achievement", "comment", "field"), [
    ("guild", None, "We are great.", "target"),
    ("nobody", None, "Who?", "target"),
    ("other", "no-such-badge", "Fine.", "target"),
    ("other", None, "   ", "comment"),
])
def test_bad_endorsements_are_refused(session: Session, ctx: ServiceContext, world: World,
                                      target: str, achievement: str | None, comment: str,
                                      field: str) -> None:
    with pytest.raises(Invalid) as caught:
        endorse(session, ctx, get_issuer(session, "guild"), target_slug=target,
                achievement_slug=achievement, comment=comment, actor="test")
    assert field in caught.value.fields
    session.rollback()
    assert session.scalars(select(Endorsement)).all() == []


def test_an_endorsement_signed_elsewhere_is_kept_once_verified(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    guild = get_issuer(session, "guild")
    document = signed_elsewhere(ctx, _subject(ctx))
    row = import_endorsement(session, ctx, guild, json.dumps(document), actor="test")
    session.commit()
    assert row.endorser_name == BODY
    assert row.target_achievement_id == _achievement(session, "guild").id
    with pytest.raises(Conflict):
        import_endorsement(session, ctx, guild, json.dumps(document), actor="test")
    session.rollback()


@pytest.mark.parametrize("damage", ["comment", "subject", "proof", "not-json", "wrong-type"])
def test_a_tampered_or_foreign_endorsement_is_refused(session: Session, ctx: ServiceContext,
                                                      world: World, damage: str) -> None:
    guild = get_issuer(session, "guild")
    document = signed_elsewhere(ctx, _subject(ctx))
    bad: Any = copy.deepcopy(document)
    if damage == "comment":
        bad["credentialSubject"]["endorsementComment"] = "We endorse everything they do."
    elif damage == "subject":  # a valid endorsement, but about somebody else
        bad = signed_elsewhere(ctx, _subject(ctx, "other"))
    elif damage == "proof":
        bad["proof"][0]["proofValue"] = "z" + "1" * 80
    elif damage == "wrong-type":
        bad["type"] = ["VerifiableCredential", "OpenBadgeCredential"]
    text = "{not json" if damage == "not-json" else json.dumps(bad)
    before = snapshot(session)
    with pytest.raises(Invalid):
        import_endorsement(session, ctx, guild, text, actor="test")
    session.rollback()
    assert snapshot(session) == before


# --- the pages ---------------------------------------------------------------------------------


def _post(client: FlaskClient, data: dict[str, Any]) -> Any:
    token = csrf_token(page(client, ENDORSEMENTS))
    return client.post(ENDORSEMENTS, data={**data, "csrf_token": token})


def test_endorse_through_the_page_and_see_it_verified_on_the_public_page(
    staff: FlaskClient, client: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    html = page(staff, ENDORSEMENTS)
    assert 'value="other/peer-scaffolder"' in html and 'value="other"' in html
    assert 'value="guild"' not in html  # never itself
    assert ENDORSEMENTS in page(staff, "/admin/issuers/guild")
    response = _post(staff, {"action": "endorse", "target": "other/peer-scaffolder",
                             "comment": "Their reviewers check every <claim>."})
    assert response.status_code == 302
    assert len(session.scalars(select(Endorsement)).all()) == 1

    public = page(client, ACHIEVEMENT_PAGE)
    assert "Endorsed by other organisations" in public
    assert "Guild Guild" in public
    assert "Their reviewers check every &lt;claim&gt;." in public
    assert "Verified: the signature checks out" in public
    # The endorsement is of the badge, not of the organisation.
    assert "Endorsed by other organisations" not in page(client, "/issuers/other")
    assert "Their reviewers check every" in page(staff, ENDORSEMENTS)


def test_an_issuer_endorsement_shows_on_the_public_issuer_page(
    staff: FlaskClient, client: FlaskClient, session: Session
) -> None:
    assert _post(staff, {"action": "endorse", "target": "other",
                         "comment": "A trustworthy issuer."}).status_code == 302
    public = page(client, "/issuers/other")
    assert "A trustworthy issuer." in public and "Verified" in public


def test_a_stored_endorsement_that_no_longer_verifies_says_so(
    staff: FlaskClient, client: FlaskClient, session: Session
) -> None:
    assert _post(staff, {"action": "endorse", "target": "other/peer-scaffolder",
                         "comment": "Solid."}).status_code == 302
    row = session.scalars(select(Endorsement)).one()
    row.document = row.document.replace("Solid.", "Outstanding in every way.")
    session.commit()
    public = page(client, ACHIEVEMENT_PAGE)
    assert "Outstanding in every way." in public
    assert "Not verified" in public and "Verified: the signature" not in public


def test_paste_and_upload_an_endorsement_signed_elsewhere(
    staff: FlaskClient, client: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    pasted = signed_elsewhere(ctx, _subject(ctx), "Counts for 3 CPD hours with us.")
    response = _post(staff, {"action": "import", "document": json.dumps(pasted)})
    assert response.status_code == 302, response.get_data(as_text=True)
    uploaded = signed_elsewhere(ctx, issuer_did(ctx, get_issuer(session, "guild")),
                                "A well-run issuer.")
    token = csrf_token(page(staff, ENDORSEMENTS))
    response = staff.post(ENDORSEMENTS, data={
        "csrf_token": token, "action": "import", "document": "",
        "file": (io.BytesIO(json.dumps(uploaded).encode()), "endorsement.json")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    badge_page = page(client, "/issuers/guild/achievements/peer-scaffolder")
    assert BODY in badge_page and "Counts for 3 CPD hours with us." in badge_page
    assert "Verified" in badge_page
    issuer_page = page(client, "/issuers/guild")
    assert "A well-run issuer." in issuer_page and "Counts for 3 CPD" not in issuer_page


def test_a_tampered_pasted_endorsement_is_refused_on_the_page(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    document = signed_elsewhere(ctx, _subject(ctx))
    document["credentialSubject"]["endorsementComment"] = "Edited after signing."
    before = snapshot(session)
    response = _post(staff, {"action": "import", "document": json.dumps(document)})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "did not verify" in text and "it was not saved" in text
    assert snapshot(session) == before


def test_endorsement_form_errors_are_shown(staff: FlaskClient, session: Session) -> None:
    before = snapshot(session)
    response = _post(staff, {"action": "endorse", "target": "other", "comment": ""})
    assert response.status_code == 422
    assert "write what you endorse" in response.get_data(as_text=True).lower()
    response = _post(staff, {"action": "import", "document": ""})
    assert response.status_code == 422
    assert snapshot(session) == before


def test_another_issuers_staff_cannot_endorse_in_its_name(
    client: FlaskClient, session: Session, world: World
) -> None:
    intruder = signed_in_as(client, world.other_staff_email)
    token = csrf_token(page(intruder, "/admin/issuers/other/endorsements"))
    before = snapshot(session)
    response = intruder.post(ENDORSEMENTS, data={
        "csrf_token": token, "action": "endorse", "target": "other",
        "comment": "We endorse ourselves through guild."})
    assert response.status_code == 403
    assert snapshot(session) == before
