"""Issuers: their DID (a did:web under the base URL, or a did:key), keys, DID document and
OB 3.0 Profile."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from issuer.core.credentials import Profile
from issuer.core.datetimes import format_datetime
from issuer.core.did_web import DidKeyEntry, did_web_document, did_web_from_url
from issuer.core.dids import resolve_did_key
from issuer.core.keys import PrivateKey, public_key_from_multibase
from issuer.services.context import ServiceContext
from issuer.services.errors import Conflict, Invalid, NotFound
from issuer.services.lookups import checked_copy, fingerprint
from issuer.storage.models import Issuer, SigningKey

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
#: Short names of the issuers the service runs itself (the CPD transcript issuer).
RESERVED_SLUGS = frozenset({"records"})
#: How an issuer is identified: ``web`` (did:web, keys can rotate) or ``key`` (did:key: the
#: DID is its one key, did-method-key §2; verifiers resolve it without asking anyone).
DID_METHODS = ("web", "key")
DID_KEY_PREFIX = "did:key:"
#: Types of an issuer's first key: Ed25519 (eddsa-* proofs), or P-256 / P-384 for an issuer
#: that signs only with ecdsa-* proofs (W3C Data Integrity ECDSA Cryptosuites §3.3, §3.4).
FIRST_KEY_TYPES = ("Ed25519", "P-256", "P-384")
#: The longest name a key is kept under (``signing_keys.fragment``).
FRAGMENT_LENGTH = 64


def issuer_url(ctx: ServiceContext, slug: str) -> str:
    return f"{ctx.base}/issuers/{slug}"


def issuer_did(ctx: ServiceContext, issuer: Issuer | str) -> str:
    """did:web §3.2.1: the DID of ``{base}/issuers/{slug}`` (document at ``…/did.json``);
    for a did:key issuer, ``did:key:<its key>`` (did-method-key §2). A slug alone names a
    did:web issuer."""
    if isinstance(issuer, Issuer) and issuer.did_method == "key":
        return DID_KEY_PREFIX + issuer.keys[0].public_multibase
    slug = issuer if isinstance(issuer, str) else issuer.slug
    return did_web_from_url(issuer_url(ctx, slug))


def method_id(ctx: ServiceContext, key: SigningKey) -> str:
    """The key's DID URL: ``{DID}#{fragment}``; a did:key's fragment is the key itself
    (did-method-key §3.1.2), whatever name the key is kept under here."""
    return f"{issuer_did(ctx, key.issuer)}#{did_fragment(key)}"


def did_fragment(key: SigningKey) -> str:
    """The fragment of the key's DID URL: its name here, or for a did:key its multibase."""
    if key.issuer.did_method == "key":
        return key.public_multibase
    return key.fragment


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
    did_method: str = "web",
    key_type: str = "Ed25519",
) -> Issuer:
    """Create an issuer with its first signing key, Ed25519 unless ``key_type`` says P-256 or
    P-384.

    ``reserved`` is for the service's own issuers: nobody else may take those short names.
    ``did_method`` "key" makes the issuer's DID the did:key of that key (did-method-key §2:
    ``z6Mk…`` for Ed25519, ``zDn…`` for P-256, ``z82…`` for P-384). An issuer without an
    Ed25519 key signs with ecdsa-rdfc-2019 unless asked for another suite it has a key for.
    """
    slug = validate_slug(slug)
    if did_method not in DID_METHODS:
        raise Invalid(f"the DID method must be one of {', '.join(DID_METHODS)}",
                      {"did_method": "web or key"})
    if key_type not in FIRST_KEY_TYPES:
        raise Invalid(f"the key type must be one of {', '.join(FIRST_KEY_TYPES)}",
                      {"key_type": "Ed25519, P-256 or P-384"})
    if slug in RESERVED_SLUGS and not reserved:
        raise Invalid(f"the short name {slug!r} is reserved by this service",
                      {"slug": "reserved"})
    name = (name or "").strip()
    if not name:
        raise Invalid("an issuer needs a name", {"name": "required"})
    if session.scalar(select(Issuer).where(Issuer.slug == slug)) is not None:
        raise Conflict(f"an issuer with the short name {slug!r} already exists")
    issuer = Issuer(slug=slug, name=name, url=url or None, email=email or None,
                    description=description or None, created_at=ctx.now(),
                    did_method=did_method)
    session.add(issuer)
    session.flush()
    add_key(session, ctx, issuer, key_type)
    return issuer


