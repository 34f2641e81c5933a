"""Canonicalization and signing costs on two OB 3.0 credentials.

For the 1EdTech OB 3.0 eddsa-rdfc-2022 vector (small) and the complete OB 3.0 example with
its proof removed (large), all in one run:

* pyld ``jsonld.normalize`` (URDNA2015 = RDFC-1.0, N-Quads out) with a document loader that
  serves the bundled contexts — the reference point;
* ``issuer.core.canon`` (the fast path, falling back to the general one) and the
  general path alone (safe-mode pyld expansion + pyld RDF conversion + our RDFC-1.0);
* signing and verifying with eddsa-rdfc-2022 and eddsa-jcs-2022 (Data Integrity) and as an
  OB 3.0 VC-JWT;
* raw Ed25519 signing and verifying of 64 bytes (``cryptography``), the floor any signature
  costs.

The canonical forms of pyld and ours are compared byte for byte and the result noted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from bench import Result, measure
from issuer.core.bundled import bundled_loader
from issuer.core.canon import (
    Unsupported,
    canonicalize,
    canonicalize_fast,
    canonicalize_general,
)
from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, proofs_of, sign_document, verify_one
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import decode_compact, sign_ob_vc_jwt, verify_signature

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "vectors"
DOCUMENTS = {
    "small": VECTORS / "1edtech-impl-guide-ob30-eddsa-rdfc-2022" / "unsigned.json",
    "large": VECTORS / "1edtech-spec-examples-2024-04" / "complete-openbadgecredential.di.json",
}
CREATED = "2026-01-01T00:00:00Z"


def _load(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    document.pop("proof", None)
    return document


class _Run:
    """Shared state of one benchmark run: key, loader, sampling, collected results."""

    def __init__(self, quick: bool) -> None:
        self.samples, self.warmup = (5, 1) if quick else (21, 3)
        self.loader = bundled_loader()
        self.ctx = SuiteContext(loader=self.loader)
        self.key = PrivateKey.generate("Ed25519")
        self.vm = did_key_verification_method_id(did_key_from_public_key(self.key.public_key))
        self.result = Result(title="RDF canonicalization and credential signing")

    def timed(self, name: str, operation: Callable[[], object]) -> float:
        timing = measure(name, operation, samples=self.samples, warmup=self.warmup)
        self.result.timings.append(timing)
        return timing.ms_per_op

    def raw_ed25519(self) -> tuple[float, float]:
        raw = Ed25519PrivateKey.generate()
        raw_public = raw.public_key()
        message = bytes(range(64))
        signature = raw.sign(message)
        sign_ms = self.timed("raw Ed25519 sign (64 B)", lambda: raw.sign(message))
        verify_ms = self.timed(
            "raw Ed25519 verify (64 B)", lambda: raw_public.verify(signature, message)
        )
        return sign_ms, verify_ms

    def document(self, label: str, path: Path, raw_sign_ms: float, raw_verify_ms: float) -> None:
        document = _load(path)
        loader, ctx, key, vm = self.loader, self.ctx, self.key, self.vm
        public = key.public_key
        pyld_options = {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": loader,
        }
        reference = jsonld.normalize(document, pyld_options)
        ours = canonicalize(document, loader)
        try:
            canonicalize_fast(document, loader)
            path_taken = "fast path"
        except Unsupported as exc:
            path_taken = f"general path ({exc})"
        self.result.notes.append(
            f"{label}: {path.name}, {ours.count(chr(10))} quads, {path_taken}; canonical "
            "N-Quads " + ("identical to pyld's" if ours == reference else "DIFFER from pyld's")
        )

        pyld_ms = self.timed(
            f"{label}: pyld jsonld.normalize", lambda: jsonld.normalize(document, pyld_options)
        )
        ours_ms = self.timed(f"{label}: canonicalize", lambda: canonicalize(document, loader))
        general_ms = self.timed(
            f"{label}: canonicalize, general path only",
            lambda: canonicalize_general(document, loader),
        )

        costs: dict[str, float] = {}
        for suite_name in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
            suite = SIGNING_SUITES[suite_name]

            def sign(suite: Any = suite) -> dict[str, Any]:
                return sign_document(
                    document, suite, key, verification_method=vm, ctx=ctx, created=CREATED
                )

            signed = sign()
            proof = proofs_of(signed)[0]

            def verify(
                signed: dict[str, Any] = signed, proof: Any = proof, suite: Any = suite
            ) -> bool:
                return verify_one(signed, proof, [proof], suite, public, ctx)[0]

            if not verify():
                raise RuntimeError(f"{suite_name} did not verify its own signature")
            costs[f"{suite_name} sign"] = self.timed(f"{label}: {suite_name} sign", sign)
            costs[f"{suite_name} verify"] = self.timed(f"{label}: {suite_name} verify", verify)

        token = sign_ob_vc_jwt(document, key, kid=vm)

        def jwt_verify() -> bool:
            return verify_signature(decode_compact(token), public)[0]

        if not jwt_verify():
            raise RuntimeError("the VC-JWT did not verify")
        self.timed(f"{label}: VC-JWT sign", lambda: sign_ob_vc_jwt(document, key, kid=vm))
        self.timed(f"{label}: VC-JWT verify", jwt_verify)

        ratios = self.result.ratios
        ratios[f"{label}: speed-up over pyld normalize"] = pyld_ms / ours_ms
        ratios[f"{label}: speed-up over the general path"] = general_ms / ours_ms
        ratios[f"{label}: canonicalize / raw Ed25519 sign"] = ours_ms / raw_sign_ms
        ratios[f"{label}: eddsa-rdfc-2022 sign / raw Ed25519 sign"] = (
            costs["eddsa-rdfc-2022 sign"] / raw_sign_ms
        )
        ratios[f"{label}: eddsa-rdfc-2022 verify / raw Ed25519 verify"] = (
            costs["eddsa-rdfc-2022 verify"] / raw_verify_ms
        )


def run(quick: bool = False) -> Result:
    state = _Run(quick)
    raw_sign_ms, raw_verify_ms = state.raw_ed25519()
    for label, path in DOCUMENTS.items():
        state.document(label, path, raw_sign_ms, raw_verify_ms)
    return state.result
