"""The ``ecdsa-sd-2023`` cryptosuite, verification of derived (disclosed) proofs only.

W3C VC Data Integrity ECDSA Cryptosuites v1.0 §3.5 (selective disclosure, P-256). A holder
derives a credential that reveals some statements of the issuer's base credential; its proof
value carries the issuer's base signature, a proof-scoped (ephemeral) public key, one
signature by that key per revealed non-mandatory statement, a label map and the indexes of
the mandatory statements.

Verification (§3.5.10 Verify Derived Proof, with §3.5.7 parseDerivedProofValue,
§3.5.8 createVerifyData and the selective disclosure functions of §3.4):

1. decode the ``u`` multibase proof value, check the disclosure header ``0xd9 0x5d 0x01`` and
   read the five CBOR components, each of the exact form the spec requires;
2. canonicalize the revealed document with RDFC-1.0 and replace each canonical blank node
   label by the HMAC-derived label of the label map, then sort the N-Quads again;
3. hash the proof configuration and the mandatory N-Quads with SHA-256;
4. check the base signature over ``proofHash || publicKey || mandatoryHash`` with the
   issuer's key, and each non-mandatory N-Quad with the proof-scoped key.

A base proof (header ``0xd9 0x5d 0x00``) is what an issuer hands to a holder, never what a
verifier is shown; it is refused with a message that says so. This service does not issue
with ecdsa-sd-2023.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from issuer.core.canon import canonicalize
from issuer.core.canon.nquads import BlankNode, Quad, parse_nquads, serialize_quad
from issuer.core.errors import InputError, IssuerError, SigningError
from issuer.core.keys import PublicKey
from issuer.core.multibase import P256_PUB, b64url_decode, b64url_encode, varint_encode
from issuer.core.proofs.data_integrity import SuiteContext

__all__ = [
    "BASE_PROOF_HEADER",
    "DISCLOSURE_PROOF_HEADER",
    "DerivedProof",
    "EcdsaSd2023",
    "ProofValueError",
    "VerifyData",
    "create_verify_data",
    "parse_derived_proof_value",
    "relabel_canonical_nquads",
]

BASE_PROOF_HEADER = b"\xd9\x5d\x00"
DISCLOSURE_PROOF_HEADER = b"\xd9\x5d\x01"

# §3.5.7: a P-256 signature is 64 bytes; the public key is its Multikey bytes, the two-byte
# p256-pub varint and a 33-byte compressed point (35 bytes, as in the W3C vectors; the
# spec's prose says 36); each HMAC label is a SHA-256 digest.
_SIGNATURE_BYTES = 64
_P256_MULTICODEC = varint_encode(P256_PUB)
_PUBLIC_KEY_BYTES = len(_P256_MULTICODEC) + 33
_LABEL_BYTES = 32


class ProofValueError(InputError):
    """A derived proof value that does not have the form §3.5.7 requires."""


@dataclass(frozen=True)
class DerivedProof:
    """The five components of a derived proof value (§3.5.7), the label map decompressed."""

    base_signature: bytes
    public_key: bytes
    signatures: tuple[bytes, ...]
    label_map: dict[str, str]
    mandatory_indexes: tuple[int, ...]


@dataclass(frozen=True)
class VerifyData:
    """§3.5.8 createVerifyData: what the signatures are checked over."""

    proof_hash: bytes
    mandatory_hash: bytes
    non_mandatory: tuple[str, ...]
    derived: DerivedProof


def _no_tags(decoder: Any, tag: Any) -> Any:
    raise ProofValueError("the proof value uses CBOR tags, which §3.5.7 forbids")


def parse_derived_proof_value(proof_value: object) -> DerivedProof:
    """§3.5.7 parseDerivedProofValue, checking each component's type and length."""
    if not isinstance(proof_value, str) or not proof_value.startswith("u"):
        raise ProofValueError("an ecdsa-sd-2023 proofValue is base64url multibase (starts "
                              "with 'u')")
    try:
        decoded = b64url_decode(proof_value[1:])
    except IssuerError:
        raise ProofValueError("the proofValue is not valid base64url") from None
    if decoded.startswith(BASE_PROOF_HEADER):
        raise ProofValueError("this is an ecdsa-sd-2023 base proof, which only the holder "
                              "should see; a verifier is shown a derived proof")
    if not decoded.startswith(DISCLOSURE_PROOF_HEADER):
        raise ProofValueError("the proofValue does not start with the ecdsa-sd-2023 "
                              "disclosure header 0xd9 0x5d 0x01")
    body = io.BytesIO(decoded[len(DISCLOSURE_PROOF_HEADER):])
    try:
        components = cbor2.CBORDecoder(body, tag_hook=_no_tags).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError,
            MemoryError) as exc:
        # The decoder wraps what the tag hook raises.
        if isinstance(exc.__cause__, ProofValueError):
            raise exc.__cause__ from None
        raise ProofValueError("the proofValue is not valid CBOR") from None
    if body.tell() != len(decoded) - len(DISCLOSURE_PROOF_HEADER):
        raise ProofValueError("the proofValue has bytes after its CBOR value")
    if not isinstance(components, list) or len(components) != 5:
        raise ProofValueError("the proofValue must hold an array of five components")
    base_signature, public_key, signatures, compressed, indexes = components
    if not _is_bytes(base_signature, _SIGNATURE_BYTES):
        raise ProofValueError("the base signature must be 64 bytes")
    if not _is_bytes(public_key, _PUBLIC_KEY_BYTES) or not public_key.startswith(
        _P256_MULTICODEC
    ):
        raise ProofValueError("the proof-scoped public key must be a P-256 Multikey (35 bytes)")
    if not isinstance(signatures, list) or not all(
        _is_bytes(s, _SIGNATURE_BYTES) for s in signatures
    ):
        raise ProofValueError("the statement signatures must be an array of 64-byte values")
    if not isinstance(compressed, dict) or not all(
        _is_index(k) and _is_bytes(v, _LABEL_BYTES) for k, v in compressed.items()
    ):
        raise ProofValueError("the label map must map integers to 32-byte values")
    if not isinstance(indexes, list) or not all(_is_index(i) for i in indexes):
        raise ProofValueError("the mandatory indexes must be an array of integers")
    # §3.5.6 decompressLabelMap.
    label_map = {f"c14n{k}": "u" + b64url_encode(v) for k, v in compressed.items()}
    return DerivedProof(bytes(base_signature), bytes(public_key), tuple(signatures),
                        label_map, tuple(indexes))


