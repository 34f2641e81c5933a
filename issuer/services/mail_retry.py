"""Mail that failed is tried again with exponential backoff, then left failed with its
reason; mail whose sender died is found.

* :func:`schedule`: after a failure, when to try again (1, 2, 4, 8 minutes…), or never
  after :data:`MAX_ATTEMPTS`.
* :func:`due`: what a worker should send now: messages whose retry time has come, and
  messages nobody took (their sender stopped before sending them).
* :func:`abandon_stale_claims`: a message claimed long ago and never recorded was being
  sent when its worker died. It may have reached the server, so it is not sent again (a
  message goes out at most once); it is marked failed with that reason, for a person to
  send again if need be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.storage.jobs import MailRetry
from issuer.storage.learning import MailMessage

__all__ = ["BACKOFF", "CLAIM_TIMEOUT", "MAX_ATTEMPTS", "UNTAKEN_AFTER", "abandon_stale_claims",
           "due", "schedule"]

#: Tries in all, the first included.
MAX_ATTEMPTS = 5
#: Wait before the second try; each later wait doubles.
BACKOFF = timedelta(minutes=1)
#: A claim older than this belongs to a worker that died while sending.
CLAIM_TIMEOUT = timedelta(minutes=10)
#: A message left unsent this long was not taken by the process that wrote it.
UNTAKEN_AFTER = timedelta(minutes=1)

STALE_CLAIM = ("the sending stopped part-way (the process sending it was stopped), so it may "
               "or may not have arrived; send it again if need be")


def schedule(session: Session, ctx: ServiceContext, failures: Mapping[int, str]) -> None:
    """Count a failed try of each message of ``failures`` and say when to try it again."""
    if not failures:
        return
    rows = {row.message_id: row for row in session.scalars(
        select(MailRetry).where(MailRetry.message_id.in_(list(failures))))}
    now = ctx.now()
    for message_id in failures:
        row = rows.get(message_id)
        if row is None:
            row = MailRetry(message_id=message_id, attempts=0)
            session.add(row)
        row.attempts += 1
        row.retry_at = (now + BACKOFF * 2 ** (row.attempts - 1)
                        if row.attempts < MAX_ATTEMPTS else None)
    session.flush()


def due(session: Session, ctx: ServiceContext, limit: int = 500) -> Sequence[int]:
    """Messages to send now: failed ones whose retry time has come, and ones left unsent and
    untaken for :data:`UNTAKEN_AFTER`; oldest first."""
    now = ctx.now()
    free = (MailMessage.sent_at.is_(None), MailMessage.claimed_at.is_(None))
    retries = session.scalars(
        select(MailMessage.id).join(MailRetry, MailRetry.message_id == MailMessage.id)
        .where(*free, MailRetry.retry_at.is_not(None), MailRetry.retry_at <= now)
        .order_by(MailMessage.id).limit(limit)).all()
    untaken = session.scalars(
        select(MailMessage.id)
        .where(*free, MailMessage.error.is_(None),
               MailMessage.created_at <= now - UNTAKEN_AFTER)
        .order_by(MailMessage.id).limit(limit)).all()
    return sorted({*retries, *untaken})


def abandon_stale_claims(session: Session, ctx: ServiceContext) -> int:
    """Mark failed the messages whose sender died while sending them; how many."""
    result = session.execute(
        update(MailMessage)
        .where(MailMessage.sent_at.is_(None), MailMessage.claimed_at.is_not(None),
               MailMessage.claimed_at < ctx.now() - CLAIM_TIMEOUT)
        .values(claimed_at=None, error=STALE_CLAIM)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
