"""Staff pages to revoke, suspend and reinstate badges: one at a time, or many at once.

One badge: the forms on its staff page. Many: tick them in the list of awarded badges, or
upload a CSV file of badge ids or links; either way a confirmation page shows exactly what
will be revoked and what is left out (and why) before anything changes. Revoking is
permanent (W3C Bitstring Status List §2.1), so it always needs a reason and a ticked box.
Every change is kept with who made it, when and why.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from issuer.core.errors import InputError
from issuer.services.errors import Conflict, Invalid
from issuer.services.revocation import (
    ACTIONS,
    MAX_BULK,
    REINSTATE,
    REVOKE,
    SUSPEND,
    change_status,
    own_credential,
    plan_revocation,
    references_from_csv,
    revoke_many,
)
from issuer.storage.models import Issuer
from issuer.web.admin.awards import render_credential
from issuer.web.admin.common import member_issuer, staff
from issuer.web.blueprints import admin as bp
from issuer.web.context import attempt, db, services
from issuer.web.forms import Form
from issuer.web.security import login_required

DONE = {REVOKE: "revoked", SUSPEND: "suspended", REINSTATE: "reinstated"}
CONFIRM_REVOKE = "Tick the box to confirm: revoking cannot be undone."


def reason_field(action: str) -> str:
    return f"{action}_reason"


@bp.post("/issuers/<slug>/credentials/<cid>/status")
@login_required
def change_credential_status(slug: str, cid: str) -> Any:
    issuer = member_issuer(slug)
    row = own_credential(db(), issuer, cid)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        raise InputError("choose to revoke, suspend or reinstate the badge")
    form = Form.from_request([reason_field(action), "revoke_confirm"])
    if action == REVOKE and not form.get("revoke_confirm"):
        form.error("revoke_confirm", CONFIRM_REVOKE)
    code = 422
    if form.valid:
        try:
            with attempt():  # nothing of a refused change is kept
                change_status(db(), services(), issuer, row.id, action,
                              reason=form.optional(reason_field(action)),
                              actor=staff().email)
        except Invalid as exc:
            form.absorb(exc, rename={"reason": reason_field(action)})
        except Conflict as exc:
            form.error(None, exc.message)
            code = 409
        else:
            flash(f"The badge is {DONE[action]}.", "success")
            return redirect(url_for("admin.credential", slug=issuer.slug, cid=row.id), 303)
    return render_credential(issuer, row, form, action, code)


# --- many at once --------------------------------------------------------------------------


def _confirm_page(issuer: Issuer, references: list[str], form: Form, *,
                  source: str, status: int = 200) -> tuple[str, int]:
    plan = plan_revocation(db(), services(), issuer, references)
    return render_template("admin/revoke_confirm.html", issuer=issuer, plan=plan, form=form,
                           source=source), status


@bp.post("/issuers/<slug>/credentials/revoke")
@login_required
def revoke_selected(slug: str) -> Any:
    """Ticked in the list (or read from a file): first the confirmation, then the change."""
    issuer = member_issuer(slug)
    references = request.form.getlist("credential")
    source = "file" if request.form.get("source") == "file" else "list"
    form = Form.from_request(["reason", "confirm"])
    if not references:
        flash("Tick the badges to revoke first.", "error")
        return redirect(url_for("admin.credentials", slug=issuer.slug), 303)
    if len(references) > MAX_BULK:
        raise InputError(f"revoke at most {MAX_BULK:,} badges at a time")
    if request.form.get("step") != "confirm":
        return _confirm_page(issuer, references, Form(), source=source)
    if not form.get("confirm"):
        form.error("confirm", CONFIRM_REVOKE)
    if form.valid:
        try:
            with attempt():
                result = revoke_many(db(), services(), issuer, references,
                                     reason=form.optional("reason"), actor=staff().email)
        except Invalid as exc:
            form.absorb(exc, rename={"credentials": None})
        else:
            return render_template("admin/revoke_done.html", issuer=issuer, result=result,
                                   reason=form.optional("reason"))
    return _confirm_page(issuer, references, form, source=source, status=422)


def _file_page(issuer: Issuer, form: Form, status: int = 200) -> tuple[str, int]:
    return render_template("admin/revoke_file.html", issuer=issuer, form=form,
                           limit=MAX_BULK), status


@bp.get("/issuers/<slug>/revoke-file")
@login_required
def revoke_file(slug: str) -> Any:
    return _file_page(member_issuer(slug), Form())


@bp.post("/issuers/<slug>/revoke-file")
@login_required
def revoke_file_submit(slug: str) -> Any:
    """A CSV of badge ids or links → the confirmation page (nothing is revoked yet)."""
    issuer = member_issuer(slug)
    form = Form()
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    if upload is None or not upload.filename:
        form.error("file", "Choose the CSV file with the badges to revoke.")
        return _file_page(issuer, form, 422)
    try:
        references = references_from_csv(data)
    except Invalid as exc:
        form.error("file", exc.message)
        return _file_page(issuer, form, 422)
    if not references:
        form.error("file", "The file lists no badges: put one badge id or link per row.")
        return _file_page(issuer, form, 422)
    if len(references) > MAX_BULK:
        form.error("file", f"The file lists {len(references):,} badges; revoke at most "
                           f"{MAX_BULK:,} at a time.")
        return _file_page(issuer, form, 422)
    return _confirm_page(issuer, references, Form(), source="file")
