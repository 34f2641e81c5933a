"""Mail: texts, the outbox, delivery over real SMTP on loopback, and mail only after COMMIT.

``smtp_server`` runs an aiosmtpd server on 127.0.0.1; the sign-in tests import it too.
"""

from __future__ import annotations

import logging
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

from issuer.app import create_app, db, runtime, services
from issuer.config import ConfigError, Settings
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.mail import (
    MAX_CONNECT_FAILURES,
    BatchDelivery,
    deliver,
    deliver_pending,
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
    """The app with SMTP pointing at the loopback server, and three views for the commit
    tests (added before the first request, as Flask requires)."""
    app = create_app(with_smtp(settings, smtp_server), TESTING=True)
    add_mail_views(app)
    yield app
    empty_tables(app)


def add_mail_views(app: Flask) -> None:
    def queue(to: str) -> None:
        send_mail(db(), services(), to=to, subject=f"About {to}", body="Hello", kind="test")

    def rolled_back() -> Any:
        queue("rolled-back@example.org")
        raise Invalid("refused after the mail was queued")

    def committed() -> Any:
        queue("committed@example.org")
        db().commit()
        return "ok"

    def committed_then_failed() -> Any:
        queue("first@example.org")
        db().commit()
        queue("second@example.org")
        raise Invalid("refused after the first commit")

    app.add_url_rule("/test-mail/rolled-back", view_func=rolled_back)
    app.add_url_rule("/test-mail/committed", view_func=committed)
    app.add_url_rule("/test-mail/committed-then-failed", view_func=committed_then_failed)


def addresses(session: Session) -> list[str]:
    result = list(session.scalars(select(MailMessage.to_address).order_by(MailMessage.id)))
    session.rollback()
    return result


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


# --- delivery ---------------------------------------------------------------------------------


def test_delivery_over_smtp_sends_each_committed_message_once(
        settings: Settings, smtp_server: SmtpSink, app: Flask, session: Session,
        ctx: ServiceContext) -> None:
    smtp_ctx = replace(ctx, settings=with_smtp(settings, smtp_server))
    for n in (1, 2):
        send_mail(session, smtp_ctx, to=f"p{n}@example.org", subject=f"Number {n}",
                  body=f"Body {n}\nhttps://badges.test/x", kind="test")
    session.commit()

    report = deliver_pending(runtime(app).sessions, smtp_ctx)
    assert (report.sent, report.failed) == (2, 0)
    assert [m["To"] for m in smtp_server.messages] == ["p1@example.org", "p2@example.org"]
    first = smtp_server.messages[0]
    assert first["Subject"] == "Number 1"
    assert first["From"] == "Badges <badges@badges.test>"
    assert first["Message-ID"].endswith("@badges.test>")
    assert body_of(first) == "Body 1\nhttps://badges.test/x\n"
    assert smtp_server.envelopes[0] == ("badges@badges.test", ["p1@example.org"])
    rows = list(session.scalars(select(MailMessage)))
    assert all(row.sent_at is not None and row.error is None for row in rows)
    session.rollback()

    again = deliver_pending(runtime(app).sessions, smtp_ctx)
    assert again.sent == 0 and len(smtp_server.messages) == 2


def test_names_and_texts_in_any_script_arrive_intact(
        settings: Settings, smtp_server: SmtpSink, app: Flask, session: Session,
        ctx: ServiceContext) -> None:
    smtp_ctx = replace(ctx, settings=replace(with_smtp(settings, smtp_server),
                                             mail_from="Gilde der Übersetzer <b@badges.test>"))
    long_line = "Évaluation " + "x" * 1200
    subject = "Zoë, you have been awarded “Ąčęė 認定 Mentor” — well done " * 2
    send_mail(session, smtp_ctx, to="zoe@example.org", subject=subject,
              body=f"Liebe Zoë,\n{long_line}\nhttps://badges.test/c/1\n", kind="test")
    send_mail(session, smtp_ctx, to="plain@example.org", subject="Plain",
              body="x" * 1500 + "\n", kind="test")
    session.commit()

    assert deliver_pending(runtime(app).sessions, smtp_ctx).sent == 2
    first, second = smtp_server.messages
    assert first["Subject"] == subject.strip()
    assert first["From"].addresses[0].display_name == "Gilde der Übersetzer"
    assert first["From"].addresses[0].addr_spec == "b@badges.test"
    assert body_of(first) == f"Liebe Zoë,\n{long_line}\nhttps://badges.test/c/1\n"
    assert body_of(second) == "x" * 1500 + "\n"
    for received in (first, second):
        assert received["Auto-Submitted"] == "auto-generated"
        assert received["Date"].datetime is not None
        # RFC 5322 §2.1.1: no line of the message on the wire is longer than 998 characters.
        assert max(len(line) for line in received.as_string().splitlines()) <= 998
    assert smtp_server.envelopes[0] == ("b@badges.test", ["zoe@example.org"])


def test_a_batch_goes_out_over_several_connections_each_message_once(
        settings: Settings, smtp_server: SmtpSink, app: Flask, session: Session,
        ctx: ServiceContext) -> None:
    smtp_ctx = replace(ctx, settings=with_smtp(settings, smtp_server, smtp_connections=3))
    count = 2 * BatchDelivery.CHUNK + 17  # three chunks, the last one short
    for n in range(count):
        send_mail(session, smtp_ctx, to=f"p{n}@example.org", subject=f"Number {n}",
                  body=f"Body {n}\n", kind="test")
    session.flush()
    ids = [message.id for message in take_queued(session)]
    session.commit()

    mailer = BatchDelivery(runtime(app).sessions, smtp_ctx)
    mailer.submit(ids[:150])
    mailer.submit(ids[150:] + ids[:10])  # ten twice: still sent once
    report = mailer.close()
    assert (report.sent, report.failed) == (count, 0)
    received = sorted(str(m["To"]) for m in smtp_server.messages)
    assert received == sorted(f"p{n}@example.org" for n in range(count))
    for message in smtp_server.messages:
        assert body_of(message) == f"Body {str(message['Subject']).split()[-1]}\n"
    assert 1 < len(set(smtp_server.peers)) <= 3
    session.expire_all()
    assert all(row.sent_at is not None and row.error is None
               for row in session.scalars(select(MailMessage)))


def test_a_message_is_shown_as_sent_only_once_the_server_has_taken_it(
        settings: Settings, app: Flask, session: Session, ctx: ServiceContext) -> None:
    rt = runtime(app)
    seen: list[tuple[Any, Any]] = []

    class Watching(SmtpSink):
        async def handle_DATA(self, server: Any, smtp: Any, envelope: Any) -> str:
            # While the server holds the message, the outbox says it is being sent.
            with rt.sessions() as other:
                row = other.scalars(select(MailMessage).where(
                    MailMessage.to_address == envelope.rcpt_tos[0])).one()
                seen.append((row.sent_at, row.claimed_at))
            return await super().handle_DATA(server, smtp, envelope)

    sink = Watching(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        smtp_ctx = replace(ctx, settings=with_smtp(settings, sink))
        for n in range(3):
            send_mail(session, smtp_ctx, to=f"p{n}@example.org", subject="S", body="B",
                      kind="test")
        session.flush()
        queued = take_queued(session)
        session.commit()
        mailer = BatchDelivery(rt.sessions, smtp_ctx)
        mailer.submit([queued[0].id, queued[1].id])
        assert mailer.close().sent == 2
        assert deliver(rt.sessions, smtp_ctx, queued[2:]).sent == 1
    finally:
        controller.stop()
    assert len(seen) == 3
    assert all(sent_at is None and claimed_at is not None for sent_at, claimed_at in seen)
    session.expire_all()
    for row in session.scalars(select(MailMessage)):
        assert row.sent_at is not None and row.claimed_at is None and row.error is None


def test_with_the_server_down_a_batch_gives_up_after_a_few_tries_on_every_connection(
        settings: Settings, app: Flask, session: Session, ctx: ServiceContext) -> None:
    connections = 4
    down = replace(ctx, settings=replace(settings, smtp_host="127.0.0.1",
                                         smtp_port=free_port(),
                                         smtp_connections=connections))
    for n in range(40):
        send_mail(session, down, to=f"p{n}@example.org", subject="S", body="B", kind="test")
    session.flush()
    ids = [message.id for message in take_queued(session)]
    session.commit()
    mailer = BatchDelivery(runtime(app).sessions, down)
    mailer.submit(ids)
    report = mailer.close()
    assert (report.sent, report.failed) == (0, 40)
    session.expire_all()
    rows = list(session.scalars(select(MailMessage)))
    assert all(row.sent_at is None and row.claimed_at is None and row.error for row in rows)
    tried = [row for row in rows if "not tried" not in (row.error or "")]
    # Tries already under way on the other connections finish; nothing starts after that.
    assert MAX_CONNECT_FAILURES <= len(tried) <= MAX_CONNECT_FAILURES + connections - 1
    assert all("ConnectionRefusedError" in (row.error or "") for row in tried)


def test_a_failure_is_recorded_and_can_be_retried(
        settings: Settings, smtp_server: SmtpSink, app: Flask, session: Session,
        ctx: ServiceContext) -> None:
    closed = replace(ctx, settings=replace(settings, smtp_host="127.0.0.1",
                                           smtp_port=free_port()))
    message = send_mail(session, closed, to="a@example.org", subject="S", body="B", kind="test")
    session.commit()
    report = deliver_pending(runtime(app).sessions, closed)
    assert (report.sent, report.failed) == (0, 1)
    session.refresh(message)
    assert message.sent_at is None and message.error
    assert "Connection" in message.error or "refused" in message.error.lower()
    session.rollback()

    working = replace(ctx, settings=with_smtp(settings, smtp_server))
    assert deliver_pending(runtime(app).sessions, working).sent == 0  # failed: not by default
    assert deliver_pending(runtime(app).sessions, working, retry_failed=True).sent == 1
    session.refresh(message)
    assert message.sent_at is not None and message.error is None
    assert [m["To"] for m in smtp_server.messages] == ["a@example.org"]


def test_starttls_setting_is_honoured(settings: Settings, smtp_server: SmtpSink, app: Flask,
                                      session: Session, ctx: ServiceContext) -> None:
    # The loopback server offers no STARTTLS: a client that insists must not fall back to
    # sending in the clear.
    strict = replace(ctx, settings=with_smtp(settings, smtp_server, smtp_starttls=True))
    message = send_mail(session, strict, to="a@example.org", subject="S", body="B", kind="test")
    session.commit()
    assert deliver_pending(runtime(app).sessions, strict).failed == 1
    session.refresh(message)
    assert message.sent_at is None and "STARTTLS" in (message.error or "")
    assert smtp_server.messages == []


def test_without_smtp_mail_is_held_and_the_log_names_only_recipient_and_subject(
        app: Flask, session: Session, ctx: ServiceContext,
        caplog: pytest.LogCaptureFixture) -> None:
    assert ctx.settings.smtp_host is None
    message = send_mail(session, ctx, to="a@example.org", subject="Your sign-in link",
                        body="secret-token-in-the-body", kind="sign_in")
    session.commit()
    with caplog.at_level(logging.INFO, logger="issuer.mail"):
        report = deliver_pending(runtime(app).sessions, ctx, ids=[message.id])
    assert report.held == 1 and report.sent == 0
    assert "mail to a@example.org: Your sign-in link" in caplog.text
    assert "secret-token-in-the-body" not in caplog.text
    session.refresh(message)
    assert message.sent_at is None and message.error is None


# --- mail only after COMMIT, through real requests --------------------------------------------


def test_a_rolled_back_change_sends_no_mail(smtp_app: Flask, smtp_server: SmtpSink) -> None:
    client = smtp_app.test_client()
    response = client.get("/test-mail/rolled-back")
    assert response.status_code == 422
    assert smtp_server.messages == []
    with runtime(smtp_app).sessions() as check:
        assert addresses(check) == []


def test_a_committed_change_sends_its_mail_when_the_request_ends(
        smtp_app: Flask, smtp_server: SmtpSink) -> None:
    client = smtp_app.test_client()
    assert client.get("/test-mail/committed").status_code == 200
    assert [m["To"] for m in smtp_server.messages] == ["committed@example.org"]
    with runtime(smtp_app).sessions() as check:
        row = check.scalars(select(MailMessage)).one()
        assert row.sent_at is not None


def test_only_the_committed_part_of_a_request_sends_mail(
        smtp_app: Flask, smtp_server: SmtpSink) -> None:
    client = smtp_app.test_client()
    assert client.get("/test-mail/committed-then-failed").status_code == 422
    assert [m["To"] for m in smtp_server.messages] == ["first@example.org"]
    with runtime(smtp_app).sessions() as check:
        assert addresses(check) == ["first@example.org"]


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
