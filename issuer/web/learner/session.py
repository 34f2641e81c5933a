"""The learner's signed-in session (separate from staff sign-in)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for

from issuer.storage.learning import Learner
from issuer.web.context import db
from issuer.web.security import STAFF_KEYS

F = TypeVar("F", bound=Callable[..., Any])


def current_learner() -> Learner | None:
    if "learner" not in g:
        learner_id = session.get("learner_id")
        g.learner = db().get(Learner, learner_id) if isinstance(learner_id, int) else None
    learner: Learner | None = g.learner
    return learner


def sign_in(learner: Learner) -> None:
    """Start a learner session; a fresh session id prevents session fixation."""
    staff = {key: session[key] for key in STAFF_KEYS if key in session}
    session.clear()
    session.update(staff)
    session["learner_id"] = learner.id
    g.learner = learner


def sign_out() -> None:
    session.pop("learner_id", None)
    g.pop("learner", None)


def learner_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_learner() is None:
            return redirect(url_for("learner_auth.sign_in_form", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
