"""HTTP edge: blueprints for people (pages) and machines (JSON API, VC API)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from issuer.web import (
        admin,
        api,
        bulk_pages,
        learner_auth,
        learner_claims,
        learner_profile,
        nul_guard,
        public,
        reviews,
        security,
        status_pages,
        vcapi,
    )
    from issuer.web.converters import CredentialPathConverter, RowIdConverter
    from issuer.web.errors import register_error_handlers

    app.url_map.converters["int"] = RowIdConverter  # before any rule is added
    app.url_map.converters["credential"] = CredentialPathConverter
    register_error_handlers(app)
    security.init_app(app)
    nul_guard.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(bulk_pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(vcapi.bp)
    app.register_blueprint(status_pages.bp)
    app.register_blueprint(learner_auth.bp)
    app.register_blueprint(learner_claims.bp)
    app.register_blueprint(reviews.bp)
    app.register_blueprint(learner_profile.bp)
