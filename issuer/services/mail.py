"""Outgoing mail through an outbox: every message is stored first, then delivered.

Storing before sending keeps mail consistent with the data: a message is written in the same
transaction as the change it reports, and delivered only after that transaction commits
(:mod:`issuer.jobs.mail`, which uses the steps at the end of this module: ``unsent``,
``claim``, ``mark_sent``, ``record_failures``). Without SMTP settings (development) messages
stay in the outbox page.

Texts live in ``templates/mail/<kind>.txt``; ``render_mail`` turns one into a subject and a
plain-text body (the first line of a template is ``Subject: …``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session, SessionTransaction

from issuer.config import TEMPLATES_DIR
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.learning import MailMessage

#: Key in ``Session.info`` listing the messages queued in the session's transaction.
QUEUED_KEY = "issuer.mail.queued"

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_SPACE = re.compile(r"\s+")


def send_mail(session: Session, ctx: ServiceContext, *, to: str, subject: str, body: str,
              kind: str, credential_id: str | None = None) -> MailMessage:
    """Queue a plain-text message; it is delivered once the caller's transaction commits.

    The edge that commits delivers it: a web request right after its commit
    (:mod:`issuer.web.mail_delivery`), a background job after its work
    (:mod:`issuer.jobs.mail`). ``credential_id`` names the credential the message is about,
    if any.
    """
    return queue_message(session, message_values(ctx, to=to, subject=subject, body=body,
                                                 kind=kind, credential_id=credential_id))


def queue_message(session: Session, values: dict[str, Any], *,
                  write_now: bool = False) -> MailMessage:
    """Queue the message of :func:`message_values` in the caller's transaction.

    With ``write_now`` the row is written at once with one INSERT and kept out of the
    session (for a request that queues one message: the unit of work would cost more than
    the row), unless a SAVEPOINT is open, whose rollback the session would have to follow.
    """
    message = MailMessage(**values)
    if write_now and not session.in_nested_transaction():
        message.id = session.connection().execute(_INSERT_ONE, values).scalar_one()
        session.info.setdefault(_WRITTEN_KEY, set()).add(id(message))
    else:
        session.add(message)
    # The deliverer sends this copy after the commit instead of reading it back.
    session.info.setdefault(QUEUED_KEY, []).append(message)
    return message


def queue_messages(session: Session, rows: Sequence[dict[str, Any]]) -> list[MailMessage]:
    """Queue many messages (rows of :func:`message_values`) with one INSERT in the caller's
    transaction, each delivered once it commits, as :func:`queue_message` queues one."""
    if session.in_nested_transaction():
        return [queue_message(session, row) for row in rows]
    messages = [MailMessage(**row, id=message_id)
                for message_id, row in zip(_insert_many(session, rows), rows, strict=True)]
    session.info.setdefault(_WRITTEN_KEY, set()).update(id(m) for m in messages)
    session.info.setdefault(QUEUED_KEY, []).extend(messages)
    return messages


#: Keys in ``Session.info``: the queued messages written at once (not in the session), by
#: ``id()``, while their transaction is open, and once it has committed.
_WRITTEN_KEY, _COMMITTED_KEY = "issuer.mail.written", "issuer.mail.written.committed"
_INSERT_ONE = insert(MailMessage.__table__).returning(MailMessage.__table__.c.id)


@event.listens_for(Session, "after_commit")
def _keep_written(session: Session) -> None:
    if session.get_nested_transaction() is None:  # not a SAVEPOINT released: the whole
        written = session.info.pop(_WRITTEN_KEY, None)
        if written:
            session.info.setdefault(_COMMITTED_KEY, set()).update(written)


@event.listens_for(Session, "after_transaction_end")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    # The database transaction ended without a commit: the rows written at once went with
    # it (none is written inside a SAVEPOINT, whose end changes nothing here).
    if transaction.parent is None:
        written = session.info.pop(_WRITTEN_KEY, None)
        if written:
            session.info[QUEUED_KEY] = [m for m in session.info.get(QUEUED_KEY, ())
                                        if id(m) not in written]


def message_values(ctx: ServiceContext, *, to: str, subject: str, body: str, kind: str,
                   credential_id: str | None = None) -> dict[str, Any]:
    """The stored row of a message: the address checked, the subject on one line."""
    to = to.strip()
    if not _ADDRESS.match(to) or len(to) > 320:
        raise Invalid(f"{to!r} is not an email address", {"to": "not an email address"})
    # Subjects often carry names typed by users; a line break there would forge headers.
    subject = _SPACE.sub(" ", subject).strip()[:300]
    return {"to_address": to, "subject": subject, "body": body, "kind": kind[:48],
            "created_at": ctx.now(), "credential_id": credential_id}


def insert_messages(session: Session, rows: Sequence[dict[str, Any]]) -> list[Outgoing]:
    """Write many messages (rows of :func:`message_values`) with one statement, in the
    caller's transaction; the caller commits, then hands them to a deliverer. A bulk award
    queues a batch's mail so: the unit of work costs more than the rows for fifty objects."""
    return [Outgoing(message_id, row["to_address"], row["subject"], row["body"],
                     row["created_at"])
            for message_id, row in zip(_insert_many(session, rows), rows, strict=True)]