def add_key(session: Session, ctx: ServiceContext, issuer: Issuer,
            key_type: str = "Ed25519") -> SigningKey:
    """A new key that signs from now on; earlier keys stay published (rotation).

    A did:key issuer has one key for good: its DID is that key (did-method-key §2), so a new
    key would be a new issuer. Its key's fragment is the key itself (did-method-key §3.1.2).
    """
    if issuer.did_method == "key" and issuer.keys:
        raise Invalid(
            f"the issuer {issuer.slug!r} is a did:key, whose DID is its key: it cannot get "
            "another key; create a new issuer instead", {"key": "a did:key cannot rotate"})
    number = len(issuer.keys) + 1
    fragment = f"key-{number}"
    key, name = ctx.keystore.create(issuer.slug, fragment, key_type)
    multibase = key.public_key.to_multibase()
    if issuer.did_method == "key" and len(multibase) <= FRAGMENT_LENGTH:
        # Kept under its DID URL fragment; a P-384 key's (71 characters) is longer than the
        # column, and keeps its local name (method_id gives the DID URL either way).
        fragment = multibase
    # Keys of one type take turns; an ECDSA key signs beside the Ed25519 one, not instead.
    for old in issuer.keys:
        if old.active and old.key_type == key.key_type:
            old.active = False
            old.retired_at = ctx.now()
    row = SigningKey(issuer=issuer, fragment=fragment, key_type=key.key_type,
                     public_multibase=multibase, key_file=name,
                     active=True, created_at=ctx.now())
    session.add(row)
    session.flush()
    return row


def active_key(issuer: Issuer) -> SigningKey:
    """The key that signs by default: the active Ed25519 key, or, for an issuer that has
    only ECDSA keys (one created with a P-256 or P-384 key), its active one."""
    fallback = None
    for key in reversed(issuer.keys):
        if key.active:
            if key.key_type == "Ed25519":
                return key
            fallback = fallback or key
    if fallback is not None:
        return fallback
    raise NotFound(f"the issuer {issuer.slug!r} has no active signing key")


def signing_key(ctx: ServiceContext, issuer: Issuer) -> tuple[SigningKey, PrivateKey]:
    row = active_key(issuer)
    return row, ctx.keystore.load(row.key_file)


def get_issuer(session: Session, slug: str) -> Issuer:
    issuer = session.scalar(_issuer_named(), {"slug": slug})
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
    if did.startswith(DID_KEY_PREFIX):
        return _did_key_issuer(session, did)
    slug = slug_of_did(ctx, did)
    if slug is None:
        return None
    found = session.scalar(select(Issuer).where(Issuer.slug == slug))
    return found if found is not None and found.did_method == "web" else None


def _did_key_issuer(session: Session, did: str) -> Issuer | None:
    """The did:key issuer hosted here whose key ``did`` encodes (its first and only key)."""
    multibase = did[len(DID_KEY_PREFIX):].partition("#")[0]
    found = session.scalars(
        select(Issuer).join(SigningKey).where(Issuer.did_method == "key",
                                              SigningKey.public_multibase == multibase)
        .options(joinedload(Issuer.keys))).unique().first()
    return found if found is not None and issuer_did_key_matches(found, did) else None


def issuer_did_key_matches(issuer: Issuer, did: str) -> bool:
    return bool(issuer.keys) and did.partition("#")[0] == (
        DID_KEY_PREFIX + issuer.keys[0].public_multibase)


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
            self._found[slug] = _checked_copy(self._session, self._ctx, slug)
        return self._found[slug]

    def by_did(self, did: str) -> Issuer | None:
        if did.startswith(DID_KEY_PREFIX):
            if did not in self._found:
                self._found[did] = _did_key_issuer(self._session, did)
            return self._found[did]
        slug = slug_of_did(self._ctx, did)
        found = None if slug is None else self.by_slug(slug)
        return found if found is not None and found.did_method == "web" else None


