"""Staff pages for awarding a badge to many people from a spreadsheet (CSV).

Upload → preview (every problem in plain words, nothing issued yet) → confirm → a status
page that refreshes itself while the job runs, and while the recipients' emails are still
being sent. The uploaded file waits on the job row, not in the session cookie.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from issuer.services.achievements import get_achievement, list_achievements
from issuer.services.award_mail import award_mails, job_mail_counts
from issuer.services.awards import credential_url
from issuer.services.bulk import (
    COLUMNS,
    FINISHED,
    PREVIEW,
    ParsedCsv,
    cancel_job,
    confirm_job,
    create_job,
    get_job,
    job_credentials,
    list_jobs,
    parse_csv,
    rows_to_issue,
)
from issuer.services.bulk_runs import cancel_requested
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.issuers import get_issuer
from issuer.services.users import require_member
from issuer.storage.models import Achievement, BulkJob, Issuer
from issuer.web.admin.awards import email_wanted
from issuer.web.blueprints import bulk_pages as bp
from issuer.web.bulk_results import MAIL_WORDS, results_csv_response
from issuer.web.context import after_commit, background, db, runtime, services
from issuer.web.security import current_user, login_required

PREVIEW_ROWS = 50
#: The status page keeps refreshing while emails wait to be sent, but not for ever (a
#: process that stopped would leave them waiting).
MAIL_REFRESH = timedelta(minutes=15)
MAX_ERRORS_SHOWN = 200
SAMPLE_CSV = (
    "recipient,name,evidence_url,evidence_name,evidence_narrative,narrative,valid_until\r\n"
    "ada@example.org,Ada Lovelace,https://forum.example.org/t/42,Answer on retrieval "
    "practice,Explained retrieval practice with worked examples.,Mentored three "
    "newcomers.,2030-12-31\r\n"
    "did:example:123456789abcdefghi,Grace Hopper,,,,,\r\n"
)


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"staff_user": current_user()}


def _member_issuer(slug: str) -> Issuer:
    """Every page and every write: only the issuer's own staff (others get 403)."""
    issuer = get_issuer(db(), slug)
    user = current_user()
    if user is None:  # pragma: no cover - login_required runs first
        raise NotFound("no such page")
    require_member(db(), user, issuer)
    return issuer


def _parse(job_source: bytes | None) -> ParsedCsv:
    ctx = services()
    return parse_csv(job_source or b"", today=ctx.now().date(),
                     max_bytes=ctx.settings.max_content_length)


def _upload_page(issuer: Issuer, *, problems: list[str] | None = None,
                 chosen: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "bulk/upload.html", issuer=issuer, achievements=list_achievements(db(), issuer),
        jobs=list_jobs(db(), issuer), problems=problems or [], chosen=chosen,
        columns=COLUMNS,
    ), status


@bp.get("")
@login_required
def upload(slug: str) -> ResponseReturnValue:
    issuer = _member_issuer(slug)
    return _upload_page(issuer, chosen=request.args.get("achievement"))


