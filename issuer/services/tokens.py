"""API bearer tokens: shown once, stored as SHA-256 digests, revocable."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, NotFound
from issuer.services.lookups import Fingerprint, checked_copy, fingerprint, in_session
from issuer.services.secret_digest import digest
from issuer.storage.models import ApiToken, Issuer, SigningKey

PREFIX = "obi_"
#: ``last_used_at`` is rewritten only once it is this old. Writing the token's row on every
#: request would make concurrent requests with one token wait on that row's lock until each
#: commits (PostgreSQL), for a time shown to the minute.
USE_RESOLUTION = timedelta(minutes=1)



def create_token(session: Session, ctx: ServiceContext, issuer: Issuer,
                 name: str) -> tuple[ApiToken, str]:
    """A new token for ``issuer``; the plain token is returned once and never stored."""
    name = (name or "").strip() or "API token"
    if len(name) > 200:
        raise Invalid("the token name is too long", {"name": "too long"})
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(issuer_id=issuer.id, name=name, prefix=plain[:10],
                   token_hash=digest(plain), created_at=ctx.now())
    session.add(row)
    session.flush()
    return row, plain


def authenticate(session: Session, ctx: ServiceContext, plain: str) -> ApiToken | None:
    """The live token matching ``plain``, or None (unknown, malformed or revoked).

    The token, its issuer and the issuer's keys come from this process's copy
    (:mod:`issuer.services.lookups`) when one plain query shows their rows unchanged; a token
    revoked anywhere is refused by the next request, as that query reads ``revoked_at``.
    """
    if not plain or not plain.startswith(PREFIX) or len(plain) > 200:
        return None
    hashed = digest(plain)
    # On the connection: the ORM adds nothing to a plain query but its own overhead.
    rows = session.connection().execute(_current_rows(), {"digest": hashed}).all()
    if not rows or rows[0].revoked_at is not None:
        return None
    if not hmac.compare_digest(rows[0].token_hash, hashed):
        return None
    row = _cached_token(session, ctx, hashed, rows)
    if row is None or row.revoked_at is not None:
        return None
    now = ctx.now()
    if row.last_used_at is None or now - row.last_used_at >= USE_RESOLUTION:
        row.last_used_at = now
    return row


_TOKEN_COLUMNS = [c for c in ApiToken.__table__.columns if c.key != "last_used_at"]
_ISSUER_COLUMNS = list(Issuer.__table__.columns)
_KEY_COLUMNS = list(SigningKey.__table__.columns)
_T, _I = len(_TOKEN_COLUMNS), len(_TOKEN_COLUMNS) + len(_ISSUER_COLUMNS)


@cache
def _current_rows() -> Select[Any]:
    # One row per key of the token's issuer (one with no key columns when it has none).
    tokens, issuers, keys = ApiToken.__table__, Issuer.__table__, SigningKey.__table__
    return (select(*_TOKEN_COLUMNS, *_ISSUER_COLUMNS, *_KEY_COLUMNS, tokens.c.last_used_at)
            .select_from(tokens.join(issuers, issuers.c.id == tokens.c.issuer_id)
                         .outerjoin(keys, keys.c.issuer_id == issuers.c.id))
            .where(tokens.c.token_hash == bindparam("digest"))
            .order_by(keys.c.id))


def _rows_stamp(rows: Sequence[Row[Any]]) -> Fingerprint:
    first = tuple(rows[0])
    key_rows = tuple(tuple(r)[_I:-1] for r in rows if r[_I] is not None)
    return first[:_T], first[_T:_I], key_rows


def _token_stamp(token: ApiToken) -> Fingerprint:
    return (fingerprint(token, _TOKEN_COLUMNS), fingerprint(token.issuer, _ISSUER_COLUMNS),
            tuple(fingerprint(k, _KEY_COLUMNS) for k in token.issuer.keys))


def _cached_token(session: Session, ctx: ServiceContext, digest: str,
                  rows: Sequence[Row[Any]]) -> ApiToken | None:
    """The token of ``rows`` with its issuer and keys, as instances of ``session``."""
    first = rows[0]
    identities = [(ApiToken, first[0]), (Issuer, first[_T])]
    identities += [(SigningKey, r[_I]) for r in rows if r[_I] is not None]
    if in_session(session, *identities):
        # This session's own instances, as they stand (last_used_at included).
        return session.scalars(_by_digest(), {"digest": digest}).unique().first()
    row = checked_copy(
        session, ctx.lookups.tokens, digest, _rows_stamp(rows), identities,
        lambda side: side.scalars(_by_digest(), {"digest": digest}).unique().first(),
        _token_stamp)
    if row is None:
        return None
    # Not part of the stamp (it changes once a minute): the value just read.
    set_committed_value(row, "last_used_at", first.last_used_at)
    return row


@cache
def _by_digest() -> Select[tuple[ApiToken]]:
    # The issuer and its keys come in the same statement: every API request acts for the
    # issuer, and an award signs with its active key. Built once, as it runs per request.
    return (select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))
            .options(joinedload(ApiToken.issuer).joinedload(Issuer.keys)))


def revoke_token(session: Session, ctx: ServiceContext, issuer: Issuer, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.issuer_id != issuer.id:
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
    session.flush()


def list_tokens(session: Session, issuer: Issuer) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.issuer_id == issuer.id)
                           .order_by(ApiToken.created_at.desc())).all()
