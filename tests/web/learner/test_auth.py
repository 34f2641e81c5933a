"""Learner sign-in by one-time email link, through real HTTP and a real SMTP server.

Every test here runs with SMTP pointing at an aiosmtpd server on loopback, so the link a test
follows is the one that arrived by mail.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.app import runtime
from issuer.config import Settings
from issuer.services.learners import (
    RATE_LIMIT,
    SignInLinkError,
    complete_sign_in,
    request_sign_in,
)
from issuer.storage.learning import AuditEvent, Learner, MailMessage, SignInToken
from tests.conftest import World
from tests.services.test_mail import SmtpSink, body_of, smtp_server, with_smtp  # noqa: F401
from tests.web.admin.test_pages import csrf_token, location_path, page, snapshot
from tests.web.admin.test_pages import sign_in as staff_sign_in

LINK = re.compile(r"http://badges\.test(/learn/sign-in/[A-Za-z0-9_-]+)")


@pytest.fixture()
def settings(settings: Settings, smtp_server: SmtpSink) -> Settings:  # noqa: F811
    return with_smtp(settings, smtp_server)


class Clock:
    """The service clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture()
def clock(app: Flask) -> Clock:
    source = Clock()
    rt = runtime(app)
    rt.services = replace(rt.services, clock=source)
    return source


# --- helpers ------------------------------------------------------------------------------------


def ask_for_link(client: FlaskClient, email: str, next_url: str | None = None,
                 **headers: str) -> TestResponse:
    form_url = "/learn/sign-in" + (f"?next={quote(next_url)}" if next_url else "")
    form = client.get(form_url, headers=headers)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    hidden = re.search(r'name="next" value="([^"]*)"', html)
    assert hidden is not None
    response = client.post("/learn/sign-in", headers=headers, data={
        "email": email, "next": hidden.group(1), "csrf_token": csrf_token(html)})
    if response.status_code != 303:
        return response
    # Post/Redirect/Get: the page that says the link is sent is a GET of its own.
    return client.get(response.headers["Location"], headers=headers)


def mailed_link(sink: SmtpSink, email: str) -> str:
    """The path of the sign-in link in the newest mail to ``email``."""
    messages = sink.to(email)
    assert messages, f"no mail to {email}"
    found = LINK.search(body_of(messages[-1]))
    assert found, body_of(messages[-1])
    return found.group(1)


def use_link(client: FlaskClient, path: str) -> TestResponse:
    """What a person does: open the link, then press the button on the page."""
    confirm = client.get(path)
    assert confirm.status_code == 200, confirm.status_code
    return client.post(path, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))})


def signed_in_learner(client: FlaskClient) -> Any:
    with client.session_transaction() as flask_session:
        return flask_session.get("learner_id")


def count(session: Session, model: Any) -> int:
    result = session.scalar(select(func.count()).select_from(model)) or 0
    session.rollback()
    return result


def learner_by_email(session: Session, email: str) -> Learner | None:
    row = session.scalars(select(Learner).where(Learner.email == email)).one_or_none()
    session.rollback()
    return row


# --- the whole way, by mail ---------------------------------------------------------------------


def test_asking_for_a_link_redirects_and_a_reload_sends_no_other(
        client: FlaskClient, session: Session, smtp_server: SmtpSink) -> None:  # noqa: F811
    form = client.get("/learn/sign-in").get_data(as_text=True)
    asked = client.post("/learn/sign-in", data={"email": "ada@example.org", "next": "",
                                                "csrf_token": csrf_token(form)})
    assert asked.status_code == 303
    for _ in range(2):
        page = client.get(asked.headers["Location"])
        assert page.status_code == 200 and "Check your email" in page.get_data(as_text=True)
    assert len(smtp_server.to("ada@example.org")) == 1
    # Without a request behind it, the address is the form again.
    assert "Check your email" not in client.application.test_client().get(
        asked.headers["Location"]).get_data(as_text=True)


