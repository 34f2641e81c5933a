"""Published status lists (W3C Bitstring Status List §2.2) and the status API routes.

``GET /issuers/<slug>/status/<purpose>/<number>`` answers the issuer's signed
``BitstringStatusListCredential``: verifiers fetch it for every credential they check, so it
is cacheable for a short while (``max-age=60``) and carries an ETag for cheap revalidation.
The list is signed again only after it changed, and the signed copy is kept for the next
request: the GET writes that cache, which the request's unit of work commits with the
answer (:mod:`issuer.web.context`).

Nothing on this blueprint relies on a cookie: the list is public, and the API routes (see
:mod:`issuer.web.api.revocation`) authenticate with bearer tokens, so it is exempt from CSRF.
"""

from __future__ import annotations

from flask import Response, request
from flask.typing import ResponseReturnValue

from issuer.services.status_lists import published_list
from issuer.web.blueprints import status as bp
from issuer.web.context import db, services

#: Short: a revocation should reach verifiers within a minute or so.
CACHE_CONTROL = "public, max-age=60"
#: VCDM 2.0 §6.3 media types; the first one is the default.
MEDIA_TYPES = ("application/vc+ld+json", "application/vc", "application/ld+json",
               "application/json")


@bp.get("/issuers/<slug>/status/<purpose>/<int:number>")
def status_list(slug: str, purpose: str, number: int) -> ResponseReturnValue:
    published = published_list(db(), services(), slug, purpose, number)
    best = request.accept_mimetypes.best_match(MEDIA_TYPES, default=MEDIA_TYPES[0])
    response = Response(published.text, mimetype=best or MEDIA_TYPES[0])
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.set_etag(published.etag)
    response.last_modified = published.changed_at
    response.vary.add("Accept")
    return response.make_conditional(request)

