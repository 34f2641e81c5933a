"""The bulk award runner: a confirmed job's rows issued in batches, then the recipients
mailed (the rules of a bulk award are in :mod:`issuer.services.bulk`).

* :func:`resume_bulk_job`: a queued job (its file kept on it), run by whichever worker
  takes its lease (:mod:`issuer.services.bulk_runs`): resumed after the last committed
  batch if a worker died, stopped before the next batch if a person cancels it.
* :func:`run_bulk_job`: a job whose rows the caller holds (``issuer award-bulk``), run once
  in the caller's process.

Each batch is a unit of work of its own: its credentials, their mail and the job's
counters commit together, so what the job says is what was stored, progress shows while it
runs, and a crash keeps every finished batch and marks the job failed. The mail goes out
once every row is issued (:class:`issuer.jobs.mail.BatchDelivery`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from issuer.core.errors import IssuerError
from issuer.jobs.mail import BatchDelivery
from issuer.jobs.transaction import unit_of_work
from issuer.services import bulk_runs
from issuer.services.bulk import (
    BATCH_SIZE,
    CANCELLED,
    DONE,
    FAILED,
    CsvRow,
    RowOutcome,
    begin_run,
    end_run,
    issue_batch,
    mark_failed,
)
from issuer.services.context import ServiceContext
from issuer.storage.jobs import BulkRun
from issuer.storage.models import BulkJob

log = logging.getLogger("issuer.bulk")

Sessions = Callable[[], Session]
BatchCallback = Callable[[list[RowOutcome]], None]


def run_bulk_job(sessions: Sessions, ctx: ServiceContext, job_id: int,
                 rows: Sequence[CsvRow], *, actor: str | None = None,
                 batch_size: int = BATCH_SIZE, on_batch: BatchCallback | None = None,
                 notify: bool = True,
                 on_mailing: Callable[[int], None] | None = None) -> str:
    """Issue ``rows`` for a pending job with sessions of its own; returns the final status.

    ``on_batch`` hears about each batch once it is committed. With ``notify``, every email
    recipient is sent their credential's link once the job is done (its status says so
    meanwhile): sent, or marked failed, when this returns. ``on_mailing`` hears how many
    messages are about to be sent, before they are. Never raises: a crash marks the job
    failed with a message.
    """
    mailer = BatchDelivery(sessions, ctx, name=f"bulk-mail-{job_id}") if notify else None
    try:
        return _run(sessions, ctx, job_id, rows, actor, max(1, batch_size), on_batch, mailer)
    except Exception as exc:  # whatever happens, the job must not stay "running"
        log.exception("bulk award %s stopped", job_id)
        detail = exc.message if isinstance(exc, IssuerError) else "an unexpected error"
        _mark_failed(sessions, ctx, job_id,
                     f"The bulk award stopped: {detail}. Rows issued before that are kept; "
                     "the rest were not issued.")
        return FAILED
    finally:
        if mailer is not None and mailer.pending:
            if on_mailing is not None:
                try:
                    on_mailing(mailer.pending)
                except Exception:  # a progress display must not keep the mail from going
                    log.exception("bulk award %s: on_mailing failed", job_id)
            report = mailer.close()
            log.info("bulk award %s: mail %d sent, %d failed, %d held in the outbox", job_id,
                     report.sent, report.failed, report.held)


def start_bulk_job(sessions: Sessions, ctx: ServiceContext, job_id: int,
                   rows: Sequence[CsvRow], *, actor: str | None = None,
                   notify: bool = True) -> threading.Thread:
    """Run the job in a thread of its own, so the web request can answer at once. Start it
    only once the job is committed: the runner's sessions must be able to see it."""
    thread = threading.Thread(target=_start, args=(sessions, ctx, job_id, list(rows)),
                              kwargs={"actor": actor, "notify": notify},
                              name=f"bulk-award-{job_id}", daemon=True)
    thread.start()
    return thread


def _start(sessions: Sessions, ctx: ServiceContext, job_id: int, rows: Sequence[CsvRow], *,
           actor: str | None, notify: bool) -> None:
    with unit_of_work(sessions) as session:
        queued = session.get(BulkRun, job_id) is not None
    if queued:
        resume_bulk_job(sessions, ctx, job_id, owner=worker_name("web"))
    else:
        run_bulk_job(sessions, ctx, job_id, rows, actor=actor, notify=notify)


