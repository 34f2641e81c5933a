"""Cryptosuites by name, as a proof names them (``cryptosuite``, or ``type`` for legacy proofs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.proofs.data_integrity import Cryptosuite
from issuer.core.proofs.ecdsa_jcs_2019 import EcdsaJcs2019
from issuer.core.proofs.ecdsa_rdfc_2019 import EcdsaRdfc2019
from issuer.core.proofs.ecdsa_sd_2023 import EcdsaSd2023
from issuer.core.proofs.eddsa_jcs_2022 import EddsaJcs2022
from issuer.core.proofs.eddsa_rdfc_2022 import Ed25519Signature2020, Eddsa2022, EddsaRdfc2022

__all__ = ["SIGNING_SUITES", "VERIFYING_SUITES", "suite_for_proof"]

#: Suites this service signs with. The ECDSA ones (W3C Data Integrity ECDSA Cryptosuites
#: v1.0 §3.3, §3.4) need a P-256 or P-384 key; the hash follows the key's curve.
SIGNING_SUITES: dict[str, Cryptosuite] = {
    "eddsa-rdfc-2022": EddsaRdfc2022(),
    "eddsa-jcs-2022": EddsaJcs2022(),
    "ecdsa-rdfc-2019": EcdsaRdfc2019(),
    "ecdsa-jcs-2019": EcdsaJcs2019(),
}

#: Suites this service verifies: the signing ones, legacy forms found in issued badges and
#: ecdsa-sd-2023 derived (selectively disclosed) credentials (ECDSA Cryptosuites §3.5).
VERIFYING_SUITES: dict[str, Cryptosuite] = {
    **SIGNING_SUITES,
    "ecdsa-sd-2023": EcdsaSd2023(),
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