def _is_bytes(value: object, length: int) -> bool:
    return type(value) is bytes and len(value) == length


def _is_index(value: object) -> bool:
    return type(value) is int and value >= 0


def relabel_canonical_nquads(canonical: str, label_map: Mapping[str, str]) -> list[str]:
    """§3.4.1 labelReplacementCanonicalizeNQuads for canonical N-Quads already made.

    Every blank node label (``c14nN``) is replaced by the label the map gives it; the lines
    are then sorted again, as the labels changed. A label the map does not cover is refused.
    """

    def relabel(term: Any) -> Any:
        if not isinstance(term, BlankNode):
            return term
        new = label_map.get(term.id)
        if new is None:
            raise ProofValueError(f"the label map gives no label for the blank node _:{term.id}")
        return BlankNode(new)

    lines = [
        serialize_quad(Quad(relabel(q.subject), q.predicate, relabel(q.object), relabel(q.graph)))
        for q in parse_nquads(canonical)
    ]
    return sorted(lines)


def create_verify_data(
    unsecured: Mapping[str, Any], proof: Mapping[str, Any], ctx: SuiteContext
) -> VerifyData:
    """§3.5.8 createVerifyData (SHA-256: the suite is defined for P-256)."""
    derived = parse_derived_proof_value(proof.get("proofValue"))
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    # §3.5.8 step 1 with the proof configuration rule of §3.5.5: the proof options under the
    # document's contexts.
    options["@context"] = unsecured.get("@context")
    proof_hash = hashlib.sha256(
        canonicalize(options, ctx.loader, budget=ctx.budget).encode("utf-8")
    ).digest()
    nquads = relabel_canonical_nquads(
        canonicalize(unsecured, ctx.loader, budget=ctx.budget), derived.label_map
    )
    wanted = set(derived.mandatory_indexes)
    if len(wanted) != len(derived.mandatory_indexes):
        raise ProofValueError("a mandatory index is listed twice")
    if any(i >= len(nquads) for i in wanted):
        raise ProofValueError("a mandatory index points past the revealed statements")
    mandatory = [nq for i, nq in enumerate(nquads) if i in wanted]
    non_mandatory = tuple(nq for i, nq in enumerate(nquads) if i not in wanted)
    mandatory_hash = hashlib.sha256("".join(mandatory).encode("utf-8")).digest()
    return VerifyData(proof_hash, mandatory_hash, non_mandatory, derived)


class EcdsaSd2023:
    """§3.5 ecdsa-sd-2023: derived proofs are verified here; nothing is signed."""

    name = "ecdsa-sd-2023"
    proof_type = "DataIntegrityProof"

    def verify_proof(
        self,
        unsecured: Mapping[str, Any],
        proof: Mapping[str, Any],
        public_key: PublicKey,
        ctx: SuiteContext,
    ) -> tuple[bool, str]:
        """§3.5.10 Verify Derived Proof; (verified, why). ``unsecured`` has no proof."""
        if not self.key_allowed(public_key):
            return False, f"{self.name} uses P-256 keys, not {public_key.key_type}"
        try:
            data = create_verify_data(unsecured, proof, ctx)
        except IssuerError as exc:
            return False, exc.message
        derived = data.derived
        if len(derived.signatures) != len(data.non_mandatory):
            return False, (f"the proof has {len(derived.signatures)} statement signatures for "
                           f"{len(data.non_mandatory)} revealed non-mandatory statements")
        try:
            scoped = PublicKey.from_raw_bytes(
                "P-256", derived.public_key[len(_P256_MULTICODEC):]
            )
        except IssuerError as exc:
            return False, f"the proof-scoped key: {exc.message}"
        # §3.5.2 serializeSignData: proofHash || publicKey (Multikey bytes) || mandatoryHash.
        to_verify = data.proof_hash + derived.public_key + data.mandatory_hash
        if not public_key.verify(derived.base_signature, to_verify):
            return False, ("the base signature does not match: the mandatory statements or "
                           "the proof options were changed, or another key signed")
        for index, (signature, statement) in enumerate(
            zip(derived.signatures, data.non_mandatory, strict=True), start=1
        ):
            if not scoped.verify(signature, statement.encode("utf-8")):
                return False, (f"the signature of revealed statement {index} does not match: "
                               "the disclosed data was changed")
        return True, (f"the signature is valid (selective disclosure: "
                      f"{len(data.non_mandatory)} optional statements revealed)")

    # The Data Integrity steps of one signature over one hash do not apply to derived
    # proofs (they are checked by verify_proof); signing a base proof is not offered.

    def transformation(
        self, unsecured: Mapping[str, Any], options: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        raise SigningError("this service does not sign with ecdsa-sd-2023")

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        raise SigningError("this service does not sign with ecdsa-sd-2023")

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes:
        raise SigningError("this service does not sign with ecdsa-sd-2023")

    def key_allowed(self, key: PublicKey) -> bool:
        return key.key_type == "P-256"
