"""The learner's pages: home, claims with evidence, links for peers; and the peer's page.

Every view reads the signed-in learner and calls one use case in ``issuer.services.claims``
or ``issuer.services.attestations``; what it changed is kept only when the answer is a
success (:mod:`issuer.web.context`). A claim that is not the learner's own answers 404, as
if it did not exist.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from issuer.services import claims as claim_service
from issuer.services.attestations import (
    create_request,
    link,
    requests_of,
    resend_request,
    token_hash,
)
from issuer.services.claim_policy import is_open, policy_for
from issuer.services.errors import Conflict, Invalid
from issuer.services.evidence_files import ALLOWED_WORDS, describe_size, max_bytes
from issuer.storage.learning import AttestationRequest, Claim
from issuer.web.blueprints import learner_claims as bp
from issuer.web.context import db, services
from issuer.web.errors import error_response, wants_json
from issuer.web.forms import Form
from issuer.web.learner.attest import claim_view
from issuer.web.learner.session import current_learner, learner_required, signed_in_learner
from issuer.web.security import current_user

#: Room for the text fields and multipart framing around an evidence file.
FORM_OVERHEAD = 256 * 1024
#: Links made in this browser, shown again on reload; only the newest few are kept.
PEER_LINKS = "peer_links"
KEPT_LINKS = 5
EVIDENCE_FIELDS = ("url", "title", "narrative", "activity_date", "activity_end_date",
                   "cpd_hours", "participatory_hours", "cpd_category", "reflection",
                   "practice_change", "framework_reference", "public")


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Evidence files may be larger than the site-wide request limit. This has to be set before
    # the CSRF check reads the form, and URL value preprocessors run before any
    # before_request function.
    if endpoint == "learner_claims.add_evidence":
        request.max_content_length = max_bytes(services()) + FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Any:
    if request.endpoint != "learner_claims.add_evidence":
        return error_response(413, "The form is larger than this service accepts.")
    limit = describe_size(max_bytes(services()))
    return error_response(413, f"The file is too large. Evidence files may be at most "
                               f"{limit}; attach a smaller file or give a link instead.")



def own(public_id: str) -> Claim:
    """The signed-in learner's claim ``public_id`` (404 for anyone else's)."""
    return claim_service.own_claim(db(), signed_in_learner(), public_id)


def absorb_notes(form: Form, exc: Invalid) -> None:
    """A use case's ``Invalid`` on the form: each field's own note (the full sentence
    when only one field is named)."""
    if not exc.fields:
        form.error(None, exc.message)
    for name, note in exc.fields.items():
        form.error(name, exc.message if len(exc.fields) == 1 else note)


def _render_claim(claim: Claim, *, status: int = 200, evidence_form: Form | None = None,
                  statement_form: Form | None = None, request_form: Form | None = None,
                  action_error: str | None = None) -> tuple[str, int]:
    policy = policy_for(db(), claim.achievement)
    # The category is the learner's own, per item: the badge's category is only suggested in
    # the hint, never filled in (a pre-filled value was saved unread for every item).
    evidence_form = evidence_form or Form()
    page = render_template(
        "learner/claim.html", claim=claim, view=claim_view(db(), claim),
        suggested_category=policy.cpd_category,
        progress=claim_service.progress(db(), claim), words=claim_service.STATUS_WORDS,
        editable=claim.status in claim_service.EDITABLE,
        open=claim.status in claim_service.OPEN,
        evidence_form=evidence_form,
        statement_form=statement_form or Form({"statement": claim.statement or ""}),
        request_form=request_form or Form(), action_error=action_error,
        requests=requests_of(db(), services(), claim),
        max_file=describe_size(max_bytes(services())), allowed_words=ALLOWED_WORDS)
    return page, status


@bp.get("/learn/")
@learner_required
def home() -> Any:
    learner = signed_in_learner()
    mine = claim_service.claims_of(db(), learner)
    return render_template(
        "learner/home.html", learner=learner, claims=mine,
        progress={c.id: claim_service.progress(db(), c) for c in mine},
        words=claim_service.STATUS_WORDS, claimable=claim_service.claimable(db()))


@bp.route("/learn/claims/new", methods=["GET", "POST"])
@learner_required
def new_claim() -> Any:
    source = request.form if request.method == "POST" else request.args
    achievement = claim_service.find_achievement(db(), source.get("issuer", ""),
                                                 source.get("achievement", ""))
    learner = signed_in_learner()
    existing = claim_service.active_claim(db(), learner, achievement)
    if existing is not None:
        flash("You already have a claim for this badge; here it is.", "info")
        return redirect(url_for(".claim", public_id=existing.public_id))
    form = Form({"statement": request.form.get("statement", ""),
                 "recipient_name": request.form.get("recipient_name",
                                                    learner.display_name or "")})
    policy = policy_for(db(), achievement)
    if not is_open(db(), achievement):
        return error_response(403, "This badge is not open to claims.")
    if request.method == "POST":
        try:
            # A form without the field (an older page) keeps the profile name.
            claim = claim_service.start_claim(
                db(), services(), learner, achievement, statement=form.get("statement"),
                recipient_name=(form.get("recipient_name")
                                if "recipient_name" in request.form else None))
        except Invalid as exc:
            if wants_json():
                raise
            absorb_notes(form, exc)
        else:
            flash("Your claim is started. Add your evidence, then ask your peers.", "success")
            return redirect(url_for(".claim", public_id=claim.public_id))
    return render_template("learner/claim_new.html", achievement=achievement, policy=policy,
                           form=form), 200 if form.valid else 422


@bp.get("/learn/claims/<public_id>")
@learner_required
def claim(public_id: str) -> Any:
    return _render_claim(own(public_id))


@bp.post("/learn/claims/<public_id>/statement")
@learner_required
def statement(public_id: str) -> Any:
    claim = own(public_id)
    form = Form.from_request(["statement"])
    try:
        claim_service.set_statement(db(), services(), signed_in_learner(), claim,
                                    form.get("statement"))
    except Invalid as exc:
        if wants_json():
            raise
        absorb_notes(form, exc)
        return _render_claim(claim, status=422, statement_form=form)
    flash("Your statement is saved.", "success")
    return redirect(url_for(".claim", public_id=claim.public_id))


@bp.post("/learn/claims/<public_id>/evidence")
@learner_required
def add_evidence(public_id: str) -> Any:
    claim = own(public_id)
    form = Form.from_request(EVIDENCE_FIELDS)
    upload = request.files.get("file")
    data = upload.read() if upload is not None and upload.filename else None
    item = claim_service.EvidenceInput(
        url=form.get("url"), title=form.get("title"), narrative=form.get("narrative"),
        activity_date=form.get("activity_date"),
        activity_end_date=form.get("activity_end_date"), cpd_hours=form.get("cpd_hours"),
        participatory_hours=form.get("participatory_hours"),
        cpd_category=form.get("cpd_category"), reflection=form.get("reflection"),
        practice_change=form.get("practice_change"),
        framework_reference=form.get("framework_reference"),
        public=form.get("public") == "yes",
        file_name=upload.filename if upload is not None else None, file_data=data)
    try:
        claim_service.add_evidence(db(), services(), signed_in_learner(), claim, item)
    except Invalid as exc:
        if wants_json():
            raise
        absorb_notes(form, exc)
        if data:
            form.error("file", "Choose the file again: files are not kept when the form has "
                               "a problem.")
        return _render_claim(claim, status=422, evidence_form=form)
    flash("The evidence is added.", "success")
    return redirect(url_for(".claim", public_id=claim.public_id) + "#evidence")


@bp.post("/learn/claims/<public_id>/evidence/<int:evidence_id>/delete")
@learner_required
def remove_evidence(public_id: str, evidence_id: int) -> Any:
    claim = own(public_id)
    claim_service.remove_evidence(db(), services(), signed_in_learner(), claim, evidence_id)
    flash("The evidence is removed.", "success")
    return redirect(url_for(".claim", public_id=claim.public_id) + "#evidence")


@bp.get("/learn/claims/<public_id>/evidence/<int:evidence_id>/file")
def evidence_file(public_id: str, evidence_id: int) -> Any:
    learner, user = current_learner(), current_user()
    if learner is None and user is None:
        return redirect(url_for("learner_auth.sign_in_form", next=request.full_path))
    found = claim_service.find_claim(db(), public_id)
    item = claim_service.evidence_file(db(), found, evidence_id, learner=learner, user=user)
    data = item.file_data or b""
    mimetype = item.media_type or "application/octet-stream"
    if mimetype == "text/plain":
        mimetype = "text/plain; charset=utf-8"
    response: Response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                                   download_name=item.file_name or "evidence", max_age=0,
                                   etag=item.sha256 or False)
    # Private evidence must not stay in shared caches, and a file is never run as a page.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/learn/claims/<public_id>/submit")
@learner_required
def submit(public_id: str) -> Any:
    claim = own(public_id)
    try:
        claim_service.submit_claim(db(), services(), signed_in_learner(), claim)
    except (Invalid, Conflict) as exc:
        if wants_json():
            raise
        return _render_claim(claim, status=422 if isinstance(exc, Invalid) else 409,
                             action_error=exc.message)
    flash("Your claim is sent to the reviewers. Peers can still attest while it waits.",
          "success")
    return redirect(url_for(".claim", public_id=claim.public_id))


@bp.post("/learn/claims/<public_id>/withdraw")
@learner_required
def withdraw(public_id: str) -> Any:
    claim = own(public_id)
    claim_service.withdraw_claim(db(), services(), signed_in_learner(), claim)
    flash("Your claim is withdrawn. You can start a new claim for this badge at any time.",
          "success")
    return redirect(url_for(".home"))


@bp.post("/learn/claims/<public_id>/requests")
@learner_required
def request_attestation(public_id: str) -> Any:
    claim = own(public_id)
    form = Form.from_request(["email", "note"])
    try:
        row, token = create_request(db(), services(), signed_in_learner(), claim,
                                    email=form.get("email"), note=form.get("note"))
    except Invalid as exc:
        if wants_json():
            raise
        absorb_notes(form, exc)
        return _render_claim(claim, status=422, request_form=form)
    return _show_link(claim, row.id, token)


def _show_link(claim: Claim, request_id: int, token: str) -> Any:
    """Post/Redirect/Get: the new link is kept in this browser's session (the database keeps
    only its digest) and shown by a GET, so reloading the page does not make another."""
    kept = dict(session.get(PEER_LINKS) or {})
    kept.pop(str(request_id), None)
    kept[str(request_id)] = token
    session[PEER_LINKS] = dict(list(kept.items())[-KEPT_LINKS:])
    return redirect(url_for(".peer_link", public_id=claim.public_id, request_id=request_id))


@bp.get("/learn/claims/<public_id>/requests/<int:request_id>")
@learner_required
def peer_link(public_id: str, request_id: int) -> Any:
    claim = own(public_id)
    row = db().get(AttestationRequest, request_id)
    token = (session.get(PEER_LINKS) or {}).get(str(request_id))
    if (row is None or row.claim_id != claim.id or not isinstance(token, str)
            or token_hash(token) != row.token_hash):
        flash("That link was shown when it was made and is not kept. Send the request again "
              "or make a new link.", "info")
        return redirect(url_for(".claim", public_id=claim.public_id) + "#attestations")
    return render_template("learner/claim_link.html", claim=claim,
                           link=link(services(), token), emailed_to=row.email)


@bp.post("/learn/claims/<public_id>/requests/<int:request_id>/resend")
@learner_required
def resend(public_id: str, request_id: int) -> Any:
    claim = own(public_id)
    try:
        row, token = resend_request(db(), services(), signed_in_learner(), claim, request_id)
    except Conflict as exc:
        if wants_json():
            raise
        return _render_claim(claim, status=409, action_error=exc.message)
    flash(f"A new link is on its way to {row.email}; the one sent before no longer works.",
          "success")
    return _show_link(claim, row.id, token)
