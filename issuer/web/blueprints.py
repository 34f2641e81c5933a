"""Every blueprint of the HTTP edge, named once.

Route modules attach their views to these with decorators (``@bp.get(...)``);
:func:`issuer.web.routes.register` imports every route module and registers the blueprints
on the app. Endpoint names (``admin.credential``, ``status.api_revoke`` …) are part of the
templates' contract, so a blueprint's name does not change when its modules move.
"""

from __future__ import annotations

from flask import Blueprint

public = Blueprint("public", __name__)
status = Blueprint("status", __name__)
admin = Blueprint("admin", __name__, url_prefix="/admin")
bulk_pages = Blueprint("bulk_pages", __name__, url_prefix="/admin/issuers/<slug>/bulk")
reviews = Blueprint("reviews", __name__, url_prefix="/admin")
api = Blueprint("api", __name__, url_prefix="/api/v1")
vcapi = Blueprint("vcapi", __name__)
learner_auth = Blueprint("learner_auth", __name__)
learner_claims = Blueprint("learner_claims", __name__)
learner_profile = Blueprint("learner_profile", __name__)
#: The Open Badges 3.0 API (bearer tokens) and its OAuth 2.0 endpoints; the consent page and
#: the learner's backpack page, pages with forms, are a blueprint of their own so CSRF
#: protection covers them.
ob_api = Blueprint("ob_api", __name__, url_prefix="/ims/ob/v3p0")
ob_api_consent = Blueprint("ob_api_consent", __name__)
#: VC API exchanges a wallet calls: no cookies, no forms.
wallet = Blueprint("wallet", __name__)
#: The learner's "Add to wallet" page (signed-in learner, CSRF-protected form).
wallet_pages = Blueprint("wallet_pages", __name__)
#: OpenID for Verifiable Credential Issuance: metadata, offers, token, nonce and credential
#: endpoints a wallet calls with bearer tokens or nothing, never cookies.
oid4vci = Blueprint("oid4vci", __name__)
#: The learner's page with a credential offer for OpenID4VCI wallets (signed-in learner,
#: CSRF-protected form).
oid4vci_pages = Blueprint("oid4vci_pages", __name__)
#: Probes and metrics for operators' tools: no cookies, nothing to forge.
ops = Blueprint("ops", __name__)
#: The learner's community traces: archive imports, picks and page captures (signed-in
#: learner, CSRF-protected forms; the archive upload has its own size limit).
learner_traces = Blueprint("learner_traces", __name__)
#: Staff pages of measured help: awards suggested from a community's export, a badge's
#: thresholds, a learner's measures (the export upload has its own size limit).
suggestion_pages = Blueprint("suggestion_pages", __name__, url_prefix="/admin")

#: In the order they are registered.
ALL = (public, admin, bulk_pages, api, vcapi, status, learner_auth, learner_claims, reviews,
       learner_profile, wallet, wallet_pages, ob_api, ob_api_consent, oid4vci, ops,
       oid4vci_pages, learner_traces, suggestion_pages)
#: Bearer tokens or no authentication at all, never cookies: there is no cross-site form to
#: forge, so CSRF protection does not apply.
CSRF_EXEMPT = (api, status, vcapi, ob_api, wallet, oid4vci, ops)
