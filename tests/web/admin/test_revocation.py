"""Staff pages: revoke, suspend, reinstate one badge; revoke many by ticking or by file."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.verification import verify
from issuer.storage.models import Credential, StatusEvent
from tests.conftest import BASE_URL, World
from tests.web.admin.test_pages import award_to, csrf_token, page, signed_in_as, snapshot

GUILD = "/admin/issuers/guild"


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


@pytest.fixture()
def intruder(app: Flask, world: World) -> FlaskClient:
    """Signed in as staff of "other"."""
    return signed_in_as(app.test_client(), world.other_staff_email)


def credential_page(cid: str) -> str:
    return f"{GUILD}/credentials/{cid}"


def change(client: FlaskClient, cid: str, action: str, **fields: str) -> Any:
    token = csrf_token(page(client, credential_page(cid)))
    return client.post(f"{credential_page(cid)}/status",
                       data={"action": action, "csrf_token": token, **fields})


def status_of(session: Session, cid: str) -> str:
    session.expire_all()
    row = session.get(Credential, cid)
    assert row is not None
    status = row.status
    session.rollback()
    return status


def events(session: Session, cid: str) -> list[tuple[str, str | None, str | None]]:
    rows = session.scalars(select(StatusEvent).where(StatusEvent.credential_id == cid)
                           .order_by(StatusEvent.id)).all()
    result = [(e.action, e.reason, e.actor) for e in rows]
    session.rollback()
    return result


def verifies(session: Session, ctx: ServiceContext, cid: str) -> bool:
    session.expire_all()
    row = session.get(Credential, cid)
    assert row is not None
    valid = verify(session, ctx, row.document).valid
    session.rollback()
    return valid


# --- one badge -----------------------------------------------------------------------------


def test_suspend_reinstate_and_revoke_from_the_credential_page(
    staff: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    cid = award_to(session, ctx, "guild", "ada@example.org", "Ada").id
    html = page(staff, credential_page(cid))
    assert "Revocation and suspension" in html and "Active" in html
    assert 'value="suspend"' in html and 'value="revoke"' in html
    assert 'value="reinstate"' not in html
    assert 'for="f-suspend_reason"' in html and 'for="f-revoke_confirm"' in html

    response = change(staff, cid, "suspend", suspend_reason="Evidence under review")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(credential_page(cid))
    assert status_of(session, cid) == "suspended"
    assert not verifies(session, ctx, cid)
    html = page(staff, credential_page(cid))
    assert "The badge is suspended." in html
    assert "Evidence under review" in html and "staff@guild.test" in html
    assert 'value="reinstate"' in html and 'value="suspend"' not in html

    assert change(staff, cid, "reinstate").status_code == 303
    assert status_of(session, cid) == "active"
    assert verifies(session, ctx, cid)

    response = change(staff, cid, "revoke", revoke_reason="Awarded by mistake",
                      revoke_confirm="yes")
    assert response.status_code == 303
    assert status_of(session, cid) == "revoked"
    assert not verifies(session, ctx, cid)
    html = page(staff, credential_page(cid))
    assert "Revoked" in html and "Awarded by mistake" in html
    # No way back is offered, and none is taken.
    assert 'value="reinstate"' not in html and 'value="revoke"' not in html
    refused = change(staff, cid, "reinstate", reinstate_reason="Please")
    assert refused.status_code == 409
    assert "revocation is permanent" in refused.get_data(as_text=True)
    assert status_of(session, cid) == "revoked"
    assert events(session, cid) == [
        ("suspend", "Evidence under review", "staff@guild.test"),
        ("reinstate", None, "staff@guild.test"),
        ("revoke", "Awarded by mistake", "staff@guild.test"),
    ]


def test_revoking_needs_a_reason_and_a_ticked_box(staff: FlaskClient, session: Session,
                                                 ctx: ServiceContext, world: World) -> None:
    cid = award_to(session, ctx, "guild", "ada@example.org", "Ada").id
    before = snapshot(session)
    unticked = change(staff, cid, "revoke", revoke_reason="Plagiarism")
    assert unticked.status_code == 422
    html = unticked.get_data(as_text=True)
    assert "revoking cannot be undone" in html and 'aria-invalid="true"' in html
    assert "Plagiarism" in html  # what was typed is kept
    no_reason = change(staff, cid, "revoke", revoke_reason=" ", revoke_confirm="yes")
    assert no_reason.status_code == 422
    assert "Give a reason" in no_reason.get_data(as_text=True)
    no_reason = change(staff, cid, "suspend")
    assert no_reason.status_code == 422
    unknown = change(staff, cid, "delete")
    assert unknown.status_code == 400
    assert snapshot(session) == before


def test_another_issuers_staff_cannot_change_a_badge(intruder: FlaskClient, staff: FlaskClient,
                                                     session: Session, ctx: ServiceContext,
                                                     world: World) -> None:
    cid = award_to(session, ctx, "guild", "ada@example.org", "Ada").id
    before = snapshot(session)
    token = csrf_token(page(intruder, "/admin/"))
    for action in ("revoke", "suspend"):
        response = intruder.post(f"{credential_page(cid)}/status", data={
            "action": action, f"{action}_reason": "Hostile", "revoke_confirm": "yes",
            "csrf_token": token})
        assert response.status_code == 403
    # Under their own issuer's address, the badge does not exist.
    response = intruder.post(f"/admin/issuers/other/credentials/{cid}/status", data={
        "action": "revoke", "revoke_reason": "Hostile", "revoke_confirm": "yes",
        "csrf_token": token})
    assert response.status_code == 404
    bulk = intruder.post(f"{GUILD}/credentials/revoke", data={
        "credential": cid, "step": "confirm", "reason": "x", "confirm": "yes",
        "csrf_token": token})
    assert bulk.status_code == 403
    mine = intruder.post("/admin/issuers/other/credentials/revoke", data={
        "credential": cid, "step": "confirm", "reason": "x", "confirm": "yes",
        "csrf_token": token})
    assert mine.status_code == 200  # answered, but the badge is not theirs: left out
    assert "no such credential" in mine.get_data(as_text=True)
    assert snapshot(session) == before
    assert staff.post(f"{credential_page(cid)}/status",
                      data={"action": "revoke", "revoke_reason": "x",
                            "revoke_confirm": "yes"}).status_code == 400  # no CSRF token
    assert snapshot(session) == before


def test_strangers_are_sent_to_sign_in(client: FlaskClient, session: Session,
                                       ctx: ServiceContext, world: World) -> None:
    cid = award_to(session, ctx, "guild", "ada@example.org", "Ada").id
    for url in (f"{GUILD}/revoke-file",):
        assert client.get(url).status_code == 302
    token = csrf_token(page(client, "/admin/login"))
    response = client.post(f"{credential_page(cid)}/status", data={
        "action": "revoke", "revoke_reason": "x", "revoke_confirm": "yes", "csrf_token": token})
    assert response.status_code == 302
    assert status_of(session, cid) == "active"


# --- many at once --------------------------------------------------------------------------


def confirm_form(html: str) -> dict[str, Any]:
    """The hidden fields of the confirmation form, as a browser would send them."""
    ids = re.findall(r'<input type="hidden" name="credential" value="([^"]+)">', html)
    return {"credential": ids, "step": "confirm", "csrf_token": csrf_token(html),
            "source": re.search(r'name="source" value="([^"]+)"', html).group(1)}  # type: ignore[union-attr]


def test_revoke_the_badges_ticked_in_the_list(staff: FlaskClient, session: Session,
                                              ctx: ServiceContext, world: World) -> None:
    rows = [award_to(session, ctx, "guild", f"p{i}@example.org", f"Person {i}")
            for i in range(4)]
    chosen, kept = [r.id for r in rows[:3]], rows[3].id
    listing = page(staff, f"{GUILD}/credentials")
    for row in rows:
        assert f'name="credential" value="{row.id}"' in listing
    assert "Revoke selected" in listing

    token = csrf_token(listing)
    confirm = staff.post(f"{GUILD}/credentials/revoke",
                         data={"credential": chosen, "csrf_token": token})
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Revoke 3 badges?" in html
    assert all(f"Person {i}" in html for i in range(3)) and "Person 3" not in html
    assert all(status_of(session, cid) == "active" for cid in chosen)  # nothing yet

    form = confirm_form(html)
    assert sorted(form["credential"]) == sorted(chosen)
    unconfirmed = staff.post(f"{GUILD}/credentials/revoke", data={**form, "reason": "Fraud"})
    assert unconfirmed.status_code == 422
    assert all(status_of(session, cid) == "active" for cid in chosen)

    done = staff.post(f"{GUILD}/credentials/revoke",
                      data={**form, "reason": "Course results annulled", "confirm": "yes"})
    assert done.status_code == 200
    assert "3 badges revoked" in done.get_data(as_text=True)
    assert all(status_of(session, cid) == "revoked" for cid in chosen)
    assert status_of(session, kept) == "active"
    for cid in chosen:
        assert events(session, cid) == [("revoke", "Course results annulled",
                                         "staff@guild.test")]
        assert not verifies(session, ctx, cid)
    assert verifies(session, ctx, kept)
    # Revoked badges have no box to tick any more.
    listing = page(staff, f"{GUILD}/credentials")
    assert f'name="credential" value="{chosen[0]}"' not in listing
    assert f'name="credential" value="{kept}"' in listing


def test_nothing_ticked_goes_back_to_the_list(staff: FlaskClient, world: World) -> None:
    token = csrf_token(page(staff, f"{GUILD}/credentials"))
    response = staff.post(f"{GUILD}/credentials/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert "Tick the badges to revoke first" in page(staff, f"{GUILD}/credentials")


def upload(client: FlaskClient, text: str, name: str = "revoke.csv") -> Any:
    token = csrf_token(page(client, f"{GUILD}/revoke-file"))
    return client.post(f"{GUILD}/revoke-file", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data")


def test_revoke_the_badges_listed_in_a_csv_file(staff: FlaskClient, session: Session,
                                                ctx: ServiceContext, world: World) -> None:
    rows = [award_to(session, ctx, "guild", f"p{i}@example.org", f"Person {i}")
            for i in range(3)]
    theirs = award_to(session, ctx, "other", "eve@example.org", "Eve").id
    already = rows[2].id
    assert change(staff, already, "revoke", revoke_reason="Earlier",
                  revoke_confirm="yes").status_code == 303
    csv = ("credential_url,note\n"
           f"{BASE_URL}/credentials/{rows[0].id},first\n"
           f"{rows[1].id.upper()},by id\n"
           f"{BASE_URL}/credentials/{rows[1].id}/verify,the same again\n"
           f"{already},already revoked\n"
           f"{theirs},another issuer's\n"
           "not-a-badge,junk\n")
    response = upload(staff, csv)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "Revoke 2 badges?" in html
    assert "already revoked" in html and "no such credential" in html
    assert "not a credential id or address of this service" in html
    assert "Eve" not in html  # another issuer's badge is never shown
    form = confirm_form(html)
    assert form["source"] == "file"
    done = staff.post(f"{GUILD}/credentials/revoke",
                      data={**form, "reason": "Listed by the exam board", "confirm": "yes"})
    assert done.status_code == 200
    assert "2 badges revoked" in done.get_data(as_text=True)
    assert status_of(session, rows[0].id) == status_of(session, rows[1].id) == "revoked"
    assert status_of(session, theirs) == "active"
    assert events(session, already) == [("revoke", "Earlier", "staff@guild.test")]
    revoked = session.get(Credential, rows[0].id)
    assert revoked is not None and revoked.status_reason == "Listed by the exam board"
    assert json.loads(revoked.document)["credentialStatus"][0]["statusPurpose"] == "revocation"


@pytest.mark.parametrize("content, message", [
    (b"", "lists no badges"),
    (b"\xff\xfe\x00b\x00a\x00d", "not UTF-8"),
    (b"id\n", "lists no badges"),
])
def test_unusable_files_are_explained(staff: FlaskClient, session: Session, world: World,
                                      content: bytes, message: str) -> None:
    before = snapshot(session)
    token = csrf_token(page(staff, f"{GUILD}/revoke-file"))
    response = staff.post(f"{GUILD}/revoke-file", data={
        "csrf_token": token, "file": (io.BytesIO(content), "x.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot(session) == before


def test_the_list_page_links_to_revoking_from_a_file(staff: FlaskClient, world: World) -> None:
    listing = page(staff, f"{GUILD}/credentials")
    assert f'href="{GUILD}/revoke-file"' in listing
    form = page(staff, f"{GUILD}/revoke-file")
    assert 'type="file"' in form and 'for="f-file"' in form