def test_mailed_link_signs_in_and_creates_the_account(
        client: FlaskClient, session: Session, smtp_server: SmtpSink) -> None:  # noqa: F811
    response = ask_for_link(client, "  Ada@Example.org ")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Check your email" in html and "ada@example.org" in html.lower()
    assert learner_by_email(session, "ada@example.org") is None  # only after signing in

    [message] = smtp_server.to("ada@example.org")
    assert message["Subject"] == "Your sign-in link"
    path = mailed_link(smtp_server, "ada@example.org")
    token = path.rsplit("/", 1)[1]
    row = session.scalars(select(SignInToken)).one()
    session.rollback()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = snapshot(session)
    del stored["mail_messages"]  # the mail carries the link; every other table only its digest
    assert token not in repr(stored)
    assert row.expires_at - row.created_at == timedelta(minutes=15)

    # A mail scanner opens the link (twice): nothing is spent, nobody is signed in.
    for _ in range(2):
        confirm = client.get(path)
        assert confirm.status_code == 200
        assert "Sign in as ada@example.org" in confirm.get_data(as_text=True)
        assert confirm.headers["Cache-Control"] == "no-store"
        assert confirm.headers["Referrer-Policy"] == "no-referrer"
    row = session.scalars(select(SignInToken)).one()
    assert row.used_at is None and signed_in_learner(client) is None
    session.rollback()

    done = use_link(client, path)
    assert done.status_code == 302 and location_path(done) == "/learn/"
    learner = learner_by_email(session, "ada@example.org")
    assert learner is not None
    assert signed_in_learner(client) == learner.id
    assert learner.display_name is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", learner.profile_handle)
    assert re.fullmatch(r"[0-9a-f]{64}", learner.pairwise_secret)
    assert learner.last_sign_in_at is not None
    actions = set(session.scalars(select(AuditEvent.action)))
    session.rollback()
    assert {"learner.created", "learner.signed_in"} <= actions
    # Signed in: the sign-in page sends the learner on to their home.
    assert location_path(client.get("/learn/sign-in")) == "/learn/"


def test_second_sign_in_reuses_the_account(client: FlaskClient, session: Session,
                                           smtp_server: SmtpSink) -> None:  # noqa: F811
    for _ in range(2):
        fresh = client.application.test_client()
        ask_for_link(fresh, "ada@example.org")
        assert use_link(fresh, mailed_link(smtp_server, "ada@example.org")).status_code == 302
    assert count(session, Learner) == 1


def test_the_link_is_built_from_the_configured_address_not_the_host_header(
        client: FlaskClient, smtp_server: SmtpSink) -> None:  # noqa: F811
    assert ask_for_link(client, "ada@example.org", Host="evil.example").status_code == 200
    body = body_of(smtp_server.to("ada@example.org")[-1])
    assert "evil.example" not in body and "http://badges.test/learn/sign-in/" in body


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient,
                                               smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org", next_url="/learn/claims/new?issuer=guild")
    done = use_link(client, mailed_link(smtp_server, "ada@example.org"))
    assert done.headers["Location"].endswith("/learn/claims/new?issuer=guild")


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
])
def test_sign_in_never_redirects_off_site(client: FlaskClient, smtp_server: SmtpSink,  # noqa: F811
                                          target: str) -> None:
    ask_for_link(client, "ada@example.org", next_url=target)
    done = use_link(client, mailed_link(smtp_server, "ada@example.org"))
    assert "evil" not in done.headers["Location"] and "javascript" not in done.headers["Location"]
    assert location_path(done) == "/learn/"


# --- links that must not work -------------------------------------------------------------------


