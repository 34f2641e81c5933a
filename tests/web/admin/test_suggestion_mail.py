"""The person suggested for a badge hears of it: who suggested what and on which counts, with
a link that signs them in to the claim — over real SMTP on loopback, after the commit."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.core.activity.measures import RULES_TEXT
from issuer.storage.learning import Claim, MailMessage
from issuer.storage.models import User
from tests.conftest import BASE_URL, World
from tests.services.test_mail import SmtpSink, body_of, smtp_server, with_smtp
from tests.web.admin.test_pages import csrf_token, page, signed_in_as, submit
from tests.web.admin.test_suggestions import (
    GUILD,
    HELPER,
    SUGGEST,
    THRESHOLDS,
    _rows,
    _upload,
    community_mbox,
)
from tests.web.learner.test_auth import ask_for_link, mailed_link, use_link

__all__ = ["smtp_server"]  # a fixture, used by name

CLAIM_LINK = re.compile(re.escape(BASE_URL) + r"(/learn/claims/[0-9a-f-]{36})")


@pytest.fixture()
def settings(settings: Settings, smtp_server: SmtpSink) -> Settings:
    return with_smtp(settings, smtp_server)


@pytest.fixture()
def staff(client: FlaskClient, world: World, session: Session) -> FlaskClient:
    user = session.scalars(select(User).where(User.email == world.staff_email)).one()
    user.name = "Grace Hopper"
    session.commit()
    return signed_in_as(client, world.staff_email)


def _suggest_helper(staff: FlaskClient) -> str:
    """Upload the community's export and suggest the one person who meets the thresholds;
    the results page."""
    assert submit(staff, f"{GUILD}/achievements/peer-scaffolder/policy",
                  {"min_people": "3", "min_communities": "2"},
                  action=THRESHOLDS).status_code == 303
    uploaded = _upload(staff, community_mbox())
    assert uploaded.status_code == 303
    results = uploaded.headers["Location"]
    number = _rows(html.unescape(page(staff, results)))[HELPER]
    done = staff.post(results, data={"csrf_token": csrf_token(page(staff, results)),
                                     "pick": number, f"email-{number}": HELPER})
    assert done.status_code == 200, done.get_data(as_text=True)
    return results


def test_the_person_suggested_is_told_who_suggested_what_and_why(
        staff: FlaskClient, client: FlaskClient, session: Session,
        smtp_server: SmtpSink) -> None:
    assert smtp_server.messages == []
    results = _suggest_helper(staff)

    (message,) = smtp_server.to(HELPER)
    assert message["Subject"] == 'Grace Hopper suggested you for the badge "Peer Scaffolder"'
    body = body_of(message)
    assert 'Grace Hopper of Guild Guild suggested you for the badge\n"Peer Scaffolder".' in body
    assert ("(Mailing list or Google Group: mbox),\nwhere you are helper@lists.example:"
            in body)
    # The counts the suggestion rests on, as the reviewer's page shows them.
    assert "- answers to other people: 4, to 4 different people" in body
    assert "- answers acknowledged by the person answered: 3" in body
    assert "- acknowledgements counted under the rules: 3, from 3 different people" in body
    assert "- communities: 2; months active: 2" in body
    assert RULES_TEXT in " ".join(body.split())  # the rules, wrapped for mail
    assert "Nothing is awarded yet" in body
    assert all(len(line) <= 100 for line in body.splitlines())
    # Counts only: the people helped are not named to the helper.
    for other in ("ann@", "cho@", "dev@", "eli@"):
        assert other not in body
    stored = session.scalars(select(MailMessage).where(
        MailMessage.kind == "claim_suggested")).one()
    assert stored.sent_at is not None and stored.to_address == HELPER

    # The link leads through sign-in (by this address, no password) to the claim itself.
    found = CLAIM_LINK.search(body)
    assert found, body
    claim = session.scalars(select(Claim)).one()
    assert found.group(1) == f"/learn/claims/{claim.public_id}"
    person = client.application.test_client()
    opened = person.get(found.group(1))
    assert opened.status_code == 302 and "/learn/sign-in" in opened.headers["Location"]
    ask_for_link(person, HELPER, next_url=found.group(1))
    signed_in = use_link(person, mailed_link(smtp_server, HELPER))
    assert signed_in.status_code in (302, 303)
    assert signed_in.headers["Location"].endswith(found.group(1))
    shown = html.unescape(person.get(found.group(1)).get_data(as_text=True))
    assert "Peer Scaffolder" in shown and "Help acknowledged in a community" in shown

    # The reviewer's history says what happened in words, not the action's name.
    trail = html.unescape(page(staff, f"{GUILD}/reviews/{claim.public_id}"))
    assert "Suggested from a community's export" in trail
    assert "claim.suggested" not in trail

    # A suggestion refused (the person has a claim already) mails nobody.
    token = csrf_token(page(staff, results))
    again = staff.post(results, data={"csrf_token": token,
                                      "pick": _rows(html.unescape(page(staff, results)))
                                      [HELPER]})
    assert again.status_code == 422
    assert session.scalar(select(func.count()).select_from(MailMessage).where(
        MailMessage.kind == "claim_suggested")) == 1
    assert len([m for m in smtp_server.to(HELPER)
                if "suggested you" in str(m["Subject"])]) == 1


def test_the_issuer_page_leads_to_suggesting_awards(staff: FlaskClient) -> None:
    text = html.unescape(page(staff, GUILD))
    assert f'href="{SUGGEST}">Suggest awards from a community\'s export</a>' in text
    assert "Suggest awards from a community's export" in html.unescape(page(staff, SUGGEST))
