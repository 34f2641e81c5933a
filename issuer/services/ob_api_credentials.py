"""The learner's credentials and profile as the Open Badges 3.0 API serves them
(OB 3.0 §6.2.2 getCredentials, §6.2.3 upsertCredential, §6.2.4–§6.2.5 profile, §10 equality).

A learner's credentials are the badges this service awarded them (linked to their address
as on their badges page) that are not revoked, and the credentials clients stored for them
through upsertCredential. A credential is stored only once the open-web verifier accepts it
and its subject names the learner's address; the report is kept and shown to the learner.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.core.credentials import PROFILE_SCHEMA
from issuer.core.datetimes import parse_datetime
from issuer.core.errors import InputError, IssuerError
from issuer.core.identity import RecipientMatch, subject_email_match
from issuer.core.nodes import issuer_id, types_of
from issuer.services import profiles, verification
from issuer.services.context import ServiceContext
from issuer.services.errors import NotFound
from issuer.storage.learning import Learner
from issuer.storage.ob_api import ObApiClient, ObApiProfile, UpsertedCredential

__all__ = ["JSON", "JWS", "Listed", "UpsertRefused", "credential_key", "learner_credentials",
           "learner_profile", "public_backpack", "put_profile", "remove_upserted",
           "set_upserted_shown", "shown_upserted", "upsert_credential", "upserted_credentials"]

JSON = "json"
JWS = "jws"
OB_CONTEXTS = ["https://www.w3.org/ns/credentials/v2",
               "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
_CREDENTIAL_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
#: Fields of a Profile this service decides itself, whatever a client puts.
_OWN_FIELDS = ("@context", "id", "type", "email")


class UpsertRefused(IssuerError):
    """A credential that is not stored; ``status`` 400 (bad data) or 403 (not theirs)."""

    code = "upsert-refused"

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Listed:
    """One credential of the learner as getCredentials returns it."""

    issued_at: datetime
    order: str
    format: str
    document: str

    def value(self) -> Any:
        return json.loads(self.document) if self.format == JSON else self.document.strip()


def credential_key(credential: dict[str, Any]) -> tuple[str, str] | None:
    """OB 3.0 §10: the issuer's id and the credential's id, percent-decoded and trimmed;
    None when the credential lacks either."""
    cid = credential.get("id")
    iid = issuer_id(credential)
    if not isinstance(cid, str) or not isinstance(iid, str):
        return None
    return unquote(iid).strip(), unquote(cid).strip()


def _match_key(key: tuple[str, str]) -> str:
    return hashlib.sha256("\n".join(key).encode("utf-8")).hexdigest()


def _format_of(document: str) -> str:
    return JSON if document.lstrip().startswith("{") else JWS


def learner_credentials(session: Session, ctx: ServiceContext, learner: Learner, *,
                        since: datetime | None = None) -> list[Listed]:
    """Newest first; a stable order, so pages do not overlap."""
    profiles.link_badges(session, learner)
    found: list[Listed] = []
    for owned in profiles.owned_badges(session, ctx, learner):
        if owned.state in ("revoked", "suspended"):
            continue
        found.append(Listed(owned.credential.issued_at, f"a{owned.credential.id}",
                            _format_of(owned.credential.document), owned.credential.document))
    for row in upserted_credentials(session, learner):
        found.append(Listed(row.issued_at, f"b{row.id:012d}", row.format, row.document))
    if since is not None:
        found = [item for item in found if item.issued_at > since]
    found.sort(key=lambda item: item.order)
    found.sort(key=lambda item: item.issued_at, reverse=True)
    return found


def upserted_credentials(session: Session, learner: Learner) -> list[UpsertedCredential]:
    return list(session.scalars(
        select(UpsertedCredential).where(UpsertedCredential.learner_id == learner.id)
        .order_by(UpsertedCredential.issued_at.desc(), UpsertedCredential.id)))


def _issued_at(credential: dict[str, Any], fallback: datetime) -> datetime:
    for name in ("validFrom", "issuanceDate"):
        value = credential.get(name)
        if isinstance(value, str):
            try:
                return parse_datetime(value)
            except InputError:
                continue
    return fallback


def _name(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("name"), str):
        return str(node["name"])[:500]
    return None


def _achievement_name(credential: dict[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    return _name(achievement) or _name(credential)


def _local_match(session: Session, ctx: ServiceContext, learner: Learner,
                 key: tuple[str, str]) -> bool:
    profiles.link_badges(session, learner)
    for owned in profiles.owned_badges(session, ctx, learner):
        if _format_of(owned.credential.document) == JSON \
                and credential_key(owned.document) == key:
            return True
    return False


def upsert_credential(session: Session, ctx: ServiceContext, learner: Learner,
                      data: str | dict[str, Any], *, raw: str | None = None,
                      client: ObApiClient | None = None) -> bool:
    """Store ``data`` (a credential as JSON, or a VC-JWT) for the learner; True when it is
    new, False when it replaced an equal one (OB 3.0 §10) or is one awarded here. ``raw``
    is the JSON text as received, stored byte for byte.

    Raises UpsertRefused when the verifier does not accept it, it is not an Open Badge, it
    lacks the ids §10 compares, or its subject is not the learner's address.
    """
    report = verification.verify(session, ctx, data)
    credential = report.credential
    if not report.valid or not isinstance(credential, dict):
        failed = "; ".join(f"{c.id}: {c.message}" for c in report.failed[:3])
        raise UpsertRefused(f"the credential did not verify ({failed or 'unreadable'})")
    if not _CREDENTIAL_TYPES & set(types_of(credential)):
        raise UpsertRefused("only OpenBadgeCredentials (AchievementCredentials) are stored")
    key = credential_key(credential)
    if key is None:
        raise UpsertRefused("the credential needs an id and an issuer id")
    if subject_email_match(credential, learner.email) is not RecipientMatch.MATCHES:
        raise UpsertRefused("the credential was not awarded to the signed-in learner's "
                            "email address", 403)
    if _local_match(session, ctx, learner, key):
        return False
    document = data if isinstance(data, str) else (
        raw if raw is not None else json.dumps(data, ensure_ascii=False))
    now = ctx.now()
    values = {
        "credential_key": key[1],
        "format": JWS if isinstance(data, str) else JSON,
        "document": document.strip() if isinstance(data, str) else document,
        "issuer_name": _name(credential.get("issuer")),
        "achievement_name": _achievement_name(credential),
        "issued_at": _issued_at(credential, now),
        "verified": True,
        "verification": report.to_json(),
        "client_id": client.id if client is not None else None,
        "received_at": now,
    }
    match = _match_key(key)
    existing = session.scalar(select(UpsertedCredential).where(
        UpsertedCredential.learner_id == learner.id, UpsertedCredential.match_key == match
    ).with_for_update())
    if existing is not None:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.replaced_count += 1
        session.flush()
        return False
    try:
        # A savepoint: of two requests storing the same new credential at once, the second
        # finds the first's row by the unique constraint and replaces it instead.
        with session.begin_nested():
            session.add(UpsertedCredential(learner_id=learner.id, match_key=match,
                                           replaced_count=0, **values))
    except IntegrityError:
        existing = session.scalar(select(UpsertedCredential).where(
            UpsertedCredential.learner_id == learner.id,
            UpsertedCredential.match_key == match))
        if existing is None:
            raise
        for name, value in values.items():
            setattr(existing, name, value)
        existing.replaced_count += 1
        session.flush()
        return False
    return True


def learner_profile(session: Session, ctx: ServiceContext, learner: Learner) -> dict[str, Any]:
    """The learner's Profile (OB 3.0 §B.1.15): what a client put, with the id, type and
    address this service vouches for."""
    stored = session.get(ObApiProfile, learner.id)
    document: dict[str, Any] = dict(stored.document) if stored is not None else {}
    document.update({
        "@context": OB_CONTEXTS,
        "id": profiles.profile_url(ctx, learner),
        "type": ["Profile"],
        "email": learner.email,
    })
    if learner.display_name:
        document["name"] = learner.display_name
    else:
        document.pop("name", None)
    return document


def put_profile(session: Session, ctx: ServiceContext, learner: Learner,
                data: Any) -> dict[str, Any]:
    """Replace the learner's Profile (the whole object, OB 3.0 §6.2.5); ``name`` becomes the
    name of their public profile. The id, type and email address stay this service's."""
    if not isinstance(data, dict):
        raise InputError("the request body must be a Profile object")
    errors = ctx.schemas.validate({**data, "id": profiles.profile_url(ctx, learner),
                                   "type": ["Profile"]}, PROFILE_SCHEMA)
    if errors:
        raise InputError(f"the Profile does not match its schema: {errors[0]}")
    name = data.get("name")
    profiles.set_display_name(session, ctx, learner, name if isinstance(name, str) else None)
    kept = {k: v for k, v in data.items() if k not in _OWN_FIELDS and k != "name"}
    stored = session.get(ObApiProfile, learner.id)
    if stored is None:
        session.add(ObApiProfile(learner_id=learner.id, document=kept, updated_at=ctx.now()))
    else:
        stored.document = kept
        stored.updated_at = ctx.now()
    session.flush()
    return learner_profile(session, ctx, learner)


