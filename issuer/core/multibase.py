"""base58btc, multibase and multicodec: the byte encodings behind Multikey and did:key.

References:

* Multibase (draft-multiformats-multibase-08 §2, §3.1): a one-character prefix names the
  base; ``z`` is base58btc, ``u`` is base64url without padding.
* Bitcoin base58 (draft-msporny-base58-03 §3): leading zero bytes are written as leading ``1``.
* Multicodec / unsigned-varint (https://github.com/multiformats/unsigned-varint): the key type
  is a minimally encoded LEB128 prefix in front of the key bytes.
* W3C Controlled Identifiers v1.0 §2.2.2 Multikey: ``publicKeyMultibase`` =
  ``"z" + base58btc(varint(codec) || key bytes)``.

Every failure raises :class:`~issuer.core.errors.KeyFormatError`. Messages never repeat the
input, because the input may be a private key.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection

from issuer.core.errors import KeyFormatError

__all__ = [
    "BASE58_ALPHABET",
    "CODEC_NAMES",
    "ED25519_PRIV",
    "ED25519_PUB",
    "KEY_LENGTHS",
    "P256_PRIV",
    "P256_PUB",
    "P384_PRIV",
    "P384_PUB",
    "P521_PUB",
    "PRIVATE_CODECS",
    "X25519_PUB",
    "add_codec_prefix",
    "b58decode",
    "b58encode",
    "b64url_decode",
    "b64url_encode",
    "codec_name",
    "decode_multikey",
    "encode_multikey",
    "multibase_decode",
    "multibase_encode",
    "split_codec_prefix",
    "varint_decode",
    "varint_encode",
]

ED25519_PUB = 0xED
ED25519_PRIV = 0x1300
X25519_PUB = 0xEC
P256_PUB = 0x1200
P384_PUB = 0x1201
P521_PUB = 0x1202
P256_PRIV = 0x1306
P384_PRIV = 0x1307

CODEC_NAMES: dict[int, str] = {
    ED25519_PUB: "ed25519-pub",
    ED25519_PRIV: "ed25519-priv",
    X25519_PUB: "x25519-pub",
    P256_PUB: "p256-pub",
    P384_PUB: "p384-pub",
    P521_PUB: "p521-pub",
    P256_PRIV: "p256-priv",
    P384_PRIV: "p384-priv",
}

# Accepted key lengths per codec. EC public keys are SEC1 compressed points, as the
# Multikey section of Controlled Identifiers requires. An Ed25519 private key may come as
# the 32-byte seed or as the 64-byte seed||public layout NaCl and libsodium use.
KEY_LENGTHS: dict[int, tuple[int, ...]] = {
    ED25519_PUB: (32,),
    ED25519_PRIV: (32, 64),
    X25519_PUB: (32,),
    P256_PUB: (33,),
    P384_PUB: (49,),
    P521_PUB: (67,),
    P256_PRIV: (32,),
    P384_PRIV: (48,),
}

PRIVATE_CODECS = frozenset({ED25519_PRIV, P256_PRIV, P384_PRIV})

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(BASE58_ALPHABET)}
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
# A multicodec code fits in 63 bits, hence at most 9 varint bytes.
_MAX_VARINT_BYTES = 9


def codec_name(codec: int) -> str:
    """Human-readable multicodec name, for messages."""
    return CODEC_NAMES.get(codec, f"0x{codec:x}")


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (draft-msporny-base58-03 §3): each leading zero byte becomes ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode` (draft-msporny-base58-03 §3)."""
    if not isinstance(text, str):
        raise KeyFormatError("base58 value must be a string")
    number = 0
    for position, char in enumerate(text):
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise KeyFormatError(
                f"base58 value has a character outside the base58btc alphabet "
                f"at position {position}"
            )
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5; RFC 7515 §2 ``BASE64URL``)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`, for keys and JWTs alike.

    RFC 7515 §2 ``BASE64URL``: the URL-safe alphabet without padding, and no whitespace or
    other characters. RFC 4648 §3.5: the unused low bits of the last character must be
    zero, so that every byte string has exactly one spelling.
    """
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise KeyFormatError("value is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KeyFormatError("value is not unpadded base64url") from None
    # Reject encodings with stray low bits: two spellings of one key must not exist.
    if b64url_encode(data) != text:
        raise KeyFormatError("value is not canonical base64url")
    return data


def multibase_encode(data: bytes, base: str = "z") -> str:
    """Multibase (draft-multiformats-multibase-08 §3.1): ``z`` base58btc or ``u`` base64url."""
    if base == "z":
        return "z" + b58encode(data)
    if base == "u":
        return "u" + b64url_encode(data)
    raise KeyFormatError("only the 'z' (base58btc) and 'u' (base64url) multibases are supported")


def multibase_decode(value: str) -> bytes:
    """Decode a ``z`` (base58btc) or ``u`` (base64url, unpadded) multibase string."""
    if not isinstance(value, str):
        raise KeyFormatError("multibase value must be a string")
    if not value:
        raise KeyFormatError("multibase value is empty")
    prefix, body = value[0], value[1:]
    if not body:
        raise KeyFormatError("multibase value has a prefix but no data")
    if prefix == "z":
        return b58decode(body)
    if prefix == "u":
        return b64url_decode(body)
    raise KeyFormatError("multibase value must start with 'z' (base58btc) or 'u' (base64url)")


def varint_encode(number: int) -> bytes:
    """Unsigned LEB128 varint, minimal length (multiformats unsigned-varint)."""
    if number < 0 or number >= 1 << 63:
        raise KeyFormatError("varint value out of range")
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Read one varint from the start of ``data``; return ``(value, bytes used)``.

    Non-minimal encodings are refused, as the unsigned-varint spec requires.
    """
    number = 0
    for index, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        number |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if byte == 0 and index > 0:
                raise KeyFormatError("multicodec prefix is not minimally encoded")
            return number, index + 1
    raise KeyFormatError("multicodec prefix is truncated or too long")


def add_codec_prefix(codec: int, data: bytes) -> bytes:
    """Prepend the varint multicodec prefix for ``codec``."""
    return varint_encode(codec) + data


def split_codec_prefix(data: bytes) -> tuple[int, bytes]:
    """Split multicodec-prefixed bytes into ``(codec, payload)``."""
    codec, used = varint_decode(data)
    return codec, data[used:]


def encode_multikey(codec: int, key_bytes: bytes) -> str:
    """``"z" + base58btc(varint(codec) || key bytes)`` (Controlled Identifiers §2.2.2)."""
    _check_length(codec, key_bytes)
    return multibase_encode(add_codec_prefix(codec, key_bytes), "z")


def decode_multikey(value: str, expected: Collection[int] | None = None) -> tuple[int, bytes]:
    """Decode a Multikey value into ``(codec, key bytes)`` and check its length.

    ``expected`` limits the codecs accepted; ``None`` accepts every codec in
    :data:`KEY_LENGTHS`. Multikey values are always base58btc (Controlled Identifiers §2.2.2),
    so a ``u`` prefix is refused here.
    """
    if isinstance(value, str) and value and value[0] != "z":
        raise KeyFormatError("a Multikey value must start with 'z' (base58btc)")
    codec, key_bytes = split_codec_prefix(multibase_decode(value))
    allowed = KEY_LENGTHS.keys() if expected is None else expected
    if codec not in allowed or codec not in KEY_LENGTHS:
        wanted = ", ".join(codec_name(c) for c in sorted(allowed))
        raise KeyFormatError(f"Multikey has codec {codec_name(codec)}; expected {wanted}")
    _check_length(codec, key_bytes)
    return codec, key_bytes


def _check_length(codec: int, key_bytes: bytes) -> None:
    lengths = KEY_LENGTHS.get(codec)
    if lengths is None:
        raise KeyFormatError(f"unsupported multicodec {codec_name(codec)}")
    if len(key_bytes) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise KeyFormatError(
            f"{codec_name(codec)} key must be {wanted} bytes, got {len(key_bytes)}"
        )
