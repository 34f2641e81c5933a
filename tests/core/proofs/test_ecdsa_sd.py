"""ecdsa-sd-2023 derived credentials (W3C Data Integrity ECDSA Cryptosuites v1.0 §3.5) against
the W3C vectors: the published derived credentials verify, every value the vectors give for
verification is reproduced, and any change to what was disclosed or to the proof fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest

from issuer.core.dids import public_key_from_did_key
from issuer.core.jsonld import ContextLoader
from issuer.core.keys import PrivateKey
from issuer.core.multibase import b64url_decode, b64url_encode, multibase_encode
from issuer.core.proofs.data_integrity import SuiteContext, verify_one, without_proof
from issuer.core.proofs.ecdsa_sd_2023 import (
    DISCLOSURE_PROOF_HEADER,
    ProofValueError,
    create_verify_data,
    parse_derived_proof_value,
)
from issuer.core.proofs.registry import SIGNING_SUITES, VERIFYING_SUITES, suite_for_proof
from issuer.core.resolve import Resolver
from issuer.core.schema import SchemaRegistry
from issuer.core.verify import Verifier
from tests.core.vector_trust import VECTORS

SD = VECTORS / "ecdsa" / "ecdsa-sd-2023"
CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"
SUITE = VERIFYING_SUITES["ecdsa-sd-2023"]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ctx(loader: ContextLoader) -> SuiteContext:
    documents = {url: loader.get(url) for url in loader.urls}
    documents[CITIZENSHIP] = _json(VECTORS / "ecdsa" / "contexts" / "citizenship-v4rc1.jsonld")
    return SuiteContext(loader=ContextLoader(documents))


def _derived(name: str) -> dict[str, Any]:
    return _json(SD / name / "derivedRevealDocument.json")


def _check(document: dict[str, Any], ctx: SuiteContext) -> tuple[bool, str]:
    proof = document["proof"]
    key = public_key_from_did_key(proof["verificationMethod"])
    return verify_one(document, proof, [proof], SUITE, key, ctx)


def _with_proof_value(document: dict[str, Any], components: list[Any],
                      header: bytes = DISCLOSURE_PROOF_HEADER, tail: bytes = b"") -> dict:
    changed = json.loads(json.dumps(document))
    data = header + cbor2.dumps(components) + tail
    changed["proof"]["proofValue"] = "u" + b64url_encode(data)
    return changed


def _components(document: dict[str, Any]) -> list[Any]:
    raw = b64url_decode(document["proof"]["proofValue"][1:])
    return list(cbor2.loads(raw[3:]))


NAMES = ["prc", "employ"]


@pytest.mark.parametrize("name", NAMES)
def test_the_published_derived_credential_verifies(ctx: SuiteContext, name: str) -> None:
    document = _derived(name)
    assert suite_for_proof(document["proof"]) is SUITE
    ok, why = _check(document, ctx)
    assert ok, why
    assert "selective disclosure" in why


@pytest.mark.parametrize("name", NAMES)
def test_the_derived_proof_value_parses_as_published(name: str) -> None:
    expected = _json(SD / name / "verifyDerivedProofValue.json")
    parsed = parse_derived_proof_value(_derived(name)["proof"]["proofValue"])
    assert parsed.base_signature.hex() == expected["baseSignature"]
    assert multibase_encode(parsed.public_key, "z") == expected["publicKey"]
    assert [s.hex() for s in parsed.signatures] == expected["signatures"]
    assert sorted(parsed.label_map.items()) == sorted(map(tuple, expected["labelMap"]))
    assert list(parsed.mandatory_indexes) == expected["mandatoryIndexes"]


@pytest.mark.parametrize("name", NAMES)
def test_the_verify_data_is_reproduced(ctx: SuiteContext, name: str) -> None:
    document = _derived(name)
    expected = _json(SD / name / "verifyCreateVerifyData.json")
    data = create_verify_data(without_proof(document), document["proof"], ctx)
    assert data.proof_hash.hex() == expected["proofHash"]
    assert data.mandatory_hash.hex() == expected["mandatoryHash"]
    assert list(data.non_mandatory) == expected["nonMandatory"]
    # The relabelled N-Quads of the revealed document, as the vectors list them.
    nquads = _json(SD / name / "verifyNQuads.json")
    assert sorted(set(nquads) - set(data.non_mandatory)) == sorted(
        nquads[i] for i in data.derived.mandatory_indexes)


def test_a_changed_optional_statement_fails(ctx: SuiteContext) -> None:
    document = _derived("prc")
    document["credentialSubject"]["birthCountry"] = "Utopia"
    ok, why = _check(document, ctx)
    assert not ok and "revealed statement" in why


def test_a_changed_mandatory_statement_fails(ctx: SuiteContext) -> None:
    document = _derived("prc")
    document["issuer"]["image"] = document["issuer"]["image"].replace("P4z", "P5z")
    ok, why = _check(document, ctx)
    assert not ok and "base signature does not match" in why


def test_a_withheld_or_added_statement_fails(ctx: SuiteContext) -> None:
    fewer = _derived("prc")
    del fewer["validUntil"]
    ok, why = _check(fewer, ctx)
    assert not ok and "statement signatures for" in why
    more = _derived("prc")
    more["credentialSubject"]["familyName"] = "SMITH"
    assert not _check(more, ctx)[0]


def test_changed_proof_options_fail(ctx: SuiteContext) -> None:
    document = _derived("prc")
    document["proof"]["created"] = "2023-08-15T23:36:39Z"
    ok, why = _check(document, ctx)
    assert not ok and "base signature" in why


def test_another_issuer_key_fails(ctx: SuiteContext) -> None:
    document = _derived("prc")
    other = PrivateKey.generate("P-256").public_key
    ok, why = verify_one(document, document["proof"], [document["proof"]], SUITE, other, ctx)
    assert not ok and "base signature" in why
    ok, why = verify_one(document, document["proof"], [document["proof"]], SUITE,
                         PrivateKey.generate("P-384").public_key, ctx)
    assert (ok, why) == (False, "ecdsa-sd-2023 uses P-256 keys, not P-384")


def test_a_swapped_signature_fails(ctx: SuiteContext) -> None:
    document = _derived("prc")
    components = _components(document)
    components[2] = [components[2][1], components[2][0], *components[2][2:]]
    ok, why = _check(_with_proof_value(document, components), ctx)
    assert not ok and "revealed statement 1" in why


def test_a_base_proof_is_refused_with_a_reason(ctx: SuiteContext) -> None:
    base = _json(SD / "prc" / "addSignedSDBase.json")
    ok, why = _check(base, ctx)
    assert not ok and "base proof" in why


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c[:4], "five components"),
        (lambda c: [c[0][:63], *c[1:]], "base signature must be 64 bytes"),
        (lambda c: [c[0], c[1][:34], *c[2:]], "P-256 Multikey"),
        (lambda c: [c[0], b"\x81\x24" + c[1][2:], *c[2:]], "P-256 Multikey"),
        (lambda c: [*c[:2], [*c[2][:-1], c[2][-1][:10]], *c[3:]], "64-byte"),
        (lambda c: [*c[:3], {"0": next(iter(c[3].values()))}, c[4]], "integers to 32-byte"),
        (lambda c: [*c[:4], [0, 0]], "listed twice"),
        (lambda c: [*c[:4], [0, 999]], "past the revealed statements"),
        (lambda c: [*c[:4], ["0"]], "array of integers"),
        (lambda c: [*c[:3], {}, c[4]], "gives no label for the blank node"),
        (lambda c: [*c[:4], cbor2.CBORTag(99, [0])], "CBOR tags"),
    ],
)
def test_malformed_proof_values_are_refused(ctx: SuiteContext, mutate: Any, message: str) -> None:
    document = _derived("prc")
    changed = _with_proof_value(document, mutate(_components(document)))
    ok, why = _check(changed, ctx)
    assert not ok and message in why, why


def test_proof_value_framing_is_checked(ctx: SuiteContext) -> None:
    document = _derived("prc")
    components = _components(document)
    trailing = _with_proof_value(document, components, tail=b"\x00")
    assert "bytes after" in _check(trailing, ctx)[1]
    wrong_header = _with_proof_value(document, components, header=b"\xd9\x5d\x02")
    assert "disclosure header" in _check(wrong_header, ctx)[1]
    for value, message in [
        ("z" + document["proof"]["proofValue"][1:], "base64url multibase"),
        ("u!!", "not valid base64url"),
        ("u" + b64url_encode(DISCLOSURE_PROOF_HEADER + b"\xff"), "not valid CBOR"),
        ("u" + b64url_encode(DISCLOSURE_PROOF_HEADER + b"\x9b" + b"\xff" * 8), "not valid CBOR"),
    ]:
        changed = json.loads(json.dumps(document))
        changed["proof"]["proofValue"] = value
        ok, why = _check(changed, ctx)
        assert not ok and message in why, why
    del document["proof"]["proofValue"]
    assert not _check(document, ctx)[0]


def test_this_service_does_not_sign_with_ecdsa_sd() -> None:
    assert "ecdsa-sd-2023" not in SIGNING_SUITES


def test_the_verifier_checks_a_derived_credential(ctx: SuiteContext) -> None:
    """Through the whole pipeline: the proof verifies, and is reported as by the key it
    names — the vector's issuer is another DID than its signing key, so the credential is
    not the issuer's own."""
    verifier = Verifier(loader=ctx.loader, schemas=SchemaRegistry({}), resolver=Resolver(),
                        clock=lambda: datetime(2025, 1, 1, tzinfo=UTC))
    report = verifier.verify(_derived("prc"))
    proof = next(c for c in report.checks if c.id == "proof")
    detail = " ".join(proof.details)
    assert "ecdsa-sd-2023" in detail and "the signature is valid (selective disclosure" in detail
    tampered = _derived("prc")
    tampered["credentialSubject"]["birthCountry"] = "Utopia"
    report = verifier.verify(tampered)
    proof = next(c for c in report.checks if c.id == "proof")
    assert proof.outcome.value == "failed"
    assert "revealed statement" in " ".join(proof.details) + proof.message


def test_parsing_refuses_what_is_not_a_string() -> None:
    for value in (None, 42, ["u2V0B"], ""):
        with pytest.raises(ProofValueError, match="base64url multibase"):
            parse_derived_proof_value(value)
