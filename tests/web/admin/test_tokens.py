"""API tokens from the staff pages: shown once, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.tokens import authenticate
from issuer.storage.models import ApiToken
from tests.conftest import World
from tests.web.admin.test_pages import location_path, page, signed_in_as, snapshot, submit

TOKENS = "/admin/issuers/guild/tokens"
NEW_TOKEN = re.compile(r'id="new-token"[^>]*value="(obi_[A-Za-z0-9_-]+)"')


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def create(client: FlaskClient, name: str) -> str:
    response = submit(client, TOKENS, {"name": name})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "it will not be shown again" in html
    match = NEW_TOKEN.search(html)
    assert match, "the new token is not on the page"
    return match.group(1)


def token_row(session: Session, name: str) -> ApiToken:
    session.expire_all()
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    assert row is not None
    return row


def test_a_new_token_is_shown_once_and_stored_only_as_a_digest(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    plain = create(staff, "Moodle site")
    row = token_row(session, "Moodle site")
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in {row.name, row.prefix, row.token_hash}
    assert plain.startswith(row.prefix)
    assert plain not in repr(snapshot(session))
    with staff.session_transaction() as sess:
        assert plain not in repr(dict(sess))  # not flashed into the cookie either
    listing = page(staff, TOKENS)
    assert plain not in listing
    assert "Moodle site" in listing and f"{row.prefix}…" in listing
    found = authenticate(session, ctx, plain)
    assert found is not None and found.issuer.slug == "guild"


def test_revoking_a_token_stops_it_working(staff: FlaskClient, session: Session,
                                           ctx: ServiceContext) -> None:
    plain = create(staff, "To revoke")
    row = token_row(session, "To revoke")
    assert authenticate(session, ctx, plain) is not None
    session.rollback()
    response = submit(staff, TOKENS, {}, action=f"{TOKENS}/{row.id}/revoke")
    assert response.status_code == 302
    assert location_path(response) == TOKENS
    assert token_row(session, "To revoke").revoked_at is not None
    assert authenticate(session, ctx, plain) is None
    html = page(staff, TOKENS)
    assert "The token is revoked" in html
    assert "Revoked " in html


def test_a_token_of_another_issuer_cannot_be_revoked_through_ones_own(
    staff: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    theirs = authenticate(session, ctx, world.other_token)
    assert theirs is not None
    session.rollback()
    before = snapshot(session)
    response = submit(staff, TOKENS, {}, action=f"{TOKENS}/{theirs.id}/revoke")
    assert response.status_code == 404
    assert snapshot(session) == before
    assert authenticate(session, ctx, world.other_token) is not None


def test_a_too_long_token_name_is_refused(staff: FlaskClient, session: Session) -> None:
    before = snapshot(session)
    response = submit(staff, TOKENS, {"name": "n" * 201})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-name-error"' in html and "too long" in html
    assert NEW_TOKEN.search(html) is None
    assert snapshot(session) == before


def test_token_names_are_escaped(staff: FlaskClient) -> None:
    create(staff, "<b onmouseover=alert(1)>LMS</b>")
    html = page(staff, TOKENS)
    assert "&lt;b onmouseover=alert(1)&gt;LMS&lt;/b&gt;" in html
    assert "<b onmouseover" not in html


def test_the_token_page_offers_a_copy_button_the_docs_and_a_status_column(
        staff: FlaskClient, session: Session) -> None:
    response = submit(staff, TOKENS, {"name": "Kept"})
    html = response.get_data(as_text=True)
    # The button copies the read-only field; the script that makes it work is the site's own.
    assert '<button type="button" class="secondary" data-copy="new-token" hidden>Copy</button>' \
        in html
    assert '<script src="/static/copy.js" defer></script>' in html
    assert 'href="/api/docs"' in html and 'href="/openapi.yaml"' in html
    with staff.get("/static/copy.js") as script:
        assert script.status_code == 200

    create(staff, "Gone")
    row = token_row(session, "Gone")
    session.rollback()
    submit(staff, TOKENS, {}, action=f"{TOKENS}/{row.id}/revoke")
    listing = page(staff, TOKENS)
    header = re.search(r"<thead>(.*?)</thead>", listing, re.S)
    assert header is not None
    assert re.findall(r"<th scope=\"col\">(.*?)</th>", header.group(1))[4] == "Status"
    rows = {re.sub(r"<[^>]+>", "", cells[0]).strip(): cells
            for cells in (re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
                          for tr in re.findall(r"<tr>(.*?)</tr>", listing, re.S)) if cells}
    # The Status cell says the status; the revoke form is in the next cell, only when active.
    assert re.sub(r"<[^>]+>|\s+", " ", rows["Kept"][4]).strip() == "Active"
    assert "Revoke" in rows["Kept"][5] and "revoke_token" not in rows["Kept"][4]
    assert re.sub(r"<[^>]+>|\s+", " ", rows["Gone"][4]).strip().startswith("Revoked 20")
    assert "Revoke" not in rows["Gone"][5]
