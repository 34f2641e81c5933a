"""Issuing any well-formed credential as an issuer hosted here, for the VC API.

Whatever the caller sends, the service never hands out a credential that it would itself
refuse: terms must be defined by the bundled contexts, Open Badges credentials must pass the
OB 3.0 schemas, and the signed result is verified again before it is stored.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from issuer.core.canon import CanonicalMemo
from issuer.core.credentials import DATA_INTEGRITY_V2, VC_V1, VC_V2
from issuer.core.datetimes import format_datetime, parse_datetime
from issuer.core.errors import InputError
from issuer.core.jsonld import check_context_list
from issuer.core.nodes import types_of
from issuer.core.resolve import Resolver
from issuer.core.safe_mode import issuer_dependent_terms
from issuer.core.schema import SchemaRegistry
from issuer.core.status_list import index_number, list_kind
from issuer.core.vcdm import credential_problems
from issuer.core.verify import Verifier
from issuer.services.achievements import get_achievement
from issuer.services.awards import credential_url, insert_credential
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.issuers import did_document, issuer_did, issuer_url, profile
from issuer.services.signing import default_suite, sign_as
from issuer.services.status_lists import reserved
from issuer.storage.models import Achievement, Credential, Issuer

OB_CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential",
                                 "EndorsementCredential"})
#: Checks that say something about the credential as issued; its status does not.
SELF_CHECKS = ("parse", "context", "type", "schema", "proof", "dates")
#: An absolute URL: a scheme, then no white space (RFC 3986 §3).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
#: Defines BitstringStatusListEntry for VC 1.1 credentials (VC 2.0 defines it itself).
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"


class Refused(Invalid):
    """A credential this service will not sign, with every reason listed (422)."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Issued:
    #: What was written (with one INSERT; the row is not in the session).
    row: Credential
    document: str
    ours: bool  # the credential's id is its address on this service


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _fill_issuer(ctx: ServiceContext, issuer: Issuer, credential: dict[str, Any],
                 is_ob: bool) -> None:
    """The issuer is always the token's; an OB credential gets its full Profile (§B.1.14)."""
    did = issuer_did(ctx, issuer)
    ours = profile(ctx, issuer).to_json()
    given = credential.get("issuer")
    given_id = given.get("id") if isinstance(given, dict) else given
    if given_id is not None and given_id != did:
        raise Refused(
            f"this API token issues as {did}; the credential names {given_id!r} as its "
            "issuer", [f"issuer: must be {did}"])
    if isinstance(given, dict):
        # The caller's members win; an OB credential gets what its schema needs from ours.
        filled = {"id": did, **given}
        if is_ob:
            filled = {**ours, **filled}
        credential["issuer"] = filled
    else:
        credential["issuer"] = ours if is_ob else did


def _assign_id(session: Session, ctx: ServiceContext,
               credential: dict[str, Any]) -> tuple[str, bool]:
    """The row id, and whether the credential's id is its URL here."""
    prefix = credential_url(ctx, "")
    given = credential.get("id")
    if given is None:
        row_id = str(uuid.uuid4())
        credential["id"] = prefix + row_id
        return row_id, True
    if not isinstance(given, str):
        raise Refused("the credential's id must be a URL", ["id: must be a string"])
    if not given.startswith(prefix):
        # Another kind of id (urn:uuid:…, another site): kept as the caller chose it.
        return str(uuid.uuid4()), False
    tail = given[len(prefix):]
    try:
        canonical = str(uuid.UUID(tail))
    except ValueError:
        canonical = None
    if canonical != tail:
        raise Refused(f"an id on this service must be {prefix}<lower-case UUID>",
                      [f"id: {given!r} is not {prefix}<uuid>"])
    if session.get(Credential, tail) is not None:
        raise Conflict("a credential with this id has already been issued")
    return tail, True


