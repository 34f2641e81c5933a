"""VC API exchanges through the Flask test client: the happy path, and every bad input
answered with a JSON problem body (never a page, never a 500)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict
from issuer.services.exchanges import StartedExchange, start_exchange
from issuer.services.revocation import reinstate, revoke, suspend
from issuer.storage.models import Credential
from issuer.storage.wallets import WalletExchange
from tests.conftest import BASE_URL, World
from tests.web.admin.test_pages import signed_in_as
from tests.web.wallet.holder import Holder

PATH = BASE_URL.removesuffix("/")


def _start(session: Session, ctx: ServiceContext, badge: Credential) -> StartedExchange:
    started = start_exchange(session, ctx, session.get(Credential, badge.id),
                             started_by="staff@guild.test")
    session.commit()
    return started


def _path(url: str) -> str:
    assert url.startswith(PATH), url
    return url[len(PATH):]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "Set-Cookie" not in response.headers
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    return body


def test_the_request_then_the_copy(client: FlaskClient, session: Session, ctx: ServiceContext,
                                   badge: Credential, holder: Holder) -> None:
    badge.issuer.name = "Renamed Guild"  # the copy states the Profile the badge states
    session.commit()
    started = _start(session, ctx, badge)
    asked = client.post(_path(started.exchange_url), json={})
    assert asked.status_code == 200
    assert "Set-Cookie" not in asked.headers
    assert asked.headers["Cache-Control"] == "no-store"
    vpr = asked.get_json()["verifiablePresentationRequest"]
    assert vpr["query"] == [{"type": "DIDAuthentication"}]
    assert vpr["challenge"] == started.challenge
    assert vpr["domain"] == PATH
    (service,) = vpr["interact"]["service"]
    assert service["type"] == "UnmediatedPresentationService2021"
    assert service["serviceEndpoint"] == f"{started.exchange_url}/{started.challenge}"
    vp = holder.did_auth(challenge=vpr["challenge"], domain=vpr["domain"])
    answered = client.post(_path(service["serviceEndpoint"]), json=vp)
    assert answered.status_code == 200, answered.get_data(as_text=True)
    presentation = answered.get_json()["verifiablePresentation"]
    assert "VerifiablePresentation" in presentation["type"]
    (vc,) = presentation["verifiableCredential"]
    assert vc["credentialSubject"]["id"] == holder.did
    # The issuer's Profile is the one the badge states, not a reduced one.
    original = json.loads(badge.document)
    assert isinstance(original["issuer"], dict) and vc["issuer"] == original["issuer"]
    assert vc["credentialSubject"]["achievement"] == original["credentialSubject"]["achievement"]
    copy_id = vc["id"].rsplit("/", 1)[-1]
    stored = session.get(Credential, copy_id)
    assert stored is not None and stored.recipient_did == holder.did
    assert json.loads(stored.document) == vc
    assert stored.status_allocation_id is not None
    assert stored.status_allocation_id != badge.status_allocation_id
    row = session.scalar(select(WalletExchange))
    assert row is not None and row.state == "completed" and row.issued_credential_id == copy_id


def test_the_interaction_url_names_the_exchange(client: FlaskClient, session: Session,
                                                ctx: ServiceContext, badge: Credential) -> None:
    started = _start(session, ctx, badge)
    response = client.get(_path(started.interaction_url))
    assert response.status_code == 200
    assert response.get_json() == {"protocols": {"vcapi": started.exchange_url}}
    _problem(client.get(_path(started.exchange_url)), 405)


def test_a_wrapped_presentation_posted_to_the_exchange_itself(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        holder: Holder) -> None:
    """The Learner Credential Wallet's direct form posts to vc_request_url."""
    started = _start(session, ctx, badge)
    vp = holder.did_auth(challenge=started.challenge, domain=None, suite="eddsa-rdfc-2022")
    response = client.post(_path(started.exchange_url), json={"verifiablePresentation": vp})
    assert response.status_code == 200, response.get_data(as_text=True)
    (vc,) = response.get_json()["verifiablePresentation"]["verifiableCredential"]
    assert vc["credentialSubject"]["id"] == holder.did


