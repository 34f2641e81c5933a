"""The ``eddsa-jcs-2022`` cryptosuite: JSON Canonicalization Scheme, SHA-256, Ed25519.

VC Data Integrity EdDSA Cryptosuites v1.0 §3.4. Not accepted by OB 3.0 certification, but
cheaper to compute and used by generic VC tooling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from issuer.core.canon.jcs import jcs
from issuer.core.keys import PublicKey
from issuer.core.proofs.data_integrity import SuiteContext

__all__ = ["EddsaJcs2022"]


class EddsaJcs2022:
    name = "eddsa-jcs-2022"
    proof_type = "DataIntegrityProof"

    def transformation(
        self, unsecured: Mapping[str, Any], options: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.4.3 Transformation: the JCS serialization of the unsecured document."""
        return jcs(dict(unsecured))

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.4.5 Proof Configuration: JCS of the proof options with the document's contexts."""
        config = dict(options)
        if "@context" in unsecured:
            config["@context"] = unsecured["@context"]
        return jcs(config)

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes:
        """§3.4.4 Hashing: SHA-256 of the proof configuration, then of the document."""
        return hashlib.sha256(canonical_config).digest() + hashlib.sha256(transformed).digest()

    def key_allowed(self, key: PublicKey) -> bool:
        return key.key_type == "Ed25519"
