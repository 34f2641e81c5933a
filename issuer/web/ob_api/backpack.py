"""The learner's backpack: badges other applications stored for them through the Open
Badges 3.0 API (upsertCredential), each with what the verifier said when it arrived; and
"Send to my backpack", which stores one of their badges on another host's API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for

from issuer.core.datetimes import format_datetime
from issuer.services import ob_api_consumer, ob_api_credentials, profiles
from issuer.services.ob_api_consumer import SendFailed
from issuer.storage.ob_api import UpsertedCredential
from issuer.web.blueprints import ob_api_consent as bp
from issuer.web.context import db, services
from issuer.web.learner.session import learner_required, signed_in_learner


@dataclass(frozen=True)
class StoredBadge:
    row: UpsertedCredential
    warnings: list[str]

    @property
    def received(self) -> str:
        return format_datetime(self.row.received_at)


def _card(row: UpsertedCredential) -> StoredBadge:
    checks = row.verification.get("checks", []) if isinstance(row.verification, dict) else []
    warnings = [str(c.get("message", "")) for c in checks
                if isinstance(c, dict) and c.get("outcome") in ("warning", "skipped")]
    return StoredBadge(row, warnings)



@bp.get("/learn/backpack")
@learner_required
def backpack() -> Any:
    learner = signed_in_learner()
    rows = ob_api_credentials.upserted_credentials(db(), learner)
    return render_template("ob_api/backpack.html", badges=[_card(r) for r in rows],
                           profile_url=profiles.profile_url(services(), learner))


@bp.post("/learn/backpack")
@learner_required
def backpack_remove() -> Any:
    """Remove a stored badge (the default action), or show it on the learner's public
    profile or hide it from there."""
    raw = request.form.get("badge", "")
    action = request.form.get("action", "remove")
    if not raw.isdigit() or len(raw) > 12 or action not in ("remove", "show", "hide"):
        flash("Choose a badge and what to do with it.")
        return redirect(url_for("ob_api_consent.backpack"))
    if action == "remove":
        ob_api_credentials.remove_upserted(db(), signed_in_learner(), int(raw))
        flash("The badge was removed from your backpack.")
        return redirect(url_for("ob_api_consent.backpack"))
    row = ob_api_credentials.set_upserted_shown(db(), signed_in_learner(), int(raw),
                                                action == "show")
    flash("The badge is now on your public profile." if row.shown
          else "The badge is now hidden from your public profile.")
    return redirect(url_for("ob_api_consent.backpack") + f"#stored-{row.id}", code=303)


# --- sending a badge to another backpack (Service Consumer) --------------------------------


@bp.get("/learn/backpack/send")
@learner_required
def send_form() -> Any:
    learner = signed_in_learner()
    profiles.link_badges(db(), learner)
    owned = [b for b in profiles.owned_badges(db(), services(), learner) if b.valid]
    return render_template("ob_api/send.html", badges=owned,
                           chosen=request.args.get("credential", ""))


@bp.post("/learn/backpack/send")
@learner_required
def send_start() -> Any:
    credential = request.form.get("credential", "")
    try:
        started = ob_api_consumer.start_send(db(), services(), signed_in_learner(), credential[:36],
                                             request.form.get("address", ""))
    except SendFailed as exc:
        flash(exc.message)
        return redirect(url_for("ob_api_consent.send_form", credential=credential[:36]))
    # A link rather than a redirect: the site's CSP lets forms lead to this site only.
    return render_template("ob_api/send_continue.html", started=started,
                           where=started.host.title or urlsplit(started.host.api_base).netloc)


@bp.get(ob_api_consumer.CALLBACK_PATH)
@learner_required
def send_callback() -> Any:
    try:
        outcome = ob_api_consumer.finish_send(
            db(), services(), signed_in_learner(), state=request.args.get("state"),
            code=request.args.get("code"), error=request.args.get("error"))
    except SendFailed as exc:
        flash(exc.message)
        return redirect(url_for("ob_api_consent.send_form"))
    flash(outcome)
    return redirect(url_for("ob_api_consent.send_form"))
