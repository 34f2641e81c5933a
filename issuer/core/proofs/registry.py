"""Cryptosuites by name, as a proof names them (``cryptosuite``, or ``type`` for legacy proofs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.proofs.data_integrity import Cryptosuite
from issuer.core.proofs.eddsa_jcs_2022 import EddsaJcs2022
from issuer.core.proofs.eddsa_rdfc_2022 import Ed25519Signature2020, Eddsa2022, EddsaRdfc2022

__all__ = ["SIGNING_SUITES", "VERIFYING_SUITES", "suite_for_proof"]

#: Suites this service signs with.
SIGNING_SUITES: dict[str, Cryptosuite] = {
    "eddsa-rdfc-2022": EddsaRdfc2022(),
    "eddsa-jcs-2022": EddsaJcs2022(),
}

#: Suites this service verifies: the signing ones plus legacy forms found in issued badges.
VERIFYING_SUITES: dict[str, Cryptosuite] = {
    **SIGNING_SUITES,
    "eddsa-2022": Eddsa2022(),
    "Ed25519Signature2020": Ed25519Signature2020(),
}


def suite_for_proof(proof: Mapping[str, Any]) -> Cryptosuite | None:
    """The suite that verifies ``proof``, or None when this service does not know it."""
    proof_type = proof.get("type")
    if proof_type == "DataIntegrityProof":
        name = proof.get("cryptosuite")
        if name == "Ed25519Signature2020" or not isinstance(name, str):
            return None
        return VERIFYING_SUITES.get(name)
    if proof_type == "Ed25519Signature2020":
        return VERIFYING_SUITES["Ed25519Signature2020"]
    return None
