"""Cryptosuites by name, as a proof names them (``cryptosuite``, or ``type`` for legacy proofs).

Each suite's module is loaded the first time a proof or a caller names it: verifying an
eddsa-rdfc-2022 badge needs none of the ECDSA code (ecdsa-sd-2023 brings CBOR with it), and
``issuer verify`` starts that much sooner.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from issuer.core.proofs.data_integrity import Cryptosuite

__all__ = ["SIGNING_SUITES", "VERIFYING_SUITES", "suite_for_proof"]


class _Suites(Mapping[str, Cryptosuite]):
    """A read-only mapping of suite names to suites, each made when first asked for."""

    def __init__(self, where: Mapping[str, str], also: _Suites | None = None) -> None:
        self._where = dict(where)  # name -> "module:Class"
        self._also = also  # the suites of ``also`` are these same objects here
        self._made: dict[str, Cryptosuite] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Cryptosuite:
        made = self._made.get(name)
        if made is not None:
            return made
        if self._also is not None and name in self._also:
            return self._also[name]
        where = self._where[name]  # KeyError for a name that is not here, as a dict says
        module, _, cls = where.partition(":")
        with self._lock:
            made = self._made.get(name)
            if made is None:
                made = getattr(importlib.import_module(module), cls)()
                self._made[name] = made
        return made

    def _names(self) -> dict[str, None]:
        return dict.fromkeys([*(self._also or ()), *self._where])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._where or (self._also is not None and name in self._also)


_PROOFS = "issuer.core.proofs"
_SIGNING = {
    "eddsa-rdfc-2022": f"{_PROOFS}.eddsa_rdfc_2022:EddsaRdfc2022",
    "eddsa-jcs-2022": f"{_PROOFS}.eddsa_jcs_2022:EddsaJcs2022",
    "ecdsa-rdfc-2019": f"{_PROOFS}.ecdsa_rdfc_2019:EcdsaRdfc2019",
    "ecdsa-jcs-2019": f"{_PROOFS}.ecdsa_jcs_2019:EcdsaJcs2019",
}

#: Suites this service signs with. The ECDSA ones (W3C Data Integrity ECDSA Cryptosuites
#: v1.0 §3.3, §3.4) need a P-256 or P-384 key; the hash follows the key's curve.
_SIGNING_SUITES = _Suites(_SIGNING)
SIGNING_SUITES: Mapping[str, Cryptosuite] = _SIGNING_SUITES

#: Suites this service verifies: the signing ones, legacy forms found in issued badges and
#: ecdsa-sd-2023 derived (selectively disclosed) credentials (ECDSA Cryptosuites §3.5).
VERIFYING_SUITES: Mapping[str, Cryptosuite] = _Suites({
    "ecdsa-sd-2023": f"{_PROOFS}.ecdsa_sd_2023:EcdsaSd2023",
    "eddsa-2022": f"{_PROOFS}.eddsa_rdfc_2022:Eddsa2022",
    "Ed25519Signature2020": f"{_PROOFS}.eddsa_rdfc_2022:Ed25519Signature2020",
}, also=_SIGNING_SUITES)


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
