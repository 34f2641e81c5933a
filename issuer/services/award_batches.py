"""Awarding many badges at once, all or none: the JSON API's batch award.

An integration that awards a cohort (a course's graduates, a month's mentors) gets every
credential back in one answer, as ``POST /api/v1/awards`` gives one, rather than uploading
a file and polling a bulk job. The batch is one transaction: if any award cannot be made,
none is stored, so a caller can send the same batch again without issuing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from issuer.core.errors import IssuerError
from issuer.services.award_mail import award_mail_values
from issuer.services.awards import AwardRequest, award, write_credentials
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.mail import queue_messages
from issuer.services.status_lists import allocate_many, release_many
from issuer.storage.learning import MailMessage
from issuer.storage.models import Achievement, Credential, Issuer

#: Awards one batch may hold: enough for a cohort, small enough that one answer (about 3 KB
#: per credential) and one transaction stay short.
MAX_AWARDS = 100


@dataclass(frozen=True)
class BatchItem:
    """One award of a batch: what to award, to whom, and whether to email them."""

    achievement: Achievement
    request: AwardRequest
    notify: bool = True


@dataclass(frozen=True)
class Awarded:
    """One issued credential of a batch, and the "badge awarded" mail queued for it."""

    credential: Credential
    message: MailMessage | None


class BatchItemRefused(Invalid):
    """An award of a batch could not be made; ``number`` is its place (from 0)."""

    def __init__(self, number: int, cause: IssuerError) -> None:
        where = f"awards[{number}]"
        super().__init__(f"{where}: {cause.message}. Nothing of the batch was issued.",
                         {where: cause.message})
        self.number = number


def award_batch(session: Session, ctx: ServiceContext, issuer: Issuer,
                items: Sequence[BatchItem], *, actor: str | None = None) -> list[Awarded]:
    """Issue every item as :func:`~issuer.services.awards.award` issues one (OB 3.0 §8.3,
    status-listed, signed), in the caller's transaction and in the items' order.

    Raises :class:`BatchItemRefused` for the first item that cannot be issued: the caller
    rolls the transaction back and nothing of the batch is stored. The status indexes are
    taken with one statement for the batch and the credentials written with one; the
    caller commits, and the mail goes out once it has.
    """
    if not items:
        raise Invalid("a batch needs at least one award", {"awards": "empty"})
    if len(items) > MAX_AWARDS:
        raise Invalid(f"a batch holds at most {MAX_AWARDS} awards", {"awards": "too many"})
    slots = allocate_many(session, ctx, issuer, len(items))
    issued: list[Credential] = []
    for number, item in enumerate(items):
        slot = slots.pop() if slots else None  # None: award() takes one itself
        try:
            issued.append(award(session, ctx, issuer, item.achievement, item.request,
                                actor=actor, slot=slot, add=False))
        except IssuerError as exc:
            raise BatchItemRefused(number, exc) from None
    release_many(session, slots)
    write_credentials(session, issued)
    mail = [award_mail_values(ctx, credential, issuer_name=issuer.name)
            for credential, item in zip(issued, items, strict=True) if item.notify]
    queued = queue_messages(session, [values for values in mail if values is not None])
    by_credential = {message.credential_id: message for message in queued}
    return [Awarded(credential, by_credential.get(credential.id)) for credential in issued]
