"""The learner's community traces: upload an archive, pick the acts of help that become
evidence, ask the people helped to attest, and capture a cited page.

Every view reads the signed-in learner and calls one use case of
:mod:`issuer.services.traces` or :mod:`issuer.services.captures`; a claim that is not the
learner's own answers 404. The archive upload has its own size limit
(``trace_upload_max_bytes``), set before the form is read; a file that cannot be read, or a
form with a mistake, is shown again with what is wrong (422), never a server error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from issuer.services import captures as capture_service
from issuer.services import claims as claim_service
from issuer.services import trace_provenance
from issuer.services import traces as trace_service
from issuer.services.errors import Conflict, Invalid
from issuer.services.evidence_files import describe_size
from issuer.services.trace_provenance import EvidenceTraces
from issuer.storage.learning import Claim
from issuer.storage.traces import TraceCapture, TraceImport
from issuer.web.blueprints import learner_traces as bp
from issuer.web.context import db, services
from issuer.web.errors import error_response, wants_json
from issuer.web.forms import Form
from issuer.web.learner.claims import absorb_notes, own
from issuer.web.learner.session import current_learner, learner_required, signed_in_learner
from issuer.web.security import current_user

#: Room for the other fields and the multipart framing around the archive.
FORM_OVERHEAD = 64 * 1024
UPLOAD_FIELDS = ("kind", "handle", "site")


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Set before the CSRF check reads the form: URL value preprocessors run before any
    # before_request function.
    if endpoint == "learner_traces.upload":
        request.max_content_length = (services().settings.trace_upload_max_bytes
                                      + FORM_OVERHEAD)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Any:
    limit = describe_size(services().settings.trace_upload_max_bytes)
    return error_response(413, f"The archive is too large: uploads may be at most {limit}. "
                               "Export one site, topic or list at a time.")





def _render_index(claim: Claim, *, form: Form | None = None, status: int = 200,
                  action_error: str | None = None) -> tuple[str, int]:
    learner = signed_in_learner()
    page = render_template(
        "learner/traces.html", claim=claim, form=form or Form({"kind": "posts_xml"}),
        sources=trace_service.SOURCES, imports=trace_service.imports_of(db(), learner, claim),
        helped=trace_service.helped_people(db(), claim),
        captures=_captures_by_record(claim), editable=claim.status in claim_service.EDITABLE,
        open=claim.status in claim_service.OPEN, action_error=action_error,
        max_upload=describe_size(services().settings.trace_upload_max_bytes))
    return page, status


def _captures_by_record(claim: Claim) -> dict[int, list[TraceCapture]]:
    found: dict[int, list[TraceCapture]] = {}
    for capture in trace_service.captures_of(db(), claim):
        found.setdefault(capture.evidence_record_id, []).append(capture)
    return found


@bp.get("/learn/claims/<public_id>/traces")
@learner_required
def index(public_id: str) -> Any:
    return _render_index(own(public_id))


@bp.post("/learn/claims/<public_id>/traces")
@learner_required
def upload(public_id: str) -> Any:
    claim = own(public_id)
    form = Form.from_request(UPLOAD_FIELDS)
    archive = request.files.get("file")
    try:
        trace_service.require_editable(claim, signed_in_learner())
        if archive is None or not archive.filename:
            raise Invalid("Choose the archive file to upload.", {"file": "choose a file"})
        row = trace_service.import_archive(
            db(), services(), signed_in_learner(), claim, kind=form.get("kind"),
            handle=form.get("handle"), site=form.get("site"), stream=archive.stream,
            file_name=archive.filename)
    except Invalid as exc:
        if wants_json():
            raise
        absorb_notes(form, exc)
        return _render_index(claim, form=form, status=422)
    except Conflict as exc:
        if wants_json():
            raise
        return _render_index(claim, form=form, status=409, action_error=exc.message)
    return redirect(url_for(".found", public_id=claim.public_id, import_id=row.id))


@dataclass
class _Picks:
    form: Form = field(default_factory=Form)
    ticked: set[int] = field(default_factory=set)


def _render_found(claim: Claim, row: TraceImport, *, picks: _Picks | None = None,
                  status: int = 200) -> tuple[str, int]:
    page = render_template(
        "learner/traces_found.html", claim=claim, row=row,
        source=trace_service.SOURCES[row.source_kind][1],
        summary=trace_service.summary_of(row), posts=trace_service.own_posts(row),
        genres=trace_service.GENRES,
        default_genre=trace_service.DEFAULT_GENRE.get(row.format, trace_service.GENRES[0]),
        picks=picks or _Picks(), editable=claim.status in claim_service.EDITABLE)
    return page, status


@bp.get("/learn/claims/<public_id>/traces/<int:import_id>")
@learner_required
def found(public_id: str, import_id: int) -> Any:
    claim = own(public_id)
    return _render_found(claim, trace_service.own_import(db(), signed_in_learner(), import_id))


@bp.post("/learn/claims/<public_id>/traces/<int:import_id>/pick")
@learner_required
def pick(public_id: str, import_id: int) -> Any:
    claim = own(public_id)
    row = trace_service.own_import(db(), signed_in_learner(), import_id)
    chosen: list[trace_service.Pick] = []
    ticked: set[int] = set()
    for value in request.form.getlist("item"):
        if not value.isdigit():
            continue
        number = int(value)
        ticked.add(number)
        chosen.append(trace_service.Pick(
            item_id=number, genre=request.form.get(f"genre-{number}", ""),
            audience=request.form.get(f"audience-{number}", "").strip() or None,
            narrative=request.form.get(f"narrative-{number}", "").strip() or None,
            url=request.form.get(f"url-{number}", "").strip() or None))
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    picks = _Picks(Form(values), ticked)
    try:
        records = trace_service.pick(db(), services(), signed_in_learner(), claim, row, chosen,
                                     public=request.form.get("public") == "yes")
    except Invalid as exc:
        if wants_json():
            raise
        absorb_notes(picks.form, exc)
        return _render_found(claim, row, picks=picks, status=422)
    except Conflict as exc:
        if wants_json():
            raise
        picks.form.error(None, exc.message)
        return _render_found(claim, row, picks=picks, status=409)
    flash(f"{len(records)} post{'s' if len(records) != 1 else ''} added as evidence. "
          "You can now ask the people you helped to confirm it.", "success")
    return redirect(url_for(".index", public_id=claim.public_id) + "#helped")


@bp.post("/learn/claims/<public_id>/evidence/<int:evidence_id>/capture")
@learner_required
def capture(public_id: str, evidence_id: int) -> Any:
    claim = own(public_id)
    try:
        capture_service.capture_evidence(db(), services(), signed_in_learner(), claim, evidence_id)
    except (Invalid, Conflict) as exc:
        if wants_json():
            raise
        return _render_index(claim, status=422 if isinstance(exc, Invalid) else 409,
                             action_error=exc.message)
    flash("The page is captured. Only you and the reviewers can download the capture.",
          "success")
    return redirect(url_for(".index", public_id=claim.public_id) + "#captures")


@bp.get("/learn/claims/<public_id>/captures/<int:capture_id>.warc.gz")
def capture_file(public_id: str, capture_id: int) -> Any:
    learner, user = current_learner(), current_user()
    if learner is None and user is None:
        return redirect(url_for("learner_auth.sign_in_form", next=request.full_path))
    claim = claim_service.find_claim(db(), public_id)
    row = capture_service.capture_for(db(), claim, capture_id, learner=learner, user=user)
    response: Response = send_file(io.BytesIO(row.warc_data), mimetype="application/warc",
                                   as_attachment=True,
                                   download_name=f"capture-{row.id}.warc.gz", max_age=0,
                                   etag=row.warc_sha256)
    # Other people's words may be in it: never kept by shared caches, never run as a page.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.app_template_global()
def evidence_traces(claim: Claim) -> dict[int, EvidenceTraces]:
    """For the reviewer's page: each evidence item's provenance and captures (read once per
    request and claim)."""
    cache: dict[int, dict[int, EvidenceTraces]] = g.setdefault("_evidence_traces", {})
    if claim.id not in cache:
        cache[claim.id] = trace_provenance.evidence_traces(db(), claim)
    return cache[claim.id]