def worker_name(role: str) -> str:
    """A name for the lease that tells where the worker runs and is never reused."""
    return f"{role}:{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def resume_bulk_job(sessions: Sessions, ctx: ServiceContext, job_id: int, *, owner: str,
                    batch_size: int = BATCH_SIZE,
                    should_stop: Callable[[], bool] = lambda: False) -> str | None:
    """Take the queued job ``job_id`` for ``owner`` and issue the rows it has left, then
    mail the recipients; the job's final status, or None if it was not this worker's to
    run (another has it, it is finished) or this worker stopped first (``should_stop``:
    the lease is given up, and the next worker goes on from there).

    Never raises for the job's own failures: the job is marked failed with a message. Each
    batch renews the lease in its own transaction, so a worker that lost the lease (it was
    too slow, and another took over) stops without writing that batch.
    """
    try:
        with unit_of_work(sessions) as session:
            plan = bulk_runs.take(session, ctx, job_id, owner)
    except IssuerError as exc:  # its file cannot give the rows confirmed: it cannot run
        _mark_failed(sessions, ctx, job_id, f"The bulk award cannot go on: {exc.message}.")
        return FAILED
    if plan is None:
        return None
    log.info("bulk award %s: %d rows left (attempt %d)", job_id, len(plan.rows), plan.attempt)
    status: str | None = None
    try:
        status = _issue_left(sessions, ctx, plan, owner, max(1, batch_size), should_stop)
    except bulk_runs.LeaseLost:
        log.warning("bulk award %s: another worker took it over", job_id)
    except Exception as exc:  # whatever happens, the job must not stay "running"
        log.exception("bulk award %s stopped", job_id)
        detail = exc.message if isinstance(exc, IssuerError) else "an unexpected error"
        _mark_failed(sessions, ctx, job_id,
                     f"The bulk award stopped: {detail}. Rows issued before that are kept; "
                     "the rest were not issued.")
        status = FAILED
    if plan.notify and status is not None:
        _mail_job(sessions, ctx, job_id)
    return status


def _issue_left(sessions: Sessions, ctx: ServiceContext, plan: bulk_runs.Plan, owner: str,
                batch_size: int, should_stop: Callable[[], bool]) -> str | None:
    rows = plan.rows
    for start in range(0, len(rows), batch_size):
        if should_stop():
            with unit_of_work(sessions) as session:
                bulk_runs.release(session, plan.job_id, owner)
            log.info("bulk award %s: stopping; another worker will go on", plan.job_id)
            return None
        with unit_of_work(sessions) as session:
            bulk_runs.renew(session, ctx, plan.job_id, owner)
            if bulk_runs.cancel_requested(session, plan.job_id):
                job = session.get(BulkJob, plan.job_id)
                assert job is not None
                bulk_runs.stop_cancelled(session, ctx, job)
                return CANCELLED
            issue_batch(session, ctx, plan.job_id, rows[start:start + batch_size],
                        actor=plan.actor, mail=plan.notify)
    with unit_of_work(sessions) as session:
        bulk_runs.renew(session, ctx, plan.job_id, owner)
        end_run(session, ctx, plan.job_id)
        bulk_runs.release(session, plan.job_id)
    return DONE


def _mail_job(sessions: Sessions, ctx: ServiceContext, job_id: int) -> None:
    """Send the job's waiting mail, whichever worker's batches wrote it."""
    try:
        with unit_of_work(sessions) as session:
            ids = bulk_runs.unsent_mail(session, job_id)
        if not ids:
            return
        mailer = BatchDelivery(sessions, ctx, name=f"bulk-mail-{job_id}")
        mailer.submit(ids)
        report = mailer.close()
        log.info("bulk award %s: mail %d sent, %d failed, %d held in the outbox", job_id,
                 report.sent, report.failed, report.held)
    except Exception:  # the messages wait in the outbox; a worker's sweep sends them
        log.exception("bulk award %s: mail not delivered", job_id)


def _run(sessions: Sessions, ctx: ServiceContext, job_id: int, rows: Sequence[CsvRow],
         actor: str | None, batch_size: int, on_batch: BatchCallback | None,
         mailer: BatchDelivery | None) -> str:
    with unit_of_work(sessions) as session:
        begin_run(session, job_id)
    # No rows at all still makes one (empty) step, the one that finishes the job.
    batches = [rows[start:start + batch_size]
               for start in range(0, len(rows), batch_size)] or [rows]
    for number, batch in enumerate(batches, start=1):
        with unit_of_work(sessions) as session:
            outcomes, mail = issue_batch(session, ctx, job_id, batch, actor=actor,
                                         mail=mailer is not None)
            if number == len(batches):
                end_run(session, ctx, job_id)  # with the last batch, in its transaction
        if mailer is not None:
            # Only the ids: the mailer reads the texts back a chunk at a time, so memory
            # stays flat however many recipients there are.
            mailer.submit([message.id for message in mail])
        if outcomes and on_batch is not None:
            on_batch(outcomes)
    return DONE


def _mark_failed(sessions: Sessions, ctx: ServiceContext, job_id: int, message: str) -> None:
    try:
        with unit_of_work(sessions) as session:
            mark_failed(session, ctx, job_id, message)
    except Exception:  # the database itself may be what failed
        log.exception("could not mark bulk award %s as failed", job_id)


__all__ = ["BatchCallback", "resume_bulk_job", "run_bulk_job", "start_bulk_job", "worker_name"]
