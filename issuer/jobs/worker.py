"""The ``issuer worker`` loop: run queued bulk awards and send waiting mail, apart from the
web processes.

Every few seconds the worker looks in the database (:meth:`Worker.sweep`): bulk awards
that nobody holds (never started, or left by a worker that died: its lease ran out) are
taken and finished, mail whose retry time has come is sent, and messages a dead worker was
sending are marked failed. With a broker (:mod:`issuer.jobs.queue`) a Dramatiq worker runs
beside the loop, so a job starts the moment it is queued rather than at the next look.
SIGTERM (or ``stop``) ends the loop after the current batch; the lease is given up, and the
next worker goes on from there.

Each job a worker ends is logged with its id, rows and outcome as fields of the line
(:mod:`issuer.jobs.logs` writes them as JSON): counts only, never a recipient.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from issuer.jobs.bulk import resume_bulk_job, worker_name
from issuer.jobs.mail import deliver_pending
from issuer.jobs.queue import declare, uses_broker
from issuer.jobs.transaction import unit_of_work
from issuer.services import bulk_runs, mail_retry
from issuer.services.context import ServiceContext
from issuer.storage.models import BulkJob

log = logging.getLogger("issuer.worker")

Sessions = Callable[[], Session]


class Worker:
    """One worker process's loop; ``threads`` Dramatiq threads with a broker."""

    def __init__(self, sessions: Sessions, ctx: ServiceContext, *, poll_seconds: float = 2.0,
                 threads: int = 2, role: str = "worker") -> None:
        self._sessions = sessions
        self._ctx = ctx
        self._poll = poll_seconds
        self._threads = threads
        self.name = worker_name(role)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run_job(self, job_id: int) -> str | None:
        """Run one queued bulk award if it is free (the Dramatiq actor, and the sweep)."""
        started = time.monotonic()
        status = resume_bulk_job(self._sessions, self._ctx, job_id,
                                 owner=f"{self.name}:{threading.get_ident() % 10_000}",
                                 should_stop=self.stopping.is_set)
        if status is not None:
            self._log_outcome(job_id, status, time.monotonic() - started)
        return status

    def _log_outcome(self, job_id: int, status: str, seconds: float) -> None:
        try:
            with unit_of_work(self._sessions) as session:
                job = session.get(BulkJob, job_id)
                counts = ({"rows": job.total, "issued": job.done, "failed": job.failed}
                          if job is not None else {})
        except Exception:  # the job is done; a log line is not worth failing it for
            log.exception("bulk award %s: counts not read", job_id)
            counts = {}
        log.info("bulk award %s %s", job_id, status, extra={"fields": {
            "event": "bulk_job", "job_id": job_id, "outcome": status, **counts,
            "seconds": round(seconds, 3), "worker": self.name}})

    def sweep(self) -> int:
        """One look at the database: run what waits; how many jobs and messages were seen."""
        seen = 0
        with unit_of_work(self._sessions) as session:
            jobs = bulk_runs.runnable(session, self._ctx)
        for job_id in jobs:
            if self.stopping.is_set():
                return seen
            self.run_job(job_id)
            seen += 1
        if self._ctx.settings.smtp_host:
            with unit_of_work(self._sessions) as session:
                stale = mail_retry.abandon_stale_claims(session, self._ctx)
                due = mail_retry.due(session, self._ctx)
            if stale:
                log.warning("%d messages were being sent by a worker that stopped; marked "
                            "failed", stale)
            if due:
                report = deliver_pending(self._sessions, self._ctx, ids=due, retry_failed=True)
                log.info("mail: %d sent, %d failed", report.sent, report.failed,
                         extra={"fields": {"event": "mail_retry", "sent": report.sent,
                                           "failed": report.failed, "worker": self.name}})
                seen += len(due)
        return seen

    def run(self, *, alive: Callable[[], bool] = lambda: True) -> None:
        """Work until :meth:`stop` (or until ``alive`` says the parent process is gone)."""
        consumer = self._start_consumer()
        mode = "broker" if consumer is not None else "database only"
        log.info("worker %s started (%s)", self.name, mode, extra={"fields": {
            "event": "worker_started", "worker": self.name, "mode": mode}})
        try:
            while not self.stopping.is_set() and alive():
                try:
                    self.sweep()
                except Exception:  # the database may be down a moment; try again later
                    log.exception("worker %s: sweep failed", self.name)
                self.stopping.wait(self._poll)
        finally:
            if consumer is not None:
                consumer.stop(timeout=30_000)
            log.info("worker %s stopped", self.name,
                     extra={"fields": {"event": "worker_stopped", "worker": self.name}})

    def _start_consumer(self) -> object | None:
        if not uses_broker(self._ctx.settings):
            return None
        from dramatiq import Worker as DramatiqWorker

        broker = declare(self._ctx.settings, self.run_job)
        consumer = DramatiqWorker(broker, queues={self._ctx.settings.queue_name},
                                  worker_threads=self._threads, worker_timeout=500)
        consumer.start()
        return consumer


__all__ = ["Worker"]
