"""did:key: DIDs from keys, and the DID documents they resolve to."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from issuer.core.dids import (
    did_key_from_public_key,
    did_key_verification_method_id,
    public_key_from_did_key,
    resolve_did_key,
)
from issuer.core.errors import KeyFormatError, ResolutionError
from issuer.core.keys import (
    PrivateKey,
    PublicKey,
    public_key_from_jwk,
    public_key_from_verification_method,
)
from issuer.core.multibase import X25519_PUB, b58decode, b64url_decode, decode_multikey

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
CONTEXTS = ROOT / "schemas" / "contexts"
DID_KEY_VECTORS: dict[str, Any] = json.loads(
    (VECTORS / "did-key" / "ed25519-x25519.json").read_text()
)
RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityDelegation",
    "capabilityInvocation",
)

# From w3c-ccg/did-method-key test-vectors/nist-curves.json (commit 1d340287a73f): a P-256
# did:key with its private JWK, and a P-384 did:key with its public JWK.
NIST_P256 = (
    "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
    {
        "kty": "EC",
        "crv": "P-256",
        "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
        "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
        "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc",
    },
)
NIST_P384 = (
    "did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9",
    {
        "kty": "EC",
        "crv": "P-384",
        "x": "lInTxl8fjLKp_UCrxI0WDklahi-7-_6JbtiHjiRvMvhedhKVdHBfi2HCY8t_QJyc",
        "y": "y6N1IC-2mXxHreETBW7K3mBcw0qGr3CWHCs-yl09yCQRLcyfGv7XhqAngHOu51Zv",
    },
)


def _x25519_public_bytes(vm: dict[str, Any]) -> bytes:
    """The raw X25519 key of a key-agreement method in any of the vector's spellings."""
    if "publicKeyBase58" in vm:
        return b58decode(vm["publicKeyBase58"])
    if "publicKeyJwk" in vm:
        return b64url_decode(vm["publicKeyJwk"]["x"])
    return decode_multikey(vm["publicKeyMultibase"], expected={X25519_PUB})[1]


# --- did:key: the published vector -----------------------------------------------------------
#
# The vector file shows each DID document in the older forms: Ed25519VerificationKey2018 with
# publicKeyBase58 and X25519KeyAgreementKey2019 (or JsonWebKey2020 for the last DID), with
# their suite contexts. The current did:key spec (§3.1.1, publicKeyFormat "Multikey") and
# this project publish the same keys as Multikey with the multikey/v1 context. The tests
# therefore compare everything that does not depend on that representation: the DID, every
# verification method id, controller, the relationships, and the key bytes themselves.


@pytest.mark.parametrize("did", list(DID_KEY_VECTORS))
def test_did_key_from_seed_matches_vector(did: str) -> None:
    seed = DID_KEY_VECTORS[did]["seed"]
    assert did_key_from_public_key(PrivateKey.from_seed_hex(seed).public_key) == did


@pytest.mark.parametrize("did", list(DID_KEY_VECTORS))
def test_resolve_did_key_matches_vector(did: str) -> None:
    expected = DID_KEY_VECTORS[did]["didDocument"]
    document = resolve_did_key(did)

    assert document["id"] == expected["id"] == did
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert [m["id"] for m in document["verificationMethod"]] == [
        m["id"] for m in expected["verificationMethod"]
    ]
    for name in (*RELATIONSHIPS, "keyAgreement"):
        assert document[name] == expected[name], name
    assert set(document) == {"@context", "id", "verificationMethod", "keyAgreement", *RELATIONSHIPS}

    ours_sig, ours_agree = document["verificationMethod"]
    theirs_sig, theirs_agree = expected["verificationMethod"]
    for vm in (ours_sig, ours_agree):
        assert vm["type"] == "Multikey"
        assert vm["controller"] == did
        assert set(vm) == {"id", "type", "controller", "publicKeyMultibase"}
    # Same signing key, whatever the spelling.
    assert public_key_from_verification_method(ours_sig) == public_key_from_verification_method(
        theirs_sig
    )
    assert ours_sig["publicKeyMultibase"] == did.removeprefix("did:key:")
    # Same X25519 key, and its Multikey value is the fragment of its id.
    assert _x25519_public_bytes(ours_agree) == _x25519_public_bytes(theirs_agree)
    assert ours_agree["id"] == f"{did}#{ours_agree['publicKeyMultibase']}"
    assert ours_agree["publicKeyMultibase"].startswith("z6LS")


@pytest.mark.parametrize("did", list(DID_KEY_VECTORS))
def test_x25519_derivation_agrees_with_private_key_side(did: str) -> None:
    # Independent of the Edwards→Montgomery map the resolver uses: the X25519 private key is
    # the clamped first half of SHA-512(seed) (RFC 8032 §5.1.5, RFC 7748 §5), and X25519 of
    # it must give the derived public key. The vector's own private key must agree too.
    entry = DID_KEY_VECTORS[did]
    seed = bytes.fromhex(entry["seed"])
    document = resolve_did_key(did)
    derived = _x25519_public_bytes(document["verificationMethod"][1])

    scalar = hashlib.sha512(seed).digest()[:32]
    from_seed = X25519PrivateKey.from_private_bytes(scalar).public_key()
    assert from_seed.public_bytes(Encoding.Raw, PublicFormat.Raw) == derived

    pair = entry["keyAgreementKeyPair"]
    if "privateKeyBase58" in pair:
        vector_private = b58decode(pair["privateKeyBase58"])
    else:
        vector_private = b64url_decode(pair["privateKeyJwk"]["d"])
    vector_public = X25519PrivateKey.from_private_bytes(vector_private).public_key()
    assert vector_public.public_bytes(Encoding.Raw, PublicFormat.Raw) == derived


