"""Verifying credentials with this service's own issuers as a trusted source of keys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from issuer.core.nodes import types_of
from issuer.core.ob2 import ob2_payload, verify_ob2
from issuer.core.resolve import ResolvedKey, Resolver
from issuer.core.status_list import LIST_CREDENTIAL_TYPE
from issuer.core.verify import IssuanceRecord, IssuanceRecords, VerificationReport, Verifier
from issuer.net.fetcher import fetcher_for
from issuer.net.verifying import ob2_fetch, online
from issuer.services.context import ServiceContext
from issuer.services.issuers import IssuersBySlug, did_document, method_id
from issuer.services.status_lists import LocalStatusChecker
from issuer.storage.models import Credential, Issuer, SigningKey

RECORDS = "the records of this service"
#: Enough to find one credential among look-alikes; ids are unique in practice.
_MAX_CANDIDATES = 20


def make_verifier(session: Session, ctx: ServiceContext,
                  trusted: Iterable[Mapping[str, Any]] = ()) -> Verifier:
    """A verifier that knows the DID documents and the records of the issuers hosted here."""

    issuers = IssuersBySlug(session, ctx)

    def registry(controller_id: str) -> Mapping[str, Any] | None:
        issuer = issuers.by_did(controller_id)
        return did_document(ctx, issuer) if issuer is not None else None

    local = LocalStatusChecker(session, ctx, issuers)
    verifier = Verifier(
        loader=ctx.loader,
        schemas=ctx.schemas,
        resolver=Resolver.with_trusted(trusted, registry=registry),
        clock=ctx.clock,
        budget=ctx.budget,
        records=issuance_records(session, ctx, issuers),
        # Lists hosted here are read from the database when checked: a revocation shows on
        # the next verification. Offline, lists elsewhere are "could not check".
        status_checker=local,
    )
    # Online, other sites' did:web documents and status lists come through the guarded
    # fetcher (issuer.net); this service's own lists are still read from the database.
    fetcher = fetcher_for(ctx.settings)
    return verifier if fetcher is None else online(verifier, fetcher,
                                                   local=[(local.hosts, local)])


def issuance_records(session: Session, ctx: ServiceContext,
                     issuers: IssuersBySlug | None = None) -> IssuanceRecords:
    """What this service knows about credentials that name one of its issuers.

    The proof's ``created`` is written by whoever holds the key, so once a key is reported
    compromised a thief could back-date it; ``Credential.issued_at`` and ``signing_key_id``
    are this service's own account and win (USERS.md §G6).

    * A credential stored here must be the one presented (its contents; how it is secured may
      differ), signed with the recorded key.
    * When the key is reported compromised, a credential this service has no record of is
      "not issued by this service" and fails.
    * While the key is not reported compromised, a valid signature by it is enough: the VC API
      checks what it signed before storing it, and only this service holds the key.
    """

    known = issuers or IssuersBySlug(session, ctx)

    def lookup(credential: Mapping[str, Any], key: ResolvedKey) -> IssuanceRecord | None:
        issuer = known.by_did(key.controller)
        if issuer is None or LIST_CREDENTIAL_TYPE in types_of(credential):
            # Status lists are kept (and re-signed with the active key) by their own table.
            return None
        cid = credential.get("id")
        row = _stored(session, ctx, issuer, cid, search=key.revoked is not None)
        if row is None:
            if key.revoked is None:
                return None
            named = f"a credential {cid}" if isinstance(cid, str) else "this credential"
            return IssuanceRecord(problem=(
                f"not issued by this service: {issuer.name} has no record of {named} "
                f"signed with {key.method_id}, a key it reports compromised; do not trust it"
            ), source=RECORDS)
        if row.issuer_id != issuer.id:
            return IssuanceRecord(problem=(
                f"not issued by this service for {issuer.name}: {cid} belongs to another "
                "issuer"), source=RECORDS)
        recorded = session.get(SigningKey, row.signing_key_id) if row.signing_key_id else None
        if recorded is not None and method_id(ctx, recorded) != key.method_id:
            return IssuanceRecord(problem=(
                f"{RECORDS} say {cid} was signed with {method_id(ctx, recorded)}, not with "
                f"{key.method_id}"), source=RECORDS)
        if _unsecured(_parsed(row.document)) != _unsecured(credential):
            return IssuanceRecord(problem=(
                f"this is not the credential {cid} that {issuer.name} issued: its contents "
                "differ from the records of this service"), source=RECORDS)
        return IssuanceRecord(issued_at=row.issued_at, source=RECORDS)

    return lookup


#: What the records check reads of a stored credential: four columns, not the whole ORM row,
#: whose loading cost more than the check itself.
_RECORD = (Credential.issuer_id, Credential.signing_key_id, Credential.document,
           Credential.issued_at)
_BY_ID = select(*_RECORD).where(Credential.id == bindparam("id"))


def _stored(session: Session, ctx: ServiceContext, issuer: Issuer, cid: Any, *,
            search: bool) -> Row[Any] | None:
    """The :data:`_RECORD` columns of the stored credential with the id ``cid``.

    Ids at ``{base}/credentials/<uuid>`` are row keys. Other ids (``urn:uuid:…`` from the VC
    API) are not, so they are searched for only when ``search`` says it matters. Read
    through the session, so a credential it holds and has not written yet is found too.
    """
    if not isinstance(cid, str):
        return None
    prefix = f"{ctx.base}/credentials/"
    if cid.startswith(prefix):
        tail = cid[len(prefix):]
        try:
            if str(uuid.UUID(tail)) != tail:
                return None
        except ValueError:
            return None
        return session.execute(_BY_ID, {"id": tail}).first()
    if not search:
        return None
    needle = '"id":' + json.dumps(cid, ensure_ascii=False)
    rows = session.execute(
        select(*_RECORD)
        .where(Credential.issuer_id == issuer.id,
               Credential.document.contains(needle, autoescape=True))
        .limit(_MAX_CANDIDATES))
    return next((r for r in rows if _parsed(r.document).get("id") == cid), None)


def _unsecured(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The credential without its proofs: the same credential may be secured another way
    (a JWT of it, or an added proof) and is still the one issued."""
    return {k: v for k, v in credential.items() if k != "proof"}


def _parsed(document: str) -> dict[str, Any]:
    try:
        value = json.loads(document)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def verify(session: Session, ctx: ServiceContext,
           data: str | bytes | Mapping[str, Any]) -> VerificationReport:
    return make_verifier(session, ctx).verify(data)


class HostedAddress(str):
    """The address of an Open Badges 2.0 hosted assertion, to be verified by fetching it
    (for an address that answered 410 Gone: the report then says the badge was revoked)."""

    __slots__ = ()


def verify_presented(session: Session, ctx: ServiceContext,
                     data: str | bytes | Mapping[str, Any]) -> VerificationReport:
    """What an employer was sent: an Open Badges 2.0 assertion (JSON, signed JWS, baked
    image or a :class:`HostedAddress`) is verified the OB 2.0 way (:mod:`issuer.core.ob2`)
    through the guarded fetcher; anything else as :func:`verify` does."""
    payload = str(data) if isinstance(data, HostedAddress) else ob2_payload(data)
    if payload is None:
        return verify(session, ctx, data)
    # A hosted assertion whose address answers 410 Gone is reported revoked (ob2_fetch).
    return verify_ob2(payload, ob2_fetch(fetcher_for(ctx.settings)), now=ctx.clock(),
                      loader=ctx.loader)
