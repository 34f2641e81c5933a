"""VC API exchanges (W3C CCG VC API, "Exchanges") as the Learner Credential Wallet calls them.

``POST /exchanges/<id>`` with ``{}`` answers the Verifiable Presentation Request; with a
presentation (the wallet's direct form, ``vc_request_url``) it completes the exchange, as
``POST /exchanges/<id>/<tx>`` does. ``GET /exchanges/<id>?iuv=1`` is the interaction URL.
Wallets send no cookies and fill no forms, so nothing here reads a session; every error is
an RFC 9457 problem body, whatever the client accepts (:mod:`issuer.web.errors` answers the
routing errors under ``/exchanges/`` the same way), and browser-based wallets may read the
answers from any origin (:mod:`issuer.web.cors`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

from issuer.core.errors import InputError, IssuerError
from issuer.core.json_input import unique_members
from issuer.services.exchanges import complete_exchange, interaction, presentation_request
from issuer.web.api.common import json_response, require_media_type
from issuer.web.blueprints import wallet as bp
from issuer.web.context import db, services
from issuer.web.errors import TITLES, issuer_error_response, problem

#: What a wallet may send as JSON.
JSON_TYPES = ("application/json", "application/ld+json")


@bp.errorhandler(IssuerError)
def _issuer_error(exc: IssuerError) -> Response:
    # Problem details whatever the wallet accepts: /exchanges/ is one of the API prefixes.
    return _no_store(issuer_error_response(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = problem(status, exc.description or TITLES.get(status, "Error"))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return _no_store(response)


def _no_store(response: Response) -> Response:
    # A challenge or a credential made for one wallet: no cache may keep or replay it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> Any:
    """The JSON the wallet sent; an empty body without a media type counts as ``{}``."""
    if request.mimetype:
        require_media_type(*JSON_TYPES)
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8-sig"), object_pairs_hook=unique_members)
    except UnicodeDecodeError:
        raise InputError("The body is not UTF-8 text.") from None
    except ValueError as exc:
        raise InputError(f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError("The body is nested too deeply.") from None


def _is_request_for_vpr(body: Any) -> bool:
    # VC API: an empty object starts the exchange; anything else is the wallet's answer.
    return isinstance(body, dict) and not body


@bp.get("/exchanges/<exchange_id>")
def exchange_interaction(exchange_id: str) -> Response:
    if request.args.get("iuv") != "1":
        response = problem(405, "Send POST to this exchange, or GET with ?iuv=1 for its "
                                "protocols.")
        response.headers["Allow"] = "GET, POST"
        return _no_store(response)
    return _no_store(json_response(interaction(db(), services(), exchange_id)))


@bp.post("/exchanges/<exchange_id>")
def exchange(exchange_id: str) -> Response:
    body = _body()
    if _is_request_for_vpr(body):
        return _no_store(json_response(presentation_request(db(), services(), exchange_id)))
    return _no_store(json_response(complete_exchange(db(), services(), exchange_id, None,
                                                     body)))


@bp.post("/exchanges/<exchange_id>/<transaction_id>")
def exchange_transaction(exchange_id: str, transaction_id: str) -> Response:
    body = _body()
    return _no_store(json_response(complete_exchange(db(), services(), exchange_id,
                                                     transaction_id, body)))
