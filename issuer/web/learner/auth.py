"""Learner sign-in by one-time email link, sign-out, and the development outbox.

The link in the email opens a confirmation page; only its "Sign in" button (a POST with a
CSRF token) spends the token, because mail scanners fetch every GET link in a message and
would otherwise burn it before the learner clicks.

Mail queued during a request is delivered when the request ends, and only if the request's
transaction committed: session events move each message from "queued" to "committed" on
COMMIT and forget it on ROLLBACK, so a change that was rolled back never sends mail.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from issuer.config import Settings
from issuer.services.errors import Invalid
from issuer.services.learners import (
    SIGN_IN_TTL,
    RateLimited,
    SignInLinkError,
    check_sign_in,
    complete_sign_in,
    request_sign_in,
)
from issuer.services.mail import QUEUED_KEY, DeliveryReport, deliver, take_queued
from issuer.storage.learning import MailMessage
from issuer.web.admin.common import safe_next
from issuer.web.blueprints import learner_auth as bp
from issuer.web.context import db, runtime, services
from issuer.web.learner.session import current_learner, sign_in, sign_out

log = logging.getLogger("issuer.web.mail")


#: Where a learner lands after signing in without a ``next``.
LEARNER_HOME = "/learn/"
#: Key in ``Session.info``: messages whose transaction committed, waiting for delivery.
COMMITTED_KEY = "issuer.mail.committed"
OUTBOX_SIZE = 50

_LINK = re.compile(r"https?://[^\s<>\"']+")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    sessions = runtime(app).sessions
    event.listen(sessions, "after_commit", _committed)
    event.listen(sessions, "after_rollback", _rolled_back)
    app.teardown_request(_deliver_at_teardown)
    app.context_processor(lambda: {"current_learner": current_learner})


def _committed(session: Session) -> None:
    queued = take_queued(session)
    if queued:
        session.info.setdefault(COMMITTED_KEY, []).extend(queued)


def _rolled_back(session: Session) -> None:
    session.info.pop(QUEUED_KEY, None)


def deliver_after_commit(app: Flask | None = None) -> DeliveryReport:
    """Deliver the mail of this request's committed transactions now; returns what became
    of it.

    Views need not call it: the same happens when the request ends. It is for a view that
    wants mail out before it answers, or before it does something slow.
    """
    session: Session | None = g.get("db_session")
    if session is None:
        return DeliveryReport()
    queued = session.info.pop(COMMITTED_KEY, [])
    if not queued:
        return DeliveryReport()
    rt = runtime(app)
    return deliver(rt.sessions, rt.services, queued)


def _deliver_at_teardown(exc: BaseException | None) -> None:
    session: Session | None = g.get("db_session")
    if session is None or not session.info.get(COMMITTED_KEY):
        return
    try:
        # Anything the view left uncommitted is discarded now rather than a moment later,
        # so delivery (which writes sent_at) never waits on this request's own locks.
        session.rollback()
        deliver_after_commit(current_app)
    except Exception:
        log.exception("mail delivery after %s %s failed", request.method, request.path)


def outbox_enabled(settings: Settings) -> bool:
    """The outbox page shows every sign-in link, so it exists only in development: no SMTP
    server configured, and the site not served over HTTPS (secure cookies off)."""
    return not settings.smtp_host and not settings.secure_cookies


def _private(response: Response) -> Response:
    # Pages whose URL or body carries a sign-in token: not cached, not sent as a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _form(email: str = "", next_path: str | None = None, error: str | None = None,
          status: int = 200) -> Response:
    return _private(make_response(render_template(
        "learner/sign_in.html", email=email, next_path=next_path or "", error=error,
    ), status))


@bp.get("/learn/sign-in")
def sign_in_form() -> Any:
    target = safe_next(request.args.get("next"))
    if current_learner() is not None:
        return redirect(target or LEARNER_HOME)
    return _form(next_path=target)


@bp.post("/learn/sign-in")
def request_link() -> Any:
    email = request.form.get("email", "")
    target = safe_next(request.form.get("next"))
    try:
        request_sign_in(db(), services(), email=email, next_path=target)
    except Invalid as exc:
        return _form(email, target, exc.message, 422)
    except RateLimited as exc:
        response = make_response(render_template(
            "learner/sign_in_limited.html", message=exc.message), 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return _private(response)
    db().commit()
    # The same page for every address: whether it has an account is nobody's business.
    return _private(make_response(render_template(
        "learner/sign_in_sent.html", email=email.strip(),
        minutes=int(SIGN_IN_TTL.total_seconds() // 60),
        outbox=outbox_enabled(services().settings),
    )))


def _link_problem(exc: SignInLinkError) -> Response:
    status = 400 if exc.reason == "unknown" else 410
    return _private(make_response(render_template(
        "learner/sign_in_invalid.html", message=exc.message, reason=exc.reason,
        learner=current_learner(),
    ), status))


@bp.get("/learn/sign-in/<token>")
def confirm(token: str) -> Any:
    try:
        pending = check_sign_in(db(), services(), token)
    except SignInLinkError as exc:
        return _link_problem(exc)
    return _private(make_response(render_template(
        "learner/sign_in_confirm.html", email=pending.email, token=token,
    )))


@bp.post("/learn/sign-in/<token>")
def complete(token: str) -> Any:
    try:
        learner, next_path = complete_sign_in(db(), services(), token)
    except SignInLinkError as exc:
        return _link_problem(exc)
    db().commit()
    sign_in(learner)
    flash(f"Signed in as {learner.email}.", "success")
    return _private(redirect(safe_next(next_path) or LEARNER_HOME))


@bp.post("/learn/sign-out", endpoint="sign_out")
def sign_out_view() -> Response:
    sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for("learner_auth.sign_in_form"))


def linkify(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_link) parts, links being http(s) URLs; the template
    escapes every piece."""
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        start, end = match.start(), match.start() + len(url)
        if start > position:
            parts.append((text[position:start], False))
        parts.append((url, True))
        position = end
    if position < len(text):
        parts.append((text[position:], False))
    return parts


@bp.get("/dev/outbox")
def outbox() -> Any:
    settings = services().settings
    if not outbox_enabled(settings):
        abort(404)
    messages = list(db().scalars(
        select(MailMessage).order_by(MailMessage.id.desc()).limit(OUTBOX_SIZE)
    ))
    return _private(make_response(render_template(
        "learner/outbox.html",
        messages=[(message, linkify(message.body)) for message in messages],
        limit=OUTBOX_SIZE,
    )))


__all__ = ["bp", "deliver_after_commit", "linkify", "outbox_enabled"]
