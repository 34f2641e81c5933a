"""The copy a wallet took by an offer is a credential of its own, known as a copy of the
badge: it is not offered again, and it changes status with the badge."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from issuer.services.bound_copies import copies_of, is_a_copy
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict
from issuer.services.oid4vci import create_offer
from issuer.services.revocation import reinstate, revoke, suspend
from issuer.storage.models import Credential
from tests.conftest import World
from tests.web.admin.test_pages import signed_in_as
from tests.web.oid4vci.wallet import LDP_VC, Wallet, start


def _take(wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> str:
    offer = create_offer(session, ctx, badge)
    session.commit()
    flow = start(wallet, offer.link)
    nonce = wallet.nonce(flow.metadata["nonce_endpoint"])
    answer = wallet.credential(flow.metadata["credential_endpoint"], flow.access_token, {
        "credential_configuration_id": LDP_VC,
        "proofs": {"jwt": [wallet.jwt_proof(audience=flow.issuer, nonce=nonce)]}})
    assert answer.status == 200, answer
    copy_id: str = answer.body["credentials"][0]["credential"]["id"].rsplit("/", 1)[1]
    return copy_id


def test_the_copy_is_known_as_a_copy_and_not_offered_again(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    copy_id = _take(wallet, session, ctx, badge)
    session.expire_all()
    copy = session.get(Credential, copy_id)
    assert copy is not None
    assert [c.id for c in copies_of(session, badge)] == [copy_id]
    assert is_a_copy(session, copy) and not is_a_copy(session, badge)
    with pytest.raises(Conflict):
        create_offer(session, ctx, copy)


def test_a_revoked_badge_is_not_offered(session: Session, ctx: ServiceContext,
                                        badge: Credential) -> None:
    revoke(session, ctx, badge.issuer, badge.id, reason="awarded in error", actor="test")
    session.commit()
    with pytest.raises(Conflict):
        create_offer(session, ctx, badge)


def test_revoking_the_badge_revokes_the_wallet_s_copy(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    copy_id = _take(wallet, session, ctx, badge)
    revoke(session, ctx, badge.issuer, badge.id, reason="awarded in error", actor="test")
    session.commit()
    session.expire_all()
    copy = session.get(Credential, copy_id)
    assert copy is not None and copy.status == "revoked"


def test_the_copy_states_the_badge_s_issuer_profile(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    """The Profile the badge was issued with, even when the issuer was renamed since."""
    badge.issuer.name = "Renamed Guild"
    session.commit()
    copy = session.get(Credential, _take(wallet, session, ctx, badge))
    assert copy is not None
    original, copied = json.loads(badge.document), json.loads(copy.document)
    assert isinstance(original["issuer"], dict) and copied["issuer"] == original["issuer"]


def test_the_copy_follows_suspension_and_reinstatement(
        wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential) -> None:
    copy_id = _take(wallet, session, ctx, badge)
    suspend(session, ctx, badge.issuer, badge.id, reason="under review", actor="test")
    session.commit()
    session.expire_all()
    copy = session.get(Credential, copy_id)
    assert copy is not None and copy.status == "suspended"
    reinstate(session, ctx, badge.issuer, badge.id, actor="test")
    session.commit()
    session.expire_all()
    copy = session.get(Credential, copy_id)
    assert copy is not None and copy.status == "active"


def test_the_staff_page_of_the_badge_lists_the_copy(
        app: Flask, wallet: Wallet, session: Session, ctx: ServiceContext, badge: Credential,
        world: World) -> None:
    copy_id = _take(wallet, session, ctx, badge)
    copy = session.get(Credential, copy_id)
    assert copy is not None and copy.recipient_did
    staff = signed_in_as(app.test_client(), world.staff_email)
    page = staff.get(f"/admin/issuers/{world.issuer_slug}/credentials/{badge.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert copy.recipient_did in text
    assert f"/admin/issuers/{world.issuer_slug}/credentials/{copy_id}" in text