def test_w3c_eddsa_signature_verifies_with_resolved_did_key() -> None:
    signed = json.loads(
        (VECTORS / "w3c-vc-di-eddsa" / "eddsa-rdfc-2022" / "signedDataInt.json").read_text()
    )
    vm_url = signed["proof"]["verificationMethod"]
    document = resolve_did_key(vm_url)
    vm = next(m for m in document["verificationMethod"] if m["id"] == vm_url)
    assert vm_url in document["assertionMethod"]
    key = public_key_from_verification_method(vm)
    base = VECTORS / "w3c-vc-di-eddsa" / "eddsa-rdfc-2022"
    data = bytes.fromhex((base / "combinedHashDataInt.txt").read_text().strip())
    signature = bytes.fromhex((base / "sigHexDataInt.txt").read_text().strip())
    assert key.verify(signature, data)
    assert public_key_from_did_key(vm_url) == key


# --- did:key: P-256 and friends ------------------------------------------------------------


def test_p256_did_key_published_vector() -> None:
    did, private_jwk = NIST_P256
    key = PrivateKey.from_jwk(private_jwk)
    assert did_key_from_public_key(key.public_key) == did
    document = resolve_did_key(did)
    vm_id = f"{did}#{did.removeprefix('did:key:')}"
    assert document["verificationMethod"] == [
        {
            "id": vm_id,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": did.removeprefix("did:key:"),
        }
    ]
    for name in RELATIONSHIPS:
        assert document[name] == [vm_id]
    # No X25519 key can be derived from a P-256 key.
    assert "keyAgreement" not in document
    resolved = public_key_from_verification_method(document["verificationMethod"][0])
    assert resolved == key.public_key
    assert resolved.verify(key.sign(b"m"), b"m", alg="ES256")


def test_p384_did_key_published_vector() -> None:
    did, jwk = NIST_P384
    assert did_key_from_public_key(public_key_from_jwk(jwk)) == did
    assert public_key_from_did_key(did) == public_key_from_jwk(jwk)


def test_did_key_round_trip_for_generated_keys() -> None:
    for key_type in ("Ed25519", "P-256"):
        key = PrivateKey.generate(key_type).public_key
        did = did_key_from_public_key(key)
        assert did_key_verification_method_id(did) == f"{did}#{key.fingerprint}"
        assert public_key_from_did_key(did_key_verification_method_id(did)) == key
    p521 = PublicKey(ec.generate_private_key(ec.SECP521R1()).public_key())
    assert public_key_from_did_key(did_key_from_public_key(p521)) == p521


def test_did_key_fragment_must_name_a_method() -> None:
    did = next(iter(DID_KEY_VECTORS))
    agreement = DID_KEY_VECTORS[did]["didDocument"]["keyAgreement"][0]
    assert resolve_did_key(agreement)["id"] == did
    assert resolve_did_key(did_key_verification_method_id(did))["id"] == did
    with pytest.raises(ResolutionError, match="no verification method"):
        resolve_did_key(f"{did}#key-1")


_ED_DID = next(iter(DID_KEY_VECTORS))
_ED_ID = _ED_DID.removeprefix("did:key:")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "did:key:",
        "did:key:z",
        "did:key:" + _ED_ID[1:],  # no multibase prefix
        "did:key:m" + _ED_ID[1:],
        "did:key:" + _ED_ID[:-1] + "0",  # not base58
        "did:key:" + _ED_ID[:-2],  # truncated key
        "did:key:1:" + _ED_ID,  # old versioned form
        f"did:key:{_ED_ID}/path",
        f"did:key:{_ED_ID}?query=1",
        "did:web:example.com",
        "DID:KEY:" + _ED_ID,
        # An X25519 key can only agree keys, not sign, so it cannot be a did:key issuer.
        "did:key:" + DID_KEY_VECTORS[_ED_DID]["keyAgreementKeyPair"]["id"].lstrip("#"),
        # A private key in the DID slot.
        "did:key:z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
    ],
)
def test_bad_did_keys(value: str) -> None:
    with pytest.raises(ResolutionError):
        resolve_did_key(value)
    with pytest.raises(ResolutionError):
        did_key_verification_method_id(value)


@pytest.mark.parametrize("suffix", [":1:" + _ED_ID, f":{_ED_ID}/path", f":{_ED_ID}?service=x"])
def test_did_key_versions_paths_and_queries_are_named(suffix: str) -> None:
    with pytest.raises(ResolutionError, match="no version, path or query"):
        resolve_did_key("did:key" + suffix)


def test_bad_did_key_input_type() -> None:
    with pytest.raises(ResolutionError):
        resolve_did_key(None)  # type: ignore[arg-type]


def test_private_did_key_error_does_not_echo_it() -> None:
    secret = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
    with pytest.raises(ResolutionError) as info:
        resolve_did_key("did:key:" + secret)
    assert secret[1:] not in info.value.message


def test_rsa_keys_have_no_did_key_here() -> None:
    key = PublicKey(rsa.generate_private_key(65537, 2048).public_key())
    with pytest.raises(KeyFormatError):
        did_key_from_public_key(key)