def prepare(session: Session, ctx: ServiceContext, issuer: Issuer,
            credential: dict[str, Any], now: datetime) -> tuple[dict[str, Any], str, bool]:
    """The credential to sign, its row id, and whether it lives at its id URL here."""
    if "proof" in credential:
        raise Refused("the credential already has a proof; send it unsigned",
                      ["proof: must be absent"])
    contexts = _list(credential.get("@context"))
    first = contexts[0] if contexts else None
    if first not in (VC_V2, VC_V1):
        raise Refused(f"the first @context must be {VC_V2} (or {VC_V1} for VC 1.1)",
                      [f"@context: starts with {first!r}"])
    legacy = first == VC_V1
    document = dict(credential)
    if legacy and DATA_INTEGRITY_V2 not in contexts:
        # VC 1.1 does not define DataIntegrityProof; the suite's context does.
        document["@context"] = [*contexts, DATA_INTEGRITY_V2]
    is_ob = bool(set(types_of(document)) & OB_CREDENTIAL_TYPES)
    _fill_issuer(ctx, issuer, document, is_ob)
    row_id, ours = _assign_id(session, ctx, document)
    date_member = "issuanceDate" if legacy else "validFrom"
    document.setdefault(date_member, format_datetime(now))
    # A familiar member order for people reading the JSON; signatures do not depend on it.
    head = ("@context", "id", "type", "name", "issuer", date_member)
    ordered = {k: document[k] for k in head if k in document}
    ordered.update({k: v for k, v in document.items() if k not in ordered})
    check_context_list(ordered, ctx.loader)
    malformed = _status_entry_problems(ordered)
    if malformed:
        raise Refused(f"the credential's status entry is malformed: {malformed[0]}", malformed)
    empty = _empty_values(ordered)
    if empty:
        raise Refused(
            "the credential has null values or empty lists, which a signature does not "
            "cover; leave those members out (OB 3.0 §A.1)",
            [f"{path}: null or empty" for path in empty[:20]])
    # An undefined term would fall out of the signature (VC Data Integrity §2.4).
    issuer_dependent_terms(ordered, ctx.loader)
    broken = credential_problems(ordered)
    if is_ob:
        _check_ob_schemas(ctx, ordered, broken)
    if broken:
        raise Refused(f"the credential breaks the VC Data Model: {broken[0]}", broken)
    return ordered, row_id, ours


def _status_entry_problems(document: dict[str, Any]) -> list[str]:
    """W3C Bitstring Status List §2.1, for the caller's bitstring entries: a verifier meets
    a malformed one with a MALFORMED_VALUE_ERROR (§3.2), so it is not signed. Entries of
    other status methods are the caller's to get right (VCDM 2.0 §4.10)."""
    problems: list[str] = []
    entries = _list(document.get("credentialStatus"))
    for number, entry in enumerate(entries):
        if list_kind(entry) is None:
            continue
        where = "credentialStatus" if len(entries) == 1 else f"credentialStatus[{number}]"
        if not isinstance(entry.get("statusPurpose"), str):
            problems.append(f"{where}.statusPurpose: must be a string")
        if index_number(entry.get("statusListIndex")) is None:
            problems.append(f"{where}.statusListIndex: must be a whole number of 0 or more, "
                            "written in base 10 as a string")
        url = entry.get("statusListCredential")
        if not (isinstance(url, str) and _URL.fullmatch(url)):
            problems.append(f"{where}.statusListCredential: must be the URL of the status "
                            "list credential")
        size = entry.get("statusSize", 1)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            problems.append(f"{where}.statusSize: must be a whole number above 0")
        elif size > 1 and not isinstance(entry.get("statusMessage"), list):
            problems.append(f"{where}.statusMessage: required when statusSize is above 1")
    return [f"{problem} (W3C Bitstring Status List §2.1)" for problem in problems]


