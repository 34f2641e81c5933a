"""Which worker runs a confirmed bulk award, and where it resumes.

A confirmed job gets a :class:`~issuer.storage.jobs.BulkRun` row with its file kept on the
job, so any worker process can run it from the database alone. A worker takes a job with
one conditional UPDATE of the lease (so of two workers exactly one gets it), renews the
lease in every batch's transaction, and gives it up when the job ends. A lease that ran out
means its worker died: the next worker takes the job and issues only the rows that have
neither a credential (one per row: ``uq_credentials_bulk_job_row``) nor a recorded failure,
so a row is issued at most once however often the job is resumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from issuer.services.bulk import (
    CANCELLED,
    PENDING,
    RUNNING,
    CsvRow,
    RowError,
    parse_csv,
    row_key,
)
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict
from issuer.storage.jobs import BulkRowKey, BulkRun
from issuer.storage.learning import MailMessage
from issuer.storage.models import BulkJob, Credential

__all__ = ["LeaseLost", "Plan", "cancel_requested", "release", "renew", "runnable",
           "stop_cancelled", "take", "unsent_mail"]


class LeaseLost(Conflict):
    """Another worker holds the job now (this one's lease ran out)."""


@dataclass(frozen=True)
class Plan:
    """What a worker that took a job has left to do."""

    job_id: int
    rows: list[CsvRow]
    notify: bool
    actor: str | None
    attempt: int


def _lease(ctx: ServiceContext) -> timedelta:
    return timedelta(seconds=ctx.settings.job_lease_seconds)


def _free(ctx: ServiceContext) -> object:
    return or_(BulkRun.lease_until.is_(None), BulkRun.lease_until < ctx.now())


def runnable(session: Session, ctx: ServiceContext, limit: int = 10) -> Sequence[int]:
    """Jobs waiting for a worker: confirmed and not started, or started by a worker whose
    lease ran out; oldest first."""
    return session.scalars(
        select(BulkRun.bulk_job_id).join(BulkJob, BulkJob.id == BulkRun.bulk_job_id)
        .where(BulkJob.status.in_((PENDING, RUNNING)), _free(ctx))  # type: ignore[arg-type]
        .order_by(BulkRun.created_at, BulkRun.bulk_job_id).limit(limit)).all()


def take(session: Session, ctx: ServiceContext, job_id: int, owner: str) -> Plan | None:
    """Take ``job_id`` for ``owner`` if it is free; None if another worker has it or it is
    not waiting to run. The caller commits before issuing anything."""
    job = session.get(BulkJob, job_id)
    if job is None or job.status not in (PENDING, RUNNING):
        return None
    taken = session.execute(
        update(BulkRun).where(BulkRun.bulk_job_id == job_id, _free(ctx))  # type: ignore[arg-type]
        .values(lease_owner=owner, lease_until=ctx.now() + _lease(ctx),
                attempts=BulkRun.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        return None
    run = session.get(BulkRun, job_id)
    session.refresh(run)  # type: ignore[arg-type]
    assert run is not None
    if run.cancel_requested_at is not None:
        stop_cancelled(session, ctx, job)
        return None
    job.status = RUNNING
    session.flush()
    rows = _rows_left(session, job)
    if run.source_digest is not None:
        rows = _not_issued_before(session, job, run.source_digest, rows)
    return Plan(job_id, rows, run.notify, job.created_by, run.attempts)


def _rows_left(session: Session, job: BulkJob) -> list[CsvRow]:
    """The confirmed rows of the job's file that have no outcome yet.

    The file is read again without today's date: the rows confirmed are those valid then,
    which are the rows of the file less those left out at confirmation (kept in the job's
    errors as "validation"), whatever the date is now.
    """
    if job.source is None:
        raise Conflict("the bulk award's file is no longer kept, so it cannot be resumed")
    left_out = {e.get("row") for e in job.errors or [] if e.get("stage") == "validation"}
    failed = {e.get("row") for e in job.errors or [] if e.get("stage") == "issue"}
    issued = set(session.scalars(select(Credential.bulk_row)
                                 .where(Credential.bulk_job_id == job.id,
                                        Credential.bulk_row.is_not(None))).all())
    confirmed = [row for row in parse_csv(job.source).rows if row.row not in left_out]
    if len(confirmed) != job.total:
        raise Conflict(f"the bulk award's file now gives {len(confirmed)} rows, not the "
                       f"{job.total} confirmed")
    return [row for row in confirmed if row.row not in issued and row.row not in failed]


def _not_issued_before(session: Session, job: BulkJob, digest: str,
                       rows: list[CsvRow]) -> list[CsvRow]:
    """``rows`` less those an earlier upload of the same file for the same achievement
    issued; each of those is recorded on the job as not issued, naming the earlier job."""
    keys = {row_key(job, digest, row.row): row for row in rows}
    earlier: dict[int, int] = {}
    found = list(keys)
    for start in range(0, len(found), 500):
        for key, other_job in session.execute(
                select(BulkRowKey.key, BulkRowKey.bulk_job_id)
                .where(BulkRowKey.key.in_(found[start:start + 500]),
                       BulkRowKey.bulk_job_id != job.id)):
            earlier[keys[key].row] = other_job
    if not earlier:
        return rows
    repeated = [row for row in rows if row.row in earlier]
    job.failed += len(repeated)
    job.errors = [*(job.errors or []), *(
        RowError(row.row, f"already issued from the same file by bulk award "
                          f"{earlier[row.row]}", row.recipient).to_json(stage="issue")
        for row in repeated)]
    session.flush()
    return [row for row in rows if row.row not in earlier]


def renew(session: Session, ctx: ServiceContext, job_id: int, owner: str) -> None:
    """Extend ``owner``'s lease, in the transaction of the batch it is about to issue;
    :class:`LeaseLost` if another worker has taken the job since."""
    renewed = session.execute(
        update(BulkRun).where(BulkRun.bulk_job_id == job_id, BulkRun.lease_owner == owner)
        .values(lease_until=ctx.now() + _lease(ctx))
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if renewed != 1:
        raise LeaseLost("another worker has taken over this bulk award")


def cancel_requested(session: Session, job_id: int) -> bool:
    return session.scalar(select(BulkRun.cancel_requested_at.is_not(None))
                          .where(BulkRun.bulk_job_id == job_id)) is True


def stop_cancelled(session: Session, ctx: ServiceContext, job: BulkJob) -> None:
    """End a job a person cancelled: what was issued stays, the rest is not issued."""
    job.status = CANCELLED
    job.finished_at = ctx.now()
    job.message = (f"Cancelled: {job.done} of {job.total} rows had been issued; the rest "
                   "were not.")
    job.source = None
    release(session, job.id)
    session.flush()


def release(session: Session, job_id: int, owner: str | None = None) -> None:
    """Give the job's lease up (the job ended, or its worker is stopping): with ``owner``,
    only if it still holds it."""
    query = update(BulkRun).where(BulkRun.bulk_job_id == job_id)
    if owner is not None:
        query = query.where(BulkRun.lease_owner == owner)
    session.execute(query.values(lease_owner=None, lease_until=None)
                    .execution_options(synchronize_session=False))


def unsent_mail(session: Session, job_id: int) -> list[int]:
    """The job's badge mail that is neither sent, nor being sent, nor failed: what a worker
    that finished the job (or took it over) still has to send."""
    return list(session.scalars(
        select(MailMessage.id).join(Credential, Credential.id == MailMessage.credential_id)
        .where(Credential.bulk_job_id == job_id, MailMessage.sent_at.is_(None),
               MailMessage.claimed_at.is_(None), MailMessage.error.is_(None))
        .order_by(MailMessage.id)).all())
