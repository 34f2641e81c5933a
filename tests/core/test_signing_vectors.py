"""Signing a vector's unsigned document with its published key reproduces its proofValue."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from issuer.core.canon import canonicalize
from issuer.core.canon.jcs import jcs
from issuer.core.jsonld import ContextLoader
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, proofs_of, sign_document
from issuer.core.proofs.registry import VERIFYING_SUITES
from tests.core.vector_trust import VECTORS


def _json(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def _text(relative: str) -> str:
    return (VECTORS / relative).read_text(encoding="utf-8")


def _keys() -> dict[str, PrivateKey]:
    """Every published private key of the W3C vectors, by public multikey."""
    pairs = [_json("w3c-vc-di-eddsa/keyPair.json")]
    pairs += list(_json("w3c-vc-di-eddsa/proof-set-chain/multiKeyPairs.json").values())
    keys = {}
    for pair in pairs:
        key = PrivateKey.from_private_multibase(pair["privateKeyMultibase"])
        assert key.public_key.to_multibase() == pair["publicKeyMultibase"]
        keys[pair["publicKeyMultibase"]] = key
    return keys


def _sign_as_configured(
    document: dict[str, Any], config: dict[str, Any], key: PrivateKey, loader: ContextLoader,
    suite_name: str | None = None,
) -> dict[str, Any]:
    # The verifying suites hold every signing one too (ecdsa-sd-2023 base proofs included).
    suite = VERIFYING_SUITES[suite_name or config["cryptosuite"]]
    return sign_document(
        document, suite, key,
        verification_method=config["verificationMethod"],
        ctx=SuiteContext(loader=loader),
        created=config.get("created"),
        proof_id=config.get("id"),
        previous_proof=config.get("previousProof"),
    )


def _key_for(config: dict[str, Any]) -> PrivateKey:
    return _keys()[config["verificationMethod"].split("#")[1]]


@pytest.mark.parametrize(
    ("folder", "canon_doc", "canon_proof", "config_file", "signed_file"),
    [
        ("w3c-vc-di-eddsa/eddsa-rdfc-2022", "canonDocDataInt.txt", "proofCanonDataInt.txt",
         "proofConfigDataInt.json", "signedDataInt.json"),
        ("w3c-vc-di-eddsa/eddsa-jcs-2022", "canonDocJCS.txt", "proofCanonJCS.txt",
         "proofConfigJCS.json", "signedJCS.json"),
    ],
)
def test_w3c_eddsa_vectors(
    loader: ContextLoader, folder: str, canon_doc: str, canon_proof: str, config_file: str,
    signed_file: str,
) -> None:
    unsigned = _json("w3c-vc-di-eddsa/unsigned.json")
    config = _json(f"{folder}/{config_file}")
    is_jcs = config["cryptosuite"] == "eddsa-jcs-2022"
    transformed = jcs(unsigned).decode() if is_jcs else canonicalize(unsigned, loader)
    assert transformed == _text(f"{folder}/{canon_doc}")
    proof_options = {k: v for k, v in config.items() if k != "@context"}
    config_with_ctx = {**proof_options, "@context": unsigned["@context"]}
    canonical_config = (
        jcs(config_with_ctx).decode() if is_jcs else canonicalize(config_with_ctx, loader)
    )
    assert canonical_config == _text(f"{folder}/{canon_proof}")
    signed = _sign_as_configured(unsigned, proof_options, _key_for(config), loader)
    # One proof is the proof object itself, as the vector publishes it (VC DI §4.2); the
    # JCS vector's proof also repeats the document's contexts, which signing does not add.
    published = {k: v for k, v in _json(f"{folder}/{signed_file}")["proof"].items()
                 if k != "@context"}
    assert signed["proof"] == published


def test_w3c_legacy_ed25519signature2020_vector(loader: ContextLoader) -> None:
    """The legacy suite is verify-only, but its hashing must match the published vector."""
    folder = "w3c-vc-di-eddsa/Ed25519Signature2020"
    signed = _json(f"{folder}/signedEdSig.json")
    config = _json(f"{folder}/proofConfigEdSig.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert canonicalize(unsigned, loader) == _text(f"{folder}/canonDocEdSig.txt")
    options = {k: v for k, v in config.items() if k != "@context"}
    result = _sign_as_configured(unsigned, options, _key_for(config), loader,
                                 suite_name="Ed25519Signature2020")
    assert result["proof"]["proofValue"] == signed["proof"]["proofValue"]


@pytest.mark.parametrize("n", [1, 2])
def test_w3c_proof_sets(loader: ContextLoader, n: int) -> None:
    folder = "w3c-vc-di-eddsa/proof-set-chain"
    document: dict[str, Any] = _json(f"{folder}/unsigned.json")
    for i in range(1, n + 1):
        config = _json(f"{folder}/proofSetConfig{i}.json")
        document = _sign_as_configured(document, config, _key_for(config), loader)
    expected = proofs_of(_json(f"{folder}/signedProofSet{n}.json"))
    assert [p["proofValue"] for p in proofs_of(document)] == [
        p["proofValue"] for p in expected]


@pytest.mark.parametrize("n", [1, 2])
def test_w3c_proof_chains(loader: ContextLoader, n: int) -> None:
    folder = "w3c-vc-di-eddsa/proof-set-chain"
    expected = proofs_of(_json(f"{folder}/signedProofChain{n}.json"))
    # Start from the proofs the chain builds on, exactly as published.
    document = _json(f"{folder}/unsigned.json")
    document["proof"] = expected[:-1]
    config = _json(f"{folder}/proofChainConfig{n}.json")
    signed = _sign_as_configured(document, config, _key_for(config), loader)
    assert signed["proof"][-1]["proofValue"] == expected[-1]["proofValue"]


@pytest.mark.parametrize(
    "folder",
    ["1edtech-impl-guide-ob30-eddsa-rdfc-2022", "1edtech-impl-guide-clr20-eddsa-rdfc-2022"],
)
def test_1edtech_implementation_guide_vectors(loader: ContextLoader, folder: str) -> None:
    unsigned = _json(f"{folder}/unsigned.json")
    config = _json(f"{folder}/proofConfig.json")
    key_pair = _json(f"{folder}/keyPair.json")
    key = PrivateKey.from_seed_hex(key_pair["privateKeyHex"])
    assert key.public_key.to_multibase() == key_pair["publicKeyMultibase"]
    document_canon = canonicalize(unsigned, loader)
    assert document_canon == _text(f"{folder}/document-canon.txt")
    proof_canon = canonicalize({**config, "@context": unsigned["@context"]}, loader)
    assert proof_canon == _text(f"{folder}/proof-canon.txt")
    hashes = _json(f"{folder}/hashes.json")
    assert hashlib.sha256(document_canon.encode()).hexdigest() == hashes["documentHashHex"]
    assert hashlib.sha256(proof_canon.encode()).hexdigest() == hashes["proofHashHex"]
    signed = _sign_as_configured(unsigned, config, key, loader)
    published = proofs_of(_json(f"{folder}/signed.json"))[0]["proofValue"]
    assert proofs_of(signed)[-1]["proofValue"] == published
    if "proofValue" in hashes:
        assert published == hashes["proofValue"]


def test_vectors_folder_is_inside_the_project() -> None:
    # A user's clone has no ../shared: every file the tests read must be in tests/vectors.
    assert Path(VECTORS).is_relative_to(Path(__file__).resolve().parents[2])


def test_a_signed_document_shares_nothing_with_the_one_given(loader: ContextLoader) -> None:
    unsigned = _json("w3c-vc-di-eddsa/unsigned.json")
    config = _json("w3c-vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json")
    options = {k: v for k, v in config.items() if k != "@context"}
    signed = _sign_as_configured(unsigned, options, _key_for(config), loader)
    before = json.dumps(signed, sort_keys=True)
    # Whatever the caller does to its document afterwards, the signed copy stays as signed.
    unsigned["@context"].append("https://example.org/changed")
    unsigned["credentialSubject"]["changed"] = True
    unsigned["issuer"] = "did:example:changed"
    assert json.dumps(signed, sort_keys=True) == before


def test_json_copy_is_a_deep_copy() -> None:
    from issuer.core.proofs.data_integrity import json_copy

    nested = {"a": [1, 2.5, True, None, "s", {"b": []}], "c": {"d": {"e": "f"}},
              "t": ([1],)}
    copied = json_copy(nested)
    assert copied == nested
    copied["a"][5]["b"].append(1)
    copied["c"]["d"]["e"] = "changed"
    copied["t"][0].append(2)  # not JSON: deep-copied the slow way, still a copy
    assert nested == {"a": [1, 2.5, True, None, "s", {"b": []}], "c": {"d": {"e": "f"}},
                      "t": ([1],)}
