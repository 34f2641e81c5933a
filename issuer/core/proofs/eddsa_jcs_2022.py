"""The ``eddsa-jcs-2022`` cryptosuite: JSON Canonicalization Scheme, SHA-256, Ed25519.

VC Data Integrity EdDSA Cryptosuites v1.0 §3.4. Not accepted by OB 3.0 certification, but
cheaper to compute and used by generic VC tooling.
"""

from __future__ import annotations

import hashlib

from issuer.core.keys import PublicKey
from issuer.core.proofs.jcs_suite import JcsTransformation

__all__ = ["EddsaJcs2022"]


class EddsaJcs2022(JcsTransformation):
    name = "eddsa-jcs-2022"
    proof_type = "DataIntegrityProof"

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes:
        """§3.4.4 Hashing: SHA-256 of the proof configuration, then of the document."""
        return hashlib.sha256(canonical_config).digest() + hashlib.sha256(transformed).digest()

    def key_allowed(self, key: PublicKey) -> bool:
        return key.key_type == "Ed25519"
