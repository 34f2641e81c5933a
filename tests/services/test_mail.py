"""Mail: texts, queueing in the outbox, the outbox page, and the SMTP settings.

``smtp_server`` runs an aiosmtpd server on 127.0.0.1 that the delivery tests
(``tests/jobs/test_mail.py``), mail after a request's commit
(``tests/web/test_mail_delivery.py``) and the sign-in tests import.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import jinja2
import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.app import create_app, runtime
from issuer.config import ConfigError, Settings
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.mail import (
    message_values,
    queue_message,
    render_mail,
    send_mail,
    take_queued,
)
from issuer.storage.learning import MailMessage
from issuer.storage.models import Base

# --- a real SMTP server on loopback ----------------------------------------------------------


@dataclass
class SmtpSink:
    """What the loopback SMTP server received, as parsed messages."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    #: The client's address and port of each message: one port per connection.
    peers: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.peers.append(tuple(session.peer))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture()
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def with_smtp(settings: Settings, sink: SmtpSink, **more: Any) -> Settings:
    return replace(settings, smtp_host="127.0.0.1", smtp_port=sink.port,
                   mail_from="Badges <badges@badges.test>", **more)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # SMTP lines end in CRLF


def empty_tables(app: Flask) -> None:
    engine = runtime(app).engine
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture()
def smtp_app(settings: Settings, smtp_server: SmtpSink) -> Iterator[Flask]:
    """The app with SMTP pointing at the loopback server."""
    app = create_app(with_smtp(settings, smtp_server), TESTING=True)
    yield app
    empty_tables(app)


# --- mail texts -------------------------------------------------------------------------------


def test_sign_in_text_carries_the_link_and_how_long_it_works() -> None:
    subject, body = render_mail("sign_in", link="https://b.test/learn/sign-in/abc",
                                minutes=15, site="https://b.test")
    assert subject == "Your sign-in link"
    assert "https://b.test/learn/sign-in/abc" in body
    assert "15 minutes" in body
    assert "{{" not in body and "Subject" not in body


@pytest.mark.parametrize(("outcome", "words"), [
    ("approved", "was approved"), ("returned", "needs changes"), ("rejected", "was not approved"),
])
def test_claim_reviewed_text_follows_the_outcome(outcome: str, words: str) -> None:
    subject, body = render_mail("claim_reviewed", achievement_name="Peer Scaffolder",
                                issuer_name="Guild", outcome=outcome,
                                comment="Thanks for the detail.", link="https://b.test/c/1")
    assert subject == f'Your claim for "Peer Scaffolder" {words}'
    assert "Thanks for the detail." in body and "https://b.test/c/1" in body


def test_other_texts_render_with_their_optional_parts() -> None:
    subject, body = render_mail("attestation_requested", learner_name="Ada",
                                achievement_name="Peer Scaffolder", issuer_name="Guild",
                                link="https://b.test/attest/x", message="You asked me about SQL",
                                expires_on="1 May 2026")
    assert subject == "Ada asks you to confirm their learning"
    assert "You asked me about SQL" in body and "1 May 2026" in body
    _, short = render_mail("attestation_requested", learner_name="Ada",
                           achievement_name="Peer Scaffolder", issuer_name="Guild",
                           link="https://b.test/attest/x")
    assert "Their note" not in short and "works until" not in short
    subject, body = render_mail("badge_awarded", achievement_name="Peer Scaffolder",
                                issuer_name="Guild", credential_link="https://b.test/cred/1",
                                profile_link="https://b.test/learn/badges")
    assert subject == 'You earned the badge "Peer Scaffolder"'
    assert "https://b.test/cred/1" in body and "https://b.test/learn/badges" in body


def test_texts_are_plain_and_subjects_stay_on_one_line() -> None:
    subject, body = render_mail("badge_awarded", achievement_name="<b>Line\r\nBcc: x@evil</b>",
                                issuer_name="A & B", credential_link="https://b.test/c")
    assert "\n" not in subject and "\r" not in subject
    assert subject == 'You earned the badge "<b>Line Bcc: x@evil</b>"'
    assert "A & B" in body  # plain text: no HTML entities


def test_unknown_kind_or_missing_variable_is_an_error() -> None:
    with pytest.raises(LookupError):
        render_mail("no_such_mail")
    with pytest.raises(LookupError):
        render_mail("../base.html")
    with pytest.raises(jinja2.UndefinedError):
        render_mail("sign_in", minutes=15, site="https://b.test")


def test_send_mail_refuses_a_bad_address_and_flattens_the_subject(
        session: Session, ctx: ServiceContext) -> None:
    with pytest.raises(Invalid):
        send_mail(session, ctx, to="not an address", subject="Hi", body="x", kind="test")
    message = send_mail(session, ctx, to="a@example.org", subject="Hi\nBcc: b@example.org",
                        body="x", kind="test")
    assert message.subject == "Hi Bcc: b@example.org"


# --- messages written at once ----------------------------------------------------------------


def _queue(session: Session, ctx: ServiceContext, to: str, *, write_now: bool) -> MailMessage:
    return queue_message(session, message_values(ctx, to=to, subject="Your badge", body="b\n",
                                                 kind="test"), write_now=write_now)


def _stored(session: Session) -> list[str]:
    return sorted(session.scalars(select(MailMessage.to_address)))


