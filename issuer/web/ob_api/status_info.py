"""Errors of the Open Badges 3.0 API in its protocols' own forms: ``Imsx_StatusInfo``
bodies (OB 3.0 §6.2, §B.3) on the resource endpoints, RFC 6749 §5.2 errors on the OAuth 2.0
ones under ``/ims/ob/v3p0/oauth/``.

The app's one error handler (:mod:`issuer.web.errors`) answers every failure with RFC 9457
problem details; under ``/ims/ob/v3p0`` that answer is rewritten here with the same status
and description, so routing errors (404, 405, 413) read the same as the views' own. The
learner's pages there (the consent page) answer HTML (:mod:`issuer.web.ob_api.consent`).
"""

from __future__ import annotations

import json

from flask import Flask, Response, request

from issuer.core.errors import IssuerError
from issuer.web.errors import oauth_error

__all__ = ["QueryRefused", "ScopeRefused", "TokenRefused", "body", "init_app"]

PREFIX = "/ims/ob/v3p0/"
#: OAuth 2.0 endpoints answer errors as RFC 6749 §5.2 / RFC 7591 §3.2.2 say.
OAUTH_PREFIX = PREFIX + "oauth/"
#: OB 3.0 §B.3.4 imsx_CodeMinorFieldValue for each status.
MINOR = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    413: "invalid_data",
    415: "invalid_data",
    422: "invalid_data",
    429: "server_busy",
}


class TokenRefused(IssuerError):
    """No access token, or one that does not work (RFC 6750 §3.1 ``invalid_token``)."""

    code = "invalid_token"
    http_status = 401


class ScopeRefused(IssuerError):
    """A token without the scope the operation needs (RFC 6750 §3.1)."""

    code = "insufficient_scope"
    http_status = 403

    def __init__(self, scope: str) -> None:
        super().__init__(f"the access token does not grant {scope}")
        self.fields = {"scope": scope}


class QueryRefused(IssuerError):
    """A query parameter that is not what the operation accepts."""

    code = "invalid_query_parameter"
    http_status = 400

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.fields = {"query": name}


def body(status: int, description: str, minor: str | None = None) -> dict[str, object]:
    value = minor or MINOR.get(status, "internal_server_error" if status >= 500 else "unknown")
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": value}]},
    }


def init_app(app: Flask) -> None:
    @app.after_request
    def _imsx(response: Response) -> Response:
        path = request.path
        if not path.startswith(PREFIX) or response.mimetype != "application/problem+json":
            return response
        try:
            problem = json.loads(response.get_data())
        except ValueError:  # pragma: no cover - the app writes these bodies itself
            problem = {}
        problem = problem if isinstance(problem, dict) else {}
        detail = problem.get("detail")
        if path.startswith(OAUTH_PREFIX):
            # RFC 6749 §5.2 / RFC 7591 §3.2.2: a wrong method, a body too large …
            answer = oauth_error(response.status_code, str(detail or response.status))
            for name in ("Allow", "Retry-After"):
                if name in response.headers:
                    answer.headers[name] = response.headers[name]
            return answer
        fields = problem.get("errors") if isinstance(problem.get("errors"), dict) else {}
        minor = "invalid_query_parameter" if "query" in fields else None
        response.set_data(json.dumps(body(response.status_code,
                                          str(detail or response.status), minor)))
        response.mimetype = "application/json"
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="ob"'
        elif response.status_code == 403 and isinstance(fields.get("scope"), str):
            response.headers["WWW-Authenticate"] = (
                f'Bearer realm="ob", error="insufficient_scope", scope="{fields["scope"]}"')
        return response
