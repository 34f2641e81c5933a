"""Telling a recipient about their badge: the "badge awarded" mail, and what became of it.

Every award to an email address (staff page, JSON API, bulk award, approved claim) queues
``templates/mail/badge_awarded.txt`` with the credential's URL in the award's own
transaction, through the outbox of :mod:`issuer.services.mail`: it is delivered only once
that transaction has committed, and a credential that was rolled back takes its message with
it. The message names its credential, so the credential's pages can say whether the
recipient was told. A DID has no mailbox: those recipients get the link from the issuer.

A message that cannot be queued or sent never fails or undoes the award; it is logged and
shown as "failed" (or "none") where the credential's link is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.exchanges import wallet_page_url
from issuer.services.mail import DeliveryReport, message_values, queue_message, render_mail
from issuer.storage.learning import MailMessage
from issuer.storage.models import Credential

log = logging.getLogger("issuer.mail")

KIND = "badge_awarded"

#: What became of a credential's mail. ``none``: no mail was queued (the caller chose not
#: to email, or the credential predates automatic mail); ``no_address``: the recipient is a
#: DID; ``held``: waiting in the outbox because no SMTP server is configured; ``queued``:
#: committed, not sent yet.
STATES = ("sent", "failed", "held", "queued", "none", "no_address")


def queue_award_mail(session: Session, ctx: ServiceContext, credential: Credential, *,
                     issuer_name: str, profile_link: str | None = None,
                     write_now: bool = False) -> MailMessage | None:
    """Queue the "badge awarded" mail for ``credential`` in the caller's transaction.

    Returns None, and queues nothing, for a DID recipient or when the text cannot be made
    (logged): the award stands either way. The caller commits; mail goes out only then.
    ``write_now``: see :func:`~issuer.services.mail.queue_message`.
    """
    values = award_mail_values(ctx, credential, issuer_name=issuer_name,
                               profile_link=profile_link)
    if values is None:
        return None
    return queue_message(session, values, write_now=write_now)


def award_mail_values(ctx: ServiceContext, credential: Credential, *, issuer_name: str,
                      profile_link: str | None = None) -> dict[str, Any] | None:
    """The stored row of ``credential``'s "badge awarded" message; None for a DID recipient
    or when the text cannot be made (logged). A bulk award writes a batch's rows at once
    (:func:`issuer.services.mail.insert_messages`)."""
    to = credential.recipient_email
    if not to:
        return None
    variables: dict[str, Any] = {"achievement_name": credential.achievement_name,
                                 "issuer_name": issuer_name,
                                 "credential_link": credential_url(ctx, credential.id),
                                 "wallet_link": wallet_page_url(ctx, credential.id)}
    if profile_link:
        variables["profile_link"] = profile_link
    try:
        subject, body = render_mail(KIND, **variables)
        return message_values(ctx, to=to, subject=subject, body=body, kind=KIND,
                              credential_id=credential.id)
    except (Invalid, LookupError, TemplateError) as exc:
        # The address passed the award's own check, so this is a broken template: say so
        # in the log (no body, no link) and let the award stand.
        log.error("badge-awarded mail for credential %s not queued: %s", credential.id,
                  getattr(exc, "message", None) or exc)
        return None


@dataclass(frozen=True)
class AwardMail:
    """What became of the "badge awarded" mail of one credential (its latest, if resent)."""

    state: str
    to: str | None = None
    at: datetime | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.state == "sent"

    @property
    def can_send(self) -> bool:
        """Whether staff can (re)send it now: an address, and nothing waiting already."""
        return self.state in ("sent", "failed", "none")

    def sentence(self) -> str:
        """In words, for the staff who hold the credential's link."""
        to = self.to or "the recipient"
        return {
            "sent": f"The badge link was emailed to {to}.",
            "failed": f"The email to {to} could not be sent. The badge is issued: send "
                      "them the link yourself, or try the email again.",
            "held": f"The email to {to} waits in the outbox: no mail server is configured. "
                    "Send them the link yourself.",
            "queued": f"The email to {to} is waiting to be sent.",
            "none": f"No email was sent to {to}. Send them the link yourself.",
            "no_address": "The recipient is identified by a DID, so no email is sent. "
                          "Send them the link yourself.",
        }[self.state]

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.state}
        if self.to:
            body["to"] = self.to
        if self.at is not None and self.state == "sent":
            body["sentAt"] = self.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if not self.sent:
            body["message"] = self.sentence()
        return body


