"""What a view needs from the application it runs in: the request's database session, the
service context and the runtime, without importing the composition root.

The glue Flask's tutorial keeps in ``flaskr/db.py``: views import from here, ``issuer.app``
builds the app and calls :func:`init_app`, so no module under ``issuer.web`` imports
``issuer.app`` and the web layer has no import cycle.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from issuer.runtime import Runtime
from issuer.services.context import ServiceContext

__all__ = ["csrf", "db", "init_app", "runtime", "services"]

#: CSRF protection for the cookie-authenticated forms; blueprints of bearer-token APIs and
#: public documents exempt themselves.
csrf = CSRFProtect()

#: Key in ``app.extensions`` under which the runtime lives.
EXTENSION = "issuer"


def init_app(app: Flask, rt: Runtime) -> None:
    app.extensions[EXTENSION] = rt
    csrf.init_app(app)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            # Anything not committed by the view is discarded: a failed request writes nothing.
            session.rollback()
            session.close()


def runtime(app: Flask | None = None) -> Runtime:
    target = app if app is not None else current_app
    result: Runtime = target.extensions[EXTENSION]
    return result


def db() -> Session:
    """The request's database session (created on first use, rolled back if not committed)."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = runtime().sessions()
        g.db_session = session
    return session


def services() -> ServiceContext:
    return runtime().services