def remove_upserted(session: Session, learner: Learner, row_id: int) -> None:
    """Take a stored credential out of the learner's backpack; only their own."""
    row = session.get(UpsertedCredential, row_id)
    if row is None or row.learner_id != learner.id:
        raise NotFound("there is no such badge in your backpack")
    session.delete(row)
    session.flush()


def set_upserted_shown(session: Session, learner: Learner, row_id: int,
                       shown: bool) -> UpsertedCredential:
    """Show a stored credential on the learner's public profile, or hide it; only their
    own. Replacing it through upsertCredential keeps the learner's choice."""
    row = session.get(UpsertedCredential, row_id)
    if row is None or row.learner_id != learner.id:
        raise NotFound("there is no such badge in your backpack")
    row.shown = shown
    session.flush()
    return row


def shown_upserted(session: Session, learner_id: int) -> list[UpsertedCredential]:
    """The stored credentials the learner chose to show, and that verified when stored."""
    return list(session.scalars(
        select(UpsertedCredential).where(UpsertedCredential.learner_id == learner_id,
                                         UpsertedCredential.shown.is_(True),
                                         UpsertedCredential.verified.is_(True))
        .order_by(UpsertedCredential.issued_at.desc(), UpsertedCredential.id)))


def public_backpack(session: Session, handle: str
                    ) -> tuple[Learner | None, list[UpsertedCredential]]:
    """The learner at ``/people/<handle>`` and the stored credentials they chose to show
    there; (None, []) for an unknown handle."""
    if not handle or len(handle) > profiles.MAX_HANDLE:
        return None, []
    learner = session.scalar(select(Learner).where(Learner.profile_handle == handle))
    if learner is None:
        return None, []
    return learner, shown_upserted(session, learner.id)
