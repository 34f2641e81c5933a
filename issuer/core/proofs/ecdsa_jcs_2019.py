"""The ``ecdsa-jcs-2019`` cryptosuite: JSON Canonicalization Scheme, SHA-2, ECDSA P-256/P-384.

W3C VC Data Integrity ECDSA Cryptosuites v1.0 §3.4. As for ``ecdsa-rdfc-2019`` the key's
curve sets the hash (SHA-256 for P-256, SHA-384 for P-384, §3.4.4); JCS (RFC 8785) has no
hash of its own. Unlike the RDFC suite, the proof repeats the document's ``@context``
(§3.4.1 Create Proof), which :func:`issuer.core.proofs.data_integrity.sign_document` adds.
"""

from __future__ import annotations

from issuer.core.keys import PublicKey
from issuer.core.proofs.ecdsa_rdfc_2019 import ECDSA_CURVES, curve_hash
from issuer.core.proofs.jcs_suite import JcsTransformation

__all__ = ["EcdsaJcs2019"]


class EcdsaJcs2019(JcsTransformation):
    """§3.4 ecdsa-jcs-2019; :meth:`for_key` gives the suite for one key's curve."""

    name = "ecdsa-jcs-2019"
    proof_type = "DataIntegrityProof"
    #: §3.4.1 Create Proof step 2: the proof carries the document's ``@context``.
    proof_repeats_contexts = True

    def __init__(self, curve: str | None = None) -> None:
        self.curve = curve

    def for_key(self, key: PublicKey) -> EcdsaJcs2019:
        return type(self)(key.key_type if key.key_type in ECDSA_CURVES else None)

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes:
        """§3.4.4 Hashing: the proof configuration hash, then the document hash."""
        return curve_hash(self.curve, canonical_config) + curve_hash(self.curve, transformed)

    def key_allowed(self, key: PublicKey) -> bool:
        return key.key_type in ECDSA_CURVES and self.curve in (None, key.key_type)
