"""Delivery of the outbox over real SMTP on loopback: each committed message once, failures
recorded, a batch over several connections, nothing sent without a server."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.config import Settings
from issuer.jobs.mail import MAX_CONNECT_FAILURES, BatchDelivery, deliver, deliver_pending
from issuer.services.context import ServiceContext
from issuer.services.mail import send_mail, take_queued
from issuer.storage.learning import MailMessage
from tests.services.test_mail import SmtpSink, body_of, free_port, with_smtp


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
    assert f"mail {message.id}: Your sign-in link" in caplog.text
    assert "secret-token-in-the-body" not in caplog.text
    assert "a@example.org" not in caplog.text
    session.refresh(message)
    assert message.sent_at is None and message.error is None


