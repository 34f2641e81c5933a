"""Figures for monitoring read from the database at scrape time, so every node reports the
same numbers however many processes and nodes serve the site: credentials issued, bulk
awards waiting, running and failed, mail waiting and failed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.storage.learning import MailMessage
from issuer.storage.models import BulkJob, Credential

__all__ = ["Figures", "figures"]


@dataclass(frozen=True)
class Figures:
    credentials_issued: int
    #: Bulk awards by status (preview, pending, running, done, failed, cancelled).
    bulk_jobs: dict[str, int]
    mail_waiting: int
    mail_failed: int


def figures(session: Session) -> Figures:
    issued = session.scalar(select(func.count()).select_from(Credential)) or 0
    jobs = {str(status): int(count) for status, count in session.execute(
        select(BulkJob.status, func.count()).group_by(BulkJob.status))}
    unsent = MailMessage.sent_at.is_(None)
    waiting = session.scalar(select(func.count()).select_from(MailMessage)
                             .where(unsent, MailMessage.error.is_(None))) or 0
    failed = session.scalar(select(func.count()).select_from(MailMessage)
                            .where(unsent, MailMessage.error.is_not(None))) or 0
    return Figures(int(issued), jobs, int(waiting), int(failed))