def test_a_used_exchange_is_gone(client: FlaskClient, session: Session, ctx: ServiceContext,
                                 badge: Credential, holder: Holder) -> None:
    started = _start(session, ctx, badge)
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    endpoint = _path(f"{started.exchange_url}/{started.challenge}")
    assert client.post(endpoint, json=vp).status_code == 200
    _problem(client.post(endpoint, json=vp), 410)
    _problem(client.post(_path(started.exchange_url), json={}), 410)


def test_an_expired_exchange_is_gone(client: FlaskClient, session: Session,
                                     ctx: ServiceContext, badge: Credential,
                                     holder: Holder) -> None:
    started = _start(session, ctx, badge)
    session.execute(update(WalletExchange).values(
        expires_at=ctx.now() - timedelta(seconds=1)))
    session.commit()
    _problem(client.post(_path(started.exchange_url), json={}), 410)
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    _problem(client.post(_path(f"{started.exchange_url}/{started.challenge}"), json=vp), 410)


@pytest.mark.parametrize(("change", "status"), [
    ({"challenge": "not-the-challenge"}, 422),
    ({"domain": "https://elsewhere.example"}, 422),
])
def test_a_presentation_for_another_request_is_refused(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        holder: Holder, change: dict[str, str], status: int) -> None:
    started = _start(session, ctx, badge)
    vp = holder.did_auth(**{"challenge": started.challenge, "domain": PATH, **change})
    endpoint = _path(f"{started.exchange_url}/{started.challenge}")
    _problem(client.post(endpoint, json=vp), status)
    # A refused answer leaves the exchange usable.
    good = holder.did_auth(challenge=started.challenge, domain=PATH)
    assert client.post(endpoint, json=good).status_code == 200


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b"{not json", "application/json", 400),
    (b'{"a": 1, "a": 2}', "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"[]", "application/json", 422),
    (b'{"verifiablePresentation": 5}', "application/json", 422),
    (b'{"type": "VerifiablePresentation"}', "application/json", 422),
    (b"challenge=x", "application/x-www-form-urlencoded", 415),
])
def test_bad_bodies_get_problem_details(client: FlaskClient, session: Session,
                                        ctx: ServiceContext, badge: Credential, body: bytes,
                                        content_type: str, status: int) -> None:
    started = _start(session, ctx, badge)
    endpoint = _path(f"{started.exchange_url}/{started.challenge}")
    _problem(client.post(endpoint, data=body, content_type=content_type), status)


def test_unknown_exchanges_and_transactions(client: FlaskClient, session: Session,
                                            ctx: ServiceContext, badge: Credential,
                                            holder: Holder) -> None:
    started = _start(session, ctx, badge)
    _problem(client.post("/exchanges/nope", json={}), 404)
    _problem(client.post("/exchanges/" + "x" * 500, json={}), 404)
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    _problem(client.post(_path(f"{started.exchange_url}/wrong"), json=vp), 404)
    _problem(client.get("/exchanges/nope?iuv=1"), 404)


def test_a_revoked_badge_cannot_start_or_finish_an_exchange(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        holder: Holder) -> None:
    started = _start(session, ctx, badge)
    row = session.get(Credential, badge.id)
    assert row is not None
    revoke(session, ctx, row.issuer, row.id, reason="awarded in error", actor="test")
    session.commit()
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    _problem(client.post(_path(f"{started.exchange_url}/{started.challenge}"), json=vp), 409)


def test_revoking_the_award_revokes_the_wallets_copy(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        holder: Holder) -> None:
    started = _start(session, ctx, badge)
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    answered = client.post(_path(f"{started.exchange_url}/{started.challenge}"), json=vp)
    (vc,) = answered.get_json()["verifiablePresentation"]["verifiableCredential"]
    row = session.get(Credential, badge.id)
    assert row is not None
    revoke(session, ctx, row.issuer, row.id, reason="awarded in error", actor="test")
    session.commit()
    copy = session.get(Credential, vc["id"].rsplit("/", 1)[-1])
    assert copy is not None
    session.refresh(copy)
    assert copy.status == "revoked"
    assert copy.status_reason == "awarded in error"


