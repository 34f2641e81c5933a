"""A DID-bound copy of an award: the credential a wallet receives once it proved a key.

The copy is a credential of its own: a new id (served at its own URL), status entries of
its own, the holder's DID as ``credentialSubject.id`` (VC Data Model 2.0 §4.4), signed by
the issuer's current key. The rest of the award (the issuer's Profile as the original
states it, achievement, evidence, results, dates) is the original's. The use cases that
hand copies out (VC API exchanges, OpenID for Verifiable Credential Issuance) record which
original each copy was made of, so that revoking the original revokes its copies. Nothing
here commits.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from issuer.core.proofs.data_integrity import without_proof
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict
from issuer.services.issuers import issuer_did, profile
from issuer.services.signing import DEFAULT_SUITE, sign_as
from issuer.services.status_lists import ACTIVE, reserved
from issuer.storage.models import Credential
from issuer.storage.oid4vci import Issuance
from issuer.storage.wallets import WalletExchange

__all__ = [
    "WalletCopy",
    "copies_of",
    "copyable_document",
    "ensure_copyable",
    "is_a_copy",
    "issue_bound_copy",
    "unsecured",
    "wallet_copies",
]


def copyable_document(credential: Credential, now: datetime) -> dict[str, Any]:
    """The original's stored JSON, refused (409) when no wallet may receive a copy now:
    revoked, suspended or expired, or not a JSON-LD credential with one subject."""
    if credential.status != ACTIVE:
        raise Conflict(f"this credential is {credential.status}, so no wallet can receive it")
    if credential.valid_until is not None and credential.valid_until <= now:
        raise Conflict("this credential has expired, so no wallet can receive it")
    try:
        document = json.loads(credential.document)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("credentialSubject"),
                                                        dict):
        raise Conflict("this credential is not stored as a JSON-LD credential with one "
                       "subject, so it cannot be copied to a wallet")
    return document


def ensure_copyable(session: Session, credential: Credential, now: datetime) -> None:
    """Refuse (409) to hand ``credential`` to a wallet: not copyable now, or itself a
    wallet's copy (a copy is not copied again)."""
    copyable_document(credential, now)
    if is_a_copy(session, credential):
        raise Conflict("this credential is already a wallet's copy; start from the badge it "
                       "was copied from")


def issue_bound_copy(session: Session, ctx: ServiceContext, original: Credential,
                     holder: str, now: datetime, *, created_by: str) -> Credential:
    """Sign and add a copy of ``original`` whose subject is ``holder`` (a DID)."""
    issuer = original.issuer
    document = without_proof(copyable_document(original, now))
    copy_id = str(uuid.uuid4())
    document["id"] = credential_url(ctx, copy_id)
    named = document.get("issuer")
    if isinstance(named, dict):
        # The Profile the original carries (OB 3.0 §B.1.14), under the DID the current key
        # belongs to, should the issuer have moved since.
        named["id"] = issuer_did(ctx, issuer)
    else:
        document["issuer"] = profile(ctx, issuer).to_json()
    document["credentialSubject"]["id"] = holder
    with reserved(session, ctx, issuer) as slot:
        document["credentialStatus"] = list(slot.entries)
        signed = sign_as(ctx, issuer, document, now)
        row = Credential(
            id=copy_id,
            issuer_id=issuer.id,
            achievement_id=original.achievement_id,
            signing_key_id=signed.key.id,
            recipient_name=original.recipient_name,
            recipient_did=holder,
            achievement_name=original.achievement_name,
            proof_format=DEFAULT_SUITE,
            document=json.dumps(signed.document, ensure_ascii=False, separators=(",", ":")),
            issued_at=now,
            valid_until=original.valid_until,
            created_by=created_by[:320],
            status_allocation_id=slot.allocation_id,
        )
        session.add(row)
        session.flush()
    return row


def unsecured(copy: Credential) -> dict[str, Any]:
    """The copy as signed, without its proof: what another securing mechanism signs."""
    return without_proof(json.loads(copy.document))


def _copy_ids() -> Any:
    """The ids of every DID-bound copy, with the original each was made of."""
    return union(
        select(WalletExchange.issued_credential_id.label("copy_id"),
               WalletExchange.credential_id.label("original_id"))
        .where(WalletExchange.issued_credential_id.is_not(None)),
        select(Issuance.issued_credential_id.label("copy_id"),
               Issuance.credential_id.label("original_id"))
        .where(Issuance.issued_credential_id.is_not(None)),
    ).subquery()


def copies_of(session: Session, credential: Credential) -> list[Credential]:
    """Every DID-bound copy wallets received of ``credential`` (VC API exchanges and
    OpenID4VCI offers alike), oldest first: what changes status with it."""
    ids = _copy_ids()
    return list(session.scalars(
        select(Credential).join(ids, ids.c.copy_id == Credential.id)
        .where(ids.c.original_id == credential.id)
        .order_by(Credential.issued_at, Credential.id)))


def is_a_copy(session: Session, credential: Credential) -> bool:
    """Whether ``credential`` is itself a wallet's copy (copies are not copied again)."""
    ids = _copy_ids()
    return session.scalar(select(ids.c.copy_id).where(ids.c.copy_id == credential.id)
                          .limit(1)) is not None


@dataclass(frozen=True)
class WalletCopy:
    """Who received a copy of a badge, and when: a line of the badge's staff page."""

    issued_credential_id: str
    holder_did: str
    used_at: datetime


def wallet_copies(session: Session, credential: Credential) -> list[WalletCopy]:
    """The copies of ``credential`` wallets received by either protocol, oldest first."""
    ids = _copy_ids()
    rows = session.execute(
        select(Credential.id, Credential.recipient_did, Credential.issued_at)
        .join(ids, ids.c.copy_id == Credential.id)
        .where(ids.c.original_id == credential.id)
        .order_by(Credential.issued_at, Credential.id))
    return [WalletCopy(issued_credential_id=copy_id, holder_did=holder or "",
                       used_at=issued_at) for copy_id, holder, issued_at in rows]
