"""Bulk award through the JSON API: a CSV body in, a job to follow out.

The file is checked as a whole before anything is issued. With problems in some rows, the
answer is 422 and nothing is issued, unless the caller passes ``issue_valid_rows=true``.
Every email recipient is sent their credential's link unless the caller passes
``notify=false``; the job's status says, per credential and in total, how that went, and
``results.csv`` gives every row of the file with its outcome.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.typing import ResponseReturnValue

from issuer.services.achievements import get_achievement
from issuer.services.award_mail import award_mails, job_mail_counts
from issuer.services.awards import credential_url
from issuer.services.bulk import (
    PENDING,
    cancel_job,
    create_job,
    get_job,
    job_credentials,
    parse_csv,
    rows_to_issue,
    skipped_count,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.models import BulkJob
from issuer.web.api.common import (
    json_response,
    query_flag,
    require_media_type,
    token_actor,
    token_issuer,
)
from issuer.web.api.representations import timestamp
from issuer.web.blueprints import api as bp
from issuer.web.bulk_results import results_csv_response
from issuer.web.context import after_commit, background, db, runtime, services
from issuer.web.errors import problem

CSV_TYPES = ("text/csv", "application/csv", "multipart/form-data")


def job_json(ctx: ServiceContext, job: BulkJob, *, details: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "skipped": skipped_count(job),
        "createdAt": timestamp(job.created_at),
    }
    if job.finished_at is not None:
        body["finishedAt"] = timestamp(job.finished_at)
    if job.message:
        body["message"] = job.message
    if details:
        # Counts first: mail only moves on (waiting → sent or failed), so once the counts
        # show nothing waiting, the states read after them show nothing waiting either.
        body["email"] = job_mail_counts(db(), ctx, job.id)
        credentials = job_credentials(db(), job)
        mails = award_mails(db(), ctx, credentials, bulk_job_id=job.id)
        body["errors"] = list(job.errors or [])
        body["credentials"] = [
            {"id": c.id, "url": credential_url(ctx, c.id),
             "recipient": c.recipient_email or c.recipient_did,
             "email": mails[c.id].state,
             **({"row": c.bulk_row} if c.bulk_row is not None else {})}
            for c in credentials
        ]
    return body


def _job_url(job: BulkJob) -> str:
    return f"{services().base}/api/v1/bulk/{job.id}"


def _upload() -> tuple[bytes, str | None]:
    """The CSV from a ``text/csv`` body, or the ``file`` part of a multipart form."""
    media_type = require_media_type(*CSV_TYPES)
    if media_type == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("send the CSV file in a form field called 'file'",
                          {"file": "missing"})
        return upload.read(), upload.filename
    return request.get_data(), None


@bp.post("/bulk")
def bulk_start() -> ResponseReturnValue:
    ctx = services()
    issuer = token_issuer()
    slug = request.args.get("achievement") or ""
    if not slug:
        raise Invalid("name the achievement to award: ?achievement=<short name>",
                      {"achievement": "required"})
    achievement = get_achievement(db(), issuer, slug)
    issue_valid_rows = query_flag("issue_valid_rows")
    notify = query_flag("notify", default=True)
    data, filename = _upload()
    parsed = parse_csv(data, today=ctx.now().date(),
                       max_bytes=ctx.settings.max_content_length)
    try:
        rows = rows_to_issue(parsed, issue_valid_rows)
    except Invalid as exc:
        return problem(422, exc.message, errors=parsed.messages or None,
                       rows=[e.to_json() for e in parsed.errors] or None)
    # The file is kept on the job, so any worker can run it, and resume it after a crash.
    job = create_job(db(), ctx, issuer, achievement, status=PENDING, total=len(rows),
                     source=data, filename=filename, skipped=parsed.errors,
                     actor=token_actor(), notify=notify)
    body = {"job": job_json(ctx, job), "url": _job_url(job)}
    actor = token_actor()

    def start(_answer: Response) -> None:
        # Only once the job is stored: the runner's own sessions must be able to see it.
        background().start_bulk_job(runtime().sessions, ctx, job.id, rows, actor=actor,
                                    notify=notify)

    after_commit(start)
    return json_response(body, 202, headers={"Location": body["url"]})


@bp.get("/bulk/<int:job_id>")
def bulk_status(job_id: int) -> ResponseReturnValue:
    ctx = services()
    job = get_job(db(), token_issuer(), job_id)
    body = {"job": job_json(ctx, job, details=True), "url": _job_url(job)}
    return json_response(body)


@bp.post("/bulk/<int:job_id>/cancel")
def bulk_cancel(job_id: int) -> ResponseReturnValue:
    """Cancel a bulk award: 200 when it stopped at once, 202 while its worker finishes the
    batch in hand (the rows issued so far stay), 409 once it has finished."""
    ctx = services()
    job = get_job(db(), token_issuer(), job_id)
    at_once = cancel_job(db(), ctx, job)
    body = {"job": job_json(ctx, job), "url": _job_url(job)}
    return json_response(body, 200 if at_once else 202)


@bp.get("/bulk/<int:job_id>/results.csv")
def bulk_results(job_id: int) -> ResponseReturnValue:
    """The job's rows in file order with their outcome, as the staff page offers them."""
    ctx = services()
    job = get_job(db(), token_issuer(), job_id)
    credentials = job_credentials(db(), job)
    mails = award_mails(db(), ctx, credentials, bulk_job_id=job.id) if credentials else {}
    return results_csv_response(ctx, job, credentials, mails)