@bp.get("/example.csv")
@login_required
def example(slug: str) -> ResponseReturnValue:
    _member_issuer(slug)
    return Response(SAMPLE_CSV, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="badge-recipients-example.csv"'})


@bp.post("")
@login_required
def upload_submit(slug: str) -> ResponseReturnValue:
    ctx = services()
    issuer = _member_issuer(slug)
    chosen = request.form.get("achievement") or ""
    problems: list[str] = []
    achievement = None
    if not chosen:
        problems.append("Choose the badge to award.")
    else:
        try:
            achievement = get_achievement(db(), issuer, chosen)
        except NotFound:
            problems.append("That badge does not exist any more; choose another one.")
    upload_file = request.files.get("file")
    data = upload_file.read() if upload_file is not None else b""
    if upload_file is None or not upload_file.filename:
        problems.append("Choose the CSV file to upload.")
    elif not data:
        problems.append("The file you chose is empty.")
    parsed = _parse(data) if data else None
    if parsed is not None and parsed.problems:
        problems += [f"The file cannot be used: {p}." for p in parsed.problems]
    if problems or achievement is None or upload_file is None:
        return _upload_page(issuer, problems=problems, chosen=chosen, status=422)
    user = current_user()
    job = create_job(db(), ctx, issuer, achievement, status=PREVIEW, source=data,
                     filename=upload_file.filename, actor=user.email if user else None)
    return redirect(url_for("bulk_pages.job", slug=issuer.slug, job_id=job.id), code=303)


@bp.get("/<int:job_id>")
@login_required
def job(slug: str, job_id: int) -> ResponseReturnValue:
    ctx = services()
    issuer = _member_issuer(slug)
    found = get_job(db(), issuer, job_id)
    badge = db().get(Achievement, found.achievement_id)
    if found.status == PREVIEW:
        parsed = _parse(found.source)
        return render_template(
            "bulk/preview.html", issuer=issuer, job=found, badge=badge, parsed=parsed,
            shown=parsed.rows[:PREVIEW_ROWS], errors=parsed.errors[:MAX_ERRORS_SHOWN])
    finished = found.status in FINISHED
    # Counts before states, so a page whose counts show nothing waiting shows no waiting
    # row either (mail only moves on from waiting).
    counts = job_mail_counts(db(), ctx, found.id)
    credentials = job_credentials(db(), found) if finished else []
    mails = award_mails(db(), ctx, credentials, bulk_job_id=found.id) if credentials else {}
    issued = [(c, credential_url(ctx, c.id), mails[c.id]) for c in credentials]
    mailing = (finished and counts.get("queued", 0) > 0 and found.finished_at is not None
               and ctx.now() - found.finished_at < MAIL_REFRESH)
    skipped = [e for e in found.errors or [] if e.get("stage") == "validation"]
    return render_template(
        "bulk/status.html", issuer=issuer, job=found, badge=badge, issued=issued,
        running=not finished, mailing=mailing, mail_counts=counts, mail_words=MAIL_WORDS,
        cancelling=not finished and cancel_requested(db(), found.id),
        # Rows left out because of problems in the file are settled before issuing starts:
        # they count among the file's rows, so issued + not issued + left out add up.
        file_rows=found.total + len(skipped), skipped=skipped,
        failures=[e for e in found.errors or [] if e.get("stage") != "validation"])


@bp.get("/<int:job_id>/results.csv")
@login_required
def results(slug: str, job_id: int) -> ResponseReturnValue:
    """Every row of the file with its outcome: the credential link and the email's state,
    or why it was not issued."""
    ctx = services()
    issuer = _member_issuer(slug)
    found = get_job(db(), issuer, job_id)
    credentials = job_credentials(db(), found)
    mails = award_mails(db(), ctx, credentials, bulk_job_id=found.id) if credentials else {}
    return results_csv_response(ctx, found, credentials, mails)


@bp.post("/<int:job_id>/confirm")
@login_required
def confirm(slug: str, job_id: int) -> ResponseReturnValue:
    ctx = services()
    issuer = _member_issuer(slug)
    found = get_job(db(), issuer, job_id)
    target = url_for("bulk_pages.job", slug=issuer.slug, job_id=found.id)
    if found.status != PREVIEW:
        flash("This bulk award has already been started.", "info")
        return redirect(target, code=303)
    parsed = _parse(found.source)
    try:
        rows = rows_to_issue(parsed, request.form.get("issue_valid_rows") == "yes")
    except Invalid as exc:
        flash(f"Nothing was issued: {exc.message}.", "error")
        return redirect(target, code=303)
    try:
        confirm_job(db(), found, rows, parsed.errors, ctx=ctx, notify=email_wanted())
    except Conflict:
        # Confirmed twice at the same moment: the other request is issuing the badges (and
        # this one changed nothing).
        flash("This bulk award has already been started.", "info")
        return redirect(target, code=303)
    user = current_user()
    actor, notify = (user.email if user else None), email_wanted()

    def start(_answer: Response) -> None:
        # Once the job is stored as pending: the runner's own sessions must see it.
        background().start_bulk_job(runtime().sessions, ctx, found.id, rows, actor=actor,
                                    notify=notify)

    after_commit(start)
    return redirect(target, code=303)


@bp.post("/<int:job_id>/cancel")
@login_required
def cancel(slug: str, job_id: int) -> ResponseReturnValue:
    issuer = _member_issuer(slug)
    found: BulkJob = get_job(db(), issuer, job_id)
    target = url_for("bulk_pages.job", slug=issuer.slug, job_id=found.id)
    started = found.status != PREVIEW
    try:
        at_once = cancel_job(db(), services(), found)
    except Conflict as exc:
        flash(f"{exc.message}.", "error")
        return redirect(target, code=303)
    if not at_once:
        flash("Cancelling: the badges issued so far are kept; no more will be issued.",
              "info")
        return redirect(target, code=303)
    flash("Cancelled: nothing was issued." if not started else "Cancelled.", "success")
    return redirect(url_for("bulk_pages.upload", slug=issuer.slug), code=303)
