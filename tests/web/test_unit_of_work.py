"""One transaction per request, ended by the edge (``issuer.web.context``): an answer below 400
commits, an error answer or an exception writes nothing, work after the commit runs only
once it succeeded, and an attempt (a SAVEPOINT) takes back only itself."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, flash, redirect
from flask.testing import FlaskClient
from sqlalchemy import select

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.services.errors import Invalid
from issuer.services.mail import send_mail
from issuer.storage.learning import MailMessage
from issuer.web.context import Undo, after_commit, attempt, db, services
from tests.services.test_mail import empty_tables


def write(to: str, *, flush: bool = True, credential_id: str | None = None) -> None:
    """A row in the request's transaction (a message in the outbox: no other row needed)."""
    send_mail(db(), services(), to=to, subject="S", body="B", kind="test",
              credential_id=credential_id)
    if flush:
        db().flush()


#: What the callbacks saw, in order.
SEEN: list[str] = []


def add_views(app: Flask) -> None:
    def kept() -> Any:
        write("kept@example.org")
        return "ok"

    def redirected() -> Any:
        write("redirected@example.org")
        return redirect("/elsewhere", 303)

    def refused() -> Any:
        write("refused@example.org")
        return "no", 422

    def raised() -> Any:
        write("raised@example.org")
        raise Invalid("refused after writing")

    def crashed() -> Any:
        write("crashed@example.org")
        raise RuntimeError("a bug")

    def callbacks() -> Any:
        write("callbacks@example.org")

        def first(answer: Response) -> None:
            # Committed: another session sees the row.
            with runtime().sessions() as other:
                stored = other.scalars(select(MailMessage.to_address)).all()
            SEEN.append(f"first saw {stored} after a {answer.status_code}")

        def failing(_answer: Response) -> None:
            raise RuntimeError("the callback broke")

        def replacing(answer: Response) -> Response:
            SEEN.append(f"replacing {answer.get_data(as_text=True)}")
            return Response("made after the commit", 201)

        after_commit(first)
        after_commit(failing)
        after_commit(replacing)
        return "made by the view"

    def callbacks_refused() -> Any:
        write("callbacks-refused@example.org")
        after_commit(lambda _answer: SEEN.append("ran"))
        return "no", 422

    def commit_fails() -> Any:
        flash("Saved.", "success")
        # Not flushed: the foreign key fails only when the edge commits.
        write("fails@example.org", flush=False, credential_id="no-such-credential")
        after_commit(lambda _answer: SEEN.append("ran"))
        return "ok"

    def attempted() -> Any:
        write("before@example.org")
        try:
            with attempt():
                write("attempt@example.org")
                raise Invalid("refused")
        except Invalid:
            pass
        # The session goes on after the undone attempt.
        write("after@example.org")
        return "ok"

    def undone() -> Any:
        with attempt():
            write("undone@example.org")
            raise Undo
        return "ok"  # attempt() swallows Undo: the view goes on

    for name, view in [("kept", kept), ("redirected", redirected), ("refused", refused),
                       ("raised", raised), ("crashed", crashed), ("callbacks", callbacks),
                       ("callbacks-refused", callbacks_refused),
                       ("commit-fails", commit_fails), ("attempted", attempted),
                       ("undone", undone)]:
        app.add_url_rule(f"/test-uow/{name}", endpoint=f"test_uow_{name}", view_func=view,
                         methods=["GET", "POST"])


@pytest.fixture()
def uow_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True, WTF_CSRF_ENABLED=False)
    add_views(app)
    SEEN.clear()
    yield app
    empty_tables(app)


@pytest.fixture()
def uow(uow_app: Flask) -> FlaskClient:
    return uow_app.test_client()


def stored(app: Flask) -> list[str]:
    with runtime(app).sessions() as check:
        return list(check.scalars(select(MailMessage.to_address).order_by(MailMessage.id)))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_success_commits_without_the_view_committing(uow_app: Flask, uow: FlaskClient,
                                                       method: str) -> None:
    assert uow.open("/test-uow/kept", method=method).status_code == 200
    assert stored(uow_app) == ["kept@example.org"]


def test_a_redirect_commits(uow_app: Flask, uow: FlaskClient) -> None:
    assert uow.post("/test-uow/redirected").status_code == 303
    assert stored(uow_app) == ["redirected@example.org"]


@pytest.mark.parametrize("name", ["refused", "raised", "crashed"])
def test_an_error_answer_writes_nothing_though_the_view_flushed(
        uow_app: Flask, uow: FlaskClient, name: str) -> None:
    assert uow.post(f"/test-uow/{name}").status_code >= 400
    assert stored(uow_app) == []


def test_work_after_the_commit_sees_it_stored_and_may_make_the_answer(
        uow_app: Flask, uow: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="issuer.web"):
        response = uow.post("/test-uow/callbacks")
    assert (response.status_code, response.get_data(as_text=True)) == (
        201, "made after the commit")
    # The answer a callback makes gets the headers every answer gets.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert SEEN == ["first saw ['callbacks@example.org'] after a 200",
                    "replacing made by the view"]
    # A callback that fails is logged and undoes nothing: the change is committed.
    assert "work after the commit of POST /test-uow/callbacks failed" in caplog.text
    assert stored(uow_app) == ["callbacks@example.org"]


def test_no_work_after_a_commit_that_did_not_happen(uow_app: Flask, uow: FlaskClient) -> None:
    assert uow.post("/test-uow/callbacks-refused").status_code == 422
    assert SEEN == []
    assert stored(uow_app) == []


def test_a_failed_commit_is_answered_as_an_error_and_takes_back_the_flash(
        uow_app: Flask, uow: FlaskClient) -> None:
    response = uow.post("/test-uow/commit-fails")
    assert response.status_code == 500
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert SEEN == []
    assert stored(uow_app) == []
    with uow.session_transaction() as cookie:
        assert "_flashes" not in cookie  # "Saved." announced a change that was not made


def test_an_undone_attempt_takes_back_only_itself(uow_app: Flask, uow: FlaskClient) -> None:
    assert uow.post("/test-uow/attempted").status_code == 200
    assert stored(uow_app) == ["before@example.org", "after@example.org"]


def test_undo_takes_an_attempt_back_without_an_error(uow_app: Flask, uow: FlaskClient) -> None:
    assert uow.post("/test-uow/undone").status_code == 200
    assert stored(uow_app) == []