def test_a_message_written_at_once_is_stored_and_delivered_after_the_commit(
        session: Session, ctx: ServiceContext) -> None:
    message = _queue(session, ctx, "ada@example.org", write_now=True)
    assert message.id is not None and message not in session
    later = _queue(session, ctx, "bob@example.org", write_now=False)
    session.commit()
    assert [(m.id, m.to) for m in take_queued(session)] == [
        (message.id, "ada@example.org"), (later.id, "bob@example.org")]
    assert _stored(session) == ["ada@example.org", "bob@example.org"]
    assert take_queued(session) == []


def test_a_message_written_at_once_goes_with_a_rolled_back_transaction(
        session: Session, ctx: ServiceContext) -> None:
    _queue(session, ctx, "ada@example.org", write_now=True)
    session.rollback()
    assert take_queued(session) == []
    assert _stored(session) == []
    # The session's next transaction queues afresh.
    _queue(session, ctx, "bob@example.org", write_now=True)
    session.commit()
    assert [m.to for m in take_queued(session)] == ["bob@example.org"]


def test_a_savepoint_keeps_or_undoes_what_was_queued_inside_it(
        session: Session, ctx: ServiceContext) -> None:
    before = _queue(session, ctx, "ada@example.org", write_now=True)
    with session.begin_nested() as savepoint:
        # Inside a SAVEPOINT the message joins the session, which follows its rollback.
        inside = _queue(session, ctx, "bob@example.org", write_now=True)
        assert inside in session
        session.flush()
        savepoint.rollback()
    with session.begin_nested():
        kept = _queue(session, ctx, "cy@example.org", write_now=True)
    session.commit()
    assert [m.id for m in take_queued(session)] == [before.id, kept.id]
    assert _stored(session) == ["ada@example.org", "cy@example.org"]


# --- the development outbox -------------------------------------------------------------------


def test_outbox_lists_the_latest_mail_with_links_and_escapes_everything(
        client: FlaskClient, session: Session, ctx: ServiceContext) -> None:
    send_mail(session, ctx, to="old@example.org", subject="Older", body="x", kind="test")
    send_mail(session, ctx, to="a@example.org", subject="<script>alert(1)</script>",
              body="Open https://badges.test/learn/sign-in/tok-1. Or <b>not</b>\n"
                   "javascript:alert(2)", kind="test")
    session.commit()
    response = client.get("/dev/outbox")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;not&lt;/b&gt;" in html
    assert ('<a href="https://badges.test/learn/sign-in/tok-1">'
            'https://badges.test/learn/sign-in/tok-1</a>.') in html
    assert 'href="javascript' not in html
    assert html.index("a@example.org") < html.index("old@example.org")  # newest first


def test_outbox_shows_at_most_fifty_messages(client: FlaskClient, session: Session,
                                            ctx: ServiceContext) -> None:
    for n in range(55):
        send_mail(session, ctx, to=f"p{n}@example.org", subject=f"Message {n}", body="x",
                  kind="test")
    session.commit()
    html = client.get("/dev/outbox").get_data(as_text=True)
    assert html.count('class="outbox-message"') == 50
    assert "p54@example.org" in html and "p4@example.org" not in html


def test_outbox_is_not_there_when_smtp_is_configured(smtp_app: Flask) -> None:
    response = smtp_app.test_client().get("/dev/outbox")
    assert response.status_code == 404


def test_outbox_is_not_there_on_an_https_site(settings: Settings) -> None:
    # Without SMTP but served over HTTPS it is a real site: the outbox would hand anyone
    # every learner's sign-in link.
    app = create_app(replace(settings, secure_cookies=True), TESTING=True)
    try:
        assert app.test_client().get("/dev/outbox").status_code == 404
    finally:
        empty_tables(app)


# --- settings ---------------------------------------------------------------------------------


def test_smtp_settings_come_from_the_environment(tmp_path: Any) -> None:
    settings = Settings.from_env({
        "ISSUER_SMTP_HOST": "mail.example.org", "ISSUER_SMTP_PORT": "587",
        "ISSUER_SMTP_USER": "badges", "ISSUER_SMTP_PASSWORD": "hunter2",
        "ISSUER_SMTP_STARTTLS": "true", "ISSUER_SECRET_KEY": "k",
        "ISSUER_INSTANCE_DIR": str(tmp_path), "ISSUER_SMTP_CONNECTIONS": "2",
    })
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user) == (
        "mail.example.org", 587, "badges")
    assert settings.smtp_connections == 2
    assert settings.smtp_starttls is True and settings.smtp_ssl is False
    assert settings.smtp_password == "hunter2" and "hunter2" not in repr(settings)


@pytest.mark.parametrize(("env", "words"), [
    ({"ISSUER_SMTP_SSL": "1", "ISSUER_SMTP_STARTTLS": "1"}, "not both"),
    ({"ISSUER_SMTP_USER": "badges"}, "go together"),
    ({"ISSUER_SMTP_PORT": "twenty-five"}, "whole number"),
    ({"ISSUER_SMTP_CONNECTIONS": "0"}, "from 1 to 16"),
    ({"ISSUER_SMTP_CONNECTIONS": "500"}, "from 1 to 16"),
    ({"ISSUER_SMTP_CONNECTIONS": "many"}, "whole number"),
])
def test_contradictory_smtp_settings_are_refused(env: dict[str, str], words: str,
                                                 tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match=words):
        Settings.from_env({**env, "ISSUER_SECRET_KEY": "k",
                           "ISSUER_INSTANCE_DIR": str(tmp_path)})
