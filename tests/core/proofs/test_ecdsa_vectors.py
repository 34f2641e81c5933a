"""ecdsa-rdfc-2019 and ecdsa-jcs-2019 (W3C Data Integrity ECDSA Cryptosuites v1.0 §3.3, §3.4)
against the W3C vectors: every intermediate value they publish is reproduced, and so is the
signed credential, byte for byte (signatures are deterministic, RFC 6979)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuer.cli import main
from issuer.core.dids import did_key_from_public_key, public_key_from_did_key
from issuer.core.errors import SigningError
from issuer.core.jsonld import ContextLoader
from issuer.core.keys import PrivateKey
from issuer.core.multibase import multibase_encode
from issuer.core.proofs.data_integrity import (
    SuiteContext,
    sign_document,
    verify_one,
    without_proof,
)
from issuer.core.proofs.registry import SIGNING_SUITES, VERIFYING_SUITES, suite_for_proof
from tests.core.vector_trust import VECTORS

ECDSA = VECTORS / "ecdsa"
CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ecdsa_loader(loader: ContextLoader) -> ContextLoader:
    """The bundled contexts and the citizenship context the ``employ`` vectors name."""
    documents = {url: loader.get(url) for url in loader.urls}
    documents[CITIZENSHIP] = _json(ECDSA / "contexts" / "citizenship-v4rc1.jsonld")
    return ContextLoader(documents)


def _keys() -> dict[str, PrivateKey]:
    keys = {}
    for name in ("p256KeyPair.json", "p384KeyPair.json"):
        pair = _json(ECDSA / name)
        key = PrivateKey.from_private_multibase(pair["secretKeyMultibase"])
        assert key.public_key.to_multibase() == pair["publicKeyMultibase"]
        keys[pair["publicKeyMultibase"]] = key
    return keys


# (folder, file-name stem, unsigned document, hash)
CASES = [
    ("ecdsa-rdfc-2019-p256", "ECDSAP256", "unsigned.json", hashlib.sha256),
    ("ecdsa-rdfc-2019-p384", "ECDSAP384", "unsigned.json", hashlib.sha384),
    ("ecdsa-rdfc-2019-p256/employ", "ECDSAP256", "employmentAuth.json", hashlib.sha256),
    ("ecdsa-rdfc-2019-p384/employ", "ECDSAP384", "employmentAuth.json", hashlib.sha384),
    ("ecdsa-jcs-2019-p256", "JCSECDSAP256", "unsigned.json", hashlib.sha256),
    ("ecdsa-jcs-2019-p384", "JCSECDSAP384", "unsigned.json", hashlib.sha384),
]


def _case(folder: str, stem: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    config = _json(ECDSA / folder / f"proofConfig{stem}.json")
    options = {k: v for k, v in config.items() if k != "@context"}
    return config, options, _json(ECDSA / folder / f"signed{stem}.json")


def _text(folder: str, name: str) -> str:
    return (ECDSA / folder / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(("folder", "stem", "unsigned_file", "hasher"), CASES,
                         ids=[c[0] for c in CASES])
def test_every_published_intermediate_value_is_reproduced(
    ecdsa_loader: ContextLoader, folder: str, stem: str, unsigned_file: str, hasher: Any
) -> None:
    config, options, _signed = _case(folder, stem)
    unsigned = _json(ECDSA / unsigned_file)
    key = _keys()[config["verificationMethod"].split("#")[1]]
    ctx = SuiteContext(loader=ecdsa_loader)
    suite = SIGNING_SUITES[config["cryptosuite"]].for_key(key.public_key)  # type: ignore[attr-defined]

    transformed = suite.transformation(unsigned, options, ctx)
    canonical_config = suite.proof_configuration(options, unsigned, ctx)
    assert transformed.decode() == _text(folder, f"canonDoc{stem}.txt")
    assert canonical_config.decode() == _text(folder, f"proofCanon{stem}.txt")
    assert hasher(transformed).hexdigest() == _text(folder, f"docHash{stem}.txt").strip()
    assert hasher(canonical_config).hexdigest() == _text(folder, f"proofHash{stem}.txt").strip()
    hash_data = suite.hashing(transformed, canonical_config)
    assert hash_data.hex() == _text(folder, f"combinedHash{stem}.txt").strip()
    signature = key.sign(hash_data)
    assert signature.hex() == _text(folder, f"sigHex{stem}.txt").strip()
    assert multibase_encode(signature, "z") == _text(folder, f"sigBTC58{stem}.txt").strip()


@pytest.mark.parametrize(("folder", "stem", "unsigned_file", "hasher"), CASES,
                         ids=[c[0] for c in CASES])
def test_signing_reproduces_the_signed_vector(
    ecdsa_loader: ContextLoader, folder: str, stem: str, unsigned_file: str, hasher: Any
) -> None:
    config, _options, signed = _case(folder, stem)
    key = _keys()[config["verificationMethod"].split("#")[1]]
    result = sign_document(
        _json(ECDSA / unsigned_file), SIGNING_SUITES[config["cryptosuite"]], key,
        verification_method=config["verificationMethod"],
        ctx=SuiteContext(loader=ecdsa_loader), created=config["created"],
    )
    # Key order included: the JCS proofs repeat the document's contexts (§3.4.1) after
    # proofPurpose, as signing writes them.
    assert json.dumps(result) == json.dumps(signed)


@pytest.mark.parametrize(("folder", "stem", "unsigned_file", "hasher"), CASES,
                         ids=[c[0] for c in CASES])
def test_the_signed_vector_verifies_and_a_change_does_not(
    ecdsa_loader: ContextLoader, folder: str, stem: str, unsigned_file: str, hasher: Any
) -> None:
    config, _, signed = _case(folder, stem)
    proof = signed["proof"]
    suite = suite_for_proof(proof)
    assert suite is VERIFYING_SUITES[config["cryptosuite"]]
    ctx = SuiteContext(loader=ecdsa_loader)
    public_key = public_key_from_did_key(proof["verificationMethod"])
    assert verify_one(signed, proof, [proof], suite, public_key, ctx) == (
        True, "the signature is valid")

    changed = json.loads(json.dumps(signed))
    changed["credentialSubject"]["id"] = "did:example:someone-else"
    ok, why = verify_one(changed, changed["proof"], [changed["proof"]], suite, public_key, ctx)
    assert not ok and "does not match" in why

    later = json.loads(json.dumps(signed))
    later["proof"]["created"] = "2023-02-24T23:36:39Z"
    assert not verify_one(later, later["proof"], [later["proof"]], suite, public_key, ctx)[0]

    # The other curve's vector key: no signature of this vector matches it.
    other = next(k for k in _keys().values() if k.public_key != public_key)
    ok, why = verify_one(signed, proof, [proof], suite, other.public_key, ctx)
    assert not ok


def test_an_ed25519_key_cannot_sign_or_verify_with_ecdsa(ecdsa_loader: ContextLoader) -> None:
    ctx = SuiteContext(loader=ecdsa_loader)
    unsigned = _json(ECDSA / "unsigned.json")
    ed25519 = PrivateKey.generate()
    for name in ("ecdsa-rdfc-2019", "ecdsa-jcs-2019"):
        with pytest.raises(SigningError, match="cannot sign with a Ed25519 key"):
            sign_document(unsigned, SIGNING_SUITES[name], ed25519,
                          verification_method="did:example:1#k", ctx=ctx)
    with pytest.raises(SigningError, match="cannot sign with a P-256 key"):
        sign_document(unsigned, SIGNING_SUITES["eddsa-rdfc-2022"], PrivateKey.generate("P-256"),
                      verification_method="did:example:1#k", ctx=ctx)
    _, _, signed = _case("ecdsa-rdfc-2019-p256", "ECDSAP256")
    ok, why = verify_one(signed, signed["proof"], [signed["proof"]],
                         VERIFYING_SUITES["ecdsa-rdfc-2019"], ed25519.public_key, ctx)
    assert (ok, why) == (False, "ecdsa-rdfc-2019 does not use Ed25519 keys")


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
@pytest.mark.parametrize("name", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_a_fresh_key_signs_deterministically_and_verifies(
    ecdsa_loader: ContextLoader, curve: str, name: str
) -> None:
    key = PrivateKey.generate(curve)
    did = did_key_from_public_key(key.public_key)
    method = f"{did}#{key.public_key.to_multibase()}"
    ctx = SuiteContext(loader=ecdsa_loader)
    unsigned = {**_json(ECDSA / "unsigned.json"), "issuer": did}
    first = sign_document(unsigned, SIGNING_SUITES[name], key, verification_method=method,
                          ctx=ctx, created="2025-01-01T00:00:00Z")
    again = sign_document(unsigned, SIGNING_SUITES[name], key, verification_method=method,
                          ctx=ctx, created="2025-01-01T00:00:00Z")
    assert first == again
    proof = first["proof"]
    assert proof["cryptosuite"] == name and proof["proofValue"].startswith("z")
    assert verify_one(first, proof, [proof], VERIFYING_SUITES[name], key.public_key, ctx)[0]
    assert without_proof(first) == unsigned


def _trust(tmp_path: Path) -> Path:
    """The vectors' issuer, pinned with both vector keys (as a verifier would pin it)."""
    keys = list(_keys())
    methods = [{"id": f"did:key:{k}#{k}", "type": "Multikey",
                "controller": "https://vc.example/issuers/5678", "publicKeyMultibase": k}
               for k in keys]
    document = {"id": "https://vc.example/issuers/5678", "verificationMethod": methods,
                "assertionMethod": [m["id"] for m in methods]}
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("folder", ["ecdsa-rdfc-2019-p256", "ecdsa-rdfc-2019-p384",
                                    "ecdsa-jcs-2019-p256", "ecdsa-jcs-2019-p384"])
