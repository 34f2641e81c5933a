"""did:web: the DID of an issuer's web address, its DID document, and reading it back.

did:web (https://w3c-ccg.github.io/did-method-web/) names a DID document served over HTTPS
at an address the DID spells out (§2.3 Method-Specific Identifier):

* :func:`did_web_from_url` turns an issuer's URL into its DID (§2.3);
* :func:`did_web_document` builds the document this service publishes for its issuers
  (DID Core §5; Controlled Identifiers v1.0 §2.2);
* :func:`resolve_did_web` reads one back (§2.5.2 Read): it finds the address with
  :func:`did_web_document_url`, has the caller's ``fetch`` get it, and keeps the document
  only when its ``id`` is the DID asked for. This module does no I/O: what may be fetched,
  and how, is the caller's decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from issuer.core.datetimes import format_datetime
from issuer.core.dids import DID_CONTEXT, DID_WEB_PREFIX, JWK_CONTEXT, MULTIKEY_CONTEXT
from issuer.core.errors import InputError, IssuerError, ResolutionError
from issuer.core.keys import PublicKey, jsonwebkey_document, multikey_document

__all__ = [
    "DID_WEB_PREFIX",
    "DidKeyEntry",
    "DocumentFetch",
    "did_web_document",
    "did_web_document_url",
    "did_web_from_url",
    "resolve_did_web",
]


#: Gets the JSON document at a URL, or None when there is none (the caller's HTTP client).
DocumentFetch = Callable[[str], Mapping[str, Any] | None]

# RFC 1123 host names (letters, digits, hyphens per label); dotted IPv4 also fits.
_HOST_RE = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*",
    re.IGNORECASE,
)
# DID Core §3.1 idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
_IDCHARS_RE = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
# Fragments we mint for did:web keys; kept to unreserved characters so ids need no escaping.
_FRAGMENT_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True)
class DidKeyEntry:
    """One key in a did:web document.

    ``retired``: no longer used to sign, but what it signed stays valid, so it stays listed
    under ``assertionMethod``. ``revoked`` / ``compromised_since``: ISO 8601 date-times with a
    time zone; either one sets the verification method's ``revoked`` to the earlier of the
    two. The key stays under ``assertionMethod``: ``revoked`` tells verifiers to refuse what
    it signed from that moment on, while what it signed before keeps verifying. ``created``
    is kept for the issuer's records only: neither the Multikey nor the JsonWebKey context
    defines a term for it.
    """

    fragment: str
    public_key: PublicKey
    retired: bool = False
    created: str | None = None
    revoked: str | None = None
    compromised_since: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.fragment, str) or not _FRAGMENT_RE.fullmatch(self.fragment):
            raise InputError("a key fragment must be 1-128 letters, digits or '.', '_', '~', '-'")
        if not isinstance(self.public_key, PublicKey):
            raise InputError("public_key must be a PublicKey")
        for name in ("created", "revoked", "compromised_since"):
            value = getattr(self, name)
            if value is not None:
                _parse_timestamp(value, name)

    @property
    def revoked_at(self) -> str | None:
        """The ``revoked`` value to publish (XML Schema dateTime in UTC), or None."""
        moments = [
            _parse_timestamp(value, name)
            for name, value in (
                ("revoked", self.revoked),
                ("compromised_since", self.compromised_since),
            )
            if value is not None
        ]
        if not moments:
            return None
        # Whole seconds, rounded down: earlier is the safe direction for a revocation time.
        return format_datetime(min(moments), "revoked")


def _parse_timestamp(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"{name} must be an ISO 8601 date-time with a time zone")
    return moment.astimezone(UTC)


def did_web_from_url(url: str) -> str:
    """The did:web DID for an HTTP(S) URL (did-method-web §2.3 Method-Specific Identifier).

    ``http://127.0.0.1:5000/issuers/demo`` → ``did:web:127.0.0.1%3A5000:issuers:demo``: the
    port colon is percent-encoded and path segments are joined with ``:``. The scheme's
    default port is dropped. The spec forbids IP addresses in production DIDs; they are
    accepted here so that a local development server has a DID too.

    Kept for the most recent URLs: every credential an issuer signs names its DID twice.
    """
    if not isinstance(url, str):
        raise InputError("the issuer URL must be a string")
    return _did_web_from_url(url)


@lru_cache(maxsize=256)
def _did_web_from_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise InputError("a did:web URL must use http or https")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise InputError("a did:web URL cannot have credentials, a query or a fragment")
    if "[" in parts.netloc:
        raise InputError("did:web does not support IPv6 literal hosts")
    host = parts.hostname or ""
    if not _HOST_RE.fullmatch(host):
        raise InputError("the URL has no valid host name")
    try:
        port = parts.port
    except ValueError:
        raise InputError("the URL has an invalid port") from None
    authority = host.lower()
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        authority += f"%3A{port}"
    segments = parts.path.split("/")[1:] if parts.path else []
    if segments and segments[-1] == "":
        segments.pop()
    encoded = [authority]
    for segment in segments:
        decoded = unquote(segment)
        if decoded in ("", ".", ".."):
            raise InputError("the URL path has an empty or dot segment")
        # quote() leaves "~" alone, but "~" is not a DID idchar.
        encoded.append(quote(decoded, safe="").replace("~", "%7E"))
    return DID_WEB_PREFIX + ":".join(encoded)


def did_web_document_url(did: str, *, scheme: str = "https") -> str:
    """Where a did:web document lives (did-method-web §2.5.2 Read (Resolve)).

    Colons become slashes, the encoded port colon is decoded, and ``/did.json`` is
    appended, after ``/.well-known`` when the DID has no path. A fragment is ignored, so a
    verification method id can be passed directly. ``scheme="http"`` is for local
    development only.
    """
    if scheme not in ("https", "http"):
        raise ResolutionError("the did:web scheme must be https (or http for development)")
    host, port, segments = _parse_did_web(did)
    authority = f"{host}:{port}" if port else host
    path = "/" + "/".join(segments) if segments else "/.well-known"
    return f"{scheme}://{authority}{path}/did.json"


def _parse_did_web(value: str) -> tuple[str, str | None, list[str]]:
    """Split a did:web DID (or DID URL with a fragment) into host, port and path segments."""
    if not isinstance(value, str) or not value.startswith(DID_WEB_PREFIX):
        raise ResolutionError("not a did:web DID")
    did = value.partition("#")[0]
    if "/" in did or "?" in did:
        raise ResolutionError("did:web DIDs cannot contain '/' or '?'")
    host_part, *segments = did[len(DID_WEB_PREFIX) :].split(":")
    host, _, port = re.sub("%3[Aa]", ":", host_part, count=1).partition(":")
    if not _HOST_RE.fullmatch(host):
        raise ResolutionError("the did:web DID has no valid host name")
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ResolutionError("the did:web DID has an invalid port")
    for segment in segments:
        if not _IDCHARS_RE.fullmatch(segment):
            raise ResolutionError("a did:web path segment has characters a DID cannot hold")
        decoded = unquote(segment)
        if decoded in (".", "..") or "/" in decoded:
            raise ResolutionError("a did:web path segment decodes to a path separator")
    return host, port or None, segments


#: Key types published as Multikey; the others as JsonWebKey.
_MULTIKEY_TYPES = frozenset({"Ed25519", "P-256", "P-384"})


def did_web_document(did: str, keys: Sequence[DidKeyEntry]) -> dict[str, Any]:
    """The DID document for a did:web issuer (DID Core §5; Controlled Identifiers v1.0 §2.2).

    Every key the issuer ever used is listed under ``verificationMethod`` so that old
    credentials keep verifying: Ed25519, P-256 and P-384 as a Multikey (§2.2.2; the form the
    EdDSA and ECDSA Data Integrity cryptosuites name, vc-di-eddsa §2.1.1, vc-di-ecdsa
    §2.1.1), other key types as a JsonWebKey (§2.2.3). ``assertionMethod`` lists every
    key, retired and compromised ones too; a compromised key carries ``revoked``
    (§2.2 Verification Methods), which bounds what it may have signed (see
    :mod:`issuer.core.resolve`).
    """
    _parse_did_web(did)
    if "#" in did:
        raise ResolutionError("give the did:web DID itself, without a fragment")
    if not keys:
        raise InputError("a did:web document needs at least one key")
    seen: set[str] = set()
    methods: list[dict[str, Any]] = []
    assertion: list[str] = []
    contexts = [DID_CONTEXT]
    for entry in keys:
        if entry.fragment in seen:
            raise InputError(f"the key fragment '{entry.fragment}' is used twice")
        seen.add(entry.fragment)
        vm_id = f"{did}#{entry.fragment}"
        method: dict[str, Any]
        if entry.public_key.key_type in _MULTIKEY_TYPES:
            method = multikey_document(entry.public_key, vm_id, did)
            context = MULTIKEY_CONTEXT
        else:
            method = jsonwebkey_document(entry.public_key, vm_id, did)
            context = JWK_CONTEXT
        if context not in contexts:
            contexts.append(context)
        assertion.append(vm_id)
        revoked_at = entry.revoked_at
        if revoked_at is not None:
            method["revoked"] = revoked_at
        methods.append(method)
    # Keep the context order fixed whatever order the keys come in.
    order = [DID_CONTEXT, MULTIKEY_CONTEXT, JWK_CONTEXT]
    return {
        "@context": [c for c in order if c in contexts],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    }


def resolve_did_web(did: str, fetch: DocumentFetch, *, scheme: str = "https") -> dict[str, Any]:
    """The DID document of ``did`` (did-method-web §2.5.2 Read (Resolve)).

    ``fetch`` gets the document at :func:`did_web_document_url`; the document is kept only
    when its ``id`` is ``did`` itself, as §2.5.2 requires: a document served for another DID
    says nothing about this one. A fragment in ``did`` is ignored, so a verification
    method id can be passed directly. ResolutionError when there is no such document, or
    when ``fetch`` raises an :class:`IssuerError` (its message says why).
    """
    url = did_web_document_url(did, scheme=scheme)
    wanted = did.partition("#")[0]
    try:
        document = fetch(url)
    except IssuerError as exc:
        # The fetcher says why (refused address, timeout, size): the report shows it.
        raise ResolutionError(
            f"the DID document of {wanted} could not be fetched: {exc.message}"
        ) from None
    if document is None:
        raise ResolutionError(f"the DID document of {wanted} was not found at {url}")
    if not isinstance(document, Mapping):
        raise ResolutionError(f"the DID document at {url} is not a JSON object")
    if document.get("id") != wanted:
        raise ResolutionError(
            f"the document at {url} is not the DID document of {wanted}: its id is "
            f"{str(document.get('id'))[:200]!r}"
        )
    return dict(document)
