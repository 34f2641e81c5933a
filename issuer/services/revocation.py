"""Revoking, suspending and reinstating issued credentials, with a reason, on the record.

W3C Bitstring Status List v1.0 §2.1 ``statusPurpose``: a revocation "is not reversible",
a suspension is. So the states are ``active``, ``suspended`` and ``revoked``:

* revoke: active or suspended → revoked, for good;
* suspend: active → suspended;
* reinstate: suspended → active (only a suspension can be lifted).

Every change writes a :class:`~issuer.storage.models.StatusEvent` (who, when, why) and moves
the version of the lists whose bit it changed, so the next publication is signed again.
The credential row is updated only if its status is still the one the change started from,
so two changes at once cannot both win, on SQLite as on PostgreSQL. The caller commits.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.core.status_list import PURPOSES
from issuer.services.bound_copies import copies_of
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.status_lists import (
    ACTIVE,
    REVOKED,
    STATE_OF_PURPOSE,
    SUSPENDED,
)
from issuer.storage.models import Credential, Issuer, StatusAllocation, StatusEvent, StatusList

REVOKE = "revoke"
SUSPEND = "suspend"
REINSTATE = "reinstate"
ACTIONS = (REVOKE, SUSPEND, REINSTATE)
MAX_REASON = 1000
#: Credentials in one bulk revocation.
MAX_BULK = 10_000

NO_ENTRY = ("this credential was issued before status lists were kept: it has no status "
            "entry, so verifiers could not learn of a change")
NOT_A_REFERENCE = "not a credential id or address of this service"
PERMANENT = ("a revoked credential cannot be reinstated: revocation is permanent (W3C "
             "Bitstring Status List §2.1). Issue a new credential instead")


# --- what the pages show -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusView:
    """What to tell people about a credential's status."""

    state: str
    reason: str | None = None
    since: datetime | None = None
    #: False for credentials issued without status entries: nothing can be published.
    managed: bool = True

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    @property
    def title(self) -> str:
        return {ACTIVE: "Active", REVOKED: "Revoked", SUSPENDED: "Suspended"}[self.state]

    @property
    def since_text(self) -> str | None:
        """The date of the change in words, e.g. ``22 November 2026``."""
        if self.since is None:
            return None
        return f"{self.since.day} {self.since.strftime('%B %Y')}"

    @property
    def explanation(self) -> str:
        if self.state == REVOKED:
            return ("The issuer has revoked this badge. It is no longer valid, and this "
                    "cannot be undone.")
        if self.state == SUSPENDED:
            return ("The issuer has suspended this badge for now. It is not valid while "
                    "suspended; the issuer may reinstate it.")
        if not self.managed:
            return "The issuer has not revoked or suspended this badge."
        return ("The issuer has not revoked or suspended this badge. Verifiers can check "
                "this at any time in the issuer's published status lists.")


def credential_status(session: Session, ctx: ServiceContext,
                      credential: Credential) -> StatusView:
    """The credential's status as the issuer's lists publish it now."""
    session.refresh(credential, ["status", "status_reason", "status_changed_at",
                                 "status_allocation_id"])
    state = credential.status if credential.status in (ACTIVE, REVOKED, SUSPENDED) else ACTIVE
    changed = state != ACTIVE
    return StatusView(
        state=state,
        reason=credential.status_reason if changed else None,
        since=credential.status_changed_at if changed else None,
        managed=credential.status_allocation_id is not None,
    )


def status_events(session: Session, credential: Credential) -> Sequence[StatusEvent]:
    """Every status change of the credential, oldest first."""
    return session.scalars(select(StatusEvent).where(
        StatusEvent.credential_id == credential.id).order_by(StatusEvent.at, StatusEvent.id)
    ).all()


# --- changes -------------------------------------------------------------------------------


def clean_reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if not text:
        if required:
            raise Invalid("give a reason: it is kept with the change and shown with the "
                          "badge", {"reason": "required"})
        return None
    if len(text) > MAX_REASON:
        raise Invalid(f"keep the reason under {MAX_REASON} characters",
                      {"reason": "too long"})
    return text


def _next_state(current: str, action: str) -> str:
    if action == REVOKE:
        if current == REVOKED:
            raise Conflict("this credential is already revoked")
        return REVOKED
    if action == SUSPEND:
        if current == REVOKED:
            raise Conflict("this credential is revoked, and revocation is permanent: it "
                           "cannot be suspended")
        if current == SUSPENDED:
            raise Conflict("this credential is already suspended")
        return SUSPENDED
    if action == REINSTATE:
        if current == REVOKED:
            raise Conflict(PERMANENT)
        if current == ACTIVE:
            raise Conflict("this credential is not suspended, so there is nothing to "
                           "reinstate")
        return ACTIVE
    raise Invalid(f"unknown status change {action!r}; use one of {', '.join(ACTIONS)}")


