"""Awarding one badge from the staff pages, the confirmation link, and the credentials list."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.achievements import create_achievement
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.verification import verify
from issuer.storage.models import Credential
from tests.conftest import World
from tests.web.admin.test_pages import (
    award_to,
    credential_count,
    location_path,
    page,
    signed_in_as,
    snapshot,
    submit,
)

AWARD = "/admin/issuers/guild/award"
LIST = "/admin/issuers/guild/credentials"


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def award_form(**changes: Any) -> dict[str, Any]:
    data = {
        "achievement": "peer-scaffolder", "recipient": "Ada@Example.org",
        "recipient_name": "Ada Lovelace", "valid_until": in_days(30),
        "evidence-0-url": "https://forum.example/t/42",
        "evidence-0-name": "Answer to a newcomer",
        "evidence-0-narrative": "Explained recursion with a worked example.",
        "evidence-2-name": "Code review",
        "narrative": "Consistently helped others learn.",
    }
    data.update(changes)
    return data


def test_award_form_lists_only_this_issuers_badges(staff: FlaskClient, session: Session,
                                                   ctx: ServiceContext) -> None:
    create_achievement(session, ctx, get_issuer(session, "other"), {
        "name": "Only Elsewhere", "description": "x", "criteria_narrative": "x"})
    session.commit()
    html = page(staff, AWARD + "?achievement=peer-scaffolder")
    assert '<option value="peer-scaffolder" selected>Peer Scaffolder</option>' in html
    assert "Only Elsewhere" not in html
    assert 'type="date"' in html and 'for="f-recipient"' in html
    assert "/admin/issuers/guild/bulk" in html


def test_award_one_badge_and_get_the_link_to_send(staff: FlaskClient, session: Session,
                                                  ctx: ServiceContext) -> None:
    expiry = in_days(30)
    response = submit(staff, AWARD, award_form(valid_until=expiry))
    assert response.status_code == 302, response.get_data(as_text=True)
    cid = location_path(response).rsplit("/", 1)[-1]
    assert location_path(response) == f"/admin/issuers/guild/credentials/{cid}"

    row = session.scalar(select(Credential).where(Credential.id == cid))
    assert row is not None
    assert row.created_by == "staff@guild.test"
    assert row.recipient_email == "ada@example.org"
    assert row.recipient_name == "Ada Lovelace"
    assert row.valid_until == datetime.fromisoformat(expiry).replace(
        hour=23, minute=59, second=59, tzinfo=UTC)
    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    document = json.loads(row.document)
    assert document["validUntil"] == f"{expiry}T23:59:59Z"
    assert document["credentialSubject"]["narrative"] == "Consistently helped others learn."
    evidence = document["evidence"]
    assert [e.get("id") for e in evidence] == ["https://forum.example/t/42", None]
    assert evidence[1]["name"] == "Code review"

    html = page(staff, response.headers["Location"])
    assert "Send this link to the recipient" in html
    assert f'value="http://badges.test/credentials/{cid}"' in html
    assert "“Peer Scaffolder” awarded to Ada Lovelace" in html


def test_award_to_a_did_without_expiry_or_evidence(staff: FlaskClient, session: Session,
                                                   ctx: ServiceContext) -> None:
    response = submit(staff, AWARD, {"achievement": "peer-scaffolder",
                                     "recipient": "did:example:learner-7"})
    assert response.status_code == 302
    row = session.scalar(select(Credential))
    assert row is not None and row.recipient_did == "did:example:learner-7"
    assert row.valid_until is None
    assert verify(session, ctx, row.document).valid


@pytest.mark.parametrize(("changes", "field"), [
    ({"recipient": "not an address"}, "recipient"),
    ({"recipient": ""}, "recipient"),
    ({"recipient": "did:bad"}, "recipient"),
    ({"recipient_name": "n" * 201}, "recipient_name"),
    ({"achievement": "no-such-badge"}, "achievement"),
    ({"achievement": ""}, "achievement"),
    ({"valid_until": "2001-01-01"}, "valid_until"),
    ({"valid_until": in_days(-1)}, "valid_until"),
    ({"valid_until": "next tuesday"}, "valid_until"),
    ({"evidence-1-url": "ftp://files.example/x"}, "evidence-1-url"),
    ({"evidence-0-url": "javascript:alert(1)"}, "evidence-0-url"),
    ({"narrative": "x" * 5001}, "narrative"),
])
def test_a_failed_award_writes_nothing_and_keeps_the_input(
    staff: FlaskClient, session: Session, changes: dict[str, str], field: str
) -> None:
    before = snapshot(session)
    response = submit(staff, AWARD, award_form(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="f-{field}-error"' in html
    assert "Please check the form" in html
    kept = award_form(**changes)
    if field != "recipient":
        assert 'value="Ada@Example.org"' in html
    if field != "evidence-0-url":
        assert f'value="{kept["evidence-0-url"]}"' in html
    assert credential_count(session) == 0
    assert snapshot(session) == before


def test_credentials_list_searches_by_name_email_and_did(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    ada = award_to(session, ctx, "guild", "ada@example.org", "Ada Lovelace")
    grace = award_to(session, ctx, "guild", "grace@navy.example", "Grace Hopper")
    did = award_to(session, ctx, "guild", "did:example:alan")
    elsewhere = award_to(session, ctx, "other", "ada@example.org", "Ada Elsewhere")

    everything = page(staff, LIST)
    for row in (ada, grace, did):
        assert f"/credentials/{row.id}" in everything
    assert elsewhere.id not in everything

    by_name = page(staff, LIST + "?q=lovelace")
    assert ada.id in by_name and grace.id not in by_name and did.id not in by_name
    by_email = page(staff, LIST + "?q=grace@navy")
    assert grace.id in by_email and ada.id not in by_email
    by_did = page(staff, LIST + "?q=did:example:alan")
    assert did.id in by_did and ada.id not in by_did
    nothing = page(staff, LIST + "?q=nobody-like-this")
    assert "No awarded badges match “nobody-like-this”" in nothing


def test_credentials_list_pages_by_fifty(staff: FlaskClient, session: Session,
                                         ctx: ServiceContext) -> None:
    ids = {award_to(session, ctx, "guild", f"p{i}@example.org").id for i in range(51)}
    first = page(staff, LIST)
    second = page(staff, LIST + "?page=2")
    on_first = {i for i in ids if i in first}
    on_second = {i for i in ids if i in second}
    assert len(on_first) == 50 and len(on_second) == 1
    assert on_first | on_second == ids
    assert 'rel="next"' in first and 'rel="next"' not in second
    assert 'rel="prev"' in second
    assert "There are no more results" in page(staff, LIST + "?page=3")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e3", "999999999999"])
def test_a_bad_page_number_is_a_clear_error(staff: FlaskClient, value: str) -> None:
    response = staff.get(f"{LIST}?page={value}")
    assert response.status_code == 400
    assert "page number" in response.get_data(as_text=True)


def test_user_entered_names_are_escaped_on_the_list_pages(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    name = "<script>alert('x')</script>"
    row = award_to(session, ctx, "guild", "evil@example.org", name)
    for url in (LIST, LIST + "?q=%3Cscript", "/admin/issuers/guild",
                f"/admin/issuers/guild/credentials/{row.id}"):
        html = page(staff, url)
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html, url
        assert "<script>alert" not in html, url
    searched = page(staff, LIST + "?q=%3Cb%3Ebold")
    assert "“&lt;b&gt;bold”" in searched and "<b>bold" not in searched


def test_a_credential_of_another_issuer_is_not_shown_here(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    theirs = award_to(session, ctx, "other", "x@example.org")
    assert staff.get(f"{LIST}/{theirs.id}").status_code == 404
    assert staff.get(f"{LIST}/not-a-uuid").status_code == 404


def test_the_confirmation_page_offers_the_public_link(staff: FlaskClient, session: Session,
                                                      ctx: ServiceContext) -> None:
    row = award_to(session, ctx, "guild", "ada@example.org", "Ada")
    html = page(staff, f"{LIST}/{row.id}")
    link = f"http://badges.test/credentials/{row.id}"
    assert re.search(r'<input[^>]*value="' + re.escape(link) + '"[^>]*readonly', html)
    assert f'href="{link}"' in html


def test_the_award_confirmation_tells_where_the_email_is_once(staff: FlaskClient) -> None:
    # No mail server in the test settings: the email waits in the outbox, and the page that
    # follows the award says so in its status line, not again in a flashed message.
    response = submit(staff, AWARD, award_form())
    assert response.status_code == 302
    html = page(staff, location_path(response))
    assert "awarded to Ada Lovelace" in html
    assert html.count("waits in the outbox") == 1
    # Asking to email it again while it waits changes nothing and says nothing twice either.
    again = submit(staff, location_path(response), {})
    assert again.status_code == 302
    assert page(staff, location_path(again)).count("waits in the outbox") == 1
