"""A limit on guessing staff passwords: refused sign-ins are counted in the database.

Two limits, both over the last ``WINDOW``:

* ``PAIR_LIMIT`` refusals for one account *from one client address* stop that address
  from trying that account. The real staff member, signing in from anywhere else, is not
  locked out by someone guessing their password (OWASP Authentication Cheat Sheet,
  "Account lockout": a lock-out per account is itself a denial of service).
* ``ADDRESS_LIMIT`` refusals from one address, whatever the accounts, stop that address
  altogether: trying one password on many accounts (spraying) is caught too.

An unknown email counts like a known one, so the limit never tells which accounts exist.
The counters are rows (:class:`~issuer.storage.models.StaffSignInFailure`), so the limit
holds across worker processes and nodes; a refused sign-in's answer is an error, whose
transaction rolls back, so the web layer writes the refusal as work kept whatever the
answer (``issuer.web.context.keep``). A limited attempt is refused before its password is
checked: the answer says nothing about the password.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.errors import TooManyRequests
from issuer.storage.models import StaffSignInFailure

WINDOW = timedelta(minutes=15)
#: Refusals of one account from one address within ``WINDOW``.
PAIR_LIMIT = 5
#: Refusals from one address within ``WINDOW``, whatever the accounts.
ADDRESS_LIMIT = 30
#: The column's width; a longer "address" (it comes from the network) is cut.
_ADDRESS_MAX = 64


class SignInThrottled(TooManyRequests):
    """Too many refused staff sign-ins; ``retry_after`` in seconds."""

    code = "rate-limited"


def account_key(email: str) -> str:
    """The account as counted: the digest of the email as typed, trimmed and lower-cased."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def _address(address: str | None) -> str:
    return (address or "unknown")[:_ADDRESS_MAX]


def check(session: Session, ctx: ServiceContext, email: str, address: str | None) -> None:
    """Raise :class:`SignInThrottled` if ``address`` may not try ``email`` now."""
    now = ctx.now()
    since = now - WINDOW
    where = _address(address)
    times = list(session.scalars(
        select(StaffSignInFailure.at)
        .where(StaffSignInFailure.address == where, StaffSignInFailure.at > since)
        .order_by(StaffSignInFailure.at)))
    wait = _wait(times, ADDRESS_LIMIT, now)
    if wait is None:
        account = account_key(email)
        pair = list(session.scalars(
            select(StaffSignInFailure.at)
            .where(StaffSignInFailure.address == where, StaffSignInFailure.account == account,
                   StaffSignInFailure.at > since)
            .order_by(StaffSignInFailure.at)))
        wait = _wait(pair, PAIR_LIMIT, now)
    if wait is not None:
        minutes = -(-wait // 60)
        raise SignInThrottled(
            f"Too many failed sign-ins. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}.", wait)


def _wait(times: Sequence[datetime], limit: int, now: datetime) -> int | None:
    """Seconds until fewer than ``limit`` of ``times`` (oldest first) are in the window."""
    if len(times) < limit:
        return None
    return max(1, int((times[-limit] + WINDOW - now).total_seconds()) + 1)


def record_failure(session: Session, ctx: ServiceContext, email: str,
                   address: str | None) -> None:
    """Count one refused sign-in, and drop the refusals that no longer count."""
    now = ctx.now()
    session.execute(delete(StaffSignInFailure).where(StaffSignInFailure.at <= now - WINDOW)
                    .execution_options(synchronize_session=False))
    session.add(StaffSignInFailure(account=account_key(email), address=_address(address),
                                   at=now))
    session.flush()


def forget(session: Session, email: str, address: str | None) -> None:
    """After a successful sign-in, the refusals of this account from this address."""
    session.execute(delete(StaffSignInFailure).where(
        StaffSignInFailure.account == account_key(email),
        StaffSignInFailure.address == _address(address),
    ).execution_options(synchronize_session=False))
