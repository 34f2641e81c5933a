"""API tokens for an issuer: list, create (the plain token is shown once), revoke."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from issuer.services.errors import Invalid
from issuer.services.tokens import create_token, list_tokens, revoke_token
from issuer.storage.models import Issuer
from issuer.web.admin.common import member_issuer
from issuer.web.blueprints import admin as bp
from issuer.web.context import attempt, db, services
from issuer.web.forms import Form
from issuer.web.security import login_required


def _render(issuer: Issuer, form: Form, new_token: str | None = None,
            status: int = 200) -> Any:
    page = render_template("admin/tokens.html", issuer=issuer, form=form,
                           tokens=list_tokens(db(), issuer), new_token=new_token)
    # A page carrying a new token must not be kept by the browser or a proxy.
    headers = {"Cache-Control": "no-store"} if new_token else {}
    return page, status, headers


@bp.route("/issuers/<slug>/tokens")
@login_required
def tokens(slug: str) -> Any:
    return _render(member_issuer(slug), Form())


@bp.route("/issuers/<slug>/tokens", methods=["POST"], endpoint="create_token")
@login_required
def create(slug: str) -> Any:
    issuer = member_issuer(slug)
    form = Form.from_request(["name"])
    try:
        with attempt():
            _, plain = create_token(db(), services(), issuer, form.get("name"))
    except Invalid as exc:
        form.absorb(exc)
        return _render(issuer, form, status=422)
    # The plain token goes into this one response only: not into the session (flash is
    # stored in the cookie), a redirect, or a log line.
    return _render(issuer, Form(), new_token=plain)


@bp.route("/issuers/<slug>/tokens/<int:token_id>/revoke", methods=["POST"], endpoint="revoke_token")
@login_required
def revoke(slug: str, token_id: int) -> Any:
    issuer = member_issuer(slug)
    revoke_token(db(), services(), issuer, token_id)
    flash("The token is revoked: programs using it can no longer award badges.", "success")
    return redirect(url_for("admin.tokens", slug=issuer.slug))