def test_issuer_verify_accepts_the_vectors_and_refuses_a_change(
    tmp_path: Path, folder: str
) -> None:
    signed_file = next((ECDSA / folder).glob("signed*.json"))
    trust = _trust(tmp_path)
    args = ["verify", "--json", "--at", "2024-01-01T00:00:00Z", "--offline", "--trust",
            str(trust)]
    result = CliRunner().invoke(main, [*args, str(signed_file)])
    report = json.loads(result.output)
    proof = next(c for c in report["checks"] if c["id"] == "proof")
    assert result.exit_code == 0, result.output
    assert proof["outcome"] == "passed"
    assert folder.rsplit("-", 1)[0] in proof["details"][0]

    changed = _json(signed_file)
    changed["name"] = "Another Credential"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    result = CliRunner().invoke(main, [*args, str(path)])
    report = json.loads(result.output)
    proof = next(c for c in report["checks"] if c["id"] == "proof")
    assert result.exit_code == 1
    assert proof["outcome"] == "failed" and "does not match" in proof["message"]


def test_p384_canonicalization_hashes_with_sha384(ecdsa_loader: ContextLoader) -> None:
    """ECDSA Cryptosuites §3.1: RDFC-1.0 itself uses SHA-384 for P-384 keys; with its default
    SHA-256 the three blank nodes of this vector would be labelled in another order."""
    from issuer.core.canon import canonicalize
    from issuer.core.proofs.ecdsa_rdfc_2019 import canonicalize_for_curve

    document = _json(ECDSA / "employmentAuth.json")
    published = _text("ecdsa-rdfc-2019-p384/employ", "canonDocECDSAP384.txt")
    assert canonicalize_for_curve(document, ecdsa_loader, "P-384") == published
    assert canonicalize(document, ecdsa_loader) != published
    assert canonicalize_for_curve(document, ecdsa_loader, "P-256") == canonicalize(
        document, ecdsa_loader)
    with pytest.raises(SigningError, match="bound to a P-256 or P-384 key"):
        canonicalize_for_curve(document, ecdsa_loader, None)
