"""Controller documents for the published vectors, as a verifier would pin them (``--trust``).

Each document is built from the key material the vector's publisher released alongside it,
never from the credential being checked — except for the OB 3.0 Appendix D examples, whose
only published key is the multikey in the verification method's URL fragment; for those the
document is made from that fragment, and it says so (``source``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from issuer.core.proofs.vc_jwt import decode_compact

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _read(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def _multikey_doc(controller: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A controller document listing (method id, publicKeyMultibase) pairs."""
    methods = [
        {"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": pk}
        for vm_id, pk in pairs
    ]
    return {
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def w3c_eddsa_issuer() -> dict[str, Any]:
    """https://vc.example/issuers/5678 with every did:key the W3C EdDSA vectors sign with."""
    keys = [_read("w3c-vc-di-eddsa/keyPair.json")["publicKeyMultibase"]]
    keys += [p["publicKeyMultibase"] for p in _read(
        "w3c-vc-di-eddsa/proof-set-chain/multiKeyPairs.json").values()]
    return _multikey_doc(
        "https://vc.example/issuers/5678", [(f"did:key:{k}#{k}", k) for k in keys]
    )


def impl_guide_issuer(folder: str) -> dict[str, Any]:
    vm = _read(f"{folder}/keyPair.json")["verificationMethod"]
    return _multikey_doc(vm["controller"], [(vm["id"], vm["publicKeyMultibase"])])


def _fragment_issuers(document: Any, found: dict[str, set[str]]) -> None:
    if isinstance(document, dict):
        proof = document.get("proof")
        for p in proof if isinstance(proof, list) else [proof] if proof else []:
            vm = p.get("verificationMethod", "") if isinstance(p, dict) else ""
            if vm.startswith("https://") and "#z6Mk" in vm:
                found.setdefault(vm.split("#")[0], set()).add(vm)
        for value in document.values():
            _fragment_issuers(value, found)
    elif isinstance(document, list):
        for item in document:
            _fragment_issuers(item, found)


def spec_example_issuers(relative: str) -> list[dict[str, Any]]:
    """Controller documents for the ``#z6Mk…`` keys an Appendix D example names."""
    found: dict[str, set[str]] = {}
    _fragment_issuers(_read(relative), found)
    return [
        _multikey_doc(controller, [(vm, vm.split("#", 1)[1]) for vm in sorted(vms)])
        for controller, vms in found.items()
    ]


def jwt_header_issuer(relative: str) -> dict[str, Any]:
    """The issuer of an Appendix D JWT, publishing the RSA key its header carries."""
    # The file ends its one line with a line end, which is no part of the token.
    decoded = decode_compact((VECTORS / relative).read_text(encoding="utf-8").strip())
    issuer = decoded.payload["iss"]
    vm = {
        "id": f"{issuer}#key-1",
        "type": "JsonWebKey",
        "controller": issuer,
        "publicKeyJwk": decoded.header["jwk"],
    }
    return {"id": issuer, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}


def jose_issuer() -> dict[str, Any]:
    """https://example.issuer/vc-jose-cose with its published JWKs (private halves removed)."""
    methods = []
    for name in ("vm-ed25519.json", "vm-p256.json", "vm-p384.json", "vm-p521.json"):
        vm = _read(f"w3c-vc-jose-cose-test-suite/{name}")
        methods.append({k: v for k, v in vm.items() if k != "secretKeyJwk"})
    controller = methods[0]["controller"]
    assert all(m["controller"] == controller for m in methods)
    return {
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
        "authentication": [m["id"] for m in methods],
    }


def trust_for(relative: str) -> list[dict[str, Any]]:
    """The documents a verifier pins before checking the vector ``relative``."""
    if relative.startswith("w3c-vc-di-eddsa/"):
        return [w3c_eddsa_issuer()]
    if relative.startswith("1edtech-impl-guide-"):
        return [impl_guide_issuer(relative.split("/")[0])]
    if relative.startswith("1edtech-spec-examples-2024-04/"):
        if relative.endswith(".jwt"):
            return [jwt_header_issuer(relative)]
        return spec_example_issuers(relative)
    if relative.startswith("w3c-vc-jose-cose-test-suite/"):
        return [jose_issuer()]
    return []
