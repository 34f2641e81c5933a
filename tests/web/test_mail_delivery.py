"""Mail queued during a request goes out after the request's commit, and only what the commit
wrote (``issuer.web.mail_delivery``), over a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response
from sqlalchemy import select

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.services.errors import Invalid
from issuer.services.mail import send_mail
from issuer.storage.learning import MailMessage
from issuer.web.context import after_commit, attempt, db, services
from issuer.web.mail_delivery import deliver_committed_mail
from tests.services.test_mail import SmtpSink, empty_tables, smtp_server, with_smtp

__all__ = ["smtp_server"]  # a fixture, used by name


def queue(to: str) -> None:
    send_mail(db(), services(), to=to, subject=f"About {to}", body="Hello", kind="test")


def add_mail_views(app: Flask) -> None:
    def rolled_back() -> Any:
        queue("rolled-back@example.org")
        raise Invalid("refused after the mail was queued")

    def committed() -> Any:
        queue("committed@example.org")
        return "ok"

    def partly_undone() -> Any:
        queue("first@example.org")
        try:
            with attempt():
                queue("second@example.org")
                db().flush()  # written, with an id, then undone
                raise Invalid("refused after the second was queued")
        except Invalid:
            pass
        return "ok"

    def told() -> Any:
        queue("told@example.org")

        def answer(_answer: Response) -> Response:
            report = deliver_committed_mail()
            return Response(f"sent {report.sent}, {len(report.sent_at)} with a time")

        after_commit(answer)
        return "not yet"

    for name, view in [("rolled-back", rolled_back), ("committed", committed),
                       ("partly-undone", partly_undone), ("told", told)]:
        app.add_url_rule(f"/test-mail/{name}", endpoint=f"test_mail_{name}", view_func=view)


@pytest.fixture()
def smtp_app(settings: Settings, smtp_server: SmtpSink) -> Iterator[Flask]:
    app = create_app(with_smtp(settings, smtp_server), TESTING=True)
    add_mail_views(app)  # before the first request, as Flask requires
    yield app
    empty_tables(app)


def stored(app: Flask) -> list[tuple[str, bool]]:
    """Each stored message's address, and whether it is recorded as sent."""
    with runtime(app).sessions() as check:
        return [(m.to_address, m.sent_at is not None)
                for m in check.scalars(select(MailMessage).order_by(MailMessage.id))]


def test_a_rolled_back_change_sends_no_mail(smtp_app: Flask, smtp_server: SmtpSink) -> None:
    response = smtp_app.test_client().get("/test-mail/rolled-back")
    assert response.status_code == 422
    assert smtp_server.messages == []
    assert stored(smtp_app) == []


def test_a_committed_change_sends_its_mail_when_the_request_ends(
        smtp_app: Flask, smtp_server: SmtpSink) -> None:
    assert smtp_app.test_client().get("/test-mail/committed").status_code == 200
    assert [m["To"] for m in smtp_server.messages] == ["committed@example.org"]
    assert stored(smtp_app) == [("committed@example.org", True)]


def test_mail_of_an_undone_attempt_is_not_sent(smtp_app: Flask, smtp_server: SmtpSink) -> None:
    assert smtp_app.test_client().get("/test-mail/partly-undone").status_code == 200
    assert [m["To"] for m in smtp_server.messages] == ["first@example.org"]
    assert stored(smtp_app) == [("first@example.org", True)]


def test_work_after_the_commit_can_tell_what_became_of_the_mail(
        smtp_app: Flask, smtp_server: SmtpSink) -> None:
    response = smtp_app.test_client().get("/test-mail/told")
    assert response.get_data(as_text=True) == "sent 1, 1 with a time"
    # Delivered once, though both the view's callback and the request's own asked for it.
    assert [m["To"] for m in smtp_server.messages] == ["told@example.org"]
