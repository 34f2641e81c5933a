"""Response headers that hold for every page, and the staff session."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g, redirect, request, session, url_for

from issuer.services import staff_sessions
from issuer.storage.models import User
from issuer.web.context import db, services

F = TypeVar("F", bound=Callable[..., Any])

#: The cookie key of the staff session's id.
SESSION_KEY = "staff_session"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


#: The cookie keys of a staff sign-in: who, and the id of their session on the server.
STAFF_KEYS = ("user_id", SESSION_KEY)
#: The learner's keys (issuer.web.learner.session): a staff sign-in or sign-out in the same
#: browser keeps them, so the learner's server-side session is neither orphaned nor ended
#: behind their back.
LEARNER_SESSION_KEY = "learner_session"
LEARNER_KEYS = ("learner_id", LEARNER_SESSION_KEY)


def current_user() -> User | None:
    """The signed-in staff member: the cookie's user and session id must name a session
    that has not ended (:mod:`issuer.services.staff_sessions`), so a copy of the cookie
    is worthless once its owner signed out."""
    if "user" not in g:
        user_id, token = session.get("user_id"), session.get(SESSION_KEY)
        g.user = (staff_sessions.user_of(db(), services(), token, user_id)
                  if isinstance(user_id, int) and isinstance(token, str) else None)
    user: User | None = g.user
    return user


def sign_in(user: User) -> None:
    """Start a staff session: a fresh cookie, so an id planted before sign-in is worthless
    (fixation), naming a new session on the server."""
    token = staff_sessions.start(db(), services(), user)
    learner = {key: session[key] for key in LEARNER_KEYS if key in session}
    session.clear()
    session.update(learner)
    session["user_id"] = user.id
    session[SESSION_KEY] = token
    g.user = user


def sign_out() -> None:
    """End this browser's staff session, on the server and in the cookie."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        staff_sessions.end(db(), services(), token)
    learner = {key: session[key] for key in LEARNER_KEYS if key in session}
    session.clear()
    session.update(learner)
    g.pop("user", None)


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