def own_credential(session: Session, issuer: Issuer, credential_id: str) -> Credential:
    """The issuer's credential; another issuer's answers exactly as a missing one (404)."""
    try:
        canonical = str(uuid.UUID(str(credential_id)))
    except ValueError:
        raise NotFound("no such credential") from None
    row = session.get(Credential, canonical)
    if row is None or row.issuer_id != issuer.id:
        raise NotFound("no such credential")
    return row


@dataclass
class _Batch:
    """Changes made in one transaction, with the lists they touched."""

    now: datetime
    lists: set[tuple[int, str]] = field(default_factory=set)


def _apply(session: Session, credential: Credential, action: str, reason: str | None,
           actor: str | None, batch: _Batch) -> StatusEvent:
    if credential.status_allocation_id is None:
        raise Conflict(NO_ENTRY)
    session.refresh(credential, ["status"])
    old = credential.status
    new = _next_state(old, action)
    result = session.execute(
        update(Credential)
        .where(Credential.id == credential.id, Credential.status == old)
        .values(status=new, status_reason=reason, status_changed_at=batch.now)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("the credential's status was changed by someone else just now; "
                       "reload and try again")
    session.refresh(credential, ["status", "status_reason", "status_changed_at"])
    event = StatusEvent(credential_id=credential.id, action=action, from_status=old,
                        to_status=new, reason=reason, actor=actor, at=batch.now)
    session.add(event)
    allocation = session.get(StatusAllocation, credential.status_allocation_id)
    assert allocation is not None  # the foreign key keeps it
    for purpose in PURPOSES:
        state = STATE_OF_PURPOSE[purpose]
        if (old == state) != (new == state):
            batch.lists.add((allocation.list_number, purpose))
    for copy in copies_of(session, credential):
        _follow(session, copy, action, reason, actor, batch)
    return event


def _follow(session: Session, copy: Credential, action: str, reason: str | None,
            actor: str | None, batch: _Batch) -> None:
    """A wallet's DID-bound copy of a credential changes with it."""
    try:
        _apply(session, copy, action, reason, actor, batch)
    except Conflict:
        pass  # the copy is in that state already (revoked on its own, say)


def _touch(session: Session, issuer: Issuer, batch: _Batch) -> None:
    """New versions for the lists whose bits changed: they are signed again when asked for."""
    for number, purpose in sorted(batch.lists):
        session.execute(
            update(StatusList)
            .where(StatusList.issuer_id == issuer.id, StatusList.purpose == purpose,
                   StatusList.number == number)
            .values(version=StatusList.version + 1, changed_at=batch.now)
            .execution_options(synchronize_session=False))
    session.flush()


def change_status(session: Session, ctx: ServiceContext, issuer: Issuer, credential_id: str,
                  action: str, *, reason: str | None, actor: str | None) -> StatusEvent:
    """Revoke, suspend or reinstate one of ``issuer``'s credentials.

    A reason is required to revoke or suspend and optional to reinstate. Refusals: 404 for
    a credential that is not the issuer's, 409 for a change its state does not allow (e.g.
    reinstating a revoked credential), 422 for a missing or overlong reason.
    """
    if action not in ACTIONS:
        raise Invalid(f"unknown status change {action!r}; use one of {', '.join(ACTIONS)}")
    credential = own_credential(session, issuer, credential_id)
    reason = clean_reason(reason, required=action != REINSTATE)
    batch = _Batch(now=ctx.now())
    event = _apply(session, credential, action, reason, actor, batch)
    _touch(session, issuer, batch)
    return event


def revoke(session: Session, ctx: ServiceContext, issuer: Issuer, credential_id: str, *,
           reason: str | None, actor: str | None) -> StatusEvent:
    return change_status(session, ctx, issuer, credential_id, REVOKE, reason=reason,
                         actor=actor)


def suspend(session: Session, ctx: ServiceContext, issuer: Issuer, credential_id: str, *,
            reason: str | None, actor: str | None) -> StatusEvent:
    return change_status(session, ctx, issuer, credential_id, SUSPEND, reason=reason,
                         actor=actor)


def reinstate(session: Session, ctx: ServiceContext, issuer: Issuer, credential_id: str, *,
              reason: str | None = None, actor: str | None) -> StatusEvent:
    return change_status(session, ctx, issuer, credential_id, REINSTATE, reason=reason,
                         actor=actor)


# --- many at once --------------------------------------------------------------------------


@dataclass
class BulkResult:
    """What a bulk revocation did: revoked credential ids, and what was left out, why."""

    revoked: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def credential_reference(ctx: ServiceContext, text: str) -> str | None:
    """The credential id in ``text``: an id, or the credential's address on this service."""
    value = text.strip()
    prefix = f"{ctx.base}/credentials/"
    if value.startswith(prefix):
        value = value[len(prefix):].split("?", 1)[0].split("#", 1)[0]
        parts = [p for p in value.split("/") if p]
        if len(parts) == 2 and parts[1] in ("verify", "download"):
            parts = parts[:1]
        if len(parts) != 1:
            return None
        value = parts[0]
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@dataclass
class RevocationPlan:
    """What a bulk revocation would do, before anything changes (for a confirmation page)."""

    credentials: list[Credential] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _wanted(references: Iterable[str]) -> list[str]:
    wanted = [r for r in (str(x).strip() for x in references) if r]
    if not wanted:
        raise Invalid("choose at least one credential to revoke",
                      {"credentials": "none chosen"})
    if len(wanted) > MAX_BULK:
        raise Invalid(f"revoke at most {MAX_BULK:,} credentials at a time",
                      {"credentials": "too many"})
    return wanted


def plan_revocation(session: Session, ctx: ServiceContext, issuer: Issuer,
                    references: Iterable[str]) -> RevocationPlan:
    """The issuer's credentials that ``references`` name and could be revoked; the others
    with the reason they would be left out. Nothing is changed."""
    plan = RevocationPlan()
    seen: set[str] = set()
    for reference in _wanted(references):
        credential_id = credential_reference(ctx, reference)
        if credential_id is None:
            plan.skipped.append((reference, NOT_A_REFERENCE))
            continue
        if credential_id in seen:
            continue
        seen.add(credential_id)
        try:
            credential = own_credential(session, issuer, credential_id)
        except NotFound as exc:
            plan.skipped.append((reference, exc.message))
            continue
        if credential.status_allocation_id is None:
            plan.skipped.append((reference, NO_ENTRY))
        elif credential.status == REVOKED:
            plan.skipped.append((reference, "already revoked"))
        else:
            plan.credentials.append(credential)
    return plan


def revoke_many(session: Session, ctx: ServiceContext, issuer: Issuer,
                references: Iterable[str], *, reason: str | None,
                actor: str | None) -> BulkResult:
    """Revoke every listed credential of ``issuer`` with one reason, in one transaction.

    References are credential ids or addresses. Ones that are unreadable, not the issuer's,
    or already revoked are skipped and reported, not fatal: the others are revoked.
    """
    reason = clean_reason(reason, required=True)
    wanted = _wanted(references)
    batch = _Batch(now=ctx.now())
    result = BulkResult()
    seen: set[str] = set()
    for reference in wanted:
        credential_id = credential_reference(ctx, reference)
        if credential_id is None:
            result.skipped.append((reference, NOT_A_REFERENCE))
            continue
        if credential_id in seen:
            continue
        seen.add(credential_id)
        try:
            credential = own_credential(session, issuer, credential_id)
            _apply(session, credential, REVOKE, reason, actor, batch)
        except (NotFound, Conflict) as exc:
            result.skipped.append((reference, exc.message))
            continue
        result.revoked.append(credential_id)
    _touch(session, issuer, batch)
    return result


#: Header names under which a CSV file lists credentials.
_REFERENCE_HEADERS = frozenset({"id", "credential", "credential_id", "credential id", "url",
                                "credential_url", "credential url", "address", "link"})


def references_from_csv(data: bytes) -> list[str]:
    """Credential ids or addresses from a CSV file: one per row, in the first column, or
    in a column named ``id``, ``credential_id``, ``url`` (and a few other plain names)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text; save it as CSV UTF-8",
                      {"file": "not UTF-8"}) from None
    if "\x00" in text:
        raise Invalid("the file is not a CSV text file", {"file": "not text"})
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", "\t", ","), key=first_line.count)
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)
                if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise Invalid(f"the file cannot be read as CSV: {exc}", {"file": "not CSV"}) from None
    if not rows:
        return []
    column = 0
    header = [cell.strip().lower() for cell in rows[0]]
    named = [i for i, name in enumerate(header) if name in _REFERENCE_HEADERS]
    if named:
        column = named[0]
        rows = rows[1:]
    return [row[column].strip() for row in rows
            if len(row) > column and row[column].strip()]