_ISSUER_COLUMNS = list(Issuer.__table__.columns)
_KEY_COLUMNS = list(SigningKey.__table__.columns)
_N = len(_ISSUER_COLUMNS)


def _checked_copy(session: Session, ctx: ServiceContext, slug: str) -> Issuer | None:
    """The issuer ``slug`` with its keys, from this process's copy when one plain query shows
    their rows unchanged (:mod:`issuer.services.lookups`, as for API tokens): a key added or
    revoked anywhere is seen by the next verification."""
    rows = session.connection().execute(_current_rows(), {"slug": slug}).all()
    if not rows:
        return None
    identities = [(Issuer, rows[0][0])]
    identities += [(SigningKey, r[_N]) for r in rows if r[_N] is not None]
    stamp = (tuple(rows[0])[:_N], tuple(tuple(r)[_N:] for r in rows if r[_N] is not None))
    return checked_copy(
        session, ctx.lookups.issuers, slug, stamp, identities,
        lambda side: side.scalars(_issuer_by_slug(), {"slug": slug}).unique().one_or_none(),
        lambda loaded: (fingerprint(loaded, _ISSUER_COLUMNS),
                        tuple(fingerprint(key, _KEY_COLUMNS) for key in loaded.keys)))


@cache
def _current_rows() -> Select[Any]:
    # One row per key of the issuer (one with no key columns when it has none), in the
    # order of Issuer.keys.
    issuers, keys = Issuer.__table__, SigningKey.__table__
    return (select(*_ISSUER_COLUMNS, *_KEY_COLUMNS)
            .select_from(issuers.outerjoin(keys, keys.c.issuer_id == issuers.c.id))
            .where(issuers.c.slug == bindparam("slug"))
            .order_by(keys.c.id))


@cache
def _issuer_named() -> Select[tuple[Issuer]]:
    # Built once: every page and list of an issuer starts here.
    return select(Issuer).where(Issuer.slug == bindparam("slug"))


@cache
def _issuer_by_slug() -> Select[tuple[Issuer]]:
    # Built once: every verification of a credential from here asks for its issuer, and
    # building the statement cost more than running it.
    return (select(Issuer).where(Issuer.slug == bindparam("slug"))
            .options(joinedload(Issuer.keys)))


def did_document(ctx: ServiceContext, issuer: Issuer) -> dict[str, Any]:
    """The issuer's DID document, listing every key it ever signed with.

    Every key stays under ``assertionMethod``, a compromised one too: its ``revoked`` date
    (Controlled Identifiers §2.2) tells verifiers to refuse what it signed from then on, while
    what it signed before keeps verifying (USERS.md §G6).
    """
    entries = [
        DidKeyEntry(
            fragment=did_fragment(k),
            public_key=public_key_from_multibase(k.public_multibase),
            retired=not k.active,
            compromised_since=(
                format_datetime(k.compromised_since) if k.compromised_since else None
            ),
        )
        for k in issuer.keys
    ]
    if issuer.did_method == "key":
        return _did_key_document(issuer_did(ctx, issuer), entries[0])
    return did_web_document(issuer_did(ctx, issuer), entries)


def _did_key_document(did: str, entry: DidKeyEntry) -> dict[str, Any]:
    """The did:key document (did-method-key §3.1.1), and, from this service's records, the
    key's ``revoked`` date once it is reported compromised (Controlled Identifiers §2.2): a
    did:key cannot publish that itself, but verifiers that ask this service learn it."""
    document = resolve_did_key(did)
    if entry.revoked_at is not None:
        for method in document["verificationMethod"]:
            if method["id"] == f"{did}#{entry.fragment}":
                method["revoked"] = entry.revoked_at
    return document


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
