"""What a view needs from the application it runs in: the request's database session, the
service context, the runtime and the background runners, without importing the composition
root; and the request's unit of work, the one place in the web layer where a transaction
ends.

The glue Flask's tutorial keeps in ``flaskr/db.py``: views import from here, ``issuer.app``
builds the app and calls :func:`init_app`, so no module under ``issuer.web`` imports
``issuer.app`` and the web layer has no import cycle. The runners a request starts once it
has committed (:mod:`issuer.jobs`) come the same way, as :class:`Background`: one edge does
not import another.

One request, one transaction:

* The first :func:`db` of a request opens its session.
* Once the view has answered, the transaction commits if the answer is a success or a
  redirect (status below 400) and rolls back if it is an error (400 and above), which is
  what every exception becomes (:mod:`issuer.web.errors`). Views neither commit nor roll
  back, and a failed request writes nothing. The rule holds for every method, because a
  few GETs write on purpose and keep it when they succeed: an API token's last use, the
  signed copy of a status list kept for the next verifier (a cache), badges linked to a
  learner as they look at theirs, automatic approvals found by the review queue. An error
  answer keeps nothing but what the view handed to :func:`keep`: a rate-limited sign-in
  or a refused form leaves no trace, a failed staff login only its count.
* Work handed to :func:`keep` is written whatever the answer: with the view's work on a
  success, alone after the rollback on an error (a refused staff sign-in, counted by the
  rate limit). It is the one exception to "a failed request writes nothing".
* A change the view may refuse and then answer from what is stored (a form shown again
  with its errors, a retry) runs in :func:`attempt`, a SAVEPOINT: a refused attempt leaves
  nothing behind and the session usable, also after a database error; :class:`Undo`
  takes an attempt back without an error.
* Work that must wait until the data is stored (mail, a background job, the session
  cookie of a sign-in) is given to :func:`after_commit`; it runs once the commit has
  succeeded and may change the answer. The request's mail goes out the same way
  (:mod:`issuer.web.mail_delivery`).
* A commit that fails is answered like any exception raised by the view, and takes back
  the view's flashed messages: they announced a change that was not made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    g,
    has_request_context,
    request,
)
from flask import session as cookie_session
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from issuer.runtime import Runtime
from issuer.services.bulk import CsvRow
from issuer.services.context import ServiceContext
from issuer.services.mail import DeliveryReport, Outgoing

__all__ = ["AfterCommit", "Background", "Undo", "after_commit", "attempt", "background",
           "csrf", "db", "init_app", "keep", "runtime", "services"]

log = logging.getLogger("issuer.web")

#: CSRF protection for the cookie-authenticated forms; blueprints of bearer-token APIs and
#: public documents exempt themselves.
csrf = CSRFProtect()

#: Key in ``app.extensions`` under which the runtime lives.
EXTENSION = "issuer"
#: Key in ``app.extensions`` under which the background runners live.
BACKGROUND = "issuer.background"

Sessions = Callable[[], Session]

#: Work to do once the request's transaction has committed: given the answer, it returns
#: the answer to send instead, or None to keep it.
AfterCommit = Callable[[Response], Response | None]
#: Work written whatever the answer (:func:`keep`), given the request's session.
Kept = Callable[[Session], None]


class DeliverMail(Protocol):
    def __call__(self, sessions: Sessions, ctx: ServiceContext,
                 messages: Sequence[Outgoing]) -> DeliveryReport: ...


class StartBulkJob(Protocol):
    def __call__(self, sessions: Sessions, ctx: ServiceContext, job_id: int,
                 rows: Sequence[CsvRow], *, actor: str | None = None,
                 notify: bool = True) -> object: ...


@dataclass(frozen=True)
class Background:
    """The runners a request hands work to once it has committed; they run outside its
    transaction, with sessions of their own."""

    #: Send committed messages now and say what became of them.
    deliver_mail: DeliverMail
    #: Start a pending bulk award: on a thread of its own, or by waking a worker.
    start_bulk_job: StartBulkJob
    #: "ok" if the job queue's broker answers (or there is none), else why not.
    check_queue: Callable[[], str] = lambda: "ok"


def init_app(app: Flask, rt: Runtime, runners: Background) -> None:
    app.extensions[EXTENSION] = rt
    app.extensions[BACKGROUND] = runners
    csrf.init_app(app)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            # Whatever the unit of work did not commit (or a session opened outside a
            # request) is discarded.
            session.rollback()
            session.close()


def runtime(app: Flask | None = None) -> Runtime:
    target = app if app is not None else current_app
    result: Runtime = target.extensions[EXTENSION]
    return result


def db() -> Session:
    """The request's database session, opened on first use; the request's answer decides
    whether its transaction commits (see the module's notes)."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = runtime().sessions()
        g.db_session = session
        if has_request_context():
            # Runs before the app's after_request functions, so the answer an after_commit
            # callback makes gets the same headers as any other.
            after_this_request(_end_unit_of_work)
    return session


def services() -> ServiceContext:
    return runtime().services


def background() -> Background:
    """The background runners, to call from an :func:`after_commit` callback."""
    result: Background = current_app.extensions[BACKGROUND]
    return result


class Undo(Exception):
    """Raised inside :func:`attempt` to take the attempt back: :func:`attempt` undoes it
    and lets the view go on, as if the block had not run."""


@contextmanager
def attempt() -> Iterator[Session]:
    """Run a change the view may refuse inside a SAVEPOINT of the request's transaction.

    If the block raises, everything it wrote is undone, the objects it changed are read
    again from the database, and the session can go on (on PostgreSQL too, where a failed
    statement would otherwise abort the whole transaction): the view can show the form
    again from what is stored. The exception goes on to the view, except :class:`Undo`.
    What the request did before the block stays; the answer still decides whether the
    whole commits.
    """
    session = db()
    try:
        with session.begin_nested():
            yield session
    except Undo:
        pass


def after_commit(callback: AfterCommit) -> None:
    """Run ``callback`` once this request's transaction has committed, with the answer.

    Callbacks run in the order they were given, only if the commit succeeded; one that
    returns a response replaces the answer. A callback that fails is logged and changes
    nothing: what was committed stays committed, and the answer says so.
    """
    g.setdefault("after_commit", []).append(callback)


def keep(work: Kept) -> None:
    """Write ``work`` whatever the answer: with the request's transaction if it commits,
    else alone, in a transaction of its own once the request's has rolled back.

    For the few records an error answer must leave, such as a refused staff sign-in that
    a rate limit counts. ``work`` gets the request's session, only flushes (the unit of
    work commits) and should be small. If it or its commit fails after an error answer,
    that is logged and the answer stays; after a success, it fails like any commit.
    """
    db()  # the unit of work must end for the work to be written
    g.setdefault("kept", []).append(work)


def _end_unit_of_work(response: Response) -> Response:
    session: Session | None = g.get("db_session")
    callbacks: list[AfterCommit] = g.pop("after_commit", [])
    kept: list[Kept] = g.pop("kept", [])
    if session is None:
        return response
    failed = response.status_code >= 400
    if failed:
        session.rollback()
        if not kept:
            return response
        callbacks = []  # nothing the view did was stored
    try:
        for work in kept:
            work(session)
        session.commit()
    except Exception as exc:  # answered below, as if the view had raised it
        session.rollback()
        if failed:
            log.exception("work kept after the failed %s %s was lost", request.method,
                          request.path)
            return response
        cookie_session.pop("_flashes", None)
        # The error handlers answer it as they would the same error raised by the view.
        return current_app.make_response(current_app.handle_user_exception(exc))
    for callback in callbacks:
        try:
            response = callback(response) or response
        except Exception:
            log.exception("work after the commit of %s %s failed", request.method,
                          request.path)
    return response
