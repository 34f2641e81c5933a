"""W3C Bitstring Status List v1.0: the encoding, the documents, the checks, end to end."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import random
import struct
import time
import zlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from issuer import config
from issuer.core.errors import InputError
from issuer.core.jsonld import expand_safe
from issuer.core.keys import PrivateKey
from issuer.core.multibase import multibase_encode
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.status_list import (
    MIN_ENTRIES,
    Bitstring,
    BitstringStatusChecker,
    check_entry,
    status_entry,
    status_list_credential,
)
from issuer.core.verify import Outcome, StatusResult
from tests.core.helpers import NOW, did_key_issuer, unsigned_badge, verifier

LIST_URL = "https://badges.example/status/revocation/1"
CLEAR = "not revoked (checked against the issuer's status list just now)"
#: §2.2 Example 3 of the Recommendation: an empty list of the minimum size.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def multibase_b64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


#: GZIP with a fixed time stamp, so parametrized ids are the same in every worker.
ZEROS = gzip.compress(bytes(16384), mtime=0)


def stored_gzip(data: bytes) -> bytes:
    """A GZIP member (RFC 1952) holding ``data`` in one stored DEFLATE block (RFC 1951 §3.2.4).

    Built byte by byte, so the test does not trust any compressor.
    """
    assert len(data) <= 0xFFFF
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"
    block = b"\x01" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data
    return header + block + struct.pack("<II", zlib.crc32(data), len(data))


# -- the bitstring (§2.2 encodedList, §3.3, §3.4, §7.1) --------------------------------------


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = Bitstring()
    bits.set(0)
    assert bits.to_bytes()[:2] == b"\x80\x00"
    bits.set(7)
    assert bits.to_bytes()[0] == 0x81
    bits.set(8)
    bits.set(13)
    assert bits.to_bytes()[1] == 0b1000_0100
    bits.set(MIN_ENTRIES - 1)
    assert bits.to_bytes()[-1] == 0x01
    assert [i for i in range(16) if bits.get(i)] == [0, 7, 8, 13]
    bits.set(7, False)
    assert bits.to_bytes()[0] == 0x80 and not bits.get(7)


def test_a_list_written_by_hand_decodes_to_the_expected_bits() -> None:
    # Entries 0, 9 and 23 set: bytes 0x80, 0x40, 0x01 (23 = byte 2, bit 7 = the last one).
    raw = bytes([0x80, 0x40, 0x01]) + bytes(MIN_ENTRIES // 8 - 3)
    bits = Bitstring.decode(multibase_b64url(stored_gzip(raw)))
    assert bits.size == MIN_ENTRIES
    assert [i for i in range(64) if bits.get(i)] == [0, 9, 23]
    assert bits.to_bytes() == raw


def test_encode_is_multibase_base64url_of_gzip() -> None:
    bits = Bitstring()
    for index in (0, 9, 23):
        bits.set(index)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    assert set(encoded[1:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_")
    body = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert raw[:3] == bytes([0x80, 0x40, 0x01]) and len(raw) == MIN_ENTRIES // 8
    assert bits.encode() == encoded  # no timestamp in the GZIP header


def test_spec_example_decodes_to_an_empty_list_of_the_minimum_size() -> None:
    bits = Bitstring.decode(SPEC_EXAMPLE)
    assert bits.size == MIN_ENTRIES
    assert bits == Bitstring()


def test_round_trip_of_a_larger_random_list() -> None:
    rng = random.Random(7)
    bits = Bitstring(MIN_ENTRIES * 4)
    chosen = sorted(rng.sample(range(bits.size), 500))
    for index in chosen:
        bits.set(index)
    again = Bitstring.decode(bits.encode())
    assert again == bits
    assert [i for i in chosen if again.get(i)] == chosen
    assert len(again) == MIN_ENTRIES * 4


@pytest.mark.parametrize("size", [0, 8, MIN_ENTRIES - 8, MIN_ENTRIES + 1, True, "131072"])
def test_bitstring_size_rules(size: Any) -> None:
    with pytest.raises(InputError):
        Bitstring(size)


def test_index_rules() -> None:
    bits = Bitstring()
    for bad in (-1, MIN_ENTRIES, True, "3", 1.0):
        with pytest.raises(InputError):
            bits.get(bad)  # type: ignore[arg-type]
        with pytest.raises(InputError):
            bits.set(bad)  # type: ignore[arg-type]


def test_decode_refuses_a_list_below_the_minimum() -> None:
    with pytest.raises(InputError, match="fewer than the 131,072 required"):
        Bitstring.decode(multibase_b64url(gzip.compress(bytes(1000))))


def test_decode_refuses_a_gzip_bomb_quickly() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    megabyte = bytes(1 << 20)
    bomb = b"".join(packer.compress(megabyte) for _ in range(100)) + packer.flush()
    assert len(bomb) < 200_000  # 100 MB of zeros in about 100 KB
    started = time.monotonic()
    with pytest.raises(InputError, match="larger than 16,777,216 bytes"):
        Bitstring.decode(multibase_b64url(bomb))
    assert time.monotonic() - started < 2


def test_decode_accepts_exactly_the_bound() -> None:
    assert Bitstring.decode(multibase_b64url(gzip.compress(bytes(1 << 24)))).size == 1 << 27


@pytest.mark.parametrize(
    ("encoded", "words"),
    [
        (None, "multibase base64url"),
        ("", "multibase base64url"),
        ("z" + "1" * 40, "multibase base64url"),
        (multibase_b64url(ZEROS) + "=", "base64url"),
        ("u!!!!", "base64url"),
        (multibase_b64url(zlib.compress(bytes(16384))), "GZIP"),
        (multibase_b64url(ZEROS[:-12]), "truncated"),
        (multibase_b64url(ZEROS + b"extra"), "after the end"),
        (multibase_b64url(ZEROS[:-8] + b"\0\0\0\0\0\x40\0\0"), "GZIP"),
        ("u" + "A" * 30_000_000, "too long"),
    ],
)
def test_decode_errors_are_strict(encoded: Any, words: str) -> None:
    with pytest.raises(InputError, match=words):
        Bitstring.decode(encoded)


# -- the documents (§2.1, §2.2) ----------------------------------------------------------------


def test_status_entry_shape() -> None:
    assert status_entry(LIST_URL, 94567, "revocation") == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert status_entry(LIST_URL, 0, "suspension")["statusPurpose"] == "suspension"
    for args in ((LIST_URL, -1, "revocation"), (LIST_URL, True, "revocation"),
                 (LIST_URL, 1, "message"), ("not a url", 1, "revocation")):
        with pytest.raises(InputError):
            status_entry(*args)  # type: ignore[arg-type]


def test_status_list_credential_shape() -> None:
    bits = Bitstring()
    bits.set(3)
    doc = status_list_credential(LIST_URL, {"id": "did:example:issuer", "name": "Issuer"},
                                 "suspension", bits, NOW)
    assert doc == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": "did:example:issuer", "name": "Issuer"},
        "validFrom": "2026-01-15T12:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "suspension",
            "encodedList": bits.encode(),
        },
    }
    with pytest.raises(InputError):
        status_list_credential(LIST_URL, {"id": "x"}, "revocation", bits, NOW.replace(tzinfo=None))


def test_documents_expand_with_the_bundled_contexts() -> None:
    loader = config.context_loader()
    listing = status_list_credential(LIST_URL, {"id": "did:example:i"}, "revocation",
                                     Bitstring(), NOW)
    assert expand_safe(listing, loader).issuer_dependent_terms == ()
    badge = unsigned_badge("did:example:i")
    badge["credentialStatus"] = status_entry(LIST_URL, 5, "revocation")
    assert expand_safe(badge, loader).issuer_dependent_terms == ()
    expanded = json.dumps(expand_safe(badge, loader).expanded)
    assert "https://www.w3.org/ns/credentials/status#statusListIndex" in expanded


def test_ob_schema_takes_one_status_object_and_the_verifier_also_a_list() -> None:
    registry = config.schema_registry()
    badge = unsigned_badge("did:example:i")
    badge["credentialStatus"] = status_entry(LIST_URL, 5, "revocation")
    (url,) = registry.schemas_for(badge).known
    assert registry.validate(badge, url, compacted=True) == []
    badge["credentialStatus"] = [status_entry(LIST_URL, 5, "revocation"),
                                 status_entry(LIST_URL + "s", 5, "suspension")]
    # The official schema wants one object; the verifier's compacted check also takes the
    # list VCDM 2.0 §4.10 allows (see SchemaRegistry.validate).
    assert registry.validate(badge, url) != []
    assert registry.validate(badge, url, compacted=True) == []


# -- check_entry (§3.2) ------------------------------------------------------------------------


def listing(purpose: Any = "revocation", set_bits: tuple[int, ...] = (), **extra: Any
            ) -> dict[str, Any]:
    bits = Bitstring()
    for index in set_bits:
        bits.set(index)
    doc = status_list_credential(LIST_URL, {"id": "did:example:i"}, "revocation", bits, NOW)
    doc["credentialSubject"]["statusPurpose"] = purpose
    doc.update(extra)
    return doc


def test_check_entry_outcomes() -> None:
    entry = status_entry(LIST_URL, 42, "revocation")
    assert check_entry(entry, listing()) == StatusResult(Outcome.PASSED, CLEAR)
    revoked = check_entry(entry, listing(set_bits=(42,)))
    assert revoked.outcome == Outcome.FAILED and "revoked" in revoked.message
    assert check_entry(entry, listing(set_bits=(41, 43))).outcome == Outcome.PASSED
    suspended = check_entry(status_entry(LIST_URL, 42, "suspension"),
                            listing("suspension", (42,)))
    assert suspended.outcome == Outcome.FAILED and "suspended" in suspended.message
    both = listing(["revocation", "suspension"], (42,))
    assert check_entry(status_entry(LIST_URL, 42, "suspension"), both).outcome == Outcome.FAILED


def test_check_entry_cannot_answer_for_another_purpose_or_list() -> None:
    entry = status_entry(LIST_URL, 42, "revocation")
    wrong = check_entry(entry, listing("suspension", (42,)))
    assert wrong.outcome == Outcome.WARNING
    assert wrong.message.startswith("could not check")
    other = check_entry(entry, listing(id="https://elsewhere.example/list"))
    assert other.outcome == Outcome.WARNING
    sized = dict(entry, statusSize=2)
    assert check_entry(sized, listing()).outcome == Outcome.WARNING
    message = dict(entry, statusPurpose="message")
    assert check_entry(message, listing()).outcome == Outcome.WARNING


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"statusListIndex": 42}, "statusListIndex"),
        ({"statusListIndex": "-1"}, "statusListIndex"),
        ({"statusListIndex": "4.2"}, "statusListIndex"),
        ({"statusListIndex": " 42"}, "statusListIndex"),
        ({"statusListIndex": str(MIN_ENTRIES)}, "outside the list"),
        ({"statusListIndex": "9" * 5000}, r"index 9{20}… is outside the list"),
        ({"statusPurpose": 1}, "statusPurpose"),
        ({"statusSize": 0}, "statusSize"),
        ({"statusSize": "1"}, "statusSize"),
        ({"type": "StatusList2021Entry"}, "not a StatusList2021Credential"),
        ({"type": "RevocationList2020Status"}, "BitstringStatusListEntry"),
        ({"statusListCredential": None}, "statusListCredential"),
    ],
)
def test_check_entry_refuses_a_malformed_entry(change: dict[str, Any], words: str) -> None:
    entry = {**status_entry(LIST_URL, 42, "revocation"), **change}
    with pytest.raises(InputError, match=words):
        check_entry(entry, listing())


def test_leading_zeros_name_the_same_entry_however_many() -> None:
    entry = {**status_entry(LIST_URL, 42, "revocation"), "statusListIndex": "0" * 5000 + "42"}
    assert check_entry(entry, listing()).outcome == Outcome.PASSED
    assert check_entry(entry, listing(set_bits=(42,))).outcome == Outcome.FAILED


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(type=["VerifiableCredential"]),
        lambda d: d.update(credentialSubject=[d["credentialSubject"]]),
        lambda d: d["credentialSubject"].update(type="StatusList2021"),
        lambda d: d["credentialSubject"].update(statusPurpose=[]),
        lambda d: d["credentialSubject"].pop("encodedList"),
        lambda d: d["credentialSubject"].update(encodedList="uAAAA"),
    ],
)
def test_check_entry_refuses_a_malformed_list(damage: Any) -> None:
    doc = listing()
    damage(doc)
    with pytest.raises(InputError):
        check_entry(status_entry(LIST_URL, 42, "revocation"), doc)


# -- the checker ---------------------------------------------------------------------------------


def checker(store: Mapping[str, Any], trusted: bool = True, **kwargs: Any
            ) -> BitstringStatusChecker:
    return BitstringStatusChecker(store.get, lambda _doc: trusted, **kwargs)


CREDENTIAL = {"issuer": {"id": "did:example:i"}}


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "https://x.example/revocations", "type": "1EdTechRevocationList"},
        {"id": "https://x.example/sl#1", "type": "StatusList2021Entry",
         "statusPurpose": "revocation", "statusListIndex": "1",
         "statusListCredential": "https://x.example/sl"},
        {"id": "https://x.example/s"},
    ],
)
def test_unknown_status_methods_are_not_checked(entry: dict[str, Any]) -> None:
    result = checker({})(entry, CREDENTIAL)
    assert result.outcome == Outcome.WARNING
    assert result.message.startswith("could not check")


def test_unreachable_list_is_never_a_pass() -> None:
    entry = status_entry(LIST_URL, 42, "revocation")
    expected = StatusResult(Outcome.WARNING,
                            "could not check the status: the status list was not available")
    assert checker({})(entry, CREDENTIAL) == expected

    def broken(_url: str) -> Mapping[str, Any] | None:
        raise TimeoutError("network down")

    assert BitstringStatusChecker(broken, lambda _d: True)(entry, CREDENTIAL) == expected
    assert checker({LIST_URL: "not a document"})(entry, CREDENTIAL) == expected


def test_list_whose_signature_fails_is_not_trusted() -> None:
    entry = status_entry(LIST_URL, 42, "revocation")
    for store in ({LIST_URL: listing()}, {LIST_URL: listing(set_bits=(42,))}):
        result = checker(store, trusted=False)(entry, CREDENTIAL)
        assert result.outcome == Outcome.WARNING
        assert "signature could not be verified" in result.message

    def explodes(_doc: Mapping[str, Any]) -> bool:
        raise RuntimeError("verifier bug")

    result = BitstringStatusChecker({LIST_URL: listing()}.get, explodes)(entry, CREDENTIAL)
    assert result.outcome == Outcome.WARNING


def test_list_from_another_issuer_is_not_used_by_default() -> None:
    entry = status_entry(LIST_URL, 42, "revocation")
    store = {LIST_URL: listing(set_bits=(42,))}
    stranger = {"issuer": "did:example:someone-else"}
    result = checker(store)(entry, stranger)
    assert result.outcome == Outcome.WARNING and "issued by did:example:i" in result.message
    assert checker(store, same_issuer=False)(entry, stranger).outcome == Outcome.FAILED


def test_checker_outcomes_through_a_trusted_list() -> None:
    store = {LIST_URL: listing(set_bits=(7,))}
    check = checker(store)
    assert check(status_entry(LIST_URL, 8, "revocation"), CREDENTIAL).message == CLEAR
    assert check(status_entry(LIST_URL, 7, "revocation"), CREDENTIAL).outcome == Outcome.FAILED
    wrong = check(status_entry(LIST_URL, 7, "suspension"), CREDENTIAL)
    assert wrong.outcome == Outcome.WARNING
    bad_index = dict(status_entry(LIST_URL, 7, "revocation"), statusListIndex="x")
    assert check(bad_index, CREDENTIAL).outcome == Outcome.WARNING


def test_a_list_that_leads_back_to_itself_is_refused() -> None:
    entry = status_entry(LIST_URL, 1, "revocation")
    seen: list[StatusResult] = []

    def verify_list(doc: Mapping[str, Any]) -> bool:
        seen.append(loop(entry, doc))
        return True

    loop = BitstringStatusChecker({LIST_URL: listing()}.get, verify_list)
    assert loop(entry, CREDENTIAL).outcome == Outcome.PASSED
    assert seen[0].outcome == Outcome.WARNING and "refers back to itself" in seen[0].message


# -- end to end: signed credential, signed list, the verifier ----------------------------------


def sign(document: Mapping[str, Any], key: PrivateKey, vm: str) -> dict[str, Any]:
    return sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                         verification_method=vm,
                         ctx=SuiteContext(loader=config.context_loader()),
                         created="2026-01-01T00:00:00Z")


def test_end_to_end_revocation_through_the_verifier() -> None:
    key, did, vm = did_key_issuer()
    index = 94567
    badge = unsigned_badge(did)
    badge["credentialStatus"] = status_entry(LIST_URL, index, "revocation")
    credential = sign(badge, key, vm)
    bits = Bitstring()
    issuer = {"id": did, "name": "Community of Practice"}
    store: dict[str, dict[str, Any]] = {
        LIST_URL: sign(status_list_credential(LIST_URL, issuer, "revocation", bits,
                                              NOW - timedelta(days=1)), key, vm),
    }
    list_verifier = verifier()
    status_checker = BitstringStatusChecker(store.get, lambda doc: list_verifier.verify(doc).valid)
    check = verifier(status_checker=status_checker)

    report = check.verify(json.dumps(credential))
    assert report.valid, [c.to_json() for c in report.failed]
    status = report.check("status")
    assert status is not None
    assert (status.outcome, status.message) == (Outcome.PASSED, CLEAR)

    bits.set(index)
    revoked_list = sign(status_list_credential(LIST_URL, issuer, "revocation", bits, NOW), key, vm)
    forged = copy.deepcopy(store[LIST_URL])
    forged["credentialSubject"]["encodedList"] = revoked_list["credentialSubject"]["encodedList"]

    # The bit flipped without a new signature: the list is not trusted, the status unknown.
    store[LIST_URL] = forged
    report = check.verify(json.dumps(credential))
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.WARNING
    assert "could not check" in status.message

    store[LIST_URL] = revoked_list
    report = check.verify(json.dumps(credential))
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.FAILED
    assert "revoked" in status.message
    assert not report.valid and [c.id for c in report.failed] == ["status"]

    # A list signed by another key is not the issuer's word either.
    other_key, other_did, other_vm = did_key_issuer()
    store[LIST_URL] = sign(status_list_credential(LIST_URL, {"id": other_did}, "revocation",
                                                  Bitstring(), NOW), other_key, other_vm)
    status = check.verify(json.dumps(credential)).check("status")
    assert status is not None and status.outcome == Outcome.WARNING

    del store[LIST_URL]
    status = check.verify(json.dumps(credential)).check("status")
    assert status is not None and status.outcome == Outcome.WARNING
    assert status.message == "could not check the status: the status list was not available"


def test_an_empty_list_encodes_as_gzip_would_and_decodes_to_fresh_copies() -> None:
    empty = Bitstring(131_072)
    assert empty.encode() == multibase_encode(
        gzip.compress(bytes(16_384), compresslevel=9, mtime=0), "u")
    one = Bitstring(131_072)
    one.set(7)
    assert one.encode() != empty.encode()
    assert Bitstring.decode(one.encode()).get(7)
    first = Bitstring.decode(empty.encode())
    first.set(3)  # a decoded list is the caller's: the next decoding is empty again
    assert not Bitstring.decode(empty.encode()).get(3)
    assert Bitstring.decode(empty.encode()) == empty
