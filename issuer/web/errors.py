"""One place where errors become responses: RFC 9457 problem details or a friendly page.

Machines (the JSON API, the VC API and its wallet exchanges, anything asking for JSON) get
``application/problem+json``; people get an HTML page in plain words. The OAuth 2.0
protocols a wallet speaks (OpenID4VCI and its metadata) get their own error form instead,
``{"error", "error_description"}`` (RFC 6749 §5.2), for every error at their addresses,
routing 404s and 405s included. Nothing internal — no traceback, no key material — is ever
shown.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from issuer.core.errors import IssuerError

log = logging.getLogger("issuer.web")

#: URL prefixes that always answer in JSON.
API_PREFIXES = ("/api/", "/credentials/issue", "/credentials/verify", "/presentations/",
                "/ims/", "/exchanges/")
#: URL prefixes of OAuth 2.0 protocols: errors are RFC 6749 §5.2 bodies, which is what their
#: clients parse (OpenID4VCI 1.0 §6.3 and §8.3.1.2 for the token and credential endpoints;
#: the offers, the nonce endpoint and the metadata answer in the same form so a wallet
#: meets one form only). The Open Badges 3.0 API rewrites its own errors, OAuth endpoints
#: included, in :mod:`issuer.web.ob_api.status_info`.
OAUTH_PREFIXES = ("/oid4vci/", "/.well-known/openid-credential-issuer",
                  "/.well-known/oauth-authorization-server")
#: Documents only machines fetch (a DID document, a status list): their errors are problem
#: details whatever the client accepts, as schemas/openapi.yaml describes them.
MACHINE_DOCUMENTS = re.compile(r"^/issuers/[^/]+/(?:did\.json$|status/)")

TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
}


def wants_json() -> bool:
    if request.path.startswith(API_PREFIXES + OAUTH_PREFIXES) or \
            MACHINE_DOCUMENTS.match(request.path):
        return True
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/json", "application/problem+json", "application/ld+json",
         "application/vc+ld+json", "application/vc", "application/did+json"]
    )
    return best is not None and best != "text/html"


def problem(status: int, detail: str, *, title: str | None = None,
            **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def oauth_error(status: int, description: str, error: str | None = None) -> Response:
    """An error in the OAuth 2.0 form (RFC 6749 §5.2): ``error`` is the protocol's code;
    by default ``invalid_token`` for a 401, ``server_error`` for the service's own fault,
    ``invalid_request`` otherwise (a wrong address or method is a malformed request)."""
    code = error or ("invalid_token" if status == 401 else
                     "server_error" if status >= 500 else "invalid_request")
    response = jsonify({"error": code, "error_description": description})
    response.status_code = status
    # An answer about a one-time code, token or nonce is not for a cache to replay.
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(status: int, detail: str, **extra: Any) -> Response | tuple[str, int]:
    if request.path.startswith(OAUTH_PREFIXES):
        return oauth_error(status, detail)
    if wants_json():
        return problem(status, detail, **extra)
    return render_template(
        "error.html", status=status, title=TITLES.get(status, "Error"), detail=detail
    ), status


#: What a person is told when the service itself is at fault; the log has the details.
SERVER_FAULT = ("The service is not set up to do this right now. Nothing was changed; "
                "please try again later.")


def issuer_error_response(exc: IssuerError) -> Response:
    """The response for an error a use case or the core raised on purpose.

    The status is the one the error states (``http_status``, :mod:`issuer.core.errors`).
    A 5xx is the service's own problem (a setting, a bundled file): its message may name
    paths on the server, so it goes to the log, and the client gets a plain sentence.
    """
    status = exc.http_status
    if status >= 500:  # the 5xx class: the server is at fault (RFC 9110 §15.6)
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.path,
                  exc.message)
        response = make_response(error_response(status, SERVER_FAULT))
    else:
        fields = getattr(exc, "fields", None) or None
        errors = getattr(exc, "errors", None) or None
        response = make_response(error_response(status, exc.message, errors=fields or errors))
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        # RFC 6585 §4 / RFC 9110 §10.2.3: how long to wait before asking again.
        response.headers["Retry-After"] = str(retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IssuerError)
    def _issuer_error(exc: IssuerError) -> Any:
        return issuer_error_response(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return error_response(400, "The form expired or did not come from this site. "
                                   "Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        detail = {
            404: "There is nothing at this address.",
            405: "This address does not accept that method.",
            413: "The request is larger than this service accepts.",
        }.get(status, exc.description or TITLES.get(status, "Error"))
        response = make_response(error_response(status, detail))
        # The exception's own headers carry protocol duties: a 405 MUST list what the
        # address allows (RFC 9110 §15.5.6), a 416 its Content-Range.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if status == 401 and wants_json():
            response.headers["WWW-Authenticate"] = 'Bearer realm="issuer"'
        return response

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Any:
        if not exc.connection_invalidated:
            return _unexpected(exc)
        # The connection was lost (the database restarted, or a proxy closed it): the pool
        # replaces its connections, and the same request sent again is answered.
        log.warning("database connection lost on %s %s: %s", request.method, request.path,
                    (str(exc.orig).strip().splitlines() or [type(exc).__name__])[0][:200])
        response = make_response(error_response(
            503, "The database could not be reached. Nothing was changed; please send the "
                 "request again."))
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "The service hit an unexpected problem. Nothing was "
                                   "changed; please try again.")
