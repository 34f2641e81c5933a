"""The ``eddsa-rdfc-2022`` cryptosuite: RDFC-1.0 canonical N-Quads, SHA-256, Ed25519.

VC Data Integrity EdDSA Cryptosuites v1.0 §3.3. This is the suite OB 3.0 certification
accepts for Linked Data proofs (OB 3.0 §8.3, OB 3.0 Conformance "Supported Proof Mechanisms").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from issuer.core.canon import canonicalize
from issuer.core.keys import PublicKey
from issuer.core.proofs.data_integrity import SuiteContext

__all__ = ["Ed25519Signature2020", "Eddsa2022", "EddsaRdfc2022"]


def _canonical(document: Mapping[str, Any], ctx: SuiteContext) -> str:
    def compute() -> str:
        return canonicalize(document, ctx.loader, budget=ctx.budget)

    return compute() if ctx.memo is None else ctx.memo.canonical(document, compute)


class EddsaRdfc2022:
    name = "eddsa-rdfc-2022"
    proof_type = "DataIntegrityProof"

    def transformation(
        self, unsecured: Mapping[str, Any], options: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.3.3 Transformation: canonicalize the unsecured document with RDFC-1.0."""
        return _canonical(unsecured, ctx).encode("utf-8")

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.3.5 Proof Configuration: the proof options under the document's contexts."""
        config = dict(options)
        config["@context"] = unsecured.get("@context")
        return _canonical(config, ctx).encode("utf-8")

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes:
        """§3.3.4 Hashing: SHA-256 of the proof configuration, then of the document."""
        return hashlib.sha256(canonical_config).digest() + hashlib.sha256(transformed).digest()

    def key_allowed(self, key: PublicKey) -> bool:
        return key.key_type == "Ed25519"


class Eddsa2022(EddsaRdfc2022):
    """``eddsa-2022``: the draft name of the same algorithm, still found in issued badges."""

    name = "eddsa-2022"


class Ed25519Signature2020(EddsaRdfc2022):
    """The legacy ``Ed25519Signature2020`` proof type (W3C CCG Ed25519Signature2020 §4).

    Same transformation, hashing and signature as eddsa-rdfc-2022; the proof names its type
    instead of a cryptosuite and its terms come from the ed25519-2020 context.
    """

    name = "Ed25519Signature2020"
    proof_type = "Ed25519Signature2020"
