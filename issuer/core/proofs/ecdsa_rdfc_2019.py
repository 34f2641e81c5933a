"""The ``ecdsa-rdfc-2019`` cryptosuite: RDFC-1.0 canonical N-Quads, SHA-2, ECDSA P-256/P-384.

W3C VC Data Integrity ECDSA Cryptosuites v1.0 §3.3. The curve of the key sets the hash: for
P-256 SHA-256, for P-384 SHA-384, both for the document and proof configuration hashes
(§3.3.4) and inside RDFC-1.0 itself (§3.1 "the cryptographic hashing function used by
RDFC-1.0 is chosen based on the size of the associated public key"). A suite object made
without a curve is bound to one by :meth:`EcdsaRdfc2019.for_key` before it hashes anything.

The signature is the IEEE P1363 ``r || s`` form (§3.3.6, §3.3.7), which
:meth:`issuer.core.keys.PrivateKey.sign` and :meth:`issuer.core.keys.PublicKey.verify`
use for EC keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from issuer.core.canon import Unsupported, canonicalize, dataset_entries
from issuer.core.canon.fast_path import check_json_depth
from issuer.core.canon.nquads import quads_from_pyld
from issuer.core.canon.rdfc import WorkBudget, canonicalize_quads, canonicalize_statements
from issuer.core.errors import SigningError
from issuer.core.jsonld import ContextLoader, expand_safe, expanded_to_rdf_dataset
from issuer.core.keys import PublicKey
from issuer.core.proofs.data_integrity import SuiteContext

__all__ = ["ECDSA_CURVES", "EcdsaRdfc2019", "canonicalize_for_curve", "curve_hash"]

#: The curves of the ECDSA cryptosuites and their SHA-2 function (§3.1, §3.3.4).
ECDSA_CURVES: dict[str, str] = {"P-256": "sha256", "P-384": "sha384"}


def curve_hash(curve: str | None, data: bytes) -> bytes:
    """SHA-256 for P-256, SHA-384 for P-384 (ECDSA Cryptosuites §3.3.4, §3.4.4)."""
    if curve not in ECDSA_CURVES:
        raise SigningError("an ECDSA suite must be bound to a P-256 or P-384 key first")
    return hashlib.new(ECDSA_CURVES[curve], data).digest()


def canonicalize_for_curve(
    document: Mapping[str, Any],
    loader: ContextLoader,
    curve: str | None,
    *,
    budget: WorkBudget | None = None,
) -> str:
    """RDFC-1.0 canonical N-Quads with the hash function the curve asks for (§3.1).

    P-256 uses RDFC-1.0's default, SHA-256. P-384 sets RDFC-1.0's hash algorithm parameter to
    SHA-384; the dataset is made by the same two paths :func:`issuer.core.canon.canonicalize`
    uses, in the same safe mode.
    """
    if curve not in ECDSA_CURVES:
        raise SigningError("an ECDSA suite must be bound to a P-256 or P-384 key first")
    algorithm = ECDSA_CURVES[curve]
    if algorithm == "sha256":
        return canonicalize(document, loader, budget=budget)
    try:
        return canonicalize_statements(
            dataset_entries(document, loader), budget=budget, hash_algorithm=algorithm
        )
    except Unsupported:
        pass
    check_json_depth(document)
    report = expand_safe(document, loader)
    dataset = expanded_to_rdf_dataset(report.expanded, loader)
    return canonicalize_quads(quads_from_pyld(dataset), budget=budget, hash_algorithm=algorithm)


class EcdsaRdfc2019:
    """§3.3 ecdsa-rdfc-2019; :meth:`for_key` gives the suite for one key's curve."""

    name = "ecdsa-rdfc-2019"
    proof_type = "DataIntegrityProof"

    def __init__(self, curve: str | None = None) -> None:
        self.curve = curve

    def for_key(self, key: PublicKey) -> EcdsaRdfc2019:
        return type(self)(key.key_type if key.key_type in ECDSA_CURVES else None)

    def transformation(
        self, unsecured: Mapping[str, Any], options: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.3.3 Transformation: RDFC-1.0 canonical N-Quads of the unsecured document."""
        return canonicalize_for_curve(unsecured, ctx.loader, self.curve,
                                      budget=ctx.budget).encode("utf-8")

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.3.5 Proof Configuration: the proof options under the document's contexts,
        canonicalized like the document."""
        config = dict(options)
        config["@context"] = unsecured.get("@context")
        return canonicalize_for_curve(config, ctx.loader, self.curve,
                                      budget=ctx.budget).encode("utf-8")

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes:
        """§3.3.4 Hashing: the proof configuration hash, then the document hash."""
        return curve_hash(self.curve, canonical_config) + curve_hash(self.curve, transformed)

    def key_allowed(self, key: PublicKey) -> bool:
        return key.key_type in ECDSA_CURVES and self.curve in (None, key.key_type)
