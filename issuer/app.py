"""Composition root: settings → engine, key store, contexts → blueprints.

Nothing happens at import time; ``create_app`` builds everything, and resources live in
``app.extensions["issuer"]``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from issuer.config import STATIC_DIR, TEMPLATES_DIR, Settings
from issuer.jobs.bulk import start_bulk_job
from issuer.jobs.mail import deliver
from issuer.jobs.queue import queue_bulk_job
from issuer.jobs.queue import ready as queue_ready
from issuer.runtime import Runtime, build_runtime
from issuer.web.context import Background, db, init_app, runtime, services
from issuer.web.routes import register

__all__ = ["Runtime", "create_app", "db", "runtime", "services"]


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
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # The web hands work to the background runners without importing them.
    # Without a queue the web process runs a confirmed bulk award itself; with one, it
    # only wakes a worker (issuer.jobs.queue).
    starter = queue_bulk_job if settings.queue_url else start_bulk_job
    init_app(app, build_runtime(settings),
             Background(deliver_mail=deliver, start_bulk_job=starter,
                        check_queue=partial(queue_ready, settings)))
    register(app)
    if settings.trusted_proxies > 0:
        # Behind reverse proxies remote_addr is the nearest proxy's; the client is the
        # address the outermost trusted one appended to X-Forwarded-For. Only the address
        # is taken: scheme and host come from ISSUER_BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app,  # type: ignore[method-assign]
                                x_for=settings.trusted_proxies, x_proto=0, x_host=0,
                                x_port=0, x_prefix=0)
    return app
