"""Signing keys, verification keys and the ways they are written down.

* :class:`PublicKey` verifies Ed25519 (RFC 8032), ECDSA on P-256/P-384/P-521 with JWS raw
  ``r || s`` signatures (RFC 7518 §3.4) and RSA PKCS#1 v1.5 / PSS (RFC 7518 §3.3, §3.5).
  RSA is for checking other issuers' credentials only; this issuer never signs with it.
* :class:`PrivateKey` signs with Ed25519, P-256 (ES256) or P-384 (ES384) and round-trips
  through PKCS#8 PEM. ECDSA signatures are deterministic (RFC 6979), so the published
  ECDSA Data Integrity vectors are reproduced byte for byte.
* Key files are written atomically with mode 0600 and never overwritten by accident.
* Verification methods: W3C Controlled Identifiers v1.0 §2.2.2 Multikey and §2.2.3
  JsonWebKey, plus the older Ed25519VerificationKey2020/2018 and JsonWebKey2020 forms.

No message, ``repr`` or ``str`` produced here contains private key material.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from issuer.core.errors import KeyFormatError
from issuer.core.multibase import (
    ED25519_PRIV,
    ED25519_PUB,
    P256_PUB,
    P384_PRIV,
    P384_PUB,
    P521_PUB,
    PRIVATE_CODECS,
    X25519_PUB,
    b58decode,
    b64url_decode,
    b64url_encode,
    decode_multikey,
    encode_multikey,
)

__all__ = [
    "MIN_RSA_BITS",
    "KeyType",
    "PathLike",
    "PrivateKey",
    "PublicKey",
    "file_is_private",
    "jsonwebkey_document",
    "load_private_key",
    "multikey_document",
    "public_key_from_jwk",
    "public_key_from_multibase",
    "public_key_from_verification_method",
    "save_private_key",
    "x25519_from_ed25519",
]

KeyType = Literal["Ed25519", "P-256", "P-384", "P-521", "RSA"]
PathLike = str | os.PathLike[str]

MIN_RSA_BITS = 2048
# A PKCS#8 PEM for Ed25519, P-256 or P-384 is well under 1 KiB; anything far larger is not a key.
_MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class _Curve:
    name: str  # JWK "crv" (RFC 7518 §6.2.1.1)
    curve: type[ec.EllipticCurve]
    size: int  # bytes per coordinate and per r / s
    hash: type[hashes.HashAlgorithm]
    alg: str
    codec: int


_CURVES: dict[str, _Curve] = {
    c.name: c
    for c in (
        _Curve("P-256", ec.SECP256R1, 32, hashes.SHA256, "ES256", P256_PUB),
        _Curve("P-384", ec.SECP384R1, 48, hashes.SHA384, "ES384", P384_PUB),
        _Curve("P-521", ec.SECP521R1, 66, hashes.SHA512, "ES512", P521_PUB),
    )
}
_CURVE_BY_OPENSSL_NAME = {c.curve.name: c for c in _CURVES.values()}
_CURVE_BY_CODEC = {c.codec: c for c in _CURVES.values()}

_RSA_ALGS: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    "RS256": ("pkcs1", hashes.SHA256),
    "RS384": ("pkcs1", hashes.SHA384),
    "RS512": ("pkcs1", hashes.SHA512),
    "PS256": ("pss", hashes.SHA256),
    "PS384": ("pss", hashes.SHA384),
    "PS512": ("pss", hashes.SHA512),
}
# "Ed25519" is the fully specified name from RFC 9864; "EdDSA" is the RFC 8037 one.
_EDDSA_ALGS = frozenset({"EdDSA", "Ed25519"})

# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}

# Edwards25519 (RFC 8032 §5.1): field prime and curve constant d.
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


@lru_cache(maxsize=4096)
def _ed25519_encoding_is_valid(raw: bytes) -> bool:
    """RFC 8032 §5.1.3 point decoding: is ``raw`` a canonical encoding of a curve point?

    Cached: the same few issuer keys are decoded for every credential verified, and the two
    modular exponentiations here cost more than the signature check itself.
    """
    y = int.from_bytes(raw, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return False
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return sign == 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    return (x * x - x2) % _P == 0


def _check_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise KeyFormatError(f"{what} must be bytes")


class PublicKey:
    """A public key that can check signatures and be published as Multikey or JWK."""

    __slots__ = ("_curve", "_key", "_key_type")

    def __init__(
        self, key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    ) -> None:
        self._curve: _Curve | None = None
        if isinstance(key, ed25519.Ed25519PublicKey):
            self._key_type: KeyType = "Ed25519"
        elif isinstance(key, ec.EllipticCurvePublicKey):
            curve = _CURVE_BY_OPENSSL_NAME.get(key.curve.name)
            if curve is None:
                raise KeyFormatError(f"unsupported elliptic curve {key.curve.name}")
            self._curve = curve
            self._key_type = cast(KeyType, curve.name)
        elif isinstance(key, rsa.RSAPublicKey):
            if key.key_size < MIN_RSA_BITS:
                raise KeyFormatError(
                    f"RSA keys need at least {MIN_RSA_BITS} bits; this one has {key.key_size}"
                )
            self._key_type = "RSA"
        else:
            raise KeyFormatError("unsupported public key type")
        self._key = key

    @classmethod
    def from_raw_bytes(cls, key_type: str, data: bytes) -> PublicKey:
        """Ed25519: the 32-byte key (RFC 8032 §5.1.5). EC: a SEC1 point, compressed or not."""
        data = _check_bytes(data, "public key")
        if key_type == "Ed25519":
            if len(data) != 32:
                raise KeyFormatError(f"an Ed25519 public key is 32 bytes, got {len(data)}")
            if not _ed25519_encoding_is_valid(data):
                raise KeyFormatError("the Ed25519 public key is not a valid curve point")
            return cls(ed25519.Ed25519PublicKey.from_public_bytes(data))
        curve = _CURVES.get(key_type)
        if curve is None:
            raise KeyFormatError(f"no raw form for key type {key_type[:20]!r}")
        try:
            return cls(ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), data))
        except ValueError:
            raise KeyFormatError(f"the {key_type} public key is not a valid curve point") from None

    @property
    def key_type(self) -> KeyType:
        return self._key_type

    @property
    def native(self) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
        """The underlying ``cryptography`` key object."""
        return self._key

    @property
    def jws_alg(self) -> str:
        """Default JWS ``alg`` for this key (RFC 7518 §3.1, RFC 8037 §3.1)."""
        if self._key_type == "Ed25519":
            return "EdDSA"
        if self._curve is not None:
            return self._curve.alg
        return "RS256"

    @property
    def raw_bytes(self) -> bytes:
        """Ed25519: the 32-byte key. EC: the SEC1 compressed point. RSA has no raw form."""
        if isinstance(self._key, ed25519.Ed25519PublicKey):
            return self._key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        if isinstance(self._key, ec.EllipticCurvePublicKey):
            return self._key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            )
        raise KeyFormatError("RSA keys have no raw byte form; use to_jwk()")

    def to_multibase(self) -> str:
        """``publicKeyMultibase`` per Controlled Identifiers v1.0 §2.2.2 Multikey.

        Ed25519 gives ``z6Mk…`` (codec 0xed), P-256 ``zDn…`` (0x1200, compressed point),
        P-384 ``z82…`` (0x1201), P-521 ``z2J9…`` (0x1202).
        """
        if self._key_type == "Ed25519":
            return encode_multikey(ED25519_PUB, self.raw_bytes)
        if self._curve is not None:
            return encode_multikey(self._curve.codec, self.raw_bytes)
        raise KeyFormatError("RSA keys cannot be written as a Multikey")

    @property
    def fingerprint(self) -> str:
        """The did:key method-specific identifier (did-method-key §2 Format): the Multikey."""
        return self.to_multibase()

    def to_jwk(self) -> dict[str, str]:
        """Public JWK: OKP (RFC 8037 §2), EC (RFC 7518 §6.2.1) or RSA (RFC 7518 §6.3.1)."""
        key = self._key
        if isinstance(key, ed25519.Ed25519PublicKey):
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw_bytes)}
        if isinstance(key, ec.EllipticCurvePublicKey):
            assert self._curve is not None
            numbers = key.public_numbers()
            size = self._curve.size
            return {
                "kty": "EC",
                "crv": self._curve.name,
                "x": b64url_encode(numbers.x.to_bytes(size, "big")),
                "y": b64url_encode(numbers.y.to_bytes(size, "big")),
            }
        numbers = key.public_numbers()
        return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}

    def thumbprint(self) -> str:
        """RFC 7638 §3 JWK thumbprint with SHA-256, base64url without padding."""
        jwk = self.to_jwk()
        members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
        return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())

    def verify(self, signature: bytes, message: bytes, *, alg: str | None = None) -> bool:
        """Check ``signature`` over ``message``; ``False`` for any signature that does not verify.

        Ed25519: RFC 8032 §5.1.7. EC: the JWS raw ``r || s`` form hashed by curve (RFC 7518
        §3.4: ES256 / ES384 / ES512). RSA: RS256 by default, or RS384 / RS512 / PS256 / PS384 /
        PS512 (RFC 7518 §3.3, §3.5; PSS salt length = hash length). An ``alg`` that does not
        belong to this key raises :class:`KeyFormatError`: that is a caller mistake (or an
        algorithm-confusion attempt), not a bad signature.
        """
        signature = _check_bytes(signature, "signature")
        message = _check_bytes(message, "message")
        key = self._key
        try:
            if isinstance(key, ed25519.Ed25519PublicKey):
                self._check_alg(alg, _EDDSA_ALGS)
                if len(signature) != 64:
                    return False
                key.verify(signature, message)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                assert self._curve is not None
                curve = self._curve
                self._check_alg(alg, {curve.alg})
                if len(signature) != 2 * curve.size:
                    return False
                r = int.from_bytes(signature[: curve.size], "big")
                s = int.from_bytes(signature[curve.size :], "big")
                key.verify(encode_dss_signature(r, s), message, ec.ECDSA(curve.hash()))
            else:
                chosen = self._check_alg(alg, _RSA_ALGS.keys()) or "RS256"
                scheme, hash_cls = _RSA_ALGS[chosen]
                pad: padding.AsymmetricPadding
                if scheme == "pss":
                    pad = padding.PSS(
                        mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size
                    )
                else:
                    pad = padding.PKCS1v15()
                key.verify(signature, message, pad, hash_cls())
        except InvalidSignature:
            return False
        return True

    def _check_alg(self, alg: str | None, allowed: Collection[str]) -> str | None:
        if alg is not None and (not isinstance(alg, str) or alg not in allowed):
            shown = alg[:20] if isinstance(alg, str) else type(alg).__name__
            raise KeyFormatError(f"algorithm {shown!r} cannot be used with a {self._key_type} key")
        return alg

    def _spki(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._spki() == other._spki()

    def __hash__(self) -> int:
        return hash(self._spki())

    def __repr__(self) -> str:
        label = self.thumbprint() if self._key_type == "RSA" else self.to_multibase()
        return f"PublicKey({self._key_type}, {label})"


def _b64url_uint(number: int) -> str:
    return b64url_encode(number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big"))


#: The elliptic curves this issuer signs with.
_SIGNING_CURVES = ("P-256", "P-384")


class PrivateKey:
    """An Ed25519, P-256 or P-384 signing key. Its ``repr`` and ``str`` never show key
    material."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> None:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
                raise KeyFormatError("only P-256 and P-384 elliptic-curve keys can sign here")
        elif not isinstance(key, ed25519.Ed25519PrivateKey):
            raise KeyFormatError("only Ed25519, P-256 and P-384 private keys can sign here")
        self._key = key
        self._public = PublicKey(key.public_key())

    # --- construction -----------------------------------------------------------------

    @classmethod
    def generate(cls, key_type: str = "Ed25519") -> PrivateKey:
        """A fresh key from the operating system's CSPRNG."""
        if key_type == "Ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate())
        if key_type in _SIGNING_CURVES:
            return cls(ec.generate_private_key(_CURVES[key_type].curve()))
        raise KeyFormatError("key_type must be 'Ed25519', 'P-256' or 'P-384'")

    @classmethod
    def from_ed25519_seed(cls, seed: bytes) -> PrivateKey:
        """RFC 8032 §5.1.5 seed (32 bytes), or NaCl's 64-byte ``seed || public`` secret key."""
        seed = _check_bytes(seed, "seed")
        if len(seed) == 64:
            seed, public_half = seed[:32], seed[32:]
            key = cls(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
            if not secrets.compare_digest(key.public_key.raw_bytes, public_half):
                raise KeyFormatError(
                    "the 64-byte Ed25519 key's public half does not match its seed"
                )
            return key
        if len(seed) != 32:
            raise KeyFormatError(
                f"an Ed25519 private key is a 32-byte seed (or 64 bytes seed+public), "
                f"got {len(seed)} bytes"
            )
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_seed_hex(cls, text: str) -> PrivateKey:
        """Ed25519 seed as hex: 64 hex digits, or 128 for the NaCl seed+public layout."""
        if not isinstance(text, str):
            raise KeyFormatError("the hex seed must be a string")
        try:
            seed = bytes.fromhex(text.strip())
        except ValueError:
            raise KeyFormatError("the Ed25519 seed is not valid hex") from None
        return cls.from_ed25519_seed(seed)

    @classmethod
    def from_private_multibase(cls, value: str) -> PrivateKey:
        """``secretKeyMultibase`` (Controlled Identifiers §2.2.2): ed25519-priv, p256-priv or
        p384-priv."""
        codec, key_bytes = decode_multikey(value, expected=PRIVATE_CODECS)
        if codec == ED25519_PRIV:
            return cls.from_ed25519_seed(key_bytes)
        return cls._from_ec_scalar("P-384" if codec == P384_PRIV else "P-256", key_bytes)

    @classmethod
    def _from_ec_scalar(cls, curve_name: str, scalar: bytes) -> PrivateKey:
        try:
            key = ec.derive_private_key(int.from_bytes(scalar, "big"), _CURVES[curve_name].curve())
        except ValueError:
            raise KeyFormatError(f"the {curve_name} private scalar is out of range") from None
        return cls(key)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PrivateKey:
        """Private JWK with ``d``: OKP/Ed25519 (RFC 8037 §2) or EC/P-256, P-384 (RFC 7518
        §6.2.2)."""
        if not isinstance(jwk, Mapping):
            raise KeyFormatError("a JWK must be a JSON object")
        if "d" not in jwk:
            raise KeyFormatError("the JWK has no private member 'd'")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        if kty == "OKP" and crv == "Ed25519":
            d = _jwk_bytes(jwk, "d", 32)
            key = cls(ed25519.Ed25519PrivateKey.from_private_bytes(d))
        elif kty == "EC" and crv in _SIGNING_CURVES:
            key = cls._from_ec_scalar(crv, _jwk_bytes(jwk, "d", _CURVES[crv].size))
        else:
            raise KeyFormatError("private JWKs must be OKP/Ed25519 or EC/P-256 or EC/P-384")
        # A JWK whose public members belong to another key is corrupt; refuse it.
        public = key.public_key.to_jwk()
        for member in ("x", "y"):
            if member in jwk and jwk[member] != public.get(member):
                raise KeyFormatError(f"the JWK's public member '{member}' does not match 'd'")
        return key

    @classmethod
    def from_pem(cls, data: bytes | str, passphrase: bytes | None = None) -> PrivateKey:
        """PKCS#8 PEM (RFC 5958), optionally encrypted (RFC 8018 PBES2)."""
        if isinstance(data, str):
            data = data.encode("ascii", "replace")
        data = _check_bytes(data, "PEM data")
        if passphrase is not None:
            passphrase = _check_bytes(passphrase, "passphrase")
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            # cryptography signals "encrypted but no password" and the reverse with TypeError.
            if passphrase is None:
                raise KeyFormatError(
                    "the private key is encrypted; a passphrase is required"
                ) from None
            raise KeyFormatError(
                "the private key is not encrypted, but a passphrase was given"
            ) from None
        except ValueError:
            if passphrase is not None and b"ENCRYPTED" in data:
                raise KeyFormatError(
                    "wrong passphrase: the private key could not be decrypted"
                ) from None
            raise KeyFormatError("not a PEM private key") from None
        except UnsupportedAlgorithm:
            raise KeyFormatError("the private key uses an unsupported algorithm") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyFormatError("only Ed25519, P-256 and P-384 private keys can sign here")
        return cls(key)

    # --- use --------------------------------------------------------------------------

    @property
    def key_type(self) -> KeyType:
        return self._public.key_type

    @property
    def public_key(self) -> PublicKey:
        return self._public

    @property
    def jws_alg(self) -> str:
        """``EdDSA`` (RFC 8037 §3.1), ``ES256`` or ``ES384`` (RFC 7518 §3.4)."""
        return self._public.jws_alg

    def sign(self, message: bytes) -> bytes:
        """Ed25519: 64 raw bytes (RFC 8032 §5.1.6). P-256 / P-384: the raw ``r || s`` of
        ES256 / ES384 (RFC 7518 §3.4), 64 / 96 bytes, with the nonce derived from the key and
        the message (RFC 6979 §3.2): no weak random number can leak the key."""
        message = _check_bytes(message, "message")
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(message)
        curve = _CURVE_BY_OPENSSL_NAME[self._key.curve.name]
        der = self._key.sign(message, ec.ECDSA(curve.hash(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return r.to_bytes(curve.size, "big") + s.to_bytes(curve.size, "big")

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        """PKCS#8 PEM; encrypted with the best scheme ``cryptography`` offers if a passphrase
        is given."""
        encryption: serialization.KeySerializationEncryption
        if passphrase is None:
            encryption = serialization.NoEncryption()
        else:
            passphrase = _check_bytes(passphrase, "passphrase")
            if not passphrase:
                raise KeyFormatError("the passphrase must not be empty")
            encryption = serialization.BestAvailableEncryption(passphrase)
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return f"<PrivateKey {self.key_type}>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickles end up in caches and task queues; a private key must not travel that way.
        raise TypeError("PrivateKey objects cannot be pickled")


def _jwk_bytes(jwk: Mapping[str, Any], member: str, length: int) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str):
        raise KeyFormatError(f"the JWK member '{member}' is missing or not a string")
    try:
        data = b64url_decode(value)
    except KeyFormatError:
        raise KeyFormatError(f"the JWK member '{member}' is not base64url") from None
    if len(data) != length:
        raise KeyFormatError(f"the JWK member '{member}' must be {length} bytes, got {len(data)}")
    return data


# --- public keys from their published forms ------------------------------------------------


def public_key_from_multibase(value: str) -> PublicKey:
    """Parse a Multikey ``publicKeyMultibase`` (Controlled Identifiers v1.0 §2.2.2)."""
    codec, key_bytes = decode_multikey(value)
    if codec in PRIVATE_CODECS:
        raise KeyFormatError("this Multikey holds a private key; a public key was expected")
    if codec == X25519_PUB:
        raise KeyFormatError("X25519 keys are for key agreement and cannot verify signatures")
    if codec == ED25519_PUB:
        return PublicKey.from_raw_bytes("Ed25519", key_bytes)
    return PublicKey.from_raw_bytes(_CURVE_BY_CODEC[codec].name, key_bytes)


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Parse a public JWK (RFC 7517 §4; OKP RFC 8037 §2; EC/RSA RFC 7518 §6).

    Private members such as ``d`` are ignored and never read or repeated.
    """
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("a JWK must be a JSON object")
    if jwk.get("use", "sig") != "sig":
        raise KeyFormatError("the JWK is marked for encryption ('use' is not 'sig')")
    kty = jwk.get("kty")
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise KeyFormatError("OKP JWKs must use crv 'Ed25519' to verify signatures")
        return PublicKey.from_raw_bytes("Ed25519", _jwk_bytes(jwk, "x", 32))
    if kty == "EC":
        crv = jwk.get("crv")
        curve = _CURVES.get(crv) if isinstance(crv, str) else None
        if curve is None:
            raise KeyFormatError("EC JWKs must use crv P-256, P-384 or P-521")
        x = _jwk_bytes(jwk, "x", curve.size)
        y = _jwk_bytes(jwk, "y", curve.size)
        return PublicKey.from_raw_bytes(curve.name, b"\x04" + x + y)
    if kty == "RSA":
        n = int.from_bytes(_jwk_any_bytes(jwk, "n"), "big")
        e = int.from_bytes(_jwk_any_bytes(jwk, "e"), "big")
        try:
            return PublicKey(rsa.RSAPublicNumbers(e, n).public_key())
        except ValueError:
            raise KeyFormatError("the RSA JWK does not describe a valid key") from None
    raise KeyFormatError("the JWK 'kty' must be OKP, EC or RSA")


def _jwk_any_bytes(jwk: Mapping[str, Any], member: str) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str) or not value:
        raise KeyFormatError(f"the JWK member '{member}' is missing or not a string")
    try:
        return b64url_decode(value)
    except KeyFormatError:
        raise KeyFormatError(f"the JWK member '{member}' is not base64url") from None


def public_key_from_verification_method(vm: Mapping[str, Any]) -> PublicKey:
    """The key in a verification method (DID Core §5.2; Controlled Identifiers v1.0 §2.2).

    Supported types: ``Multikey`` (§2.2.2), ``JsonWebKey`` (§2.2.3), ``JsonWebKey2020``,
    ``Ed25519VerificationKey2020`` (``publicKeyMultibase`` with the ed25519-pub prefix) and
    ``Ed25519VerificationKey2018`` (``publicKeyBase58``, the raw 32 bytes).
    """
    if not isinstance(vm, Mapping):
        raise KeyFormatError("a verification method must be a JSON object")
    vm_type = vm.get("type")
    if vm_type == "Multikey":
        return public_key_from_multibase(_vm_string(vm, "publicKeyMultibase"))
    if vm_type == "Ed25519VerificationKey2020":
        _, raw = decode_multikey(_vm_string(vm, "publicKeyMultibase"), expected={ED25519_PUB})
        return PublicKey.from_raw_bytes("Ed25519", raw)
    if vm_type == "Ed25519VerificationKey2018":
        return PublicKey.from_raw_bytes("Ed25519", b58decode(_vm_string(vm, "publicKeyBase58")))
    if vm_type in ("JsonWebKey", "JsonWebKey2020"):
        jwk = vm.get("publicKeyJwk")
        if not isinstance(jwk, Mapping):
            raise KeyFormatError(f"a {vm_type} verification method needs a 'publicKeyJwk' object")
        return public_key_from_jwk(jwk)
    shown = vm_type[:60] if isinstance(vm_type, str) else type(vm_type).__name__
    raise KeyFormatError(f"unsupported verification method type {shown!r}")


def _vm_string(vm: Mapping[str, Any], member: str) -> str:
    value = vm.get(member)
    if not isinstance(value, str) or not value:
        raise KeyFormatError(f"the verification method has no '{member}' string")
    return value


def multikey_document(key: PublicKey, vm_id: str, controller: str) -> dict[str, str]:
    """A Multikey verification method (Controlled Identifiers v1.0 §2.2.2)."""
    return {
        "id": vm_id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": key.to_multibase(),
    }


def jsonwebkey_document(key: PublicKey, vm_id: str, controller: str) -> dict[str, Any]:
    """A JsonWebKey verification method (Controlled Identifiers v1.0 §2.2.3)."""
    return {
        "id": vm_id,
        "type": "JsonWebKey",
        "controller": controller,
        "publicKeyJwk": key.to_jwk(),
    }


def x25519_from_ed25519(key: PublicKey) -> bytes:
    """The X25519 public key (32 bytes) that corresponds to an Ed25519 public key.

    RFC 7748 §4.1 birational map ``u = (1 + y) / (1 - y) mod p``; did:key uses it for the
    derived key-agreement key (did-method-key §3.1.6 Derive Encryption Key Algorithm).
    """
    if key.key_type != "Ed25519":
        raise KeyFormatError("only Ed25519 keys have an X25519 counterpart")
    y = int.from_bytes(key.raw_bytes, "little") & ((1 << 255) - 1)
    denominator = (1 - y) % _P
    if denominator == 0:
        raise KeyFormatError("the Ed25519 key is the identity point and has no X25519 form")
    u = (1 + y) * pow(denominator, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


# --- key files -----------------------------------------------------------------------------


def save_private_key(
    path: PathLike,
    key: PrivateKey,
    passphrase: bytes | None = None,
    *,
    overwrite: bool = False,
) -> None:
    """Write ``key`` as PKCS#8 PEM to ``path``, atomically and readable by the owner only.

    The bytes go to a temporary file in the same directory, created with mode 0600 (so the
    key is never readable by others, not even for a moment), flushed to disk, and then moved
    into place. An existing file is kept unless ``overwrite`` is true.
    """
    target = Path(path)
    pem = key.to_pem(passphrase)
    if not overwrite and target.exists():
        raise KeyFormatError(f"{target} already exists; refusing to overwrite a key file")
    directory = target.parent
    temp = directory / f".{target.name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(temp, flags, 0o600)
    except OSError as exc:
        raise KeyFormatError(f"cannot create a key file in {directory}: {exc.strerror}") from None
    try:
        try:
            if hasattr(os, "fchmod"):
                # The umask may have taken away owner bits; this never grants more than 0600.
                os.fchmod(fd, 0o600)
            view = memoryview(pem)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(temp, target)
        else:
            _link_without_clobber(temp, target)
    except OSError as exc:
        raise KeyFormatError(f"cannot write key file {target}: {exc.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)
    _fsync_directory(directory)


def _link_without_clobber(temp: Path, target: Path) -> None:
    # A hard link fails if the target appeared since the exists() check; os.replace would not.
    try:
        os.link(temp, target)
    except FileExistsError:
        raise KeyFormatError(f"{target} already exists; refusing to overwrite a key file") from None
    except OSError:
        # Some filesystems have no hard links; fall back to a plain atomic rename.
        if target.exists():
            raise KeyFormatError(
                f"{target} already exists; refusing to overwrite a key file"
            ) from None
        os.replace(temp, target)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_private_key(path: PathLike, passphrase: bytes | None = None) -> PrivateKey:
    """Read a PKCS#8 PEM key file written by :func:`save_private_key` (or by OpenSSL)."""
    target = Path(path)
    try:
        with target.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise KeyFormatError(f"key file {target} does not exist") from None
    except PermissionError:
        raise KeyFormatError(f"key file {target} cannot be read: permission denied") from None
    except OSError as exc:
        raise KeyFormatError(f"key file {target} cannot be read: {exc.strerror}") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise KeyFormatError(f"{target} is too large to be a key file")
    try:
        return PrivateKey.from_pem(data, passphrase)
    except KeyFormatError as exc:
        raise KeyFormatError(f"key file {target}: {exc.message}") from None


def file_is_private(path: PathLike) -> bool:
    """True when no group or other permission bits are set on ``path``.

    Only POSIX mode bits are checked; elsewhere (Windows ACLs) this returns True, since
    there is nothing comparable to inspect. The CLI uses it to warn, not to refuse.
    """
    target = Path(path)
    try:
        mode = target.stat().st_mode
    except OSError as exc:
        raise KeyFormatError(f"key file {target} cannot be inspected: {exc.strerror}") from None
    if os.name != "posix":
        return True
    return mode & 0o077 == 0
