"""base58btc, multibase and multicodec varints: published vectors, round trips, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core.errors import KeyFormatError
from issuer.core.multibase import (
    ED25519_PRIV,
    ED25519_PUB,
    P256_PRIV,
    P256_PUB,
    P384_PUB,
    X25519_PUB,
    add_codec_prefix,
    b58decode,
    b58encode,
    b64url_decode,
    b64url_encode,
    decode_multikey,
    encode_multikey,
    multibase_decode,
    multibase_encode,
    split_codec_prefix,
    varint_decode,
    varint_encode,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

# draft-msporny-base58-03 §5 (test vectors) and multiformats/multibase tests/test5.csv,
# test6.csv ("yes mani !" with leading zero bytes) and test1.csv ("Decentralize everything!!").
BASE58_VECTORS = [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (
        b"The quick brown fox jumps over the lazy dog.",
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
    ),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    (b"yes mani !", "7paNL19xttacUY"),
    (b"\0yes mani !", "17paNL19xttacUY"),
    (b"\0\0yes mani !", "117paNL19xttacUY"),
    (b"Decentralize everything!!", "UXE7GvtEk8XTXs1GF8HSGbVA9FCX9SEBPe"),
]

# multiformats/multibase tests/test1.csv and test6.csv, base64url column.
BASE64URL_MULTIBASE_VECTORS = [
    (b"Decentralize everything!!", "uRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ"),
    (b"\0\0yes mani !", "uAAB5ZXMgbWFuaSAh"),
]

# multiformats/unsigned-varint README examples.
VARINT_VECTORS = [
    (1, "01"),
    (127, "7f"),
    (128, "8001"),
    (255, "ff01"),
    (300, "ac02"),
    (16384, "808001"),
]


@pytest.mark.parametrize(("data", "encoded"), BASE58_VECTORS)
def test_base58_published_vectors(data: bytes, encoded: str) -> None:
    assert b58encode(data) == encoded
    assert b58decode(encoded) == data
    assert multibase_encode(data) == "z" + encoded
    assert multibase_decode("z" + encoded) == data


@pytest.mark.parametrize(("data", "encoded"), BASE64URL_MULTIBASE_VECTORS)
def test_base64url_multibase_published_vectors(data: bytes, encoded: str) -> None:
    assert multibase_encode(data, "u") == encoded
    assert multibase_decode(encoded) == data


def test_base58_against_signature_vectors() -> None:
    # The W3C vc-di-eddsa vectors give each signature both as hex and as base58btc multibase.
    for folder, stem in (("eddsa-rdfc-2022", "DataInt"), ("eddsa-jcs-2022", "JCS")):
        base = VECTORS / "w3c-vc-di-eddsa" / folder
        signature = bytes.fromhex((base / f"sigHex{stem}.txt").read_text().strip())
        proof_value = (base / f"sigBTC58{stem}.txt").read_text().strip()
        assert multibase_encode(signature) == proof_value
        assert multibase_decode(proof_value) == signature
    hashes = json.loads(
        (VECTORS / "1edtech-impl-guide-ob30-eddsa-rdfc-2022" / "hashes.json").read_text()
    )
    assert multibase_encode(bytes.fromhex(hashes["signatureHex"])) == hashes["proofValue"]


def test_base58_leading_zeros_and_empty() -> None:
    assert b58encode(b"") == ""
    assert b58decode("") == b""
    assert b58encode(b"\0") == "1"
    assert b58encode(b"\0\0\0") == "111"
    assert b58decode("111") == b"\0\0\0"
    assert b58decode("11" + b58encode(b"\x01")) == b"\0\0\x01"


@settings(max_examples=300, database=None)
@given(st.binary(max_size=80), st.integers(min_value=0, max_value=4))
def test_base58_round_trip(data: bytes, zeros: int) -> None:
    data = b"\0" * zeros + data
    encoded = b58encode(data)
    assert b58decode(encoded) == data
    assert len(encoded) - len(encoded.lstrip("1")) == len(data) - len(data.lstrip(b"\0"))


@settings(max_examples=300, database=None)
@given(st.binary(min_size=1, max_size=80))
def test_multibase_round_trip_both_bases(data: bytes) -> None:
    for base in ("z", "u"):
        encoded = multibase_encode(data, base)
        assert encoded[0] == base
        assert "=" not in encoded
        assert multibase_decode(encoded) == data


@pytest.mark.parametrize(("number", "hex_bytes"), VARINT_VECTORS)
def test_varint_published_vectors(number: int, hex_bytes: str) -> None:
    assert varint_encode(number) == bytes.fromhex(hex_bytes)
    assert varint_decode(bytes.fromhex(hex_bytes) + b"tail") == (number, len(hex_bytes) // 2)


@pytest.mark.parametrize(
    ("codec", "prefix"),
    [
        # The two-byte prefixes quoted by the Multikey and did:key specifications.
        (ED25519_PUB, "ed01"),
        (X25519_PUB, "ec01"),
        (P256_PUB, "8024"),
        (P384_PUB, "8124"),
        (ED25519_PRIV, "8026"),
        (P256_PRIV, "8626"),
    ],
)
def test_multicodec_prefixes(codec: int, prefix: str) -> None:
    assert add_codec_prefix(codec, b"key") == bytes.fromhex(prefix) + b"key"
    assert split_codec_prefix(bytes.fromhex(prefix) + b"key") == (codec, b"key")


@settings(max_examples=300, database=None)
@given(st.integers(min_value=0, max_value=(1 << 63) - 1))
def test_varint_round_trip(number: int) -> None:
    encoded = varint_encode(number)
    assert varint_decode(encoded) == (number, len(encoded))


def test_multikey_round_trip_and_prefix() -> None:
    key = bytes(range(32))
    encoded = encode_multikey(ED25519_PUB, key)
    assert encoded.startswith("z6Mk")
    assert decode_multikey(encoded) == (ED25519_PUB, key)
    assert decode_multikey(encoded, expected={ED25519_PUB}) == (ED25519_PUB, key)
    compressed = b"\x02" + bytes(32)
    assert encode_multikey(P256_PUB, compressed).startswith("zDn")


# --- bad input ---------------------------------------------------------------------------

BAD_MULTIBASE = [
    "",  # empty
    "z",  # prefix without data
    "u",
    "m" + "RGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ",  # base64 (not url) is not accepted
    "Z" + "7paNL19xttacUY",  # base58flickr prefix
    "f796573206d616e692021",  # base16 prefix
    " z7paNL19xttacUY",  # leading space
    "z7paNL19xttac0Y",  # '0' is not in the base58btc alphabet
    "z7paNL19xttacOY",  # 'O'
    "z7paNL19xttacIY",  # 'I'
    "z7paNL19xttaclY",  # 'l'
    "z7paNL19xttac+Y",
    "z7paNL19xttac Y",
    "z7paNL19xttacéY",  # non-ASCII
    "uRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIQ==",  # padding
    "uRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchI/",  # base64 alphabet, not base64url
    "uRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchI+",
    "uRGVjZW50cmFsaXplIGV2ZXJ5dGhpbmchIR",  # stray low bits: non-canonical
    "uRGVjZ",  # length % 4 == 1 cannot be base64
]


@pytest.mark.parametrize("value", BAD_MULTIBASE)
def test_bad_multibase_raises_key_format_error(value: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        multibase_decode(value)
    body = value[1:]
    # The input might be a private key: the message must not repeat it.
    if len(body) >= 4:
        assert body not in info.value.message


@pytest.mark.parametrize("value", [None, b"z7paNL19xttacUY", 42])
def test_non_string_multibase_raises(value: object) -> None:
    with pytest.raises(KeyFormatError):
        multibase_decode(value)  # type: ignore[arg-type]


def test_b58decode_rejects_non_alphabet_with_position_only() -> None:
    secret = "3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq0"
    with pytest.raises(KeyFormatError) as info:
        b58decode(secret)
    assert "position 47" in info.value.message
    assert secret[:-1] not in info.value.message


@pytest.mark.parametrize("value", ["AA=", "A", "AAAA=", "A*AA", "AB"])
def test_b64url_decode_is_strict(value: str) -> None:
    # "AB" decodes to one byte with non-zero stray bits; canonical is "AA".
    with pytest.raises(KeyFormatError):
        b64url_decode(value)


def test_b64url_encode_has_no_padding() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing at all
        b"\x80",  # continuation bit set, then nothing
        b"\xed\x81",  # truncated second byte
        b"\x81\x00",  # value 1 in two bytes: not minimal
        b"\x80" * 9 + b"\x01",  # longer than 9 bytes
    ],
)
def test_bad_varints(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        varint_decode(data)


@pytest.mark.parametrize("number", [-1, 1 << 63])
def test_varint_out_of_range(number: int) -> None:
    with pytest.raises(KeyFormatError):
        varint_encode(number)


def test_multikey_wrong_length() -> None:
    for length in (0, 31, 33, 64):
        value = multibase_encode(add_codec_prefix(ED25519_PUB, bytes(length)))
        with pytest.raises(KeyFormatError, match="32 bytes"):
            decode_multikey(value)
    with pytest.raises(KeyFormatError):
        encode_multikey(ED25519_PUB, bytes(31))
    with pytest.raises(KeyFormatError, match="33 bytes"):
        decode_multikey(multibase_encode(add_codec_prefix(P256_PUB, bytes(65))))


def test_multikey_wrong_codec() -> None:
    x25519 = encode_multikey(X25519_PUB, bytes(32))
    with pytest.raises(KeyFormatError, match="x25519-pub"):
        decode_multikey(x25519, expected={ED25519_PUB})
    rsa_codec = multibase_encode(add_codec_prefix(0x1205, bytes(270)))
    with pytest.raises(KeyFormatError, match="0x1205"):
        decode_multikey(rsa_codec)


def test_multikey_must_be_base58btc() -> None:
    as_base64url = multibase_encode(add_codec_prefix(ED25519_PUB, bytes(32)), "u")
    with pytest.raises(KeyFormatError, match="base58btc"):
        decode_multikey(as_base64url)


def test_private_multikey_errors_do_not_echo_input() -> None:
    pair = json.loads((VECTORS / "w3c-vc-di-eddsa" / "keyPair.json").read_text())
    secret = pair["privateKeyMultibase"]
    truncated = secret[:-3]
    with pytest.raises(KeyFormatError) as info:
        decode_multikey(truncated)
    assert truncated[1:12] not in info.value.message
    with pytest.raises(KeyFormatError) as info:
        decode_multikey(secret, expected={ED25519_PUB})
    assert secret[1:12] not in info.value.message