def _empty_values(node: Any, path: str = "") -> list[str]:
    if node is None or node == []:
        return [path or "(credential)"]
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                continue  # a context may map a term to null on purpose ("@vocab": null)
            found += _empty_values(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _empty_values(value, f"{path}[{index}]")
    return found


def _check_ob_schemas(ctx: ServiceContext, document: dict[str, Any],
                      also: list[str]) -> None:
    """OB 3.0 §9.1 step 1, applied before signing rather than after; ``also`` holds the VC
    Data Model problems found already, listed after the schema's."""
    selection = ctx.schemas.schemas_for(document)
    errors: list[str] = []
    for url in selection.known:
        errors.extend(ctx.schemas.validate(document, url, compacted=True))
    if errors:
        raise Refused(
            f"the credential does not match the Open Badges 3.0 schema ({len(errors)} "
            f"problem{'s' if len(errors) != 1 else ''}): {errors[0]}", errors + also)


def _with_status(document: dict[str, Any], entries: tuple[dict[str, Any], ...]
                 ) -> dict[str, Any]:
    """The credential with this service's revocation and suspension entries (VCDM 2.0
    §4.10, W3C Bitstring Status List §2.1), and for VC 1.1 the context that defines them."""
    result = dict(document)
    contexts = _list(result.get("@context"))
    if contexts[:1] == [VC_V1] and STATUS_CONTEXT not in contexts:
        # VC 1.1 §4.9 leaves status types to other contexts; the caller asked for ours.
        result["@context"] = [*contexts, STATUS_CONTEXT]
    given = _list(result.get("credentialStatus"))
    result["credentialStatus"] = [*given, *(dict(entry) for entry in entries)]
    return result


_NO_SCHEMAS = SchemaRegistry({})


def _self_check(ctx: ServiceContext, issuer: Issuer, signed: dict[str, Any],
                memo: CanonicalMemo) -> None:
    """Verify what was just signed as a verifier would, before anything is stored.

    The issuer's DID document is built from the rows already loaded, as
    ``/issuers/<slug>/did.json`` serves it, rather than looked up again by its DID. The
    OB schemas were checked by :func:`prepare` before signing, and what signing adds (the
    proof and the status entries) is this service's own, so they are not run a second time;
    the VC Data Model rules (:mod:`issuer.core.vcdm`) are, as part of the schema check. Only
    SELF_CHECKS count: a credential issued a moment ago has no status change and no issuance
    record yet. Dates are checked as of the credential's own start, so one that becomes
    valid later may be issued, but not one whose dates are malformed or out of order.
    ``memo`` holds the canonical forms signing computed, which the proof's check would only
    compute again (:class:`~issuer.core.canon.CanonicalMemo`).
    """
    start = _start(signed)
    verifier = Verifier(loader=ctx.loader, schemas=_NO_SCHEMAS,
                        resolver=Resolver.with_trusted([did_document(ctx, issuer)]),
                        clock=(lambda: start) if start is not None else ctx.clock,
                        budget=ctx.budget, memo=memo)
    report = verifier.verify(signed)
    failed = [c for c in report.failed if c.id in SELF_CHECKS]
    if failed:
        errors = [f"{c.id}: {c.message}" for c in failed]
        errors += [f"{c.id}: {d}" for c in failed for d in c.details]
        raise Refused(f"the signed credential would not verify: {failed[0].message}", errors)


def _start(document: dict[str, Any]) -> datetime | None:
    value = document.get("validFrom", document.get("issuanceDate"))
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except InputError:
        return None


def _achievement_of(session: Session, ctx: ServiceContext, issuer: Issuer,
                    document: dict[str, Any]) -> Achievement | None:
    prefix = f"{issuer_url(ctx, issuer.slug)}/achievements/"
    for subject in _list(document.get("credentialSubject")):
        found = subject.get("achievement") if isinstance(subject, dict) else None
        ref = found.get("id") if isinstance(found, dict) else None
        if isinstance(ref, str) and ref.startswith(prefix) and "/" not in ref[len(prefix):]:
            try:
                # This process's checked copy, as an award reads it (issuer.services.lookups).
                return get_achievement(session, issuer, ref[len(prefix):],
                                       lookups=ctx.lookups)
            except NotFound:
                return None
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _recipient(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """The subject's DID and display name, when the credential states them."""
    subjects = _list(document.get("credentialSubject"))
    subject = subjects[0] if subjects and isinstance(subjects[0], dict) else {}
    did = _text(subject.get("id"))
    name = _text(subject.get("name"))
    for entry in _list(subject.get("identifier")):
        if (isinstance(entry, dict) and entry.get("identityType") == "name"
                and entry.get("hashed") is False):
            name = name or _text(entry.get("identityHash"))
    return (did if did and did.startswith("did:") and len(did) <= 500 else None,
            name[:200] if name else None)


def _until(document: dict[str, Any]) -> datetime | None:
    value = document.get("validUntil", document.get("expirationDate"))
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except InputError:
        return None


def issue(session: Session, ctx: ServiceContext, issuer: Issuer, credential: dict[str, Any],
          *, cryptosuite: str | None = None, actor: str | None = None,
          status: bool | None = None) -> Issued:
    """Sign ``credential`` as ``issuer`` and store it byte for byte; the caller commits.

    ``status`` (the VC API option ``credentialStatus``) asks for this service's revocation
    and suspension entries, allocated in the same transaction before signing and given back
    if issuing fails. Without it they are added to Open Badges credentials and to VC 2.0
    credentials that bring no status of their own; a VC 1.1 credential gets them only when
    asked, since they need a context its author did not list (see :func:`_with_status`). A
    generic credential's own ``credentialStatus`` is kept as the caller wrote it (VCDM 2.0
    §4.10 lets any status method be used); an Open Badges credential's is refused, as the
    service publishes the status of its badges itself.
    """
    now = ctx.now()
    is_ob = bool(set(types_of(credential)) & OB_CREDENTIAL_TYPES)
    given_status = "credentialStatus" in credential
    if given_status and is_ob:
        raise Refused(
            "leave credentialStatus out: this service adds its own revocation and suspension "
            "entries to Open Badges credentials, and cannot keep a status it does not publish",
            ["credentialStatus: must be absent"])
    document, row_id, ours = prepare(session, ctx, issuer, credential, now)
    suite = cryptosuite or default_suite(issuer)
    legacy = _list(document.get("@context"))[:1] == [VC_V1]
    wanted = status if status is not None else (is_ob or not (given_status or legacy))
    if not wanted:
        return _sign_and_store(session, ctx, issuer, document, row_id, ours, suite, None,
                               now, actor)
    with reserved(session, ctx, issuer) as slot:
        return _sign_and_store(session, ctx, issuer, _with_status(document, slot.entries),
                               row_id, ours, suite, slot.allocation_id, now, actor)


def _sign_and_store(session: Session, ctx: ServiceContext, issuer: Issuer,
                    document: dict[str, Any], row_id: str, ours: bool, suite: str,
                    allocation_id: int | None, now: datetime,
                    actor: str | None) -> Issued:
    memo = CanonicalMemo()
    result = sign_as(ctx, issuer, document, now, suite=suite, memo=memo)
    signed = result.document
    _self_check(ctx, issuer, signed, memo)
    achievement = _achievement_of(session, ctx, issuer, signed)
    subject_achievement = next(
        (s.get("achievement") for s in _list(signed.get("credentialSubject"))
         if isinstance(s, dict) and isinstance(s.get("achievement"), dict)), None) or {}
    name = (_text(signed.get("name")) or _text(subject_achievement.get("name"))
            or (achievement.name if achievement is not None else None) or "Credential")
    did, recipient_name = _recipient(signed)
    text = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    row = Credential(
        id=row_id, issuer_id=issuer.id,
        achievement_id=achievement.id if achievement is not None else None,
        signing_key_id=result.key.id, recipient_name=recipient_name, recipient_did=did,
        achievement_name=name[:200], proof_format=suite, document=text,
        issued_at=now, valid_until=_until(signed), created_by=actor,
        status_allocation_id=allocation_id,
    )
    insert_credential(session, row)
    return Issued(row=row, document=text, ours=ours)
