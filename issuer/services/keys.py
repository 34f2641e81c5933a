"""An issuer's signing keys over time: rotation, retirement after a compromise, and a report.

USERS.md §G6: every key an issuer ever signed with stays in its DID document, each issued
credential records the key that signed it, and a compromised key is marked ``revoked`` from
the moment it was compromised (Controlled Identifiers §2.2), so that what it signed before
keeps verifying and what it signed from then on does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.core.datetimes import format_datetime
from issuer.core.errors import InputError
from issuer.core.keys import PrivateKey, public_key_from_multibase
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.issuers import (
    add_key,
    did_fragment,
    get_issuer,
    issuer_by_did,
    method_id,
    validate_slug,
)
from issuer.storage.models import Credential, Issuer, SigningKey

#: No key here is older than this; earlier dates are typing mistakes (and JWT times start here).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def stamp(moment: datetime) -> str:
    """How keys' dates are shown and published: as DID documents write them (a DateTimeZ)."""
    return format_datetime(moment)


@dataclass(frozen=True)
class KeyReport:
    """One key of an issuer and what it signed."""

    method_id: str
    fragment: str
    key_type: str
    created_at: datetime
    active: bool
    retired_at: datetime | None
    compromised_since: datetime | None
    signed: int
    #: Credentials it signed at or after ``compromised_since``: these no longer verify.
    signed_after_compromise: int | None

    @property
    def status(self) -> str:
        if self.compromised_since is not None:
            return f"compromised since {stamp(self.compromised_since)}"
        if self.active:
            return "active"
        if self.retired_at is not None:
            return f"retired since {stamp(self.retired_at)}"
        return "retired"


def key_report(session: Session, ctx: ServiceContext, issuer: Issuer) -> list[KeyReport]:
    """Every key of ``issuer``, oldest first, with how many credentials each one signed."""
    signed: dict[int | None, int] = {
        key_id: n for key_id, n in session.execute(
            select(Credential.signing_key_id, func.count())
            .where(Credential.issuer_id == issuer.id)
            .group_by(Credential.signing_key_id))}
    late: dict[int | None, int] = {
        key_id: n for key_id, n in session.execute(
            select(Credential.signing_key_id, func.count())
            .join(SigningKey, SigningKey.id == Credential.signing_key_id)
            .where(SigningKey.issuer_id == issuer.id,
                   SigningKey.compromised_since.is_not(None),
                   Credential.issued_at >= SigningKey.compromised_since)
            .group_by(Credential.signing_key_id))}
    return [
        KeyReport(
            method_id=method_id(ctx, key), fragment=key.fragment, key_type=key.key_type,
            created_at=key.created_at, active=key.active, retired_at=key.retired_at,
            compromised_since=key.compromised_since, signed=signed.get(key.id, 0),
            signed_after_compromise=(late.get(key.id, 0)
                                     if key.compromised_since is not None else None),
        )
        for key in issuer.keys
    ]


#: Key types an issuer hosted here may hold: Ed25519 signs eddsa-* proofs and VC-JWTs, P-256
#: and P-384 sign ecdsa-rdfc-2019 / ecdsa-jcs-2019 proofs (W3C Data Integrity ECDSA §3.3, §3.4).
ISSUER_KEY_TYPES = ("Ed25519", "P-256", "P-384")


def rotate_key(session: Session, ctx: ServiceContext, issuer: Issuer,
               key_type: str = "Ed25519") -> SigningKey:
    """A new key of ``key_type`` signs from now on in place of the active key of that type;
    the old ones stay published under ``assertionMethod``, so everything they signed keeps
    verifying. Keys of the other types are left as they are.
    """
    if key_type not in ISSUER_KEY_TYPES:
        raise Invalid(f"the key type must be one of {', '.join(ISSUER_KEY_TYPES)}",
                      {"type": "Ed25519, P-256 or P-384"})
    return add_key(session, ctx, issuer, key_type)


def suite_signing_key(ctx: ServiceContext, issuer: Issuer,
                      suite: str) -> tuple[SigningKey, PrivateKey] | None:
    """The newest active key of ``issuer`` that ``suite`` signs with, or None.

    The ECDSA suites need a P-256 or P-384 key, which an issuer gets with
    ``issuer keys add --type P-256``; Ed25519 keys serve the EdDSA suites.
    """
    chosen = SIGNING_SUITES.get(suite)
    if chosen is None:
        return None
    for row in reversed(issuer.keys):
        if row.active and chosen.key_allowed(public_key_from_multibase(row.public_multibase)):
            return row, ctx.keystore.load(row.key_file)
    return None