def _state(ctx: ServiceContext, message: MailMessage) -> AwardMail:
    if message.sent_at is not None:
        return AwardMail("sent", message.to_address, message.sent_at)
    if message.error:
        return AwardMail("failed", message.to_address, message.created_at, message.error)
    held = not ctx.settings.smtp_host
    return AwardMail("held" if held else "queued", message.to_address, message.created_at)


def _without_mail(credential: Credential) -> AwardMail:
    if credential.recipient_email:
        return AwardMail("none", credential.recipient_email)
    return AwardMail("no_address")


def award_mail(session: Session, ctx: ServiceContext, credential: Credential) -> AwardMail:
    """The state of ``credential``'s latest "badge awarded" mail."""
    message = session.scalars(
        select(MailMessage)
        .where(MailMessage.credential_id == credential.id, MailMessage.kind == KIND)
        .order_by(MailMessage.id.desc()).limit(1)
    ).first()
    return _state(ctx, message) if message is not None else _without_mail(credential)


def delivered_mail(ctx: ServiceContext, credential: Credential, message: MailMessage | None,
                   report: DeliveryReport) -> AwardMail:
    """The state of the mail just queued for ``credential`` (``message``, None if none was)
    once ``report``'s delivery is over: what ``award_mail`` would read back, without the
    read. A message the delivery did not send or fail was not this worker's to send."""
    if message is None:
        return _without_mail(credential)
    if message.id in report.sent_at:
        return AwardMail("sent", message.to_address, report.sent_at[message.id])
    if message.id in report.errors:
        return AwardMail("failed", message.to_address, message.created_at,
                         report.errors[message.id])
    return _state(ctx, message)  # as queued: neither sent nor failed in this copy


def award_mails(session: Session, ctx: ServiceContext,
                credentials: Iterable[Credential], *,
                bulk_job_id: int | None = None) -> dict[str, AwardMail]:
    """``award_mail`` for many credentials (one query), by credential id.

    ``bulk_job_id`` selects the messages by the credentials' job rather than by a list of
    ids, for the thousands of a bulk award.
    """
    rows = list(credentials)
    query = select(MailMessage).where(MailMessage.kind == KIND)
    if bulk_job_id is not None:
        query = query.join(Credential, Credential.id == MailMessage.credential_id).where(
            Credential.bulk_job_id == bulk_job_id)
    else:
        ids = [c.id for c in rows]
        if not ids:
            return {}
        query = query.where(MailMessage.credential_id.in_(ids))
    latest: dict[str, MailMessage] = {}
    for message in session.scalars(query.order_by(MailMessage.id)):
        if message.credential_id is not None:
            latest[message.credential_id] = message
    return {c.id: _state(ctx, latest[c.id]) if c.id in latest else _without_mail(c)
            for c in rows}


def job_mail_counts(session: Session, ctx: ServiceContext, bulk_job_id: int) -> dict[str, int]:
    """How many of a bulk award's credentials are in each state (``STATES``)."""
    of_job = Credential.bulk_job_id == bulk_job_id
    total, no_address = session.execute(
        select(func.count(), func.count(case((Credential.recipient_email.is_(None), 1))))
        .select_from(Credential).where(of_job)
    ).one()
    # The latest message of each of the job's credentials.
    latest = (select(func.max(MailMessage.id).label("id"))
              .join(Credential, Credential.id == MailMessage.credential_id)
              .where(of_job, MailMessage.kind == KIND)
              .group_by(MailMessage.credential_id).subquery())
    mailed, sent, failed = session.execute(
        select(func.count(),
               func.count(case((MailMessage.sent_at.is_not(None), 1))),
               func.count(case((MailMessage.sent_at.is_(None) & MailMessage.error.is_not(None),
                                1))))
        .select_from(MailMessage).join(latest, latest.c.id == MailMessage.id)
    ).one()
    waiting = mailed - sent - failed
    held = not ctx.settings.smtp_host
    return {"sent": sent, "failed": failed, "held": waiting if held else 0,
            "queued": 0 if held else waiting, "none": total - no_address - mailed,
            "no_address": no_address}


__all__ = ["KIND", "STATES", "AwardMail", "award_mail", "award_mails", "delivered_mail",
           "job_mail_counts", "queue_award_mail"]
