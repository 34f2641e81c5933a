"""Cross-origin reads for the endpoints browser-based wallets call (Fetch Standard, "CORS
protocol").

A wallet running in a browser calls the VC API exchanges and the OpenID4VCI endpoints from
its own origin. None of them reads a cookie — an exchange id, an offer id or a bearer token
in the request is the whole authority — so any origin may read their answers, errors
included: ``Access-Control-Allow-Origin: *`` and never ``Access-Control-Allow-Credentials``
(with ``*``, browsers send no cookies). A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered with the methods the address allows and the
request headers a wallet sends. Pages signed in with the session cookie get no CORS headers:
another site must not read them.
"""

from __future__ import annotations

from flask import Flask, Response, request

__all__ = ["WALLET_PREFIXES", "init_app"]

#: Where browser-based wallets call: exchanges, OpenID4VCI and its two metadata documents.
WALLET_PREFIXES = ("/exchanges/", "/oid4vci/", "/.well-known/openid-credential-issuer",
                   "/.well-known/oauth-authorization-server")
#: Request headers a wallet sends beyond the CORS-safelisted ones; ``Authorization`` must be
#: named, a ``*`` does not cover it.
ALLOWED_HEADERS = "Authorization, Content-Type"
#: Response headers a wallet reads beyond the safelisted ones (an invalid_token's challenge,
#: RFC 6750 §3).
EXPOSED_HEADERS = "WWW-Authenticate"
#: How long a browser may keep a preflight's answer (seconds).
MAX_AGE = "600"


def _is_preflight() -> bool:
    return (request.method == "OPTIONS"
            and "Access-Control-Request-Method" in request.headers)


def init_app(app: Flask) -> None:
    @app.after_request
    def _cors(response: Response) -> Response:
        if not request.path.startswith(WALLET_PREFIXES):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers.pop("Access-Control-Allow-Credentials", None)
        if _is_preflight():
            # Flask answers OPTIONS with the rule's methods in Allow (a routing 404 has none).
            allowed = response.headers.get("Allow")
            if allowed:
                response.headers["Access-Control-Allow-Methods"] = allowed
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE
        else:
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