def test_the_staff_pages_list_the_copy(app: Any, session: Session, ctx: ServiceContext,
                                       badge: Credential, holder: Holder,
                                       world: World) -> None:
    wallet = app.test_client()
    started = _start(session, ctx, badge)
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    answered = wallet.post(_path(f"{started.exchange_url}/{started.challenge}"), json=vp)
    copy_id = answered.get_json()["verifiablePresentation"]["verifiableCredential"][0][
        "id"].rsplit("/", 1)[-1]
    staff = signed_in_as(app.test_client(), world.staff_email)
    page = staff.get(f"/admin/issuers/{world.issuer_slug}/credentials/{badge.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert holder.did in text
    assert f"/admin/issuers/{world.issuer_slug}/credentials/{copy_id}" in text
    listing = staff.get(f"/admin/issuers/{world.issuer_slug}/credentials")
    assert copy_id in listing.get_data(as_text=True)
    assert staff.get(f"/admin/issuers/{world.issuer_slug}/credentials/{copy_id}"
                     ).status_code == 200


def test_an_expired_badge_cannot_be_handed_over(session: Session, ctx: ServiceContext,
                                                badge: Credential) -> None:
    row = session.get(Credential, badge.id)
    assert row is not None
    row.valid_until = ctx.now() - timedelta(days=1)
    session.commit()
    with pytest.raises(Conflict, match="expired"):
        start_exchange(session, ctx, row, started_by="test")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["@context", "type", "proof", "holder", "id",
                                       "verifiablePresentation", "challenge", "domain",
                                       "proofPurpose", "verificationMethod", "proofValue",
                                       "cryptosuite", "x"]), inner, max_size=5),
    max_leaves=20)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(body=_JSON)
def test_no_body_makes_the_exchange_fail(client: FlaskClient, session: Session,
                                         ctx: ServiceContext, badge: Credential,
                                         body: Any) -> None:
    started = _start(session, ctx, badge)
    for url in (started.exchange_url, f"{started.exchange_url}/{started.challenge}"):
        response = client.post(_path(url), json=body)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code != 200:
            _problem(response, response.status_code)


def _copy(client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
          holder: Holder) -> Credential:
    started = _start(session, ctx, badge)
    vp = holder.did_auth(challenge=started.challenge, domain=PATH)
    answered = client.post(_path(f"{started.exchange_url}/{started.challenge}"), json=vp)
    vc_id = answered.get_json()["verifiablePresentation"]["verifiableCredential"][0]["id"]
    copy = session.get(Credential, vc_id.rsplit("/", 1)[-1])
    assert copy is not None
    return copy


def test_the_copy_follows_suspension_and_reinstatement(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        holder: Holder) -> None:
    copy = _copy(client, session, ctx, badge, holder)
    row = session.get(Credential, badge.id)
    assert row is not None
    suspend(session, ctx, row.issuer, row.id, reason="under review", actor="test")
    session.commit()
    session.refresh(copy)
    assert copy.status == "suspended"
    reinstate(session, ctx, row.issuer, row.id, actor="test")
    session.commit()
    session.refresh(copy)
    assert copy.status == "active"


def test_a_copy_revoked_on_its_own_stays_revoked(
        client: FlaskClient, session: Session, ctx: ServiceContext, badge: Credential,
        holder: Holder) -> None:
    copy = _copy(client, session, ctx, badge, holder)
    row = session.get(Credential, badge.id)
    assert row is not None
    revoke(session, ctx, row.issuer, copy.id, reason="wallet lost", actor="test")
    session.commit()
    revoke(session, ctx, row.issuer, row.id, reason="awarded in error", actor="test")
    session.commit()
    session.refresh(copy)
    session.refresh(row)
    assert (row.status, copy.status) == ("revoked", "revoked")
    assert copy.status_reason == "wallet lost"
