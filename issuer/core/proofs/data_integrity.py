"""What every Data Integrity cryptosuite shares: proof options, proof sets and chains.

VC Data Integrity 1.0 §4 (Algorithms): §4.2 Add Proof, §4.3 Add Proof Set/Chain,
§4.4 Verify Proof, §4.5 Verify Proof Sets and Chains. The suites themselves (how a document is
transformed, hashed and signed) live in one module each and register in
:mod:`issuer.core.proofs.registry`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from issuer.core.canon import CanonicalMemo, WorkBudget
from issuer.core.datetimes import format_datetime, parse_datetime
from issuer.core.errors import InputError, IssuerError, SigningError
from issuer.core.jsonld import ContextLoader, check_context_list
from issuer.core.keys import PrivateKey, PublicKey
from issuer.core.multibase import multibase_decode, multibase_encode

__all__ = [
    "Cryptosuite",
    "SuiteContext",
    "check_proof_options",
    "json_copy",
    "proofs_of",
    "sign_document",
    "verify_one",
    "without_proof",
]


@dataclass(frozen=True)
class SuiteContext:
    """What a suite needs besides the document: the contexts, the work budget, and a memo of
    canonical forms when one document is signed and verified in one go."""

    loader: ContextLoader
    budget: WorkBudget | None = None
    memo: CanonicalMemo | None = None


class Cryptosuite(Protocol):
    """VC Data Integrity §3: the four steps every cryptosuite defines."""

    name: str
    proof_type: str

    def transformation(
        self, unsecured: Mapping[str, Any], options: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes: ...

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes: ...

    def hashing(self, transformed: bytes, canonical_config: bytes) -> bytes: ...

    def key_allowed(self, key: PublicKey) -> bool: ...


def proofs_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The proof set of a secured document, as a list (VC Data Integrity §2.1.1)."""
    proof = document.get("proof")
    if proof is None:
        return []
    if isinstance(proof, Mapping):
        return [proof]
    if isinstance(proof, list) and all(isinstance(p, Mapping) for p in proof):
        return list(proof)
    raise InputError("'proof' must be an object or a list of objects")


