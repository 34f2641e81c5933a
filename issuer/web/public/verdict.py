"""The at-a-glance verdict on a badge's own page: a real verification, remembered briefly.

The page runs the verifier the verify page runs (:func:`issuer.services.verification.verify`:
the DID documents and status lists of the issuers hosted here are read from this service, so
no network is needed) and says "Verified", "Revoked", "Suspended" or "Could not be verified"
with the reason in plain words, linking to the full check.

A verification canonicalizes and checks every proof, so each worker process remembers a
verdict for :data:`TTL_SECONDS`. The key is the credential's id, its status version (state and
when it last changed, so a revocation shows on the next view) and a digest of the stored
document; anything else that can change a verdict (a key reported compromised, the validity
dates passing) shows within the time a verdict is kept.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from issuer.core.verify import Outcome, VerificationReport
from issuer.services.context import ServiceContext
from issuer.storage.models import Credential
from issuer.web.public.verify import PLAIN_FAILURES

#: How long a worker shows a verdict before checking again.
TTL_SECONDS = 60.0
#: Verdicts a worker keeps at most; the oldest go first.
MAX_ENTRIES = 1024
_EXTENSION = "issuer.credential_verdicts"

VERIFIED = "verified"
REVOKED = "revoked"
SUSPENDED = "suspended"
UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Verdict:
    #: ``verified``, ``revoked``, ``suspended`` or ``unverified``.
    state: str
    #: The words at a glance: "Verified", "Revoked", …
    headline: str
    #: Why it could not be verified, in plain words; None otherwise.
    reason: str | None
    checked_at: datetime
    #: Checks that passed with a reservation (e.g. a status that could not be checked).
    warnings: tuple[str, ...] = ()
    #: Whether a status list said it is neither revoked nor suspended; False for a badge
    #: issued without status entries, whose revocation nobody could learn of.
    status_checked: bool = False

    @property
    def valid(self) -> bool:
        return self.state == VERIFIED


def verdict_of(report: VerificationReport, status: str, checked_at: datetime) -> Verdict:
    """The verdict a report gives; ``status`` is the credential's state in this service's
    records (``active``, ``revoked``, ``suspended``), used to name a failed status check."""
    if report.valid:
        warnings = tuple(c.message for c in report.checks if c.outcome == Outcome.WARNING)
        listed = report.check("status")
        return Verdict(VERIFIED, "Verified", None, checked_at, warnings,
                       status_checked=listed is not None and listed.outcome == Outcome.PASSED)
    failed = report.failed
    if failed and failed[0].id == "status" and status in (REVOKED, SUSPENDED):
        return Verdict(status, status.capitalize(), None, checked_at)
    reason = (PLAIN_FAILURES.get(failed[0].id, f"The {failed[0].id} check failed.")
              if failed else "The check did not complete.")
    return Verdict(UNVERIFIED, "Could not be verified", reason, checked_at)


class VerdictCache:
    """Verdicts by key for ``ttl`` seconds (of ``clock``), at most ``size`` of them."""

    def __init__(self, ttl: float = TTL_SECONDS, size: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._entries: OrderedDict[Hashable, tuple[float, Verdict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Verdict]) -> Verdict:
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self._ttl:
                return found[1]
        # Computed outside the lock: two threads may both verify once; neither waits.
        verdict = compute()
        with self._lock:
            self._entries[key] = (now, verdict)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return verdict


def _cache() -> VerdictCache:
    cache = current_app.extensions.get(_EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(_EXTENSION, VerdictCache())
    assert isinstance(cache, VerdictCache)
    return cache


def cache_key(row: Credential) -> tuple[str, str, str | None, str]:
    """The credential's id, its status version and a digest of what is stored."""
    changed = row.status_changed_at.isoformat() if row.status_changed_at else None
    digest = hashlib.sha256(row.document.encode("utf-8")).hexdigest()
    return row.id, row.status, changed, digest


def credential_verdict(ctx: ServiceContext, row: Credential,
                       check: Callable[[str], VerificationReport]) -> Verdict:
    """The verdict on ``row``, from this worker's memory or from ``check`` (the verifier)
    run on the stored document now."""
    return _cache().get(cache_key(row),
                        lambda: verdict_of(check(row.document), row.status, ctx.now()))
