"""Outgoing mail through an outbox: every message is stored first, then delivered.

Storing before sending keeps mail consistent with the data: a message is written in the same
transaction as the change it reports, and delivered only after that transaction commits
(``deliver_pending``). Without SMTP settings (development) messages stay in the outbox page.

Texts live in ``templates/mail/<kind>.txt``; ``render_mail`` turns one into a subject and a
plain-text body (the first line of a template is ``Subject: …``).

Many messages at once (a bulk award) go through ``BatchDelivery``: it collects the committed
messages while the caller issues, then sends them all over a few SMTP connections at once.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from issuer.config import TEMPLATES_DIR, Settings
from issuer.services import mail_format
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.learning import MailMessage

log = logging.getLogger("issuer.mail")

#: Seconds to wait for the SMTP server before giving up on this round.
SMTP_TIMEOUT = 10
#: Key in ``Session.info`` listing the messages queued in the session's transaction.
QUEUED_KEY = "issuer.mail.queued"
#: ``BatchDelivery`` stops trying to reach the SMTP server after this many failed
#: connections in a row; the rest of its messages are marked failed without waiting on it.
MAX_CONNECT_FAILURES = 3

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_SPACE = re.compile(r"\s+")


def send_mail(session: Session, ctx: ServiceContext, *, to: str, subject: str, body: str,
              kind: str, credential_id: str | None = None) -> MailMessage:
    """Queue a plain-text message; the caller commits, then calls ``deliver_pending``.

    In a web request, queued messages are delivered automatically once the request's
    transaction commits, and dropped if it rolls back (``issuer.web.learner.auth``).
    ``credential_id`` names the credential the message is about, if any.
    """
    return queue_message(session, message_values(ctx, to=to, subject=subject, body=body,
                                                 kind=kind, credential_id=credential_id))


def queue_message(session: Session, values: dict[str, Any]) -> MailMessage:
    """Queue the message of :func:`message_values` in the caller's transaction."""
    message = MailMessage(**values)
    session.add(message)
    # Not flushed here: the commit writes it. The deliverer sends this copy after the
    # commit instead of reading it back.
    session.info.setdefault(QUEUED_KEY, []).append(message)
    return message


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
    if not rows:
        return []
    ids = session.scalars(
        insert(MailMessage).returning(MailMessage.id, sort_by_parameter_order=True), rows).all()
    return [Outgoing(int(message_id), row["to_address"], row["subject"], row["body"],
                     row["created_at"]) for message_id, row in zip(ids, rows, strict=True)]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Mail is plain text (.txt: no HTML escaping; anything else would be escaped), and a
    # missing variable is an error, not a blank in someone's inbox.
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR / "mail")),
        autoescape=select_autoescape(disabled_extensions=("txt",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
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
    message that was never written (it has no id) is not one to deliver.
    """
    queued: list[MailMessage] = session.info.pop(QUEUED_KEY, [])
    return [Outgoing.of(m) for m in queued if m.id is not None]


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


def deliver_pending(session_factory: Callable[[], Session], ctx: ServiceContext, *,
                    ids: Collection[int] | None = None,
                    retry_failed: bool = False) -> DeliveryReport:
    """Send committed, unsent messages (all of them, or only ``ids``) and record the outcome.

    Failed messages are tried again only with ``retry_failed``; see ``deliver`` for how
    each one is claimed, sent and recorded.
    """
    if ids is not None and not ids:
        return DeliveryReport()
    with session_factory() as session:
        messages = _unsent(session, ids, retry_failed=retry_failed)
    return deliver(session_factory, ctx, messages)


def deliver(session_factory: Callable[[], Session], ctx: ServiceContext,
            messages: Sequence[Outgoing]) -> DeliveryReport:
    """Send ``messages``, committed and taken from ``take_queued``, and record the outcome.

    Each message is first claimed with one conditional UPDATE (``claimed_at`` set where it
    and ``sent_at`` were empty), so two workers delivering at once never send the same
    message twice, and ``sent_at`` is written once the server has taken it: a message is
    never shown as sent before it is. A worker that dies between claim and record leaves
    the message claimed (shown as waiting) rather than sending it twice. A failure clears
    the claim and stores the error. Without ``smtp_host`` nothing is sent and the database
    is not touched: the log names the recipient and the subject (never the body, which may
    hold a sign-in link) and the message waits on the outbox page.
    """
    settings = ctx.settings
    report = DeliveryReport()
    if not messages:
        return report
    if not settings.smtp_host:
        for message in messages:
            log.info("mail to %s: %s (held in the outbox: no SMTP server configured)",
                     message.to, message.subject)
        report.held = len(messages)
        return report
    with session_factory() as session:
        connection: smtplib.SMTP | None = None
        try:
            for message in messages:
                if not _claim(session, ctx, message.id):
                    continue
                try:
                    if connection is None:
                        connection = _connect(settings)
                    _transmit(connection, settings, message)
                except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
                    # Start the next message on a fresh connection, whatever state this one
                    # was left in.
                    _close(connection)
                    connection = None
                    report.errors[message.id] = _fail(session, message.id, exc)
                    report.failed += 1
                else:
                    log.info("mail to %s: %s (sent)", message.to, message.subject)
                    report.sent += 1
                    report.sent_at[message.id] = _mark_sent(session, ctx, [message.id])
        finally:
            _close(connection)
    return report


class BatchDelivery:
    """Deliver many committed messages over a few SMTP connections at once (bulk awards).

    The caller submits the ids of each batch once its transaction has committed; ``close``
    then sends them all, in chunks of ``CHUNK``. Sending waits until the issuing is over on
    purpose: a mail thread running beside it would hold the GIL while the issuing thread
    waits on the database, and slow issuing down two- or threefold, while the badges are
    what the person is waiting for. Each chunk is claimed with one UPDATE, sent over
    ``connections`` connections in parallel (most of a message's time is spent waiting for
    the server's replies), and its failures recorded with one commit; the database is used
    from the caller's thread only. After ``MAX_CONNECT_FAILURES`` failed connections in a
    row the server is taken to be down: the remaining messages are marked failed (to be
    retried with ``deliver_pending(retry_failed=True)``) instead of each waiting
    ``SMTP_TIMEOUT``. Like ``deliver_pending``, a message is sent at most once.
    """

    CHUNK = 100

    def __init__(self, session_factory: Callable[[], Session],
                 ctx: ServiceContext, *, name: str = "mail-delivery",
                 connections: int | None = None) -> None:
        self._factory = session_factory
        self._ctx = ctx
        self._name = name
        self._connections = max(1, connections or ctx.settings.smtp_connections)
        self._ids: list[int] = []
        self._local = threading.local()
        self._open: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._connect_failures = 0
        self._given_up: str | None = None
        self.report = DeliveryReport()

    @property
    def pending(self) -> int:
        """How many submitted messages ``close`` has yet to deal with."""
        return len(self._ids)

    def submit(self, ids: Collection[int]) -> None:
        """Hand over the ids of committed messages; returns at once."""
        self._ids.extend(ids)

    def close(self) -> DeliveryReport:
        """Send every submitted message (or record why not); returns what became of them."""
        ids, self._ids = self._ids, []
        if not ids:
            return self.report
        session = self._factory()
        senders = ThreadPoolExecutor(max_workers=self._connections,
                                     thread_name_prefix=self._name)
        try:
            for start in range(0, len(ids), self.CHUNK):
                chunk = ids[start:start + self.CHUNK]
                try:
                    self._deliver(session, senders, chunk)
                except Exception:  # the database, most likely; the next chunk tries again
                    session.rollback()
                    log.exception("%s: a batch of %d messages was not delivered",
                                  self._name, len(chunk))
        finally:
            senders.shutdown(wait=True)
            for connection in self._open:
                _close(connection)
            self._open.clear()
            session.close()
        return self.report

    def _deliver(self, session: Session, senders: ThreadPoolExecutor, ids: list[int]) -> None:
        settings = self._ctx.settings
        messages = _unsent(session, ids)
        if not messages:
            return
        if not settings.smtp_host:
            log.info("%s: %d messages held in the outbox (no SMTP server configured)",
                     self._name, len(messages))
            self.report.held += len(messages)
            return
        claimed = _claim_many(session, self._ctx, [m.id for m in messages])
        mine = [message for message in messages if message.id in claimed]
        failures: dict[int, str] = {}
        sent: list[int] = []
        for message, error in zip(mine, senders.map(self._send, mine), strict=True):
            if error is None:
                sent.append(message.id)
            else:
                failures[message.id] = error
        _mark_sent(session, self._ctx, sent, commit=False)
        _fail_many(session, failures)
        self.report.sent += len(sent)
        self.report.failed += len(failures)
        log.info("%s: %d sent, %d not sent", self._name,
                 len(mine) - len(failures), len(failures))

    def _send(self, message: Outgoing) -> str | None:
        """Send one message on this thread's connection; the error text when not sent."""
        settings = self._ctx.settings
        for _attempt in range(2):
            if self._given_up is not None:
                return self._given_up
            connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
            reused = connection is not None
            if connection is None:
                connection, error = self._connect()
                if connection is None:
                    return error
            try:
                _transmit(connection, settings, message)
            except smtplib.SMTPServerDisconnected as exc:
                self._drop(connection)
                if reused:
                    continue  # closed while idle between batches: once more, reconnected
                error = _error_text(exc)
            except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
                self._drop(connection)
                error = _error_text(exc)
            else:
                with self._lock:
                    self._connect_failures = 0
                return None
            log.warning("mail %s not sent: %s", message.id, error)
            return error
        return "SMTPServerDisconnected: the server closed the connection twice"

    def _connect(self) -> tuple[smtplib.SMTP | None, str]:
        try:
            connection = _connect(self._ctx.settings)
        except (OSError, ValueError) as exc:
            error = _error_text(exc)
            with self._lock:
                self._connect_failures += 1
                if self._connect_failures >= MAX_CONNECT_FAILURES and self._given_up is None:
                    self._given_up = (f"not tried: the SMTP server could not be reached "
                                      f"({error})")[:1000]
                    log.warning("%s: giving up on the SMTP server; the remaining messages "
                                "are marked failed", self._name)
            log.warning("%s: cannot reach the SMTP server: %s", self._name, error)
            return None, error
        self._local.connection = connection
        with self._lock:
            self._open.append(connection)
        return connection, ""

    def _drop(self, connection: smtplib.SMTP) -> None:
        """Forget a connection left in an unknown state; the next message opens a new one."""
        _close(connection)
        self._local.connection = None
        with self._lock:
            if connection in self._open:
                self._open.remove(connection)


def _unsent(session: Session, ids: Collection[int] | None, *,
            retry_failed: bool = False) -> list[Outgoing]:
    """The committed, unsent messages among ``ids`` (all, when None), oldest first; the read
    ends its transaction, so no lock is held while sending."""
    query = select(MailMessage).where(*_free(ids))
    if not retry_failed:
        query = query.where(MailMessage.error.is_(None))
    messages = [Outgoing.of(m) for m in session.scalars(query.order_by(MailMessage.id))]
    session.rollback()
    return messages


def _free(ids: Collection[int] | None) -> tuple[Any, ...]:
    """Messages neither sent nor being sent (among ``ids``, unless None)."""
    free = (MailMessage.sent_at.is_(None), MailMessage.claimed_at.is_(None))
    return free if ids is None else (MailMessage.id.in_(list(ids)), *free)


def _claim(session: Session, ctx: ServiceContext, message_id: int) -> bool:
    """Claim one unsent message; False if it was not free (sent already, or being sent by
    another worker)."""
    result = session.execute(
        update(MailMessage).where(*_free([message_id]))
        .values(claimed_at=ctx.now(), error=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def _claim_many(session: Session, ctx: ServiceContext, ids: list[int]) -> set[int]:
    """Claim unsent messages with one UPDATE; the ids this worker may send."""
    if not session.get_bind().dialect.update_returning:
        return {i for i in ids if _claim(session, ctx, i)}
    claimed = session.scalars(
        update(MailMessage).where(*_free(ids))
        .values(claimed_at=ctx.now(), error=None)
        .returning(MailMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return set(claimed)


def _mark_sent(session: Session, ctx: ServiceContext, ids: list[int], *,
               commit: bool = True) -> datetime:
    """Record claimed messages as sent now; returns the time written."""
    now = ctx.now()
    if ids:
        session.execute(
            update(MailMessage).where(MailMessage.id.in_(ids))
            .values(sent_at=now, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    if commit:
        session.commit()
    return now


def _fail_many(session: Session, failures: dict[int, str]) -> None:
    """Clear the claims of messages that were not sent and store why, and commit."""
    for message_id, error in failures.items():
        session.execute(
            update(MailMessage).where(MailMessage.id == message_id)
            .values(claimed_at=None, error=error)
            .execution_options(synchronize_session=False)
        )
    session.commit()


def _error_text(exc: BaseException) -> str:
    # smtplib's errors carry the server's reply, never the password sent with LOGIN.
    return f"{type(exc).__name__}: {exc}"[:1000]


def _fail(session: Session, message_id: int, exc: BaseException) -> str:
    error = _error_text(exc)
    log.warning("mail %s not sent: %s", message_id, error)
    _fail_many(session, {message_id: error})
    return error


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except OSError:
        connection.close()


def _connect(settings: Settings) -> smtplib.SMTP:
    host = settings.smtp_host or ""
    connection: smtplib.SMTP
    if settings.smtp_ssl:
        connection = smtplib.SMTP_SSL(host, settings.smtp_port, timeout=SMTP_TIMEOUT,
                                      context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    try:
        if settings.smtp_starttls:
            # Refuses (SMTPNotSupportedError) rather than falling back to plain text.
            connection.starttls(context=ssl.create_default_context())
        if settings.smtp_user is not None and settings.smtp_password is not None:
            connection.login(settings.smtp_user, settings.smtp_password)
    except BaseException:
        connection.close()
        raise
    return connection


def _transmit(connection: smtplib.SMTP, settings: Settings, message: Outgoing) -> None:
    """Send one message (RFC 5322 headers, RFC 2045 body) over an open connection."""
    name, address = mail_format.sender(settings.mail_from)
    if not (address + message.to).isascii():
        # An internationalised address needs SMTPUTF8 (RFC 6531): the full email API
        # knows how to ask the server for it.
        connection.send_message(mail_format.email_message(settings.mail_from, message))
        return
    connection.sendmail(address, [message.to], mail_format.plain_bytes(name, address, message))


__all__ = ["BatchDelivery", "DeliveryReport", "Outgoing", "deliver", "deliver_pending",
           "render_mail", "send_mail", "take_queued"]