def without_proof(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` without its proof, which nothing done to it later reaches."""
    return {k: json_copy(v) for k, v in document.items() if k != "proof"}


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and scalars): what ``copy.deepcopy`` does for
    it, in a fraction of the time (signing copies every credential twice). Anything else
    inside is deep-copied as before."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) is str else json_copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) is str else json_copy(v) for v in value]
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def sign_document(
    document: Mapping[str, Any],
    suite: Cryptosuite,
    key: PrivateKey,
    *,
    verification_method: str,
    ctx: SuiteContext,
    created: datetime | str | None = None,
    proof_purpose: str = "assertionMethod",
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Add one proof to ``document`` (VC Data Integrity §4.2 Add Proof, §4.3 for sets).

    An existing proof is kept: the result carries a proof set. With ``previous_proof`` the new
    proof covers the proofs it names as well (a proof chain).
    """
    if not isinstance(document, Mapping):
        raise InputError("only a JSON object can be signed")
    if not suite.key_allowed(key.public_key):
        raise SigningError(f"{suite.name} cannot sign with a {key.public_key.key_type} key")
    suite = _for_key(suite, key.public_key)
    existing = proofs_of(document)
    unsecured = without_proof(document)
    check_context_list(unsecured, ctx.loader)
    if previous_proof is not None:
        wanted = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof)
        matching = [p for p in existing if p.get("id") in wanted]
        if len(matching) != len(wanted):
            raise SigningError("a previous proof named for the chain is not in the document")
        unsecured["proof"] = copy.deepcopy(matching)
    options: dict[str, Any] = {"type": suite.proof_type}
    if suite.proof_type == "DataIntegrityProof":
        options["cryptosuite"] = suite.name
    if proof_id is not None:
        options["id"] = proof_id
    if created is not None:
        options["created"] = (
            format_datetime(created, "the proof's created time")
            if isinstance(created, datetime) else created
        )
        parse_datetime(options["created"])
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if previous_proof is not None:
        options["previousProof"] = previous_proof
    if getattr(suite, "proof_repeats_contexts", False) and "@context" in unsecured:
        # ECDSA Cryptosuites §3.4.1 (ecdsa-jcs-2019 Create Proof) step 2: the proof names
        # the document's contexts too.
        options["@context"] = copy.deepcopy(unsecured["@context"])
    hash_data = _hash_data(suite, unsecured, options, ctx)
    proof = dict(options)
    proof["proofValue"] = multibase_encode(key.sign(hash_data), "z")
    secured = without_proof(document)
    if existing:
        secured["proof"] = [*copy.deepcopy(existing), proof]
    elif _schema_wants_a_list(document):
        secured["proof"] = [proof]
    else:
        # VC Data Integrity §4.2 step 6: one proof is the value of ``proof``; a list is a
        # proof set (§4.3), which one proof is not.
        secured["proof"] = proof
    return secured


#: The 1EdTech contexts (Open Badges 3.0, CLR 2.0); their JSON Schemas model ``proof`` as a
#: list (OB 3.0 §B.1.2 ``proof`` Proof [0..*]), which their validators require.
_ONE_EDTECH_CONTEXTS = "https://purl.imsglobal.org/spec/"


def _schema_wants_a_list(document: Mapping[str, Any]) -> bool:
    contexts = document.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    return any(isinstance(c, str) and c.startswith(_ONE_EDTECH_CONTEXTS) for c in listed)


def _for_key(suite: Cryptosuite, key: PublicKey) -> Cryptosuite:
    """The suite as used with ``key``: the ECDSA suites hash with the function of the key's
    curve (ECDSA Cryptosuites §3.3.4: SHA-256 for P-256, SHA-384 for P-384)."""
    bind = getattr(suite, "for_key", None)
    return suite if bind is None else bind(key)


def _hash_data(
    suite: Cryptosuite,
    unsecured: Mapping[str, Any],
    options: Mapping[str, Any],
    ctx: SuiteContext,
) -> bytes:
    transformed = suite.transformation(unsecured, options, ctx)
    config = suite.proof_configuration(options, unsecured, ctx)
    return suite.hashing(transformed, config)


def verify_one(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    all_proofs: Sequence[Mapping[str, Any]],
    suite: Cryptosuite,
    public_key: PublicKey,
    ctx: SuiteContext,
    *,
    expected_purpose: str = "assertionMethod",
    now: datetime | None = None,
) -> tuple[bool, str]:
    """VC Data Integrity §4.4 Verify Proof, for one proof of a set; (verified, why)."""
    problem = check_proof_options(proof, expected_purpose=expected_purpose, now=now)
    if problem:
        return False, problem
    own_check = getattr(suite, "verify_proof", None)
    if own_check is not None:
        # A proof that is not one signature over one hash (an ecdsa-sd-2023 derived proof,
        # ECDSA Cryptosuites §3.5.10) is checked by its suite's own algorithm.
        ok, why = own_check(without_proof(document), proof, public_key, ctx)
        return bool(ok), str(why)
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        return False, "the proof has no proofValue"
    try:
        signature = multibase_decode(proof_value)
    except IssuerError as exc:
        return False, f"the proofValue is not valid multibase: {exc.message}"
    if proof_value[:1] != "z":
        return False, "the proofValue must be base58btc multibase (it must start with 'z')"
    if not suite.key_allowed(public_key):
        return False, f"{suite.name} does not use {public_key.key_type} keys"
    suite = _for_key(suite, public_key)
    unsecured = without_proof(document)
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # vc-di-eddsa §3.3.2 step 4: a proof that names its contexts must agree with the
        # document's, which are then the ones used.
        proof_ctx = options["@context"]
        doc_ctx = unsecured.get("@context")
        proof_list = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
        doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if doc_list[: len(proof_list)] != proof_list:
            return False, "the proof's @context does not match the document's"
        unsecured["@context"] = proof_ctx
    previous = proof.get("previousProof")
    if previous is not None:
        wanted = [previous] if isinstance(previous, str) else previous
        if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
            return False, "previousProof must be a proof id or a list of them"
        matching = [p for p in all_proofs if p.get("id") in wanted]
        if len(matching) != len(wanted):
            return False, "a proof named in previousProof is missing from the proof set"
        unsecured["proof"] = copy.deepcopy(matching)
    try:
        hash_data = _hash_data(suite, unsecured, options, ctx)
    except IssuerError as exc:
        return False, exc.message
    if public_key.verify(signature, hash_data):
        return True, "the signature is valid"
    return False, "the signature does not match the document: it was changed or signed by " \
        "another key"


def check_proof_options(
    proof: Mapping[str, Any], *, expected_purpose: str, now: datetime | None
) -> str | None:
    """VC Data Integrity §2.1 proof members that every suite checks; None when all is well."""
    purpose = proof.get("proofPurpose")
    if purpose != expected_purpose:
        return f"the proof purpose is {purpose!r}, expected {expected_purpose!r}"
    if not isinstance(proof.get("verificationMethod"), str):
        return "the proof names no verificationMethod"
    for name in ("created", "expires"):
        if name in proof:
            try:
                parse_datetime(proof[name])
            except InputError as exc:
                return f"proof {name}: {exc.message}"
    if "expires" in proof and now is not None and parse_datetime(proof["expires"]) < now:
        return "the proof has expired"
    return None
