"""Staff sign-in, sign-out and the dashboard, through real HTTP with CSRF protection on.

The helpers at the top are shared by the other ``test_admin_*`` modules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import create_issuer, get_issuer
from issuer.services.users import authenticate, create_user, grant
from issuer.storage.models import Base, Credential
from tests.conftest import PASSWORD, World

# --- helpers shared by the admin tests ------------------------------------------------------


class _CsrfFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token" and found.get("value"):
            self.tokens.append(str(found["value"]))


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on the page."""
    finder = _CsrfFinder()
    finder.feed(html)
    assert finder.tokens, "the page has no form with a csrf_token"
    return finder.tokens[0]


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def submit(client: FlaskClient, form_url: str, data: Mapping[str, Any],
           action: str | None = None) -> TestResponse:
    """Open the form page like a browser, take its CSRF token and post the form."""
    token = csrf_token(page(client, form_url))
    return client.post(action or form_url, data={**data, "csrf_token": token})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD,
            next_url: str | None = None) -> TestResponse:
    login = "/admin/login" + (f"?next={quote(next_url)}" if next_url is not None else "")
    return submit(client, login, {"email": email, "password": password,
                                  "next": next_url or ""}, action="/admin/login")


def location_path(response: TestResponse) -> str:
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "badges.test", "localhost"), response.headers["Location"]
    return parts.path


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing."""
    session.expire_all()
    result = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(table)).all()
        result[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    session.rollback()
    return result


def credential_count(session: Session) -> int:
    count = session.scalar(select(func.count()).select_from(Credential))
    session.rollback()
    return count or 0


def award_to(session: Session, ctx: ServiceContext, slug: str, recipient: str,
             name: str | None = None) -> Credential:
    issuer = get_issuer(session, slug)
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse(recipient, name)), actor="test")
    session.commit()
    return row


def signed_in_as(client: FlaskClient, email: str) -> FlaskClient:
    assert sign_in(client, email).status_code == 302
    return client


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    """A browser signed in as a staff member of "guild"."""
    return signed_in_as(client, world.staff_email)


def signed_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


# --- sign-in --------------------------------------------------------------------------------


def test_sign_in_takes_the_staff_member_to_their_dashboard(client: FlaskClient,
                                                           world: World) -> None:
    form = page(client, "/admin/login")
    assert 'type="password"' in form and 'name="csrf_token"' in form
    response = sign_in(client, world.staff_email)
    assert response.status_code == 302
    assert location_path(response) == "/admin/"
    dashboard = page(client, "/admin/")
    assert "Signed in as staff@guild.test" in dashboard
    assert "Guild Guild" in dashboard
    assert "Other Guild" not in dashboard


def test_sign_in_is_case_insensitive_for_the_email(client: FlaskClient, world: World) -> None:
    assert sign_in(client, "  Staff@Guild.TEST ").status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(("email", "password"), [
    ("staff@guild.test", "wrong password, surely"),
    ("nobody@guild.test", PASSWORD),
    ("", ""),
])
def test_failed_sign_in_shows_one_generic_message(client: FlaskClient, world: World,
                                                  email: str, password: str) -> None:
    response = sign_in(client, email, password)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "email or password is wrong" in html
    assert password not in html or not password
    if email:
        assert f'value="{email}"' in html  # the email is kept, the password is not
    assert not signed_in(client)


def test_sign_in_starts_a_fresh_session(client: FlaskClient, world: World) -> None:
    page(client, "/admin/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    assert sign_in(client, world.staff_email).status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert isinstance(sess.get("user_id"), int)


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient, world: World) -> None:
    first = client.get("/admin/issuers/guild/tokens")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert location_path(first) == "/admin/login"
    html = page(client, login_url)
    hidden = re.search(r'name="next" value="([^"]*)"', html)
    assert hidden and hidden.group(1).startswith("/admin/issuers/guild/tokens")
    response = submit(client, login_url, {"email": world.staff_email, "password": PASSWORD,
                                           "next": hidden.group(1)}, action="/admin/login")
    assert location_path(response) == "/admin/issuers/guild/tokens"


@pytest.mark.parametrize("target", [
    "//evil.example", "//evil.example/admin/", "https://evil.example/", "/\\evil.example",
    "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example",
])
def test_sign_in_never_redirects_off_site(client: FlaskClient, world: World,
                                          target: str) -> None:
    response = sign_in(client, world.staff_email, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location_path(response) == "/admin/"


def test_sign_out_needs_a_post_with_csrf(staff: FlaskClient) -> None:
    assert staff.get("/admin/logout").status_code == 405
    assert staff.post("/admin/logout").status_code == 400
    assert signed_in(staff)
    response = submit(staff, "/admin/", {}, action="/admin/logout")
    assert response.status_code == 302
    assert location_path(response) == "/admin/login"
    assert not signed_in(staff)
    assert "You are signed out" in page(staff, "/admin/login")


GET_PAGES = [
    "/admin/",
    "/admin/issuers/guild",
    "/admin/issuers/guild/achievements/new",
    "/admin/issuers/guild/achievements/peer-scaffolder/edit",
    "/admin/issuers/guild/award",
    "/admin/issuers/guild/credentials",
    "/admin/issuers/guild/credentials?q=ada&page=2",
    "/admin/issuers/guild/tokens",
]


@pytest.mark.parametrize("url", GET_PAGES)
def test_every_admin_page_sends_strangers_to_sign_in(client: FlaskClient, world: World,
                                                     url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert location_path(response) == "/admin/login"
    assert "next=" in response.headers["Location"]


@pytest.mark.parametrize("url", [
    "/admin/issuers/guild/achievements/new",
    "/admin/issuers/guild/achievements/peer-scaffolder/edit",
    "/admin/issuers/guild/award",
    "/admin/issuers/guild/tokens",
    "/admin/issuers/guild/tokens/1/revoke",
])
def test_writes_by_strangers_are_refused_and_change_nothing(
    client: FlaskClient, session: Session, world: World, url: str
) -> None:
    before = snapshot(session)
    token = csrf_token(page(client, "/admin/login"))
    response = client.post(url, data={"csrf_token": token, "name": "Hijacked",
                                      "description": "x", "criteria_narrative": "x",
                                      "achievement": "peer-scaffolder",
                                      "recipient": "x@example.org"})
    assert response.status_code == 302
    assert location_path(response) == "/admin/login"
    assert snapshot(session) == before


# --- dashboard ------------------------------------------------------------------------------


def _row_of(html: str, name: str) -> str:
    match = re.search(r"<tr>\s*<td><a [^>]*>" + re.escape(name) + r"</a></td>(.*?)</tr>",
                      html, re.S)
    assert match, f"no row for {name}"
    return match.group(1)


def test_dashboard_counts_badges_and_awards_per_issuer(
    staff: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    second = create_issuer(session, ctx, slug="second", name="Second <Guild> & Co")
    user = create_user(session, ctx, email="helper@guild.test", name="Helper",
                       password=PASSWORD)
    grant(session, user, second)
    staff_user = authenticate(session, ctx, world.staff_email, PASSWORD)
    assert staff_user is not None
    grant(session, staff_user, second)
    session.commit()
    award_to(session, ctx, "guild", "a@example.org")
    award_to(session, ctx, "guild", "b@example.org")
    award_to(session, ctx, "other", "c@example.org")
    html = page(staff, "/admin/")
    cells = re.findall(r"<td>(\d+)</td>", _row_of(html, "Guild Guild"))
    assert cells == ["1", "2"]
    escaped = "Second &lt;Guild&gt; &amp; Co"
    assert escaped in html and "<Guild>" not in html
    assert re.findall(r"<td>(\d+)</td>", _row_of(html, escaped)) == ["0", "0"]
    assert "Other Guild" not in html


def test_dashboard_explains_when_the_staff_member_has_no_issuer(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    create_user(session, ctx, email="new@guild.test", name="New", password=PASSWORD)
    session.commit()
    assert sign_in(client, "new@guild.test").status_code == 302
    html = page(client, "/admin/")
    assert "not a member of any issuer" in html


def test_issuer_page_links_every_task_and_shows_identity(staff: FlaskClient,
                                                         session: Session,
                                                         ctx: ServiceContext) -> None:
    row = award_to(session, ctx, "guild", "ada@example.org", "Ada Lovelace")
    html = page(staff, "/admin/issuers/guild")
    for link in ("/admin/issuers/guild/award", "/admin/issuers/guild/bulk",
                 "/admin/issuers/guild/credentials", "/admin/issuers/guild/tokens",
                 "/admin/issuers/guild/achievements/new",
                 "/admin/issuers/guild/achievements/peer-scaffolder/edit"):
        assert f'href="{link}' in html, link
    assert "http://badges.test/issuers/guild" in html
    assert "did:web:badges.test:issuers:guild" in html
    assert "Ada Lovelace" in html
    assert f"http://badges.test/credentials/{row.id}" in html


def test_unknown_issuer_is_not_found(staff: FlaskClient) -> None:
    response = staff.get("/admin/issuers/no-such-issuer")
    assert response.status_code == 404
    assert "text/html" in response.content_type


def test_the_home_page_sends_each_kind_of_visitor_where_they_belong(client: FlaskClient) -> None:
    html = page(client, "/")
    # Employers verify, learners claim and see their badges, staff sign in.
    assert 'href="/verify"' in html
    assert 'href="/learn/"' in html and "Claim a badge or see your badges" in html
    assert 'href="/admin/"' in html and "Staff sign-in" in html
    assert 'href="/api/docs"' in html
    # The learners' link leads to their sign-in, not to the staff one.
    learn = client.get("/learn/")
    assert learn.status_code == 302 and location_path(learn) == "/learn/sign-in"


def test_the_staff_sign_in_page_points_learners_to_their_pages(client: FlaskClient) -> None:
    html = page(client, "/admin/login")
    assert "Learners do not need an account" in html
    assert 'href="/learn/"' in html
