"""Staff pages of the informal-learning workflow: the review queue, one claim and its decision,
the claim policy of an achievement, and endorsements between organisations.

Every page and every write first checks that the signed-in staff member belongs to the issuer
in the URL (403 otherwise), and that the claim or achievement belongs to that issuer (404).
Public pages get the verified endorsements through :func:`public_endorsements`.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from issuer.services import audit
from issuer.services.achievements import get_achievement, list_achievements
from issuer.services.attestation_endorsements import peer_label
from issuer.services.attestation_results import scaffolding_level
from issuer.services.attestation_scaffolding import LEVELS, level_words
from issuer.services.attestation_wording import ATTESTATION_KINDS
from issuer.services.awards import credential_url
from issuer.services.claim_policy import policy_for, set_policy
from issuer.services.endorsements import (
    EndorsementView,
    endorse,
    endorsements_for,
    endorsements_given,
    endorsements_received,
    import_endorsement,
    view,
)
from issuer.services.errors import Conflict, Invalid
from issuer.services.issuers import issuer_did
from issuer.services.reviews import (
    REVIEW_STATUSES,
    approval_blocker,
    approve,
    claim_trail,
    get_claim,
    maybe_auto_approve,
    peer_attestations,
    reject,
    return_for_revision,
    review_queue,
)
from issuer.storage.learning import Claim
from issuer.storage.models import Achievement, Issuer
from issuer.web.admin.common import member_issuer, staff
from issuer.web.admin.review_answers import review_attestations
from issuer.web.blueprints import reviews as bp
from issuer.web.context import Undo, attempt, db, services
from issuer.web.forms import Form
from issuer.web.public.view import web_url
from issuer.web.security import current_user, login_required

STATUS_WORDS = {"submitted": "Waiting for review", "returned": "Returned for revision",
                "approved": "Approved", "rejected": "Not approved", "draft": "Draft"}
ACTION_WORDS = {
    "claim.started": "Claim started", "claim.statement_changed": "Statement changed",
    "claim.submitted": "Claim submitted", "claim.withdrawn": "Claim withdrawn",
    "evidence.added": "Evidence added", "evidence.removed": "Evidence removed",
    "attestation.requested": "Attestation requested", "attestation.given": "Peer attested",
    "attestation.resent": "Attestation request sent again",
    "claim.approved": "Approved by a reviewer", "claim.auto_approved": "Approved automatically",
    "claim.rejected": "Not approved", "claim.returned": "Returned for revision",
    "credential.issued": "Badge issued",
    "claim.auto_approval_failed": "Automatic approval failed; waiting for a reviewer",
    "claim.suggested": "Suggested from a community's export",
    "evidence.captured": "Cited page captured",
    "traces.imported": "Community archive imported",
    "traces.picked": "Help from a community archive chosen as evidence",
    # Written without a claim, so no claim's history shows them today; worded all the
    # same, so a trail that does list them never shows a raw name.
    "policy.updated": "Claim policy changed",
    "policy.measures_updated": "Thresholds of measured help changed",
    "suggestions.uploaded": "Community export uploaded",
    "endorsement.issued": "Endorsement issued", "endorsement.imported": "Endorsement imported",
    "transcript.issued": "Transcript issued",
    "profile.badge-shown": "Badge shown on the public profile",
    "profile.badge-hidden": "Badge hidden from the public profile",
    "profile.name-changed": "Display name changed",
    "learner.created": "Account created", "learner.signed_in": "Signed in",
}
#: Endorsements verified on one public page: each is a signature check.
PUBLIC_LIMIT = 20
MAX_UPLOAD = 256 * 1024


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"staff_user": current_user(), "status_words": STATUS_WORDS,
            "action_words": ACTION_WORDS, "web_url": web_url, "actor_words": actor_words}


def actor_words(actor: str) -> str:
    """An audit actor (``staff:…``, ``learner:…``, ``system``) as a reviewer reads it."""
    role, _, who = actor.partition(":")
    if not who:
        return "the system" if actor == "system" else actor
    return {"staff": f"{who} (staff)", "learner": f"{who} (learner)",
            "peer": f"{who} (peer)"}.get(role, actor)


@bp.app_context_processor
def _public_context() -> dict[str, Any]:
    return {"public_endorsements": public_endorsements}


def public_endorsements(issuer: Issuer, achievement: Achievement | None = None,
                        ) -> list[EndorsementView]:
    """Endorsements of ``issuer`` (or ``achievement``), each verified now (OB 3.0 §9.2)."""
    rows = endorsements_for(db(), issuer, achievement)[:PUBLIC_LIMIT]
    return [view(db(), services(), row) for row in rows]


# --- the queue and one claim --------------------------------------------------------------


def _auto_approve_pending(issuer: Issuer) -> None:
    """Safety net: approve claims whose policy needs no reviewer and whose attestations are
    in, in case the attestation that completed them could not do it.

    The queue is a GET that writes on purpose: approvals commit with the page. When none
    succeeds nothing is kept, so an approval that keeps failing does not add its note to
    the audit trail on every look at the queue.
    """
    ready = [entry.claim for entry in review_queue(db(), issuer, "submitted")
             if entry.automatic and entry.complete]
    if not ready:
        return
    with attempt():
        approved = [claim for claim in ready
                    if maybe_auto_approve(db(), services(), claim) is not None]
        if not approved:
            raise Undo


@bp.get("/issuers/<slug>/reviews")
@login_required
def queue(slug: str) -> Any:
    issuer = member_issuer(slug)
    status = request.args.get("status", "").strip() or None
    if status not in (None, *REVIEW_STATUSES):
        status = None
    _auto_approve_pending(issuer)
    return render_template("reviews/queue.html", issuer=issuer, status=status,
                           statuses=REVIEW_STATUSES,
                           entries=review_queue(db(), issuer, status))


def _render_claim(issuer: Issuer, claim: Claim, form: Form | None = None,
                  status: int = 200) -> tuple[str, int]:
    ctx = services()
    policy = policy_for(db(), claim.achievement)
    attestations = peer_attestations(claim)
    required = policy.scaffolding_level_required or 0
    reached = scaffolding_level(attestations)
    page = render_template(
        "reviews/claim.html", issuer=issuer, claim=claim, policy=policy,
        attestations=review_attestations([(a, peer_label(ctx, claim, a))
                                          for a in attestations]),
        kinds=ATTESTATION_KINDS, blocker=approval_blocker(db(), claim),
        level_required=level_words(required) if required else None,
        level_reached=level_words(reached) if reached else None,
        trail=claim_trail(db(), claim), form=form or Form(),
        credential_link=credential_url(ctx, claim.credential_id) if claim.credential_id
        else None,
        total_hours=sum(e.cpd_hours or 0 for e in claim.evidence))
    return page, status


@bp.get("/issuers/<slug>/reviews/<public_id>")
@login_required
def claim_page(slug: str, public_id: str) -> Any:
    issuer = member_issuer(slug)
    return _render_claim(issuer, get_claim(db(), issuer, public_id))


@bp.post("/issuers/<slug>/reviews/<public_id>")
@login_required
def decide(slug: str, public_id: str) -> Any:
    issuer = member_issuer(slug)
    claim = get_claim(db(), issuer, public_id)
    form = Form.from_request(["decision", "comment"])
    decision = form.get("decision")
    reviewer = staff().email
    try:
        with attempt():
            if decision == "approve":
                row = approve(db(), services(), claim, reviewer, form.get("comment"))
                message = f"Approved. The badge {credential_url(services(), row.id)} was issued."
            elif decision == "reject":
                reject(db(), services(), claim, reviewer, form.get("comment"))
                message = "The claim was not approved; the learner has been told why."
            elif decision == "return":
                return_for_revision(db(), services(), claim, reviewer, form.get("comment"))
                message = "The claim was returned to the learner for revision."
            else:
                raise Invalid("choose approve, reject or return for revision",
                              {"decision": "unknown"})
    except Conflict as exc:
        form.error(None, exc.message)
        return _render_claim(issuer, get_claim(db(), issuer, public_id), form, 409)
    except Invalid as exc:
        form.absorb(exc, {"decision": None})
        return _render_claim(issuer, get_claim(db(), issuer, public_id), form, 422)
    flash(message, "success")
    return redirect(url_for("reviews.claim_page", slug=issuer.slug, public_id=claim.public_id))


# --- policy ---------------------------------------------------------------------------------


def _policy_form(achievement: Achievement) -> Form:
    policy = policy_for(db(), achievement)
    return Form({
        "attestations_required": str(policy.attestations_required),
        "review_required": "yes" if policy.review_required else "no",
        "attestation_kind": policy.attestation_kind,
        "cpd_category": policy.cpd_category or "",
        "open_to_claims": "yes" if policy.open_to_claims else "",
        "scaffolding_level_required": str(policy.scaffolding_level_required or 0),
    })


@bp.route("/issuers/<slug>/achievements/<a_slug>/policy", methods=["GET", "POST"])
@login_required
def policy(slug: str, a_slug: str) -> Any:
    issuer = member_issuer(slug)
    achievement = get_achievement(db(), issuer, a_slug)
    if request.method == "GET":
        return _render_policy(issuer, achievement, _policy_form(achievement))
    form = Form.from_request(["attestations_required", "review_required", "attestation_kind",
                              "cpd_category", "open_to_claims", "scaffolding_level_required"])
    if form.get("review_required") not in ("yes", "no"):
        form.error("review_required", "Choose who approves claims.")
    if form.valid:
        try:
            with attempt():
                set_policy(db(), services(), achievement, {
                    "attestations_required": form.get("attestations_required") or "0",
                    "review_required": form.get("review_required") == "yes",
                    "attestation_kind": form.get("attestation_kind"),
                    "cpd_category": form.get("cpd_category"),
                    "open_to_claims": bool(form.get("open_to_claims")),
                    "scaffolding_level_required":
                        form.get("scaffolding_level_required") or "0",
                }, actor=audit.staff_actor(staff().email))
        except Invalid as exc:
            form.absorb(exc)
    if not form.valid:
        return _render_policy(issuer, achievement, form, 422)
    flash(f"Saved how “{achievement.name}” is earned through claims.", "success")
    return redirect(url_for("reviews.policy", slug=issuer.slug, a_slug=achievement.slug))


def _render_policy(issuer: Issuer, achievement: Achievement, form: Form,
                   status: int = 200) -> tuple[str, int]:
    return render_template("reviews/policy.html", issuer=issuer, achievement=achievement,
                           form=form, kinds=ATTESTATION_KINDS, levels=LEVELS), status


# --- organisation endorsements ---------------------------------------------------------------


def _targets(issuer: Issuer) -> list[tuple[str, str]]:
    """What this issuer can endorse: every other issuer hosted here, and their badges."""
    others = db().scalars(select(Issuer).where(Issuer.id != issuer.id).order_by(Issuer.name))
    options: list[tuple[str, str]] = []
    for other in others:
        options.append((other.slug, f"{other.name} (the organisation)"))
        options.extend((f"{other.slug}/{a.slug}", f"{other.name} — badge “{a.name}”")
                       for a in list_achievements(db(), other))
    return options


def _render_endorsements(issuer: Issuer, form: Form | None = None, status: int = 200,
                         ) -> tuple[str, int]:
    ctx = services()
    received = [(row, view(db(), ctx, row))
                for row in endorsements_received(db(), issuer)[:PUBLIC_LIMIT]]
    given = [view(db(), ctx, row)
             for row in endorsements_given(db(), ctx, issuer)[:PUBLIC_LIMIT]]
    return render_template(
        "reviews/endorsements.html", issuer=issuer, form=form or Form(),
        targets=_targets(issuer), received=received, given=given,
        did=issuer_did(ctx, issuer), max_upload_kb=MAX_UPLOAD // 1024), status


@bp.get("/issuers/<slug>/endorsements")
@login_required
def endorsements(slug: str) -> Any:
    return _render_endorsements(member_issuer(slug))


def _uploaded_document() -> str | bytes:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise Invalid(f"the file is larger than {MAX_UPLOAD // 1024} KB",
                          {"document": "too large"})
        return data
    return request.form.get("document", "")


@bp.post("/issuers/<slug>/endorsements")
@login_required
def endorsements_submit(slug: str) -> Any:
    issuer = member_issuer(slug)
    form = Form.from_request(["action", "target", "comment"])
    actor = audit.staff_actor(staff().email)
    try:
        with attempt():
            if form.get("action") == "import":
                row = import_endorsement(db(), services(), issuer, _uploaded_document(),
                                         actor=actor)
                message = f"The endorsement by {row.endorser_name} verified and was saved."
            else:
                target, _, achievement_slug = form.get("target").partition("/")
                endorse(db(), services(), issuer, target_slug=target,
                        achievement_slug=achievement_slug or None,
                        comment=form.get("comment"), actor=actor)
                message = "Your endorsement was signed and is now shown on their public page."
    except Conflict as exc:
        form.error(None, exc.message)
        return _render_endorsements(issuer, form, 409)
    except Invalid as exc:
        form.absorb(exc)
        return _render_endorsements(issuer, form, 422)
    flash(message, "success")
    return redirect(url_for("reviews.endorsements", slug=issuer.slug))
