"""The learner's signed-in session (separate from staff sign-in).

The cookie names the learner and a session kept on the server
(:mod:`issuer.services.learner_sessions`): signing out ends that session there, so a copy
of the cookie taken before is worthless afterwards, and an idle or old session ends by
itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for

from issuer.services import learner_sessions
from issuer.storage.learning import Learner
from issuer.web.context import db, services
from issuer.web.security import LEARNER_SESSION_KEY, STAFF_KEYS

F = TypeVar("F", bound=Callable[..., Any])

#: The cookie key of the learner session's id.
SESSION_KEY = LEARNER_SESSION_KEY


def current_learner() -> Learner | None:
    """The signed-in learner: the cookie's learner and session id must name a live session."""
    if "learner" not in g:
        learner_id, token = session.get("learner_id"), session.get(SESSION_KEY)
        g.learner = (learner_sessions.learner_of(db(), services(), token, learner_id)
                     if isinstance(learner_id, int) and isinstance(token, str) else None)
    learner: Learner | None = g.learner
    return learner


def sign_in(learner: Learner) -> None:
    """Start a learner session; a fresh cookie and session id prevent session fixation."""
    token = learner_sessions.start(db(), services(), learner)
    staff = {key: session[key] for key in STAFF_KEYS if key in session}
    session.clear()
    session.update(staff)
    session["learner_id"] = learner.id
    session[SESSION_KEY] = token
    g.learner = learner


def sign_out() -> None:
    """End this browser's learner session, on the server and in the cookie."""
    token = session.pop(SESSION_KEY, None)
    if isinstance(token, str):
        learner_sessions.end(db(), services(), token)
    session.pop("learner_id", None)
    g.pop("learner", None)


def signed_in_learner() -> Learner:
    """The learner of a view behind :func:`learner_required`."""
    learner = current_learner()
    assert learner is not None  # learner_required ran first
    return learner


def learner_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_learner() is None:
            return redirect(url_for("learner_auth.sign_in_form", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
