"""Learner sessions live on the server: signing out ends them for every copy of the cookie,
and they end by themselves when idle or old. Real sign-in by mailed link, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.config import ConfigError, Settings
from issuer.storage.learner_sessions import LearnerSession
from issuer.web.context import runtime
from tests.conftest import World
from tests.services.test_mail import SmtpSink, smtp_server  # noqa: F401
from tests.web.admin.test_pages import csrf_token, location_path, page, sign_in
from tests.web.learner.test_auth import ask_for_link, mailed_link, settings, use_link  # noqa: F401

HOME = "/learn/"


def signed_in(client: FlaskClient, sink: SmtpSink, email: str = "ada@example.org") -> None:
    ask_for_link(client, email)
    assert use_link(client, mailed_link(sink, email)).status_code == 302
    assert client.get(HOME).status_code == 200


def refused(client: FlaskClient) -> bool:
    answer = client.get(HOME)
    return answer.status_code == 302 and location_path(answer) == "/learn/sign-in"


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie, as someone who copied it would."""
    cookie = client.get_cookie("issuer_session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("issuer_session", cookie.value, domain=cookie.domain)
    return thief


def only_session(session: Session) -> LearnerSession:
    session.expire_all()
    row = session.scalars(select(LearnerSession)).one()
    return row


def age(session: Session, row: LearnerSession, *, created: timedelta,
        seen: timedelta) -> None:
    """Move the session's sign-in ``created`` and its last use ``seen`` into the past."""
    session.execute(update(LearnerSession).where(LearnerSession.id == row.id)
                    .values(created_at=row.created_at - created,
                            last_seen_at=row.last_seen_at - seen)
                    .execution_options(synchronize_session=False))
    session.commit()


def test_a_cookie_copied_before_sign_out_is_refused_after_it(
        app: Flask, client: FlaskClient, session: Session,
        smtp_server: SmtpSink) -> None:  # noqa: F811
    signed_in(client, smtp_server)
    thief = copy_of(app, client)
    assert thief.get(HOME).status_code == 200  # the copy works while the session lives

    signed_out = client.post("/learn/sign-out", data={"csrf_token": csrf_token(page(client, HOME))})
    assert location_path(signed_out) == "/learn/sign-in"
    assert refused(client)
    assert refused(thief)
    assert only_session(session).ended_at is not None

    signed_in(client, smtp_server)  # signing in again starts a new session; the copy stays out
    assert refused(thief)


def test_an_idle_session_ends_on_the_server(
        app: Flask, client: FlaskClient, session: Session,
        smtp_server: SmtpSink) -> None:  # noqa: F811
    signed_in(client, smtp_server)
    row = only_session(session)
    idle = timedelta(minutes=runtime(app).services.settings.learner_session_idle_minutes)
    age(session, row, created=idle + timedelta(minutes=1), seen=idle + timedelta(minutes=1))
    assert refused(client)
    assert only_session(session).ended_at is not None
    age(session, row, created=-idle * 2, seen=-idle * 2)
    assert refused(client)  # ended for good, however the clock looks now


def test_use_keeps_a_session_alive_until_its_absolute_limit(
        app: Flask, client: FlaskClient, session: Session,
        smtp_server: SmtpSink) -> None:  # noqa: F811
    limits = runtime(app).services.settings
    signed_in(client, smtp_server)
    row = only_session(session)
    idle = timedelta(minutes=limits.learner_session_idle_minutes)
    age(session, row, created=timedelta(hours=2), seen=idle - timedelta(minutes=5))
    assert client.get(HOME).status_code == 200  # used within the idle limit: still on
    touched = only_session(session)
    assert touched.last_seen_at > row.last_seen_at - timedelta(minutes=1)  # written now
    age(session, touched, created=timedelta(hours=limits.learner_session_max_hours),
        seen=timedelta())
    assert refused(client)  # busy or not, it ends the set hours after sign-in


def test_a_cookie_naming_no_stored_session_signs_no_one_in(
        client: FlaskClient, session: Session, smtp_server: SmtpSink) -> None:  # noqa: F811
    signed_in(client, smtp_server)
    learner_id = only_session(session).learner_id
    with client.session_transaction() as cookie:
        cookie["learner_session"] = "made-up"
    assert refused(client)
    with client.session_transaction() as cookie:
        # What a cookie of the earlier, cookie-only sessions held: a learner id alone.
        cookie.pop("learner_session", None)
        cookie["learner_id"] = learner_id
    assert refused(client)


@pytest.mark.parametrize("name", ["ISSUER_LEARNER_SESSION_IDLE_MINUTES",
                                  "ISSUER_LEARNER_SESSION_MAX_HOURS"])
def test_the_limits_are_whole_numbers_above_zero(name: str) -> None:
    field = name.removeprefix("ISSUER_").lower()
    assert getattr(Settings.from_env({name: "7"}, only=[field]), field) == 7
    with pytest.raises(ConfigError):
        Settings.from_env({name: "0"}, only=[field])


def test_a_staff_sign_in_and_out_in_the_same_browser_leave_the_learner_session_alone(
        app: Flask, client: FlaskClient, session: Session, world: World,
        smtp_server: SmtpSink) -> None:  # noqa: F811
    signed_in(client, smtp_server)
    assert sign_in(client, world.staff_email).status_code == 302
    assert client.get(HOME).status_code == 200  # still the learner, beside the staff member
    thief = copy_of(app, client)
    assert client.post("/admin/logout",
                       data={"csrf_token": csrf_token(page(client, "/admin/"))}
                       ).status_code == 302
    assert client.get(HOME).status_code == 200  # staff sign-out is not the learner's

    client.post("/learn/sign-out", data={"csrf_token": csrf_token(page(client, HOME))})
    assert refused(client)
    assert refused(thief)  # the copy, taken after the staff sign-in, ended with the session
    assert only_session(session).ended_at is not None