def test_a_replayed_link_fails_and_signs_nobody_in(app: Flask, client: FlaskClient,
                                                   session: Session,
                                                   smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org")
    path = mailed_link(smtp_server, "ada@example.org")
    assert use_link(client, path).status_code == 302

    other = app.test_client()
    before = snapshot(session)
    opened = other.get(path)
    assert opened.status_code == 410
    assert "already used" in opened.get_data(as_text=True)
    assert 'href="/learn/sign-in"' in opened.get_data(as_text=True)  # ask for a new one
    replay = other.post(path, data={"csrf_token": csrf_token(page(other, "/learn/sign-in"))})
    assert replay.status_code == 410
    assert "already used" in replay.get_data(as_text=True)
    assert signed_in_learner(other) is None
    assert snapshot(session) == before


def test_an_expired_link_fails_and_changes_nothing(app: Flask, clock: Clock,
                                                   client: FlaskClient, session: Session,
                                                   smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org")
    path = mailed_link(smtp_server, "ada@example.org")
    clock.advance(minutes=14)
    assert client.get(path).status_code == 200  # still good just before the end
    clock.advance(minutes=1, seconds=1)
    before = snapshot(session)
    opened = client.get(path)
    assert opened.status_code == 410 and "expired" in opened.get_data(as_text=True)
    late = client.post(path, data={"csrf_token": csrf_token(page(client, "/learn/sign-in"))})
    assert late.status_code == 410 and "expired" in late.get_data(as_text=True)
    assert signed_in_learner(client) is None
    assert snapshot(session) == before


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 300])
def test_an_unknown_link_gets_a_friendly_page(client: FlaskClient, token: str) -> None:
    opened = client.get(f"/learn/sign-in/{token}")
    assert opened.status_code == 400
    html = opened.get_data(as_text=True)
    assert "not valid" in html and "Get a new sign-in link" in html
    posted = client.post(f"/learn/sign-in/{token}",
                         data={"csrf_token": csrf_token(page(client, "/learn/sign-in"))})
    assert posted.status_code == 400 and signed_in_learner(client) is None