def _insert_many(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """The ids of ``rows``, written with one INSERT, in their order."""
    if not rows:
        return []
    return [int(message_id) for message_id in session.scalars(
        insert(MailMessage).returning(MailMessage.id, sort_by_parameter_order=True), rows)]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Mail is plain text (.txt: no HTML escaping; anything else would be escaped), and a
    # missing variable is an error, not a blank in someone's inbox.
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR / "mail")),
        autoescape=select_autoescape(disabled_extensions=("txt",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        # The texts ship with the product: no look at the file's time before every message.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_mail(kind: str, **variables: Any) -> tuple[str, str]:
    """``(subject, body)`` of ``templates/mail/<kind>.txt`` rendered with ``variables``.

    A template sets its subject with ``{% set subject %}…{% endset %}``; everything else is
    the body. Each template lists its variables at the top. Raises ``LookupError`` for an
    unknown kind and ``jinja2.UndefinedError`` when a required variable is missing.
    """
    if not _KIND.match(kind):
        raise LookupError(f"no mail template {kind!r}")
    try:
        template = _environment().get_template(f"{kind}.txt")
    except TemplateNotFound:
        raise LookupError(f"no mail template {kind!r}") from None
    module = template.make_module(variables)
    subject = getattr(module, "subject", None)
    if not subject:
        raise LookupError(f"mail template {kind!r} sets no subject")
    # Names typed by users end up in subjects; one header line, whatever they contain.
    return _SPACE.sub(" ", str(subject)).strip(), str(module).strip("\n") + "\n"


@dataclass(frozen=True)
class Outgoing:
    """A stored message as the deliverer needs it."""

    id: int
    to: str
    subject: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, message: MailMessage) -> Outgoing:
        return cls(message.id, message.to_address, message.subject, message.body,
                   message.created_at)


def take_queued(session: Session) -> list[Outgoing]:
    """The messages queued in ``session`` since the last call, and forget them.

    Call it once they are written: after the commit, or after a flush just before it. A
    message that was never written, or whose writing was undone (a rollback, or a SAVEPOINT
    rolled back: it keeps the id it had, which another message may be given), is not one
    to deliver.
    """
    queued: list[MailMessage] = session.info.pop(QUEUED_KEY, [])
    written = session.info.pop(_WRITTEN_KEY, set()) | session.info.pop(_COMMITTED_KEY, set())
    return [Outgoing.of(m) for m in queued if id(m) in written or inspect(m).persistent]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    #: Left in the outbox because no SMTP server is configured.
    held: int = 0
    #: When each message sent by this delivery was sent, by message id.
    sent_at: dict[int, datetime] = field(default_factory=dict)
    #: Why each message that failed was not sent, by message id.
    errors: dict[int, str] = field(default_factory=dict)


def unsent(session: Session, ids: Collection[int] | None, *,
           retry_failed: bool = False) -> list[Outgoing]:
    """The committed messages among ``ids`` (all, when None) that are neither sent nor being
    sent, oldest first; failed ones only with ``retry_failed``."""
    query = select(MailMessage).where(*_free(ids))
    if not retry_failed:
        query = query.where(MailMessage.error.is_(None))
    return [Outgoing.of(m) for m in session.scalars(query.order_by(MailMessage.id))]


def _free(ids: Collection[int] | None) -> tuple[Any, ...]:
    """Messages neither sent nor being sent (among ``ids``, unless None)."""
    free = (MailMessage.sent_at.is_(None), MailMessage.claimed_at.is_(None))
    return free if ids is None else (MailMessage.id.in_(list(ids)), *free)


def claim(session: Session, ctx: ServiceContext, ids: Collection[int]) -> set[int]:
    """Claim the free messages among ``ids`` for one worker; the ids it may send.

    Each claim is one conditional UPDATE (``claimed_at`` set where it and ``sent_at`` were
    empty), so of two workers claiming at once exactly one gets a message. The claim must
    be committed before the message is sent.
    """
    if not ids:
        return set()
    stamp = {"claimed_at": ctx.now(), "error": None}
    if session.get_bind().dialect.update_returning:
        return set(session.scalars(
            update(MailMessage).where(*_free(ids)).values(**stamp)
            .returning(MailMessage.id).execution_options(synchronize_session=False)
        ).all())
    claimed = set()
    for message_id in ids:
        result = session.execute(
            update(MailMessage).where(*_free([message_id])).values(**stamp)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 1:
            claimed.add(message_id)
    return claimed


def mark_sent(session: Session, ctx: ServiceContext, ids: Collection[int]) -> datetime:
    """Record claimed messages as sent now (once the server has taken them); returns the
    time written."""
    now = ctx.now()
    if ids:
        session.execute(
            update(MailMessage).where(MailMessage.id.in_(list(ids)))
            .values(sent_at=now, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    return now


def record_failures(session: Session, failures: dict[int, str]) -> None:
    """Clear the claims of messages that were not sent and store why."""
    for message_id, error in failures.items():
        session.execute(
            update(MailMessage).where(MailMessage.id == message_id)
            .values(claimed_at=None, error=error)
            .execution_options(synchronize_session=False)
        )


__all__ = ["QUEUED_KEY", "DeliveryReport", "Outgoing", "claim", "insert_messages",
           "mark_sent", "message_values", "queue_message", "record_failures", "render_mail",
           "send_mail", "take_queued", "unsent"]
