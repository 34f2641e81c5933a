"""Keys: published vectors, signatures, JWK / Multikey / PEM forms and key files."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from issuer.core import keys as keys_module
from issuer.core.errors import KeyFormatError
from issuer.core.keys import (
    PrivateKey,
    PublicKey,
    file_is_private,
    jsonwebkey_document,
    load_private_key,
    multikey_document,
    public_key_from_jwk,
    public_key_from_multibase,
    public_key_from_verification_method,
    save_private_key,
)
from issuer.core.multibase import (
    ED25519_PRIV,
    add_codec_prefix,
    b58encode,
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
JOSE = VECTORS / "w3c-vc-jose-cose-test-suite"


def load_json(*parts: str) -> Any:
    return json.loads(VECTORS.joinpath(*parts).read_text())


def jws_parts(token: str) -> tuple[dict[str, Any], bytes, bytes]:
    """(header, signing input, signature) of a JWS compact serialization (RFC 7515 §7.1)."""
    header_b64, payload_b64, signature_b64 = token.strip().split(".")
    header = json.loads(b64url_decode(header_b64))
    return header, f"{header_b64}.{payload_b64}".encode("ascii"), b64url_decode(signature_b64)


# --- published key vectors ---------------------------------------------------------------


def test_w3c_eddsa_key_pair() -> None:
    pair = load_json("w3c-vc-di-eddsa", "keyPair.json")
    private = PrivateKey.from_private_multibase(pair["privateKeyMultibase"])
    public = public_key_from_multibase(pair["publicKeyMultibase"])
    assert private.public_key == public
    assert private.public_key.to_multibase() == pair["publicKeyMultibase"]
    assert public.key_type == "Ed25519"
    assert private.jws_alg == "EdDSA"


def test_w3c_eddsa_signature_vectors() -> None:
    # Ed25519 is deterministic, so signing the published hash data gives the published bytes.
    private = PrivateKey.from_private_multibase(
        load_json("w3c-vc-di-eddsa", "keyPair.json")["privateKeyMultibase"]
    )
    for folder, stem in (("eddsa-rdfc-2022", "DataInt"), ("eddsa-jcs-2022", "JCS")):
        base = VECTORS / "w3c-vc-di-eddsa" / folder
        data = bytes.fromhex((base / f"combinedHash{stem}.txt").read_text().strip())
        signature = bytes.fromhex((base / f"sigHex{stem}.txt").read_text().strip())
        assert private.sign(data) == signature
        assert private.public_key.verify(signature, data)
        assert not private.public_key.verify(signature, data[:-1])


def test_1edtech_key_pair_and_signature() -> None:
    vector = load_json("1edtech-impl-guide-ob30-eddsa-rdfc-2022", "keyPair.json")
    hashes_vector = load_json("1edtech-impl-guide-ob30-eddsa-rdfc-2022", "hashes.json")
    expected = vector["publicKeyMultibase"]
    # 64-byte NaCl layout, the 32-byte seed alone, and the multibase secret key all agree.
    from_nacl = PrivateKey.from_seed_hex(vector["privateKeyHex"])
    from_seed = PrivateKey.from_seed_hex(vector["privateKeyHex"][:64])
    from_multibase = PrivateKey.from_private_multibase(vector["secretKeyMultibase"])
    for key in (from_nacl, from_seed, from_multibase):
        assert key.public_key.to_multibase() == expected
        assert key.public_key.raw_bytes.hex() == vector["publicKeyHex"]
    raw = PublicKey.from_raw_bytes("Ed25519", bytes.fromhex(vector["publicKeyHex"]))
    assert raw.to_multibase() == expected
    assert public_key_from_verification_method(vector["verificationMethod"]) == raw

    data = bytes.fromhex(hashes_vector["dataToSignHex"])
    signature = from_nacl.sign(data)
    assert signature.hex() == hashes_vector["signatureHex"]
    assert multibase_encode(signature) == hashes_vector["proofValue"]
    assert raw.verify(multibase_decode(hashes_vector["proofValue"]), data)


def test_nacl_layout_with_wrong_public_half_is_refused() -> None:
    vector = load_json("1edtech-impl-guide-ob30-eddsa-rdfc-2022", "keyPair.json")
    seed_hex = vector["privateKeyHex"][:64]
    other_public = PrivateKey.generate().public_key.raw_bytes.hex()
    with pytest.raises(KeyFormatError, match="public half") as info:
        PrivateKey.from_seed_hex(seed_hex + other_public)
    assert seed_hex not in info.value.message
    tampered = multibase_encode(
        add_codec_prefix(ED25519_PRIV, bytes.fromhex(seed_hex + other_public))
    )
    with pytest.raises(KeyFormatError, match="public half"):
        PrivateKey.from_private_multibase(tampered)


def test_w3c_multi_key_pairs() -> None:
    pairs = load_json("w3c-vc-di-eddsa", "proof-set-chain", "multiKeyPairs.json")
    seen = set()
    for pair in pairs.values():
        private = PrivateKey.from_private_multibase(pair["privateKeyMultibase"])
        assert private.public_key.to_multibase() == pair["publicKeyMultibase"]
        assert public_key_from_multibase(pair["publicKeyMultibase"]) == private.public_key
        seen.add(private.public_key)
    assert len(seen) == len(pairs)


@pytest.mark.parametrize(
    ("name", "key_type", "alg"),
    [
        ("vm-ed25519.json", "Ed25519", "EdDSA"),
        ("vm-did-ed25519.json", "Ed25519", "EdDSA"),
        ("vm-p256.json", "P-256", "ES256"),
        ("vm-p384.json", "P-384", "ES384"),
        ("vm-p521.json", "P-521", "ES512"),
    ],
)
def test_jose_verification_methods(name: str, key_type: str, alg: str) -> None:
    vm = json.loads((JOSE / name).read_text())
    key = public_key_from_verification_method(vm)
    assert key.key_type == key_type
    assert key.jws_alg == alg
    # Every kid in the suite is the RFC 7638 thumbprint of its key.
    assert key.thumbprint() == vm["publicKeyJwk"]["kid"]
    public_members = {k: v for k, v in vm["publicKeyJwk"].items() if k in ("kty", "crv", "x", "y")}
    assert key.to_jwk() == public_members
    # The secret JWK carries the same public key; its "d" is ignored when a public key is read.
    assert public_key_from_jwk(vm["secretKeyJwk"]) == key
    assert public_key_from_multibase(key.to_multibase()) == key


def test_jose_secret_keys_that_can_sign() -> None:
    for name in ("vm-ed25519.json", "vm-p256.json", "vm-p384.json"):
        vm = json.loads((JOSE / name).read_text())
        private = PrivateKey.from_jwk(vm["secretKeyJwk"])
        assert private.public_key == public_key_from_jwk(vm["publicKeyJwk"])
        assert private.public_key.verify(private.sign(b"message"), b"message")


@pytest.mark.parametrize("name", ["vm-p521.json"])
def test_private_jwk_on_other_curves_is_refused_without_echo(name: str) -> None:
    vm = json.loads((JOSE / name).read_text())
    with pytest.raises(KeyFormatError) as info:
        PrivateKey.from_jwk(vm["secretKeyJwk"])
    assert vm["secretKeyJwk"]["d"] not in info.value.message


def _jose_keys_by_kid() -> dict[str, PublicKey]:
    result = {}
    for path in JOSE.glob("vm-*.json"):
        vm = json.loads(path.read_text())
        result[vm["publicKeyJwk"]["kid"]] = public_key_from_verification_method(vm)
    return result


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("credential-issuer-match-signed.txt", True),
        ("credential-jose-minimal.txt", True),  # ES256
        ("credential-jose-unknown-extensions.txt", True),  # ES512
        ("presentation-jose-multiple.txt", True),  # ES384
        ("credential-jose-bad-media-type.txt", True),  # bad typ, good signature
        ("credential-jose-bad-signature.txt", False),
    ],
)
def test_jose_signatures(name: str, valid: bool) -> None:
    header, signing_input, signature = jws_parts((JOSE / name).read_text())
    key = _jose_keys_by_kid()[header["kid"]]
    assert key.verify(signature, signing_input, alg=header["alg"]) is valid


def test_1edtech_rs256_jwts() -> None:
    tokens = sorted((VECTORS / "1edtech-spec-examples-2024-04").glob("*.jwt"))
    assert tokens
    for path in tokens:
        header, signing_input, signature = jws_parts(path.read_text())
        assert header["alg"] == "RS256"
        key = public_key_from_jwk(header["jwk"])
        assert key.key_type == "RSA"
        assert key.verify(signature, signing_input)
        assert key.verify(signature, signing_input, alg="RS256")
        assert not key.verify(signature, signing_input + b"x")
        assert not key.verify(signature, signing_input, alg="RS512")


def test_rfc7638_rsa_thumbprint_example() -> None:
    # RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD"
        "R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
        "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNL"
        "yrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK"
        "nqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    key = public_key_from_jwk(jwk)
    assert key.thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert key.to_jwk() == {"kty": "RSA", "n": jwk["n"], "e": "AQAB"}


# --- signing and verifying ---------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256"])
def test_sign_verify_round_trip(key_type: str) -> None:
    key = PrivateKey.generate(key_type)
    other = PrivateKey.generate(key_type)
    message = b"an achievement worth recognising"
    signature = key.sign(message)
    assert len(signature) == 64
    assert key.key_type == key_type
    assert key.public_key.verify(signature, message)
    assert not key.public_key.verify(signature, message + b"!")
    assert not other.public_key.verify(signature, message)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not key.public_key.verify(flipped, message)
    for broken in (signature[:-1], signature[:32], b"", signature + b"\0", bytes(64)):
        assert not key.public_key.verify(broken, message)


def test_ec_signature_must_have_exact_jws_length() -> None:
    # RFC 7518 §3.4: r and s are exactly 32 bytes each for ES256. A zero byte slipped in
    # front of s leaves the numbers unchanged, so only the length check refuses it.
    key = PrivateKey.generate("P-256")
    signature = key.sign(b"m")
    assert not key.public_key.verify(signature[:32] + b"\0" + signature[32:], b"m")
    assert not key.public_key.verify(b"\0" + signature, b"m")


def test_p256_signature_is_jws_raw_r_s() -> None:
    key = PrivateKey.generate("P-256")
    assert key.jws_alg == "ES256"
    signature = key.sign(b"payload")
    # The raw form re-encoded as DER must verify with plain ECDSA/SHA-256 (RFC 7518 §3.4).
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    native = key.public_key.native
    assert isinstance(native, ec.EllipticCurvePublicKey)
    native.verify(der, b"payload", ec.ECDSA(hashes.SHA256()))
    assert key.public_key.verify(signature, b"payload", alg="ES256")


@pytest.mark.parametrize(
    ("curve", "alg", "hash_cls", "size"),
    [
        (ec.SECP384R1(), "ES384", hashes.SHA384, 48),
        (ec.SECP521R1(), "ES512", hashes.SHA512, 66),
    ],
)
def test_ec_verify_other_curves(
    curve: ec.EllipticCurve, alg: str, hash_cls: Any, size: int
) -> None:
    private = ec.generate_private_key(curve)
    r, s = decode_dss_signature(private.sign(b"m", ec.ECDSA(hash_cls())))
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    key = PublicKey(private.public_key())
    assert key.verify(raw, b"m")
    assert key.verify(raw, b"m", alg=alg)
    assert not key.verify(raw, b"n")
    assert not key.verify(raw[:-1], b"m")


def test_algorithm_must_match_key() -> None:
    ed = PrivateKey.generate().public_key
    p256 = PrivateKey.generate("P-256").public_key
    signature = b"\0" * 64
    for key, alg in ((ed, "ES256"), (p256, "EdDSA"), (p256, "ES384"), (ed, "none"), (ed, "HS256")):
        with pytest.raises(KeyFormatError, match="cannot be used"):
            key.verify(signature, b"m", alg=alg)
    assert ed.verify(PrivateKey.generate().sign(b"m"), b"m", alg="Ed25519") is False


@pytest.fixture(scope="module")
def rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_rsa_verify(rsa_private: rsa.RSAPrivateKey) -> None:
    key = PublicKey(rsa_private.public_key())
    assert key.key_type == "RSA"
    assert key.jws_alg == "RS256"
    message = b"signed elsewhere"
    cases = {
        "RS256": (padding.PKCS1v15(), hashes.SHA256()),
        "RS384": (padding.PKCS1v15(), hashes.SHA384()),
        "RS512": (padding.PKCS1v15(), hashes.SHA512()),
        "PS256": (padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()),
        "PS384": (padding.PSS(padding.MGF1(hashes.SHA384()), 48), hashes.SHA384()),
        "PS512": (padding.PSS(padding.MGF1(hashes.SHA512()), 64), hashes.SHA512()),
    }
    signatures = {
        alg: rsa_private.sign(message, pad, hash_obj) for alg, (pad, hash_obj) in cases.items()
    }
    for alg, signature in signatures.items():
        assert key.verify(signature, message, alg=alg), alg
        assert not key.verify(signature, message + b".", alg=alg), alg
        for other_alg in cases:
            if other_alg != alg:
                assert not key.verify(signature, message, alg=other_alg), (alg, other_alg)
    # RS256 is the default.
    assert key.verify(signatures["RS256"], message)
    assert not key.verify(signatures["PS256"], message)
    for broken in (signatures["RS256"][:-1], b"", b"\0" * 256, signatures["RS256"] + b"\0"):
        assert not key.verify(broken, message)
    # RFC 7518 §3.5: the PSS salt is as long as the hash; other salt lengths are refused.
    for salt in (0, 20, padding.PSS.MAX_LENGTH):
        odd_salt = rsa_private.sign(
            message, padding.PSS(padding.MGF1(hashes.SHA256()), salt), hashes.SHA256()
        )
        assert not key.verify(odd_salt, message, alg="PS256"), salt
    other = PublicKey(rsa.generate_private_key(65537, 2048).public_key())
    assert not other.verify(signatures["RS256"], message)
    with pytest.raises(KeyFormatError):
        key.verify(signatures["RS256"], message, alg="EdDSA")


def test_rsa_jwk_round_trip_and_no_multikey(rsa_private: rsa.RSAPrivateKey) -> None:
    key = PublicKey(rsa_private.public_key())
    jwk = key.to_jwk()
    assert set(jwk) == {"kty", "n", "e"}
    assert jwk["e"] == "AQAB"
    assert public_key_from_jwk(jwk) == key
    with pytest.raises(KeyFormatError):
        key.to_multibase()
    with pytest.raises(KeyFormatError):
        _ = key.raw_bytes


def test_small_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyFormatError, match="2048"):
        PublicKey(small.public_key())
    jwk = {
        "kty": "RSA",
        "n": b64url_encode(small.public_key().public_numbers().n.to_bytes(128, "big")),
        "e": "AQAB",
    }
    with pytest.raises(KeyFormatError, match="2048"):
        public_key_from_jwk(jwk)


def test_unsupported_public_keys() -> None:
    with pytest.raises(KeyFormatError, match="curve"):
        PublicKey(ec.generate_private_key(ec.SECP256K1()).public_key())
    with pytest.raises(KeyFormatError):
        PublicKey("not a key")  # type: ignore[arg-type]


def test_private_key_types() -> None:
    with pytest.raises(KeyFormatError):
        PrivateKey.generate("RSA")
    with pytest.raises(KeyFormatError):
        PrivateKey(ec.generate_private_key(ec.SECP521R1()))


# --- public key forms ----------------------------------------------------------------------


def test_multibase_prefixes_per_key_type() -> None:
    assert PrivateKey.generate().public_key.to_multibase().startswith("z6Mk")
    assert PrivateKey.generate("P-256").public_key.to_multibase().startswith("zDn")
    p384 = PublicKey(ec.generate_private_key(ec.SECP384R1()).public_key())
    assert p384.to_multibase().startswith("z82")
    p521 = PublicKey(ec.generate_private_key(ec.SECP521R1()).public_key())
    assert p521.to_multibase().startswith("z2J9")
    for key in (p384, p521):
        assert public_key_from_multibase(key.to_multibase()) == key


def test_p256_raw_bytes_is_compressed_point() -> None:
    key = PrivateKey.generate("P-256").public_key
    raw = key.raw_bytes
    assert len(raw) == 33
    assert raw[0] in (2, 3)
    jwk = key.to_jwk()
    assert raw[1:] == b64url_decode(jwk["x"])
    assert raw[0] == 2 + (b64url_decode(jwk["y"])[-1] & 1)
    assert PublicKey.from_raw_bytes("P-256", raw) == key


def test_public_key_equality_and_hash() -> None:
    a = PrivateKey.generate().public_key
    a_again = public_key_from_multibase(a.to_multibase())
    b = PrivateKey.generate().public_key
    assert a == a_again
    assert hash(a) == hash(a_again)
    assert a != b
    assert a != a.to_multibase()
    assert len({a, a_again, b}) == 2


def test_thumbprint_depends_only_on_required_members() -> None:
    key = PrivateKey.generate("P-256").public_key
    jwk = dict(key.to_jwk(), kid="anything", alg="ES256", use="sig")
    assert public_key_from_jwk(jwk).thumbprint() == key.thumbprint()
    assert len(b64url_decode(key.thumbprint())) == 32


def test_ed25519_point_validation() -> None:
    p = 2**255 - 19
    with pytest.raises(KeyFormatError, match="curve point"):
        PublicKey.from_raw_bytes("Ed25519", p.to_bytes(32, "little"))  # y = p: non-canonical
    with pytest.raises(KeyFormatError, match="curve point"):
        PublicKey.from_raw_bytes("Ed25519", b"\xff" * 32)
    # RFC 8032 §5.1.3 step 4: x = 0 with the sign bit set does not decode.
    with pytest.raises(KeyFormatError, match="curve point"):
        PublicKey.from_raw_bytes("Ed25519", (1 | 1 << 255).to_bytes(32, "little"))
    for _ in range(50):
        raw = PrivateKey.generate().public_key.raw_bytes
        assert PublicKey.from_raw_bytes("Ed25519", raw).raw_bytes == raw


def _montgomery_point_exists(u: int) -> bool:
    """Is u^3 + 486662 u^2 + u a square mod p (RFC 7748 §4.1 curve equation)?"""
    p = 2**255 - 19
    value = (u * u * u + 486662 * u * u + u) % p
    return value == 0 or pow(value, (p - 1) // 2, p) == 1


def test_ed25519_points_off_the_curve_are_refused() -> None:
    # Cross-check the Edwards decoding against the Montgomery form of the same curve: a y
    # (other than +-1) encodes a point exactly when u = (1 + y) / (1 - y) lies on Curve25519.
    p = 2**255 - 19
    accepted = rejected = 0
    for y in range(2, 80):
        u = (1 + y) * pow(1 - y, p - 2, p) % p
        try:
            PublicKey.from_raw_bytes("Ed25519", y.to_bytes(32, "little"))
        except KeyFormatError:
            rejected += 1
            assert not _montgomery_point_exists(u), y
        else:
            accepted += 1
            assert _montgomery_point_exists(u), y
    assert accepted and rejected


def test_ec_point_validation() -> None:
    valid = PrivateKey.generate("P-256").public_key.to_jwk()
    bad_y = dict(valid, y=b64url_encode(bytes(31) + b"\x01"))
    with pytest.raises(KeyFormatError, match="curve point"):
        public_key_from_jwk(bad_y)
    with pytest.raises(KeyFormatError, match="curve point"):
        PublicKey.from_raw_bytes("P-256", b"\x02" + b"\xff" * 32)


@pytest.mark.parametrize(
    ("jwk", "match"),
    [
        ({"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(32))}, "Ed25519"),
        ({"kty": "OKP", "crv": "Ed25519"}, "'x'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(31))}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "not base64!"}, "base64url"),
        ({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}, "P-256"),
        ({"kty": "EC", "crv": ["P-256"], "x": "AA", "y": "AA"}, "P-256"),
        ({"kty": "EC", "crv": "P-256", "x": b64url_encode(bytes(32))}, "'y'"),
        ({"kty": "oct", "k": "AAAA"}, "kty"),
        ({"kty": "RSA", "e": "AQAB"}, "'n'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(32)), "use": "enc"}, "enc"),
    ],
)
def test_bad_public_jwks(jwk: dict[str, Any], match: str) -> None:
    with pytest.raises(KeyFormatError, match=match):
        public_key_from_jwk(jwk)


def test_public_jwk_errors_never_show_d() -> None:
    vm = json.loads((JOSE / "vm-p256.json").read_text())
    secret = dict(vm["secretKeyJwk"], y="broken!")
    with pytest.raises(KeyFormatError) as info:
        public_key_from_jwk(secret)
    assert secret["d"] not in info.value.message
    with pytest.raises(KeyFormatError):
        public_key_from_jwk("not a dict")  # type: ignore[arg-type]


def test_public_key_from_multibase_refuses_private_and_agreement_keys() -> None:
    pair = load_json("w3c-vc-di-eddsa", "keyPair.json")
    with pytest.raises(KeyFormatError, match="private key") as info:
        public_key_from_multibase(pair["privateKeyMultibase"])
    assert pair["privateKeyMultibase"][1:] not in info.value.message
    did_key = load_json("did-key", "ed25519-x25519.json")
    x25519_id = next(iter(did_key.values()))["keyAgreementKeyPair"]["id"]
    with pytest.raises(KeyFormatError, match="key agreement"):
        public_key_from_multibase(x25519_id.lstrip("#"))


# --- verification methods ------------------------------------------------------------------


def test_verification_method_kinds_from_did_key_vector() -> None:
    # One key, three published spellings: Ed25519VerificationKey2018 (publicKeyBase58),
    # JsonWebKey2020 (publicKeyJwk), and the did:key fingerprint (a Multikey value).
    vectors = load_json("did-key", "ed25519-x25519.json")
    for did, entry in vectors.items():
        from_seed = PrivateKey.from_seed_hex(entry["seed"]).public_key
        vm = entry["verificationKeyPair"]
        assert public_key_from_verification_method(vm) == from_seed
        assert public_key_from_multibase(did.removeprefix("did:key:")) == from_seed
        assert from_seed.to_multibase() == did.removeprefix("did:key:")
        if vm["type"] == "JsonWebKey2020":
            assert PrivateKey.from_jwk(vm["privateKeyJwk"]).public_key == from_seed
        else:
            assert b58encode(from_seed.raw_bytes) == vm["publicKeyBase58"]


def test_verification_method_documents_round_trip() -> None:
    controller = "https://example.edu/issuers/565049"
    for key in (PrivateKey.generate().public_key, PrivateKey.generate("P-256").public_key):
        multikey = multikey_document(key, f"{controller}#{key.fingerprint}", controller)
        assert multikey == {
            "id": f"{controller}#{key.to_multibase()}",
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": key.to_multibase(),
        }
        assert public_key_from_verification_method(multikey) == key
        jwk_vm = jsonwebkey_document(key, f"{controller}#key-1", controller)
        assert jwk_vm["type"] == "JsonWebKey"
        assert jwk_vm["publicKeyJwk"] == key.to_jwk()
        assert "d" not in jwk_vm["publicKeyJwk"]
        assert public_key_from_verification_method(jwk_vm) == key
        legacy = dict(jwk_vm, type="JsonWebKey2020")
        assert public_key_from_verification_method(legacy) == key


def test_ed25519_verification_key_2020() -> None:
    key = PrivateKey.generate().public_key
    vm = {"id": "x#1", "type": "Ed25519VerificationKey2020", "controller": "x"}
    good = dict(vm, publicKeyMultibase=key.to_multibase())
    assert public_key_from_verification_method(good) == key
    p256 = PrivateKey.generate("P-256").public_key
    with pytest.raises(KeyFormatError, match="ed25519-pub"):
        public_key_from_verification_method(dict(vm, publicKeyMultibase=p256.to_multibase()))


@pytest.mark.parametrize(
    "vm",
    [
        {"type": "Multikey"},
        {"type": "Multikey", "publicKeyMultibase": 5},
        {"type": "Ed25519VerificationKey2018", "publicKeyBase58": "abc"},
        {"type": "Ed25519VerificationKey2018", "publicKeyBase58": "0OIl"},
        {"type": "JsonWebKey", "publicKeyJwk": "nope"},
        {"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyMultibase": "z"},
        {"type": ["Multikey"]},
        {},
    ],
)
def test_bad_verification_methods(vm: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError):
        public_key_from_verification_method(vm)


# --- private key forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "00" * 31, "00" * 33, "zz" * 32, "00" * 63 + "0"],
)
def test_bad_seed_hex(text: str) -> None:
    with pytest.raises(KeyFormatError):
        PrivateKey.from_seed_hex(text)


def test_private_jwk_checks() -> None:
    vm = json.loads((JOSE / "vm-ed25519.json").read_text())
    secret = vm["secretKeyJwk"]
    with pytest.raises(KeyFormatError, match="'d'"):
        PrivateKey.from_jwk(vm["publicKeyJwk"])
    other_x = PrivateKey.generate().public_key.to_jwk()["x"]
    with pytest.raises(KeyFormatError, match="does not match") as info:
        PrivateKey.from_jwk(dict(secret, x=other_x))
    assert secret["d"] not in info.value.message
    with pytest.raises(KeyFormatError) as info:
        PrivateKey.from_jwk(dict(secret, d=secret["d"][:-2]))
    assert secret["d"][:-2] not in info.value.message
    with pytest.raises(KeyFormatError):
        PrivateKey.from_jwk(dict(secret, kty="EC"))
    p256 = json.loads((JOSE / "vm-p256.json").read_text())["secretKeyJwk"]
    with pytest.raises(KeyFormatError, match="'y'"):
        PrivateKey.from_jwk(dict(p256, y=PrivateKey.generate("P-256").public_key.to_jwk()["y"]))


def test_p256_private_multibase_round_trip() -> None:
    key = PrivateKey.generate("P-256")
    native = key._key
    assert isinstance(native, ec.EllipticCurvePrivateKey)
    scalar = native.private_numbers().private_value.to_bytes(32, "big")
    value = multibase_encode(add_codec_prefix(0x1306, scalar))
    assert PrivateKey.from_private_multibase(value).public_key == key.public_key
    with pytest.raises(KeyFormatError, match="out of range"):
        PrivateKey.from_private_multibase(multibase_encode(add_codec_prefix(0x1306, bytes(32))))


def test_private_multibase_refuses_public_keys() -> None:
    public = PrivateKey.generate().public_key.to_multibase()
    with pytest.raises(KeyFormatError, match="ed25519-priv"):
        PrivateKey.from_private_multibase(public)


def _all_spellings(key: PrivateKey) -> list[str]:
    """Every way the private part of ``key`` might leak into text."""
    native = key._key
    if isinstance(native, ed25519.Ed25519PrivateKey):
        raw = native.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    else:
        raw = native.private_numbers().private_value.to_bytes(32, "big")
    pem_body = key.to_pem().decode().splitlines()[1]
    return [
        raw.hex(),
        raw.hex().upper(),
        b58encode(raw),
        b64url_encode(raw),
        multibase_encode(add_codec_prefix(ED25519_PRIV, raw)),
        pem_body[:24],
        repr(raw),
        str(list(raw[:8]))[1:-1],
    ]


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256"])
def test_repr_and_str_hide_key_material(key_type: str) -> None:
    key = PrivateKey.generate(key_type)
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key])):
        assert key_type in text
        for spelling in _all_spellings(key):
            assert spelling not in text
    assert not hasattr(key, "__dict__")


def test_private_keys_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(PrivateKey.generate())


# --- PEM and key files ---------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256"])
def test_pem_round_trip(key_type: str) -> None:
    key = PrivateKey.generate(key_type)
    plain = key.to_pem()
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert PrivateKey.from_pem(plain).public_key == key.public_key
    assert PrivateKey.from_pem(plain.decode()).public_key == key.public_key
    encrypted = key.to_pem(b"correct horse")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert PrivateKey.from_pem(encrypted, b"correct horse").public_key == key.public_key


def test_pem_passphrase_errors() -> None:
    key = PrivateKey.generate()
    encrypted = key.to_pem(b"secret")
    with pytest.raises(KeyFormatError, match="passphrase is required"):
        PrivateKey.from_pem(encrypted)
    with pytest.raises(KeyFormatError, match="wrong passphrase") as info:
        PrivateKey.from_pem(encrypted, b"Secret")
    assert "Secret" not in info.value.message
    with pytest.raises(KeyFormatError, match="not encrypted"):
        PrivateKey.from_pem(key.to_pem(), b"secret")
    with pytest.raises(KeyFormatError, match="empty"):
        key.to_pem(b"")


def test_pem_other_key_types_and_garbage() -> None:
    rsa_pem = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError, match="Ed25519, P-256 and P-384"):
        PrivateKey.from_pem(rsa_pem)
    with pytest.raises(KeyFormatError, match="not a PEM"):
        PrivateKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFormatError, match="not a PEM"):
        PrivateKey.from_pem(b"hello")


@pytest.mark.parametrize("passphrase", [None, b"a long passphrase"])
def test_save_and_load(tmp_path: Path, passphrase: bytes | None) -> None:
    key = PrivateKey.generate()
    path = tmp_path / "issuer.pem"
    save_private_key(path, key, passphrase)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert file_is_private(path)
    loaded = load_private_key(path, passphrase)
    assert loaded.public_key == key.public_key
    assert loaded.sign(b"x") == key.sign(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["issuer.pem"]


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_saved_file_mode_is_exactly_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        save_private_key(tmp_path / "k.pem", PrivateKey.generate())
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600


def test_file_is_created_0600_not_chmodded_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        opened.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode, **kwargs)

    def no_chmod(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the key file must not be chmod-ed after creation")

    monkeypatch.setattr(keys_module.os, "open", spy_open)
    monkeypatch.setattr(keys_module.os, "chmod", no_chmod)
    save_private_key(tmp_path / "k.pem", PrivateKey.generate())
    creations = [entry for entry in opened if entry[1] & os.O_CREAT]
    assert len(creations) == 1
    created_path, flags, mode = creations[0]
    assert mode == 0o600
    assert flags & os.O_EXCL
    # Written beside the target, then renamed or linked into place.
    assert Path(created_path).parent == tmp_path
    assert Path(created_path).name != "k.pem"


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "issuer.pem"
    first = PrivateKey.generate()
    save_private_key(path, first)
    with pytest.raises(KeyFormatError, match="already exists") as info:
        save_private_key(path, PrivateKey.generate())
    assert str(path) in info.value.message
    assert load_private_key(path).public_key == first.public_key
    second = PrivateKey.generate()
    save_private_key(path, second, overwrite=True)
    assert load_private_key(path).public_key == second.public_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["issuer.pem"]


def test_refuses_to_overwrite_a_file_that_appears_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process creates the file between the existence check and the final step.
    path = tmp_path / "issuer.pem"
    real_link = os.link

    def racing_link(src: Any, dst: Any, **kwargs: Any) -> None:
        Path(dst).write_bytes(b"someone else's key")
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(keys_module.os, "link", racing_link)
    with pytest.raises(KeyFormatError, match="already exists"):
        save_private_key(path, PrivateKey.generate())
    assert path.read_bytes() == b"someone else's key"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["issuer.pem"]


def test_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "issuer.pem"
    old = PrivateKey.generate()
    save_private_key(path, old)

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keys_module.os, "fsync", failing_fsync)
    with pytest.raises(KeyFormatError, match="No space left"):
        save_private_key(path, PrivateKey.generate(), overwrite=True)
    with pytest.raises(KeyFormatError, match="No space left"):
        save_private_key(tmp_path / "new.pem", PrivateKey.generate())
    monkeypatch.undo()
    assert load_private_key(path).public_key == old.public_key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["issuer.pem"]


def test_save_into_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match="cannot create"):
        save_private_key(tmp_path / "missing" / "k.pem", PrivateKey.generate())


def test_load_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(KeyFormatError, match="does not exist") as info:
        load_private_key(missing)
    assert str(missing) in info.value.message
    with pytest.raises(KeyFormatError) as info:
        load_private_key(tmp_path)
    assert str(tmp_path) in info.value.message
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(KeyFormatError, match="not a PEM") as info:
        load_private_key(garbage)
    assert str(garbage) in info.value.message
    huge = tmp_path / "huge.pem"
    huge.write_bytes(b"A" * (1024 * 1024))
    with pytest.raises(KeyFormatError, match="too large"):
        load_private_key(huge)


def test_load_wrong_passphrase_names_path_not_secret(tmp_path: Path) -> None:
    path = tmp_path / "enc.pem"
    key = PrivateKey.generate()
    save_private_key(path, key, b"right")
    with pytest.raises(KeyFormatError, match="wrong passphrase") as info:
        load_private_key(path, b"wrong")
    assert str(path) in info.value.message
    body = path.read_text().splitlines()[1]
    assert body[:20] not in info.value.message
    with pytest.raises(KeyFormatError, match="passphrase is required"):
        load_private_key(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_private_key(path, PrivateKey.generate())
    assert file_is_private(path)
    for mode, private in ((0o644, False), (0o640, False), (0o604, False), (0o400, True)):
        path.chmod(mode)
        assert file_is_private(path) is private, oct(mode)
    with pytest.raises(KeyFormatError, match="missing"):
        file_is_private(tmp_path / "missing")
