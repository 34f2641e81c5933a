"""An issuer's signing keys for its staff: the report, rotation, and reporting a compromise.

The same use cases as ``issuer keys rotate|retire|report`` (:mod:`issuer.services.keys`).
Every view first checks that the signed-in staff member belongs to the issuer, and a key is
only ever looked up among that issuer's own keys.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from issuer.core.errors import InputError
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.issuers import issuer_did
from issuer.services.keys import (
    find_key,
    key_report,
    parse_moment,
    report_compromised,
    rotate_key,
    stamp,
)
from issuer.storage.models import Issuer
from issuer.web.admin.common import member_issuer
from issuer.web.blueprints import admin as bp
from issuer.web.context import attempt, db, services
from issuer.web.forms import Form
from issuer.web.security import login_required

FIELDS = ["key", "date", "time", "confirm"]


def _render(issuer: Issuer, form: Form, status: int = 200) -> Any:
    ctx = services()
    return render_template(
        "admin/keys.html", issuer=issuer, form=form, keys=key_report(db(), ctx, issuer),
        did=issuer_did(ctx, issuer), stamp=stamp,
    ), status


@bp.get("/issuers/<slug>/keys")
@login_required
def keys(slug: str) -> Any:
    return _render(member_issuer(slug), Form())


@bp.post("/issuers/<slug>/keys/rotate")
@login_required
def rotate_key_now(slug: str) -> Any:
    issuer = member_issuer(slug)
    new = rotate_key(db(), services(), issuer)
    flash(f"{new.fragment} now signs the badges {issuer.name} awards. The earlier keys stay "
          "published, so the badges they signed keep verifying.", "success")
    return redirect(url_for("admin.keys", slug=issuer.slug))


@bp.post("/issuers/<slug>/keys/compromised")
@login_required
def report_compromised_key(slug: str) -> Any:
    issuer = member_issuer(slug)
    ctx = services()
    form = Form.from_request(FIELDS)
    fragment = form.required("key", "choose the key")
    day = form.required("date", "enter the date the key was compromised")
    hour = form.optional("time")
    if form.get("confirm") != "yes":
        form.error("confirm", "tick the box to confirm that you understand what happens")
    since = None
    if day is not None:
        try:
            since = parse_moment(f"{day}T{hour}Z" if hour else day)
        except InputError:
            form.error("time" if hour else "date",
                       "enter a date like 2025-03-01 and, if you know it, a time like 14:30")
    if not form.valid or fragment is None or since is None:
        return _render(issuer, form, 422)
    try:
        with attempt():
            key = find_key(db(), ctx, fragment, issuer=issuer)
            done = report_compromised(db(), ctx, key, since)
    except NotFound as exc:
        form.error("key", exc.message)
        return _render(issuer, form, 422)
    except Invalid as exc:
        form.absorb(exc, rename={"since": "date"})
        return _render(issuer, form, 422)
    except Conflict as exc:
        form.error("date", exc.message)
        return _render(issuer, form, 422)
    message = f"{done.key.fragment} is reported compromised since {stamp(done.since)}. "
    if done.affected == 1:
        message += "1 badge signed with it from then on no longer verifies: re-issue it."
    elif done.affected:
        message += (f"{done.affected} badges signed with it from then on no longer verify: "
                    "re-issue them.")
    else:
        message += "No badge was signed with it from then on."
    if done.replacement is not None:
        message += (f" It was the signing key, so {done.replacement.fragment} signs new "
                    "badges from now on.")
    flash(message, "success")
    return redirect(url_for("admin.keys", slug=issuer.slug))


__all__ = ["keys", "report_compromised_key", "rotate_key_now"]
