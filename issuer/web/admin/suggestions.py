"""Staff pages of measured help: awards suggested from a community's export, an achievement's
thresholds of measured help, and the measures of one learner.

Every page and every write first checks that the signed-in staff member belongs to the issuer
in the URL (403 otherwise), and that the badge, upload or learner belongs to it (404). The
export upload has its own size limit (``trace_upload_max_bytes``), set before the form is
read; a file that cannot be read, a form with a mistake or a person who cannot be suggested
is shown with what is wrong (422, or row by row), never a server error.

The reviewer's claim page and the claim policy page show the measures and the thresholds
through two includes (``reviews/_measures.html``, ``admin/suggestions_policy.html``), which
read them with :func:`claim_measures_of` and :func:`thresholds_form_of`.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from issuer.services import audit
from issuer.services.achievements import get_achievement, list_achievements
from issuer.services.errors import Invalid, NotFound
from issuer.services.evidence_files import describe_size
from issuer.services.measures import (
    LIMITS,
    ClaimMeasures,
    claim_measures,
    learner_measures,
    set_thresholds,
    thresholds_for,
)
from issuer.services.suggestions import (
    KINDS,
    Outcome,
    create_upload,
    get_upload,
    recent_uploads,
    scan,
    suggest,
)
from issuer.storage.learning import Claim, Learner
from issuer.storage.models import Achievement, Issuer
from issuer.web.admin.common import member_issuer, staff
from issuer.web.blueprints import suggestion_pages as bp
from issuer.web.context import attempt, db, services
from issuer.web.errors import error_response
from issuer.web.forms import Form
from issuer.web.security import current_user, login_required

#: Room for the other fields and the multipart framing around the export.
FORM_OVERHEAD = 64 * 1024
UPLOAD_FIELDS = ("achievement", "kind", "site")
#: Claim states a reviewer of the issuer sees (drafts stay the learner's own).
REVIEWED = ("submitted", "returned", "approved", "rejected")


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Set before the CSRF check reads the form: URL value preprocessors run before any
    # before_request function.
    if endpoint == "suggestion_pages.upload":
        request.max_content_length = (services().settings.trace_upload_max_bytes
                                      + FORM_OVERHEAD)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Any:
    limit = describe_size(services().settings.trace_upload_max_bytes)
    return error_response(413, f"The export is too large: uploads may be at most {limit}. "
                               "Export one site, topic or list at a time.")


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"staff_user": current_user(), "kinds": KINDS}


@bp.app_context_processor
def _includes() -> dict[str, Any]:
    return {"claim_measures_of": claim_measures_of, "thresholds_form_of": thresholds_form_of,
            "measure_limits": LIMITS}


def claim_measures_of(claim: Claim) -> ClaimMeasures:
    """The measures of ``claim`` for ``reviews/_measures.html``."""
    return claim_measures(db(), claim)


def thresholds_form_of(achievement: Achievement) -> Form:
    """The stored thresholds of ``achievement`` as the form of its policy page shows them."""
    stored = thresholds_for(db(), achievement).as_json()
    return Form({name: f"{stored[name]:g}" for name in LIMITS})


# --- thresholds -----------------------------------------------------------------------------


def _render_thresholds(issuer: Issuer, achievement: Achievement, form: Form,
                       status: int = 200) -> tuple[str, int]:
    return render_template("admin/suggestions_thresholds.html", issuer=issuer,
                           achievement=achievement, form=form), status


@bp.route("/issuers/<slug>/achievements/<a_slug>/measures", methods=["GET", "POST"])
@login_required
def thresholds(slug: str, a_slug: str) -> Any:
    issuer = member_issuer(slug)
    achievement = get_achievement(db(), issuer, a_slug)
    if request.method == "GET":
        return _render_thresholds(issuer, achievement, thresholds_form_of(achievement))
    form = Form.from_request(LIMITS)
    try:
        with attempt():
            set_thresholds(db(), services(), achievement, form.values,
                           actor=audit.staff_actor(staff().email))
    except Invalid as exc:
        form.absorb(exc)
        return _render_thresholds(issuer, achievement, form, 422)
    flash(f"Saved what “{achievement.name}” asks of measured help.", "success")
    return redirect(url_for("reviews.policy", slug=issuer.slug, a_slug=achievement.slug),
                    code=303)


# --- suggestions from a community's export ---------------------------------------------------


def _render_upload(issuer: Issuer, form: Form | None = None, status: int = 200
                   ) -> tuple[str, int]:
    return render_template(
        "admin/suggestions.html", issuer=issuer, form=form or Form({"kind": "posts_xml"}),
        achievements=list_achievements(db(), issuer), uploads=recent_uploads(db(), issuer),
        max_upload=describe_size(services().settings.trace_upload_max_bytes)), status


@bp.get("/issuers/<slug>/suggestions")
@login_required
def index(slug: str) -> Any:
    issuer = member_issuer(slug)
    return _render_upload(issuer, Form({"kind": "posts_xml",
                                        "achievement": request.args.get("achievement", "")}))


@bp.post("/issuers/<slug>/suggestions")
@login_required
def upload(slug: str) -> Any:
    issuer = member_issuer(slug)
    form = Form.from_request(UPLOAD_FIELDS)
    export = request.files.get("file")
    achievement = None
    try:
        achievement = get_achievement(db(), issuer, form.get("achievement"))
    except NotFound:
        form.error("achievement", "Choose one of the badges listed.")
    data = export.read() if export is not None and export.filename else b""
    users_file = request.files.get("users_file")
    users = users_file.read() if users_file is not None and users_file.filename else None
    if achievement is not None:
        try:
            with attempt():
                row = create_upload(db(), services(), issuer, achievement,
                                    kind=form.get("kind"), data=data,
                                    file_name=export.filename if export else None,
                                    site=form.get("site"), users=users,
                                    actor=audit.staff_actor(staff().email))
        except Invalid as exc:
            form.absorb(exc)
    if not form.valid or achievement is None:
        return _render_upload(issuer, form, 422)
    return redirect(url_for("suggestion_pages.results", slug=issuer.slug, upload_id=row.id),
                    code=303)


def _render_results(issuer: Issuer, upload_id: int, *, outcome: Outcome | None = None,
                    form: Form | None = None, status: int = 200) -> tuple[str, int]:
    row = get_upload(db(), issuer, upload_id)
    found = scan(db(), services(), row)
    return render_template(
        "admin/suggestions_results.html", issuer=issuer, scan=found, upload=row,
        outcome=outcome, form=form or Form(), errors=found.errors[:200]), status


@bp.get("/issuers/<slug>/suggestions/<int:upload_id>")
@login_required
def results(slug: str, upload_id: int) -> Any:
    return _render_results(member_issuer(slug), upload_id)


def _picks() -> list[tuple[int, str | None]]:
    picks = []
    for value in request.form.getlist("pick")[:500]:
        if value.isdigit():
            number = int(value)
            picks.append((number, (request.form.get(f"email-{number}") or "").strip() or None))
    return picks


@bp.post("/issuers/<slug>/suggestions/<int:upload_id>")
@login_required
def suggest_claims(slug: str, upload_id: int) -> Any:
    issuer = member_issuer(slug)
    found = scan(db(), services(), get_upload(db(), issuer, upload_id))
    form = Form({k: v for k, v in request.form.items() if k.startswith("email-")})
    try:
        with attempt():
            outcome = suggest(db(), services(), found, _picks(),
                              actor=audit.staff_actor(staff().email))
    except Invalid as exc:
        form.absorb(exc, {"pick": None})
        return _render_results(issuer, upload_id, form=form, status=422)
    status = 422 if outcome.errors and not outcome.created else 200
    return _render_results(issuer, upload_id, outcome=outcome, form=form, status=status)


# --- one learner ----------------------------------------------------------------------------


@bp.get("/issuers/<slug>/learners/<int:learner_id>/measures")
@login_required
def learner(slug: str, learner_id: int) -> Any:
    """A learner's measures over every archive they imported, for the issuer's reviewers:
    only a learner with a claim this issuer reviews is shown (404 otherwise)."""
    issuer = member_issuer(slug)
    person = db().get(Learner, learner_id)
    claims = list(db().scalars(select(Claim).where(
        Claim.learner_id == learner_id, Claim.issuer_id == issuer.id,
        Claim.status.in_(REVIEWED)).order_by(Claim.id)))
    if person is None or not claims:
        raise NotFound("There is no such learner among this issuer's claims.")
    return render_template(
        "admin/suggestions_learner.html", issuer=issuer, learner=person,
        overall=learner_measures(db(), person, issuer),
        claims=[(claim, claim_measures(db(), claim)) for claim in claims])
