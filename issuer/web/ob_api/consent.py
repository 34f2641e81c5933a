"""The authorization endpoint of the Open Badges 3.0 API (OB 3.0 §7.1.2, RFC 6749 §4.1.1):
a page where the learner, signed in as on their other pages, sees which application asks
for what and allows or refuses it.

A request that names no known client or a redirect URI the client did not register is
answered on this page, never by a redirect (RFC 6749 §4.1.2.1); every other problem, and a
refusal, goes back to the client as an error on its redirect URI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Response, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from issuer.services import ob_api_tokens
from issuer.services.ob_api_clients import SCOPES
from issuer.web.blueprints import ob_api_consent as bp
from issuer.web.context import db, services
from issuer.web.errors import error_response
from issuer.web.learner.session import current_learner
from issuer.web.ob_api.server import authorization_server, insecure
from issuer.web.security import CSP

AUTHORIZE = "/ims/ob/v3p0/oauth/authorize"
EXPIRED_FORM = ("The form expired or did not come from this site. Go back, reload the page "
                "and try again.")


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _refused_here(error: OAuth2Error) -> Response:
    return _page(400, error.description or error.error)


def _sign_in_first() -> Response:
    """To the learner sign-in, and back to this request after it. The request itself is
    kept here: with its scopes and challenge it is longer than a next page may be."""
    try:
        query = request.query_string.decode("ascii")
    except UnicodeDecodeError:
        return _page(400, "The request's address is not percent-encoded.")
    pending = ob_api_tokens.keep_pending(db(), services(), query)
    if pending is None:
        return _page(400, "The request is too long.")
    return redirect(url_for("learner_auth.sign_in_form",
                            next=url_for("ob_api_consent.resume", pending=pending)))


@bp.get(AUTHORIZE + "/resume/<pending>")
def resume(pending: str) -> Response:
    """Back to the authorization request a learner signed in for."""
    query = ob_api_tokens.pending_query(db(), services(), pending)
    if query is None:
        return _page(404, "This request has expired (it waits 30 minutes while you sign "
                          "in). Go back to the application and start again.")
    return redirect(f"{AUTHORIZE}?{query}")


def _page(status: int, description: str) -> Response:
    return make_response(render_template("ob_api/authorize_error.html",
                                         description=description), status)


@bp.errorhandler(CSRFError)  # the app's own handler of it would be found first
@bp.errorhandler(HTTPException)
def _page_error(exc: HTTPException) -> Any:
    """The consent page's errors (an expired form, a body too large) as a page for the
    learner; the learner's other pages here answer as every page of the site does."""
    status = exc.code or 500
    detail = (EXPIRED_FORM if isinstance(exc, CSRFError) else exc.description) or ""
    response = (make_response(error_response(status, detail))
                if not request.path.startswith(AUTHORIZE) else _page(status, detail))
    # A 405 says what the address allows (RFC 9110 §15.5.6).
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.route(AUTHORIZE, methods=["GET", "POST"])
def authorize() -> Any:
    refused = insecure()
    if refused is not None:
        return _refused_here(refused)
    server = authorization_server()
    learner = current_learner()
    if learner is None:
        return _sign_in_first()
    try:
        grant = server.get_consent_grant(end_user=learner)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return server.handle_error_response(None, error)
        return _refused_here(error)
    if request.method == "GET":
        client = grant.client.metadata
        scopes = [(scope, SCOPES[scope]) for scope in grant.request.scope.split()]
        response = make_response(render_template(
            "ob_api/authorize.html", client=client, scopes=scopes, learner=learner))
        # The page carries a form that grants access: it is never framed or cached.
        response.headers["Cache-Control"] = "no-store"
        # The form's answer redirects to the client: CSP form-action covers redirects, so
        # the client's origin is allowed for this page's form, and nothing else is.
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {_origin(grant.redirect_uri)}")
        return response
    allowed = request.form.get("decision") == "allow"
    return server.create_authorization_response(grant_user=learner if allowed else None,
                                                grant=grant)


@bp.get("/ims/ob/v3p0/terms")
def terms() -> str:
    """The terms of service and privacy policy the service description document names."""
    return render_template("ob_api/terms.html", scopes=SCOPES)


#: The picture registrations name as this service's logo (RFC 7591 ``logo_uri``).
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" '
        'aria-label="Open Badges issuer"><circle cx="32" cy="28" r="20" fill="#1f5f8b"/>'
        '<path d="M20 44 16 60l16-8 16 8-4-16" fill="#1f5f8b"/>'
        '<path d="m24 28 6 6 12-12" stroke="#fff" stroke-width="5" fill="none"/></svg>')


@bp.get("/ims/ob/v3p0/logo.svg")
def logo() -> Response:
    response = Response(LOGO, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
