"""Delivery of the outbox (:mod:`issuer.services.mail`) over SMTP.

Only committed messages are delivered, each at most once: a message is first claimed, and
the claim committed, so two workers delivering at once never send the same message twice;
``sent_at`` is written once the server has taken it, so a message is never shown as sent
before it is. A worker that dies between claim and record leaves the message claimed
rather than sending it twice (a worker later marks it failed, saying it may not have
arrived). A failure clears the claim and stores the error, and
:mod:`issuer.services.mail_retry` says when a worker tries again (exponential backoff, then
failed for good with its reason). Without ``smtp_host`` nothing is sent and the database is
not touched: the log names the recipient and the subject (never the body, which may hold
a sign-in link) and the message waits on the outbox page.

* :func:`deliver`: a few messages, right after the commit that wrote them (a web request).
* :func:`deliver_pending`: whatever is waiting (or failed, to try again).
* :class:`BatchDelivery`: the thousands of a bulk award, over a few connections at once.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.jobs.transaction import unit_of_work
from issuer.services import mail_format, mail_retry
from issuer.services.context import ServiceContext
from issuer.services.mail import (
    DeliveryReport,
    Outgoing,
    claim,
    mark_sent,
    record_failures,
    unsent,
)

log = logging.getLogger("issuer.mail")

#: Seconds to wait for the SMTP server before giving up on this round.
SMTP_TIMEOUT = 10
#: ``BatchDelivery`` stops trying to reach the SMTP server after this many failed
#: connections in a row; the rest of its messages are marked failed without waiting on it.
MAX_CONNECT_FAILURES = 3

Sessions = Callable[[], Session]


def deliver_pending(sessions: Sessions, ctx: ServiceContext, *,
                    ids: Collection[int] | None = None,
                    retry_failed: bool = False) -> DeliveryReport:
    """Send committed, unsent messages (all of them, or only ``ids``) and record the outcome.

    Failed messages are tried again only with ``retry_failed``.
    """
    if ids is not None and not ids:
        return DeliveryReport()
    # The read is a step of its own, so no lock is held while sending.
    with unit_of_work(sessions) as session:
        messages = unsent(session, ids, retry_failed=retry_failed)
    return deliver(sessions, ctx, messages)


def deliver(sessions: Sessions, ctx: ServiceContext,
            messages: Sequence[Outgoing]) -> DeliveryReport:
    """Send ``messages``, committed and taken from ``take_queued``, one connection for all,
    and record the outcome of each."""
    settings = ctx.settings
    report = DeliveryReport()
    if not messages:
        return report
    if not settings.smtp_host:
        for message in messages:
            # The message id, not the address: logs are no place for people's e-mail.
            log.info("mail %s: %s (held in the outbox: no SMTP server configured)",
                     message.id, message.subject)
        report.held = len(messages)
        return report
    connection: smtplib.SMTP | None = None
    try:
        for message in messages:
            with unit_of_work(sessions) as session:
                mine = claim(session, ctx, [message.id])
            if not mine:
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
                error = _error_text(exc)
                log.warning("mail %s not sent: %s", message.id, error)
                with unit_of_work(sessions) as session:
                    record_failures(session, {message.id: error})
                    mail_retry.schedule(session, ctx, {message.id: error})
                report.errors[message.id] = error
                report.failed += 1
            else:
                log.info("mail %s: %s (sent)", message.id, message.subject)
                with unit_of_work(sessions) as session:
                    report.sent_at[message.id] = mark_sent(session, ctx, [message.id])
                report.sent += 1
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
    the server's replies), and its outcome recorded in one transaction; the database is used
    from the caller's thread only. After ``MAX_CONNECT_FAILURES`` failed connections in a
    row the server is taken to be down: the remaining messages are marked failed (to be
    retried with ``deliver_pending(retry_failed=True)``) instead of each waiting
    ``SMTP_TIMEOUT``. Like ``deliver``, a message is sent at most once.
    """

    CHUNK = 100

    def __init__(self, sessions: Sessions, ctx: ServiceContext, *,
                 name: str = "mail-delivery", connections: int | None = None) -> None:
        self._sessions = sessions
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
        senders = ThreadPoolExecutor(max_workers=self._connections,
                                     thread_name_prefix=self._name)
        try:
            for start in range(0, len(ids), self.CHUNK):
                chunk = ids[start:start + self.CHUNK]
                try:
                    self._deliver(senders, chunk)
                except Exception:  # the database, most likely; the next chunk tries again
                    log.exception("%s: a batch of %d messages was not delivered",
                                  self._name, len(chunk))
        finally:
            senders.shutdown(wait=True)
            for connection in self._open:
                _close(connection)
            self._open.clear()
        return self.report

    def _deliver(self, senders: ThreadPoolExecutor, ids: list[int]) -> None:
        settings = self._ctx.settings
        with unit_of_work(self._sessions) as session:
            messages = unsent(session, ids)
        if not messages:
            return
        if not settings.smtp_host:
            log.info("%s: %d messages held in the outbox (no SMTP server configured)",
                     self._name, len(messages))
            self.report.held += len(messages)
            return
        with unit_of_work(self._sessions) as session:
            claimed = claim(session, self._ctx, [m.id for m in messages])
        mine = [message for message in messages if message.id in claimed]
        failures: dict[int, str] = {}
        sent: list[int] = []
        for message, error in zip(mine, senders.map(self._send, mine), strict=True):
            if error is None:
                sent.append(message.id)
            else:
                failures[message.id] = error
        with unit_of_work(self._sessions) as session:
            mark_sent(session, self._ctx, sent)
            record_failures(session, failures)
            mail_retry.schedule(session, self._ctx, failures)
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


def _error_text(exc: BaseException) -> str:
    # smtplib's errors carry the server's reply, never the password sent with LOGIN.
    return f"{type(exc).__name__}: {exc}"[:1000]


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


__all__ = ["MAX_CONNECT_FAILURES", "SMTP_TIMEOUT", "BatchDelivery", "deliver",
           "deliver_pending"]
