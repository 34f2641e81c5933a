"""did:key and did:web: DIDs for issuers and the DID documents behind them.

* did:key (https://w3c-ccg.github.io/did-method-key/) is resolved locally: the DID *is* the
  public key, so no network is needed and the issuer is self-certifying.
* did:web (https://w3c-ccg.github.io/did-method-web/) names a document served over HTTPS.
  This module builds that document; fetching it is the web layer's job.

Verification methods use the W3C Controlled Identifiers v1.0 forms (§2.2.2 Multikey,
§2.2.3 JsonWebKey).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from issuer.core.errors import InputError, KeyFormatError, ResolutionError
from issuer.core.keys import (
    PublicKey,
    jsonwebkey_document,
    multikey_document,
    public_key_from_multibase,
    x25519_from_ed25519,
)
from issuer.core.multibase import X25519_PUB, encode_multikey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_CONTEXT = "https://w3id.org/security/jwk/v1"

DID_KEY_PREFIX = "did:key:"
DID_WEB_PREFIX = "did:web:"

# Key types did:key covers here: Ed25519 and the NIST curves (did-method-key §2, §3.1.3).
_DID_KEY_TYPES = frozenset({"Ed25519", "P-256", "P-384", "P-521"})

# RFC 1123 host names (letters, digits, hyphens per label); dotted IPv4 also fits.
_HOST_RE = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*",
    re.IGNORECASE,
)
# DID Core §3.1 idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
_IDCHARS_RE = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
# Fragments we mint for did:web keys; kept to unreserved characters so ids need no escaping.
_FRAGMENT_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")


# --- did:key -------------------------------------------------------------------------------


def did_key_from_public_key(key: PublicKey) -> str:
    """``did:key:<multibase public key>`` (did-method-key §2 Format, §3.1 Create)."""
    if key.key_type not in _DID_KEY_TYPES:
        raise KeyFormatError(f"{key.key_type} keys cannot be expressed as a did:key here")
    return DID_KEY_PREFIX + key.fingerprint


def did_key_verification_method_id(did: str) -> str:
    """``did:key:z…#z…``: the DID plus its own key as fragment (did-method-key §3.1.2 step 5)."""
    did, key, _ = _parse_did_key(did)
    return f"{did}#{key.fingerprint}"


def public_key_from_did_key(did_or_did_url: str) -> PublicKey:
    """The public key a did:key encodes (did-method-key §3.1.3 Decode Public Key Algorithm)."""
    return _parse_did_key(did_or_did_url)[1]


def resolve_did_key(did_or_did_url: str) -> dict[str, Any]:
    """Expand a did:key into its DID document (did-method-key §3.1.1 Document Creation).

    The signature key is a Multikey listed under ``authentication``, ``assertionMethod``,
    ``capabilityInvocation`` and ``capabilityDelegation``. For Ed25519 the X25519
    key-agreement key is derived (§3.1.5, §3.1.6) and added as a second Multikey under
    ``keyAgreement``. A DID URL whose fragment names no key in the document is refused.
    """
    did, key, fragment = _parse_did_key(did_or_did_url)
    vm_id = f"{did}#{key.fingerprint}"
    methods: list[dict[str, str]] = [multikey_document(key, vm_id, did)]
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }
    if key.key_type == "Ed25519":
        try:
            x25519 = encode_multikey(X25519_PUB, x25519_from_ed25519(key))
        except KeyFormatError as exc:
            raise ResolutionError(f"cannot resolve {did}: {exc.message}") from None
        agreement_id = f"{did}#{x25519}"
        methods.append(
            {
                "id": agreement_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": x25519,
            }
        )
        document["keyAgreement"] = [agreement_id]
    if fragment is not None and f"{did}#{fragment}" not in {m["id"] for m in methods}:
        raise ResolutionError(f"{did} has no verification method #{fragment[:100]}")
    return document


def _parse_did_key(value: str) -> tuple[str, PublicKey, str | None]:
    """Split a did:key DID or DID URL into (DID, key, fragment or None)."""
    if not isinstance(value, str) or not value.startswith(DID_KEY_PREFIX):
        raise ResolutionError("not a did:key DID")
    did, hash_sign, fragment = value.partition("#")
    identifier = did[len(DID_KEY_PREFIX) :]
    if any(char in identifier for char in "/?:"):
        raise ResolutionError("did:key DIDs must be 'did:key:z…' with no version, path or query")
    if not identifier.startswith("z"):
        raise ResolutionError("a did:key identifier must start with 'z' (base58btc)")
    try:
        key = public_key_from_multibase(identifier)
    except KeyFormatError as exc:
        raise ResolutionError(f"cannot resolve did:key: {exc.message}") from None
    # base58 has one spelling per byte string, but check anyway: ids are compared as strings.
    if key.fingerprint != identifier:
        raise ResolutionError("the did:key identifier is not in canonical form")
    return did, key, (fragment if hash_sign else None)


# --- did:web -------------------------------------------------------------------------------


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
        return min(moments).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """
    if not isinstance(url, str):
        raise InputError("the issuer URL must be a string")
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


def did_web_document(did: str, keys: Sequence[DidKeyEntry]) -> dict[str, Any]:
    """The DID document for a did:web issuer (DID Core §5; Controlled Identifiers v1.0 §2.2).

    Every key the issuer ever used is listed under ``verificationMethod`` so that old
    credentials keep verifying: Ed25519 as a Multikey (§2.2.2), other key types as a
    JsonWebKey (§2.2.3) so that JWT verifiers can use them. ``assertionMethod`` lists every
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
        if entry.public_key.key_type == "Ed25519":
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
