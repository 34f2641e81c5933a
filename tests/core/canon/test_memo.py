"""A memo of canonical forms spares the second canonicalization of a credential verified right
after it was signed, and nothing else: a changed document, a changed signature or a key
that is not the signer's still fail."""

from __future__ import annotations

import copy
from typing import Any

from issuer import config
from issuer.core.canon import CanonicalMemo
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.verify import VerificationReport
from tests.core.helpers import did_key_issuer, unsigned_badge, verifier


def _signed_with(memo: CanonicalMemo) -> dict[str, Any]:
    key, did, vm = did_key_issuer()
    return sign_document(
        unsigned_badge(did), SIGNING_SUITES["eddsa-rdfc-2022"], key, verification_method=vm,
        ctx=SuiteContext(loader=config.context_loader(), memo=memo),
        created="2026-01-01T00:00:00Z")


def _proof_check(report: VerificationReport) -> str:
    return next(c.outcome.value for c in report.checks if c.id == "proof")


def test_verifying_what_was_just_signed_takes_both_forms_from_the_memo() -> None:
    memo = CanonicalMemo()
    signed = _signed_with(memo)
    assert memo.hits == 0
    with_memo = verifier(memo=memo).verify(signed)
    # The document without its proof, and the proof's configuration.
    assert memo.hits == 2
    without = verifier().verify(signed)
    assert with_memo.valid and without.valid
    assert [(c.id, c.outcome, c.message) for c in with_memo.checks] == [
        (c.id, c.outcome, c.message) for c in without.checks]


def test_a_document_changed_after_signing_is_canonicalized_again_and_fails() -> None:
    memo = CanonicalMemo()
    signed = _signed_with(memo)
    changed = copy.deepcopy(signed)
    changed["name"] = "Not what was signed"
    report = verifier(memo=memo).verify(changed)
    assert _proof_check(report) == "failed"
    assert memo.hits == 1  # the proof's configuration only


def test_the_signature_and_the_key_are_still_checked() -> None:
    memo = CanonicalMemo()
    signed = _signed_with(memo)
    forged = copy.deepcopy(signed)
    value = forged["proof"][0]["proofValue"]
    forged["proof"][0]["proofValue"] = value[:-2] + ("1" if value[-2] != "1" else "2") + value[-1]
    assert _proof_check(verifier(memo=memo).verify(forged)) == "failed"

    # A signature by another key, put under the first key's name.
    other = _signed_with(memo)
    swapped = copy.deepcopy(signed)
    swapped["proof"][0]["proofValue"] = other["proof"][0]["proofValue"]
    assert _proof_check(verifier(memo=memo).verify(swapped)) == "failed"


def test_the_key_is_the_exact_json_text() -> None:
    memo = CanonicalMemo()
    computed: list[str] = []

    def compute(text: str) -> Any:
        def run() -> str:
            computed.append(text)
            return text
        return run

    assert memo.canonical({"n": 1}, compute("int")) == "int"
    assert memo.canonical({"n": 1.0}, compute("float")) == "float"
    assert memo.canonical({"n": True}, compute("bool")) == "bool"
    assert memo.canonical({"n": 1}, compute("again")) == "int"
    assert computed == ["int", "float", "bool"]
    # What JSON cannot write is computed every time, never kept.
    assert memo.canonical({"n": {1, 2}}, compute("set")) == "set"
    assert memo.canonical({"n": {1, 2}}, compute("set again")) == "set again"
    assert memo.canonical({"n": float("nan")}, compute("nan")) == "nan"
    assert memo.canonical({"n": float("nan")}, compute("nan again")) == "nan again"


def test_a_memo_keeps_a_few_forms_only() -> None:
    memo = CanonicalMemo(max_entries=2)
    for n in range(5):
        memo.canonical({"n": n}, lambda n=n: f"form {n}")
    assert memo.canonical({"n": 0}, lambda: "kept?") == "form 0"
    assert memo.canonical({"n": 4}, lambda: "computed") == "computed"
    assert memo.hits == 1
