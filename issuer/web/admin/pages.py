"""Pages for an issuer's staff: sign in, dashboard, the issuer's page.

Achievements, awards and credentials, and API tokens live in ``admin_*`` modules that add
their routes to this blueprint. Every page needs a signed-in staff member, and every page and
write under ``/admin/issuers/<slug>`` first checks that they belong to that issuer.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from issuer.services import sign_in_throttle, staff_sessions
from issuer.services.achievements import list_achievements
from issuer.services.awards import credential_url, search_credentials
from issuer.services.issuers import issuer_did, issuer_url
from issuer.services.users import authenticate, issuers_of
from issuer.web.admin.common import counts, member_issuer, safe_next, staff
from issuer.web.blueprints import admin as bp
from issuer.web.context import db, keep, services
from issuer.web.forms import Form
from issuer.web.security import current_user, login_required, sign_in, sign_out

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
    email, address, ctx = form.get("email"), request.remote_addr, services()
    # Before the password is checked: a limited attempt learns nothing about it (429).
    sign_in_throttle.check(db(), ctx, email, address)
    user = authenticate(db(), ctx, email, request.form.get("password", ""))
    if user is None:
        # The answer is an error, whose transaction rolls back: the count is kept apart.
        keep(lambda session: sign_in_throttle.record_failure(session, ctx, email, address))
        # One message for unknown email and wrong password: never reveal which accounts exist.
        form.error(None, LOGIN_FAILED)
        return render_template("admin/login.html", form=form), 401
    sign_in_throttle.forget(db(), email, address)
    sign_in(user)
    flash(f"Signed in as {user.email}.", "success")
    return redirect(safe_next(form.get("next")) or url_for("admin.dashboard"))


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for("admin.login"))


@bp.post("/sessions/end-all")
@login_required
def end_all_sessions() -> Response:
    """Sign out everywhere: every session of this staff member ends, this one too."""
    staff_sessions.end_all(db(), services(), staff())
    sign_out()
    flash("You are signed out everywhere.", "success")
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

