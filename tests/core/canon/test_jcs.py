"""JSON Canonicalization Scheme (RFC 8785) and the eddsa-jcs-2022 test vectors."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from pathlib import Path

import pytest

from issuer.core.canon.jcs import jcs
from issuer.core.errors import InputError

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "w3c-vc-di-eddsa"
JCS_VECTORS = VECTORS / "eddsa-jcs-2022"


def test_rfc8785_section_3_2_4_example() -> None:
    source = (
        "{\n"
        '  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        '  "literals": [null, true, false]\n'
        "}"
    )
    expected = (
        '{"literals":[null,true,false],'
        '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert jcs(json.loads(source)) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorts_keys_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    names = [v for _, v in json.loads(jcs(value)).items()]
    # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 in UTF-16 even
    # though it is the larger code point.
    assert names == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), NUMBERS)
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert jcs(number) == text.encode("ascii")
    assert jcs([number]) == f"[{text}]".encode("ascii")


def test_strings_escape_only_what_json_requires() -> None:
    value = '\u00e9\u20ac\U0001f600 \x00\x1f\x7f\u2028 \b\t\n\f\r "\\ /'
    expected = '"\u00e9\u20ac\U0001f600 \\u0000\\u001f\x7f\u2028 \\b\\t\\n\\f\\r \\"\\\\ /"'
    assert jcs(value) == expected.encode("utf-8")


def test_integers_and_nesting() -> None:
    value = {"b": [1, -1, 2**53 - 1, -(2**53 - 1), True, None], "a": {"d": {}, "c": []}}
    expected = b'{"a":{"c":[],"d":{}},"b":[1,-1,9007199254740991,-9007199254740991,true,null]}'
    assert jcs(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "NaN"),
        (math.inf, "NaN and infinities"),
        ({"x": -math.inf}, "NaN and infinities"),
        (2**53, "2\\*\\*53"),
        ([-(2**60)], "2\\*\\*53"),
        ({1: "x"}, "keys must be strings"),
        ({"\ud800": 1}, "lone surrogate"),
        ("\udc00", "non-UTF-8"),
        ({"x": object()}, "unsupported type"),
        ({"x": b"bytes"}, "unsupported type"),
    ],
)
def test_values_jcs_cannot_represent_are_input_errors(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        jcs(value)


def test_deep_nesting_is_an_input_error() -> None:
    value: list = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(InputError, match="nested too deeply"):
        jcs(value)


def test_w3c_eddsa_jcs_2022_document_vector() -> None:
    unsigned = json.loads((VECTORS / "unsigned.json").read_text(encoding="utf-8"))
    canonical = jcs(unsigned)
    assert canonical == (JCS_VECTORS / "canonDocJCS.txt").read_bytes()
    expected_hash = (JCS_VECTORS / "docHashJCS.txt").read_text(encoding="ascii").strip()
    assert hashlib.sha256(canonical).hexdigest() == expected_hash


def test_w3c_eddsa_jcs_2022_proof_configuration_vector() -> None:
    config = json.loads((JCS_VECTORS / "proofConfigJCS.json").read_text(encoding="utf-8"))
    canonical = jcs(config)
    assert canonical == (JCS_VECTORS / "proofCanonJCS.txt").read_bytes()
    expected_hash = (JCS_VECTORS / "proofHashJCS.txt").read_text(encoding="ascii").strip()
    assert hashlib.sha256(canonical).hexdigest() == expected_hash
