"""Pages for an issuer's staff: sign in, dashboard, the issuer's page.

Achievements, awards and credentials, and API tokens live in ``admin_*`` modules that add
their routes to this blueprint. Every page needs a signed-in staff member, and every page and
write under ``/admin/issuers/<slug>`` first checks that they belong to that issuer.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from issuer.services.achievements import list_achievements
from issuer.services.awards import credential_url, search_credentials
from issuer.services.issuers import issuer_did, issuer_url
from issuer.services.users import authenticate, issuers_of
from issuer.web.admin.common import counts, member_issuer, safe_next, staff
from issuer.web.blueprints import admin as bp
from issuer.web.context import db, services
from issuer.web.forms import Form
from issuer.web.security import current_user, login_required

LOGIN_FAILED = "The email or password is wrong."


@bp.context_processor
def _admin_context() -> dict[str, Any]:
    ctx = services()
    return {"staff_user": current_user(),
            "public_link": lambda credential_id: credential_url(ctx, credential_id)}


@bp.get("/login")
def login() -> Any:
    target = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(target or url_for("admin.dashboard"))
    return render_template("admin/login.html", form=Form({"next": target or ""}))


@bp.post("/login")
def login_submit() -> Any:
    form = Form.from_request(["email", "next"])
    user = authenticate(db(), services(), form.get("email"),
                        request.form.get("password", ""))
    if user is None:
        # One message for unknown email and wrong password: never reveal which accounts exist.
        form.error(None, LOGIN_FAILED)
        return render_template("admin/login.html", form=form), 401
    # A fresh session at sign-in, so an id planted before sign-in is worthless (fixation).
    session.clear()
    session["user_id"] = user.id
    flash(f"Signed in as {user.email}.", "success")
    return redirect(safe_next(form.get("next")) or url_for("admin.dashboard"))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def dashboard() -> Any:
    issuers = issuers_of(db(), staff())
    return render_template("admin/dashboard.html", issuers=issuers, counts=counts(issuers))


@bp.get("/issuers/<slug>")
@login_required
def issuer(slug: str) -> Any:
    current = member_issuer(slug)
    ctx = services()
    return render_template(
        "admin/issuer.html",
        issuer=current,
        achievements=list_achievements(db(), current),
        recent=search_credentials(db(), current, limit=10),
        public_url=issuer_url(ctx, current.slug),
        did=issuer_did(ctx, current),
    )

