"""Proof sets and proof chains (VC Data Integrity §4.3, §4.5): every proof must verify."""

from __future__ import annotations

import copy
from typing import Any

from issuer import config
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, proofs_of, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.verify import Outcome, VerificationReport
from tests.core.helpers import did_key_issuer, unsigned_badge, verifier

FIRST = "urn:uuid:5a0e3c1e-8f7a-4f0c-9a41-0d6b2f0e1a01"


def _sign(document: dict[str, Any], key: PrivateKey, vm: str, **extra: Any) -> dict[str, Any]:
    return sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                         verification_method=vm, created="2026-01-02T00:00:00Z",
                         ctx=SuiteContext(loader=config.context_loader()), **extra)


def _proof_check(report: VerificationReport) -> Outcome:
    check = report.check("proof")
    assert check is not None
    return check.outcome


def _set() -> dict[str, Any]:
    key, did, vm = did_key_issuer()
    once = _sign(unsigned_badge(did), key, vm, proof_id=FIRST)
    return _sign(once, key, vm)


def _chain() -> dict[str, Any]:
    key, did, vm = did_key_issuer()
    once = _sign(unsigned_badge(did), key, vm, proof_id=FIRST)
    return _sign(once, key, vm, previous_proof=FIRST)


def test_a_proof_set_and_a_proof_chain_verify() -> None:
    for document in (_set(), _chain()):
        report = verifier().verify(document)
        assert report.valid, [c.to_json() for c in report.failed]
        assert _proof_check(report) == Outcome.PASSED


def test_a_set_with_one_corrupted_proof_fails() -> None:
    document = _set()
    document["proof"][1]["proofValue"] = document["proof"][1]["proofValue"][:-3] + "abc"
    report = verifier().verify(document)
    assert not report.valid
    assert _proof_check(report) == Outcome.FAILED


def test_a_chain_whose_earlier_proof_was_changed_fails() -> None:
    document = _chain()
    document["proof"][0]["created"] = "2025-12-31T00:00:00Z"
    report = verifier().verify(document)
    assert _proof_check(report) == Outcome.FAILED
    details = report.check("proof").details  # type: ignore[union-attr]
    assert all("signature does not match" in d for d in details), details


def test_a_proof_of_an_unknown_suite_is_a_warning_not_a_failure() -> None:
    document = _set()
    document["proof"] = [document["proof"][0], {
        "type": "BbsBlsSignature2020", "created": "2026-01-02T00:00:00Z",
        "verificationMethod": "did:example:other#key-1", "proofPurpose": "assertionMethod",
        "requiredRevealStatements": [0, 1], "proofValue": "kAkloZSlK79ARnlx54tPqmQyy6G7",
    }]
    report = verifier().verify(copy.deepcopy(document))
    assert report.valid, [c.to_json() for c in report.failed]
    assert _proof_check(report) == Outcome.WARNING
    assert "not checked" in report.check("proof").message  # type: ignore[union-attr]


def test_only_proofs_of_unknown_suites_do_not_verify() -> None:
    document = _set()
    document["proof"] = [{**proofs_of(document)[0], "cryptosuite": "bbs-2023"}]
    report = verifier().verify(document)
    assert _proof_check(report) == Outcome.FAILED


def test_a_set_may_hold_a_proof_by_another_party_but_one_must_be_the_issuers() -> None:
    key, did, vm = did_key_issuer()
    witness, _witness_did, witness_vm = did_key_issuer()
    document = _sign(_sign(unsigned_badge(did), key, vm), witness, witness_vm)
    report = verifier().verify(document)
    assert report.valid, [c.to_json() for c in report.failed]
    assert "not by" in report.check("proof").details[1]  # type: ignore[union-attr]
    only_witness = _sign(unsigned_badge(did), witness, witness_vm)
    failed = verifier().verify(only_witness)
    assert _proof_check(failed) == Outcome.FAILED
    assert f"not by {did}" in failed.check("proof").message  # type: ignore[union-attr]


def test_the_same_proof_twice_is_checked_twice_and_named_a_repeat() -> None:
    key, did, vm = did_key_issuer()
    once = _sign(unsigned_badge(did), key, vm)
    twice = {**once, "proof": [once["proof"][0], once["proof"][0]]}
    report = verifier().verify(twice)
    assert report.valid, [c.to_json() for c in report.failed]
    assert "the same as proof 1" in report.check("proof").details[1]  # type: ignore[union-attr]
