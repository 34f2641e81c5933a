"""Composition root: settings → engine, key store, contexts → blueprints.

Nothing happens at import time; ``create_app`` builds everything, and resources live in
``app.extensions["issuer"]``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from issuer.config import STATIC_DIR, TEMPLATES_DIR, Settings
from issuer.runtime import Runtime, build_runtime
from issuer.services.context import ServiceContext

__all__ = ["Runtime", "create_app", "db", "runtime", "services"]

csrf = CSRFProtect()


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        "issuer",
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="issuer_session",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides)
    app.extensions["issuer"] = build_runtime(settings)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    csrf.init_app(app)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            # Anything not committed by the view is discarded: a failed request writes nothing.
            session.rollback()
            session.close()

    from issuer.web import register

    register(app)
    return app


def runtime(app: Flask | None = None) -> Runtime:
    from flask import current_app

    target = app if app is not None else current_app
    result: Runtime = target.extensions["issuer"]
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
