"""Learner sign-in by one-time email link, sign-out, and the development outbox.

The link in the email opens a confirmation page; only its "Sign in" button (a POST with a
CSRF token) spends the token, because mail scanners fetch every GET link in a message and
would otherwise burn it before the learner clicks. The link goes out once the request's
transaction has committed (:mod:`issuer.web.mail_delivery`).
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select
from werkzeug.wrappers import Response

from issuer.config import Settings
from issuer.services.attestations import Invitation, invitation
from issuer.services.errors import Invalid
from issuer.services.learners import (
    SIGN_IN_TTL,
    RateLimited,
    SignInLinkError,
    check_sign_in,
    complete_sign_in,
    request_sign_in,
)
from issuer.storage.learning import MailMessage
from issuer.web.admin.common import safe_next
from issuer.web.blueprints import learner_auth as bp
from issuer.web.context import after_commit, db, services
from issuer.web.learner.session import current_learner, sign_in, sign_out

#: Where a learner lands after signing in without a ``next``.
LEARNER_HOME = "/learn/"
OUTBOX_SIZE = 50

_LINK = re.compile(r"https?://[^\s<>\"']+")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.context_processor(lambda: {"current_learner": current_learner})


def outbox_enabled(settings: Settings) -> bool:
    """The outbox page shows every sign-in link, so it exists only in development: no SMTP
    server configured, and the site not served over HTTPS (secure cookies off)."""
    return not settings.smtp_host and not settings.secure_cookies


def _private(response: Response) -> Response:
    # Pages whose URL or body carries a sign-in token: not cached, not sent as a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


_ATTEST_PATH = re.compile(r"^/attest/([A-Za-z0-9_-]{1,200})$")


def _invitation(next_path: str | None) -> Invitation | None:
    """The peer invitation a sign-in leads to, so the page can say whose claim it is."""
    found = _ATTEST_PATH.match(next_path or "")
    return invitation(db(), services(), found.group(1)) if found else None


def _form(email: str = "", next_path: str | None = None, error: str | None = None,
          status: int = 200) -> Response:
    invited = _invitation(next_path)
    return _private(make_response(render_template(
        "learner/sign_in.html", email=email or (invited.email if invited else "") or "",
        next_path=next_path or "", error=error, invitation=invited,
    ), status))


#: Where the address a link was just sent to waits for the page that says so.
SENT_TO = "sign_in_sent_to"


@bp.get("/learn/sign-in")
def sign_in_form() -> Any:
    target = safe_next(request.args.get("next"))
    if current_learner() is not None:
        return redirect(target or LEARNER_HOME)
    sent_to = session.get(SENT_TO)
    if request.args.get("sent") == "1" and isinstance(sent_to, str):
        # Post/Redirect/Get: reloading this page shows it again and sends no other mail.
        return _private(make_response(render_template(
            "learner/sign_in_sent.html", email=sent_to,
            minutes=int(SIGN_IN_TTL.total_seconds() // 60),
            outbox=outbox_enabled(services().settings),
        )))
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
    # The same page for every address: whether it has an account is nobody's business.
    session[SENT_TO] = email.strip()
    return _private(redirect(url_for("learner_auth.sign_in_form", sent="1"), code=303))


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

    # The session is stored with the spent link and the account, in one transaction: if
    # that fails, the cookie names a session that does not exist and signs no one in.
    sign_in(learner)

    def signed_in(_answer: Response) -> None:
        flash(f"Signed in as {learner.email}.", "success")

    after_commit(signed_in)
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


__all__ = ["bp", "linkify", "outbox_enabled"]
