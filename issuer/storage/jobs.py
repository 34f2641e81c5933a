"""Rows of background work: the lease of a running bulk award, the retries of a message,
and when a staff session was last used. Schema changes go through migrations.

The database, not the queue, is what a job's progress is read from: a worker that dies
leaves a lease that runs out, and whoever takes the job next starts from the rows already
stored (:mod:`issuer.jobs.bulk`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.storage.learning import MailMessage
from issuer.storage.models import Base, Credential, UTCDateTime, utcnow


class BulkRun(Base):
    """How a confirmed bulk award is run: who holds it, until when, and whether to stop.

    A worker takes a job by writing ``lease_owner`` and ``lease_until`` with one conditional
    UPDATE, and renews the lease with every batch; a lease that has run out (its worker
    died) may be taken by any other worker, which resumes after the last committed batch.
    """

    __tablename__ = "bulk_runs"

    bulk_job_id: Mapped[int] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True)
    #: Mail each email recipient their badge's link once the rows are issued.
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    #: How many times a worker took the job (the first run and every resumption).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: Set by a person; the worker stops before its next batch.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: SHA-256 of the file, hex: the same file uploaded again is recognised.
    source_digest: Mapped[str | None] = mapped_column(String(64), index=True)


class BulkRowKey(Base):
    """The key of one issued row of a bulk award: the achievement, the file's digest and
    the row number, hashed. Written with the row's credential, so the same file uploaded
    again for the same achievement issues none of its rows twice, even when both uploads
    run at once (the second insert of a key fails)."""

    __tablename__ = "bulk_row_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bulk_job_id: Mapped[int] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True)


class MailRetry(Base):
    """A message whose sending failed, and when to try again (exponential backoff).

    Absent row: never failed. ``retry_at`` empty: no more tries; the message stays failed
    with its reason until a person sends it again.
    """

    __tablename__ = "mail_retries"

    message_id: Mapped[int] = mapped_column(
        ForeignKey(MailMessage.id, ondelete="CASCADE"), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class StaffSessionActivity(Base):
    """When a staff session was last used, for the idle time limit."""

    __tablename__ = "staff_session_activity"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("staff_sessions.id", ondelete="CASCADE"), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


#: A bulk award's row is issued at most once, whichever worker issues it and however often
#: the job is resumed: the row number is the key (credentials outside a bulk award have
#: none, and NULLs never collide).
BULK_ROW_UNIQUE = Index("uq_credentials_bulk_job_row", Credential.bulk_job_id,
                        Credential.bulk_row, unique=True)

__all__ = ["BULK_ROW_UNIQUE", "BulkRowKey", "BulkRun", "MailRetry", "StaffSessionActivity"]
