"""Issuers: their did:web identity, keys, DID document and OB 3.0 Profile."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from issuer.core.credentials import Profile
from issuer.core.datetimes import format_datetime
from issuer.core.did_web import DidKeyEntry, did_web_document, did_web_from_url
from issuer.core.keys import PrivateKey, public_key_from_multibase
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.storage.models import Issuer, SigningKey

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
#: Short names of the issuers the service runs itself (the CPD transcript issuer).
RESERVED_SLUGS = frozenset({"records"})


def issuer_url(ctx: ServiceContext, slug: str) -> str:
    return f"{ctx.base}/issuers/{slug}"


def issuer_did(ctx: ServiceContext, issuer: Issuer | str) -> str:
    """did:web §3.2.1: the DID of ``{base}/issuers/{slug}`` (document at ``…/did.json``)."""
    slug = issuer if isinstance(issuer, str) else issuer.slug
    return did_web_from_url(issuer_url(ctx, slug))


def method_id(ctx: ServiceContext, key: SigningKey) -> str:
    return f"{issuer_did(ctx, key.issuer)}#{key.fragment}"


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise Invalid(
            "a short name may use lower-case letters, digits and '-' (up to 64 characters)",
            {"slug": "use a-z, 0-9 and '-'"},
        )
    return slug


def create_issuer(
    session: Session,
    ctx: ServiceContext,
    *,
    slug: str,
    name: str,
    url: str | None = None,
    email: str | None = None,
    description: str | None = None,
    reserved: bool = False,
) -> Issuer:
    """Create an issuer with its first Ed25519 signing key.

    ``reserved`` is for the service's own issuers: nobody else may take those short names.
    """
    slug = validate_slug(slug)
    if slug in RESERVED_SLUGS and not reserved:
        raise Invalid(f"the short name {slug!r} is reserved by this service",
                      {"slug": "reserved"})
    name = (name or "").strip()
    if not name:
        raise Invalid("an issuer needs a name", {"name": "required"})
    if session.scalar(select(Issuer).where(Issuer.slug == slug)) is not None:
        raise Conflict(f"an issuer with the short name {slug!r} already exists")
    issuer = Issuer(slug=slug, name=name, url=url or None, email=email or None,
                    description=description or None, created_at=ctx.now())
    session.add(issuer)
    session.flush()
    add_key(session, ctx, issuer)
    return issuer


def add_key(session: Session, ctx: ServiceContext, issuer: Issuer,
            key_type: str = "Ed25519") -> SigningKey:
    """A new key that signs from now on; earlier keys stay published (rotation)."""
    number = len(issuer.keys) + 1
    fragment = f"key-{number}"
    key, name = ctx.keystore.create(issuer.slug, fragment, key_type)
    for old in issuer.keys:
        if old.active:
            old.active = False
            old.retired_at = ctx.now()
    row = SigningKey(issuer=issuer, fragment=fragment, key_type=key.key_type,
                     public_multibase=key.public_key.to_multibase(), key_file=name,
                     active=True, created_at=ctx.now())
    session.add(row)
    session.flush()
    return row


def active_key(issuer: Issuer) -> SigningKey:
    for key in reversed(issuer.keys):
        if key.active and key.key_type == "Ed25519":
            return key
    raise NotFound(f"the issuer {issuer.slug!r} has no active signing key")


def signing_key(ctx: ServiceContext, issuer: Issuer) -> tuple[SigningKey, PrivateKey]:
    row = active_key(issuer)
    return row, ctx.keystore.load(row.key_file)


def get_issuer(session: Session, slug: str) -> Issuer:
    issuer = session.scalar(select(Issuer).where(Issuer.slug == slug))
    if issuer is None:
        raise NotFound(f"no issuer {slug!r}")
    return issuer


def slug_of_did(ctx: ServiceContext, did: str) -> str | None:
    """The slug of the issuer hosted here whose DID is ``did``, if it is one of ours."""
    prefix = issuer_did(ctx, "x")[: -len("x")]
    if not did.startswith(prefix):
        return None
    slug = did[len(prefix):]
    return slug if SLUG.match(slug) else None


def issuer_by_did(session: Session, ctx: ServiceContext, did: str) -> Issuer | None:
    slug = slug_of_did(ctx, did)
    if slug is None:
        return None
    return session.scalar(select(Issuer).where(Issuer.slug == slug))


class IssuersBySlug:
    """The issuers one verification asks about, each read once, with its keys.

    A verification asks for the credential's issuer when it resolves the signing key, when
    it checks this service's records and once per status entry; each was a query.
    """

    def __init__(self, session: Session, ctx: ServiceContext) -> None:
        self._session = session
        self._ctx = ctx
        self._found: dict[str, Issuer | None] = {}

    def by_slug(self, slug: str) -> Issuer | None:
        if slug not in self._found:
            self._found[slug] = self._session.scalars(
                select(Issuer).where(Issuer.slug == slug).options(joinedload(Issuer.keys))
            ).unique().one_or_none()
        return self._found[slug]

    def by_did(self, did: str) -> Issuer | None:
        slug = slug_of_did(self._ctx, did)
        return None if slug is None else self.by_slug(slug)


def did_document(ctx: ServiceContext, issuer: Issuer) -> dict[str, Any]:
    """The issuer's DID document, listing every key it ever signed with.

    Every key stays under ``assertionMethod``, a compromised one too: its ``revoked`` date
    (Controlled Identifiers §2.2) tells verifiers to refuse what it signed from then on, while
    what it signed before keeps verifying (USERS.md §G6).
    """
    entries = [
        DidKeyEntry(
            fragment=k.fragment,
            public_key=public_key_from_multibase(k.public_multibase),
            retired=not k.active,
            compromised_since=(
                format_datetime(k.compromised_since) if k.compromised_since else None
            ),
        )
        for k in issuer.keys
    ]
    return did_web_document(issuer_did(ctx, issuer), entries)


def profile(ctx: ServiceContext, issuer: Issuer) -> Profile:
    return Profile(id=issuer_did(ctx, issuer), name=issuer.name,
                   url=issuer.url or issuer_url(ctx, issuer.slug),
                   email=issuer.email, description=issuer.description)


def profile_document(ctx: ServiceContext, issuer: Issuer) -> dict[str, Any]:
    """The Profile served at the issuer's URL (OB 3.0 §B.1.14), with its keys.

    OB 3.0 Implementation Guide, "Issuer quickstart": publish the keys as verification
    methods of the profile so verifiers can tie them to the issuer.
    """
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        **profile(ctx, issuer).to_json(),
    }
    did_doc = did_document(ctx, issuer)
    document["verificationMethod"] = did_doc["verificationMethod"]
    document["assertionMethod"] = did_doc.get("assertionMethod", [])
    return document