def test_the_button_needs_the_csrf_token(client: FlaskClient, session: Session,
                                         smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org")
    path = mailed_link(smtp_server, "ada@example.org")
    assert client.post(path).status_code == 400
    assert signed_in_learner(client) is None
    assert use_link(client, path).status_code == 302  # the link was not spent


def test_two_requests_racing_with_one_link_sign_in_once(app: Flask, session: Session) -> None:
    ctx = runtime(app).services
    token = request_sign_in(session, ctx, email="ada@example.org")
    session.commit()
    first = runtime(app).sessions()
    second = runtime(app).sessions()
    outcome: list[object] = []

    def race() -> None:
        try:
            outcome.append(complete_sign_in(second, ctx, token))
            second.commit()
        except SignInLinkError as exc:
            outcome.append(exc)
            second.rollback()

    try:
        complete_sign_in(first, ctx, token)  # holds the row until it commits
        runner = threading.Thread(target=race)
        runner.start()
        time.sleep(0.3)  # let the second request reach the same UPDATE
        first.commit()
        runner.join(timeout=30)
    finally:
        first.close()
        second.close()
    assert len(outcome) == 1
    assert isinstance(outcome[0], SignInLinkError), outcome
    assert outcome[0].reason == "used"
    assert count(session, Learner) == 1


# --- asking for links ---------------------------------------------------------------------------


def test_the_same_answer_for_known_and_unknown_addresses(
        client: FlaskClient, session: Session, smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "known@example.org")
    use_link(client, mailed_link(smtp_server, "known@example.org"))
    assert learner_by_email(session, "known@example.org") is not None

    answers = []
    for email in ("known@example.org", "nobody@example.org"):
        response = ask_for_link(client.application.test_client(), email)
        answers.append((response.status_code, sorted(response.headers.keys()),
                        response.get_data(as_text=True).replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    # Both get a link by mail; the unknown address gets an account only by using it.
    assert len(smtp_server.to("nobody@example.org")) == 1
    assert learner_by_email(session, "nobody@example.org") is None


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "a b@example.org",
                                   "a@example.org\nBcc: x@example.org", "x" * 320 + "@e.org"])
def test_a_bad_address_is_refused_with_a_clear_message(
        client: FlaskClient, session: Session, smtp_server: SmtpSink,  # noqa: F811
        email: str) -> None:
    response = ask_for_link(client, email)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html or "Enter an email address like" in html
    assert 'aria-invalid="true"' in html
    assert count(session, SignInToken) == 0 and count(session, MailMessage) == 0
    assert smtp_server.messages == []


def test_links_per_address_are_rate_limited(app: Flask, clock: Clock, client: FlaskClient,
                                            session: Session,
                                            smtp_server: SmtpSink) -> None:  # noqa: F811
    for _ in range(RATE_LIMIT):
        assert ask_for_link(client, "ada@example.org").status_code == 200
        clock.advance(minutes=1)
    refused = ask_for_link(client, "ADA@example.org")
    assert refused.status_code == 429
    assert "Too many sign-in links" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    assert len(smtp_server.to("ada@example.org")) == RATE_LIMIT
    assert count(session, SignInToken) == RATE_LIMIT
    # Another address is not affected.
    assert ask_for_link(client, "grace@example.org").status_code == 200
    # The window moves on: once the first link is older than 15 minutes, one more is allowed.
    clock.advance(minutes=10)
    assert ask_for_link(client, "ada@example.org").status_code == 200
    assert ask_for_link(client, "ada@example.org").status_code == 429
    assert len(smtp_server.to("ada@example.org")) == RATE_LIMIT + 1


# --- sessions -----------------------------------------------------------------------------------


def test_signing_in_starts_a_fresh_session(client: FlaskClient,
                                           smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org")
    path = mailed_link(smtp_server, "ada@example.org")
    confirm_html = page(client, path)
    with client.session_transaction() as flask_session:
        flask_session["planted"] = "by an attacker"
        csrf_before = flask_session.get("csrf_token")
    cookie_before = client.get_cookie("issuer_session")
    assert cookie_before is not None and csrf_before
    client.post(path, data={"csrf_token": csrf_token(confirm_html)})
    with client.session_transaction() as flask_session:
        assert "planted" not in flask_session
        assert flask_session.get("csrf_token") != csrf_before
        assert isinstance(flask_session.get("learner_id"), int)
    cookie_after = client.get_cookie("issuer_session")
    assert cookie_after is not None and cookie_after.value != cookie_before.value


def test_learner_and_staff_sessions_are_independent(
        app: Flask, client: FlaskClient, world: World,
        smtp_server: SmtpSink) -> None:  # noqa: F811
    assert staff_sign_in(client, world.staff_email).status_code == 302
    # A staff member is not a learner…
    assert client.get("/learn/sign-in").status_code == 200
    # …and signing in as a learner keeps the staff sign-in.
    ask_for_link(client, "ada@example.org")
    assert use_link(client, mailed_link(smtp_server, "ada@example.org")).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert signed_in_learner(client) is not None

    signed_out = client.post("/learn/sign-out", data={
        "csrf_token": csrf_token(page(client, "/admin/"))})
    assert signed_out.status_code == 302
    assert location_path(signed_out) == "/learn/sign-in"
    assert "You are signed out" in page(client, "/learn/sign-in")  # a form, not a redirect
    assert signed_in_learner(client) is None
    assert client.get("/admin/").status_code == 200  # still staff

    # A learner alone gets no staff pages.
    learner_only = app.test_client()
    ask_for_link(learner_only, "grace@example.org")
    use_link(learner_only, mailed_link(smtp_server, "grace@example.org"))
    assert location_path(learner_only.get("/admin/")) == "/admin/login"


def test_sign_out_needs_a_post_with_csrf(client: FlaskClient,
                                         smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org")
    use_link(client, mailed_link(smtp_server, "ada@example.org"))
    assert client.get("/learn/sign-out").status_code == 405
    assert client.post("/learn/sign-out").status_code == 400
    assert signed_in_learner(client) is not None


def test_learner_pages_show_who_is_signed_in(client: FlaskClient,
                                             smtp_server: SmtpSink) -> None:  # noqa: F811
    ask_for_link(client, "ada@example.org")
    use_link(client, mailed_link(smtp_server, "ada@example.org"))
    html = client.get("/learn/sign-in/not-a-real-token").get_data(as_text=True)
    assert "Signed in as ada@example.org" in html
    for href in ('href="/learn/"', 'href="/learn/badges"', 'href="/learn/transcript"'):
        assert href in html
    assert 'action="/learn/sign-out"' in html
