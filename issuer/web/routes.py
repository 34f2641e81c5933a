"""Registers the HTTP edge on an app: converters, error handlers, request guards, mail after
the commit, and every blueprint of :mod:`issuer.web.blueprints` with the routes its modules
attach to it."""

from __future__ import annotations

from flask import Flask

from issuer.web import blueprints, cors, mail_delivery, nul_guard, ops, security
from issuer.web.admin import (  # noqa: F401  - each module attaches its routes
    achievements,
    awards,
    bulk,
    keys,
    pages,
    reviews,
    revocation,
    suggestions,
    tokens,
)
from issuer.web.api import bulk as api_bulk  # noqa: F401
from issuer.web.api import docs as api_docs  # noqa: F401
from issuer.web.api import endpoints as api_endpoints  # noqa: F401
from issuer.web.api import revocation as api_revocation  # noqa: F401
from issuer.web.context import csrf
from issuer.web.converters import CredentialPathConverter, RowIdConverter
from issuer.web.errors import register_error_handlers
from issuer.web.learner import attest, auth, claims, profile  # noqa: F401
from issuer.web.learner import traces as learner_traces  # noqa: F401
from issuer.web.ob_api import backpack as ob_api_backpack  # noqa: F401
from issuer.web.ob_api import consent as ob_api_consent  # noqa: F401
from issuer.web.ob_api import endpoints as ob_api_endpoints  # noqa: F401
from issuer.web.ob_api import status_info as ob_api_status_info
from issuer.web.oid4vci import endpoints as oid4vci_endpoints  # noqa: F401
from issuer.web.oid4vci import pages as oid4vci_pages  # noqa: F401
from issuer.web.ops import health as ops_health  # noqa: F401
from issuer.web.public import pages as public_pages  # noqa: F401
from issuer.web.public import scaffolding as public_scaffolding  # noqa: F401
from issuer.web.public import status_lists  # noqa: F401
from issuer.web.vcapi import endpoints as vcapi_endpoints  # noqa: F401
from issuer.web.wallet import exchanges as wallet_exchanges  # noqa: F401
from issuer.web.wallet import pages as wallet_pages  # noqa: F401


def register(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any rule is added
    app.url_map.converters["credential"] = CredentialPathConverter
    register_error_handlers(app)
    security.init_app(app)
    nul_guard.init_app(app)
    mail_delivery.init_app(app)
    cors.init_app(app)
    ops.init_app(app)
    ob_api_status_info.init_app(app)
    for bp in blueprints.CSRF_EXEMPT:
        csrf.exempt(bp)
    for bp in blueprints.ALL:
        app.register_blueprint(bp)
