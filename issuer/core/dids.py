"""did:key: DIDs that are their own public key, and the DID documents they expand to.

did:key (https://w3c-ccg.github.io/did-method-key/) is resolved locally: the DID *is* the
public key, so no network is needed and the issuer is self-certifying. did:web, the DIDs of
the issuers this service hosts, is in :mod:`issuer.core.did_web`.

Verification methods use the W3C Controlled Identifiers v1.0 forms (§2.2.2 Multikey,
§2.2.3 JsonWebKey); the contexts that define them are named here for both methods.
"""

from __future__ import annotations

from typing import Any

from issuer.core.errors import KeyFormatError, ResolutionError
from issuer.core.keys import (
    PublicKey,
    multikey_document,
    public_key_from_multibase,
    x25519_from_ed25519,
)
from issuer.core.multibase import X25519_PUB, encode_multikey

__all__ = [
    "DID_CONTEXT",
    "DID_KEY_PREFIX",
    "JWK_CONTEXT",
    "MULTIKEY_CONTEXT",
    "did_key_from_public_key",
    "did_key_verification_method_id",
    "public_key_from_did_key",
    "resolve_did_key",
]

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_CONTEXT = "https://w3id.org/security/jwk/v1"

DID_KEY_PREFIX = "did:key:"
DID_WEB_PREFIX = "did:web:"

# Key types did:key covers here: Ed25519 and the NIST curves (did-method-key §2, §3.1.3).
_DID_KEY_TYPES = frozenset({"Ed25519", "P-256", "P-384", "P-521"})


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