def find_key(session: Session, ctx: ServiceContext, reference: str,
             issuer: Issuer | None = None) -> SigningKey:
    """The key named ``did:web:…#key-1`` or ``SLUG#key-1`` (or ``key-1`` within ``issuer``).

    With ``issuer`` given, a key of any other issuer is not found: nobody reaches another
    issuer's keys through their own.
    """
    reference = (reference or "").strip()
    owner_part, hash_sign, fragment = reference.rpartition("#")
    if not hash_sign:
        owner_part, fragment = "", reference
    owner: Issuer | None
    if not owner_part:
        owner = issuer
    elif owner_part.startswith("did:"):
        owner = issuer_by_did(session, ctx, owner_part)
    else:
        try:
            owner = get_issuer(session, validate_slug(owner_part))
        except (Invalid, NotFound):
            owner = None
    if issuer is not None and (owner is None or owner.id != issuer.id):
        raise NotFound(f"there is no key {reference[:200]!r} among the keys of {issuer.name}")
    if owner is None:
        raise NotFound(
            f"no issuer hosted here has the key {reference[:200]!r}; name it as "
            "did:web:…#key-1 or SLUG#key-1"
        )
    for key in owner.keys:
        if fragment in (key.fragment, did_fragment(key)):
            return key
    known = ", ".join(k.fragment for k in owner.keys)
    raise NotFound(f"there is no key {fragment[:100]!r} among the keys of {owner.name} "
                   f"({owner.slug}: {known})")


def parse_moment(value: str) -> datetime:
    """An ISO 8601 date (00:00:00Z that day) or date-time with a time zone, in UTC.

    A date-time without a zone is refused rather than guessed: an hour's difference decides
    which badges stop verifying.
    """
    text = (value or "").strip()
    moment: datetime | None = None
    try:
        if _DATE.match(text):
            moment = datetime.combine(date.fromisoformat(text), time(), UTC)
        elif _DATE_TIME.match(text):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise InputError(
                    f"{text!r} has no time zone; add one, e.g. {text}Z for UTC")
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is not None and moment >= EARLIEST:
        return moment
    if moment is not None:
        raise InputError(f"{text!r} is before {EARLIEST:%Y-%m-%d}; give the real date")
    raise InputError(
        f"{text[:60]!r} is not a date: use YYYY-MM-DD (midnight UTC) or a date and time "
        "with a time zone, e.g. 2025-03-01T14:30:00Z"
    )


@dataclass(frozen=True)
class Retirement:
    """What reporting a key compromised did."""

    key: SigningKey
    since: datetime
    #: The key created to take over, when the compromised key was the one signing.
    replacement: SigningKey | None
    #: Credentials it signed at or after ``since``: they no longer verify.
    affected: int
    #: True when the key was already reported with this date (nothing changed).
    unchanged: bool = False


def report_compromised(session: Session, ctx: ServiceContext, key: SigningKey,
                       since: datetime) -> Retirement:
    """Stop signing with ``key`` and publish it as ``revoked`` from ``since``.

    ``since`` must not be in the future: a compromise is reported once it happened, and a
    planned retirement is a rotation. Controlled Identifiers §2.2 expects ``revoked`` not to
    change once set; it may still move earlier (more is refused), never later, which would
    make badges a thief signed verify again.
    """
    since = since.astimezone(UTC).replace(microsecond=0)
    now = ctx.now()
    if since > now:
        raise Invalid(
            f"{stamp(since)} is in the future. Report a compromise from the moment it "
            "happened (or you noticed it); to stop using a key from now on, rotate it "
            "instead (a planned retirement is not a compromise).",
            {"since": "must not be in the future"},
        )
    previous = key.compromised_since
    if previous is not None and since > previous:
        raise Conflict(
            f"{key.fragment} is already reported compromised since {stamp(previous)}; "
            "that date can only be moved earlier"
        )
    replacement = rotate_key(session, ctx, key.issuer, key.key_type) if key.active else None
    unchanged = previous == since
    key.compromised_since = since
    if key.retired_at is None:
        key.retired_at = now
    session.flush()
    affected = session.scalar(
        select(func.count()).select_from(Credential)
        .where(Credential.signing_key_id == key.id, Credential.issued_at >= since)) or 0
    return Retirement(key=key, since=since, replacement=replacement, affected=affected,
                      unchanged=unchanged)


__all__ = [
    "ISSUER_KEY_TYPES",
    "KeyReport",
    "Retirement",
    "find_key",
    "key_report",
    "parse_moment",
    "report_compromised",
    "rotate_key",
    "stamp",
    "suite_signing_key",
]
