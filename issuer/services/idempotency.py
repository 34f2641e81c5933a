"""Awards sent with an ``Idempotency-Key``: the same request sent again gets the credentials
the first one issued, instead of new ones.

A program whose award timed out cannot tell whether it was issued; sending it again with
the same key is then safe (IETF draft-ietf-httpapi-idempotency-key-header §2). A key
belongs to one issuer and one route, is remembered for :data:`KEEP_FOR`, and is taken
in the transaction that issues: a request that fails leaves the key free, and a second
request sent while the first is still being answered waits for it and gets its answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.core.errors import InputError
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid
from issuer.storage.idempotency import IdempotentRequest
from issuer.storage.models import Credential, Issuer

#: How long a key is remembered (the draft leaves it to the server; §2.3).
KEEP_FOR = timedelta(hours=24)
MAX_KEY = 255


class KeyReused(Invalid):
    """The key was sent before with another body (draft §2.7: 422)."""


def parse_key(value: str) -> str:
    """The key of an ``Idempotency-Key`` header: an sf-string (draft §2.1; RFC 8941 §3.3.3),
    or, as many clients send it, the bare text; printable ASCII, at most 255 characters."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not value or len(value) > MAX_KEY or any(
            not 0x20 <= ord(c) <= 0x7E or c in '"\\' for c in value):
        raise InputError("Idempotency-Key must be 1 to 255 printable ASCII characters, "
                         "without quotes or backslashes inside.")
    return value


@dataclass(frozen=True)
class Taken:
    """The key, taken for this request: :func:`record` its credentials before the commit."""

    row: IdempotentRequest


@dataclass(frozen=True)
class Earlier:
    """The key's earlier request: the credentials it issued, in its answer's order."""

    credentials: list[Credential]


def claim(session: Session, ctx: ServiceContext, issuer: Issuer, route: str, key: str,
          body: bytes) -> Taken | Earlier:
    """Take ``key`` for this request to ``route``, in the caller's transaction; or, if an
    earlier request with the same key and body committed, what it issued.

    Raises :class:`KeyReused` if the key came with another body.
    """
    digest = hashlib.sha256(body).hexdigest()
    now = ctx.now()
    of_key = (IdempotentRequest.issuer_id == issuer.id, IdempotentRequest.route == route,
              IdempotentRequest.key == key)
    # A key older than KEEP_FOR is forgotten: the next request with it is a new one.
    session.execute(delete(IdempotentRequest).where(
        *of_key, IdempotentRequest.created_at < now - KEEP_FOR))
    find = select(IdempotentRequest).where(*of_key)
    earlier = session.scalar(find)
    if earlier is None:
        row = IdempotentRequest(issuer_id=issuer.id, route=route, key=key,
                                body_digest=digest, credential_ids=[], created_at=now)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return Taken(row)
        except IntegrityError:
            # Another request took the key since the look above, and has committed: the
            # insert waited for it (PostgreSQL; SQLite lets one writer in at a time).
            earlier = session.scalar(find)
            if earlier is None:
                raise Conflict("Another request with this Idempotency-Key is being "
                               "answered: send it again in a moment.") from None
    if earlier.body_digest != digest:
        raise KeyReused("This Idempotency-Key was sent before with another request body: "
                        "use a new key for a new request.",
                        {"Idempotency-Key": "used for another request"})
    return Earlier(_credentials(session, list(earlier.credential_ids)))


def record(taken: Taken, credential_ids: Sequence[str]) -> None:
    """Keep the ids of what the request issued with its key, written with its transaction."""
    taken.row.credential_ids = list(credential_ids)


def _credentials(session: Session, ids: list[str]) -> list[Credential]:
    found = {c.id: c for c in session.scalars(select(Credential).where(Credential.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
