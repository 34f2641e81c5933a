"""W3C CCG Status List 2021: the older names and encoding of the same bitstring check."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from issuer import config
from issuer.core.errors import InputError
from issuer.core.jsonld import expand_safe
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.status_list import (
    MIN_ENTRIES,
    STATUS_LIST_2021,
    Bitstring,
    BitstringStatusChecker,
    check_entry,
    list_kind,
    routed_status,
    status_list_url,
)
from issuer.core.verify import Outcome
from tests.core.helpers import did_key_issuer, unsigned_badge, verifier

LIST_URL = "https://badges.example/status/2021/3"
STATUS_2021_CONTEXT = "https://w3id.org/vc/status-list/2021/v1"
#: Status List 2021 §2.2 Example 2 (and 3): an empty list of 16 KB, base64url, no prefix.
SPEC_EXAMPLE = "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def encoded_2021(bits: Bitstring, *, alphabet: str = "url", padded: bool = False) -> str:
    data = gzip.compress(bits.to_bytes(), mtime=0)
    text = (base64.urlsafe_b64encode(data) if alphabet == "url"
            else base64.b64encode(data)).decode("ascii")
    return text if padded else text.rstrip("=")


def entry_2021(index: int, purpose: str = "revocation") -> dict[str, Any]:
    return {"id": f"{LIST_URL}#{index}", "type": "StatusList2021Entry",
            "statusPurpose": purpose, "statusListIndex": str(index),
            "statusListCredential": LIST_URL}


#: Status List 2021 belongs to VC Data Model 1.1: its context's type-scoped terms would
#: redefine protected VC 2.0 terms. Data Integrity v2 defines the proof's terms there.
V1_CONTEXTS = ["https://www.w3.org/2018/credentials/v1",
               "https://w3id.org/security/data-integrity/v2", STATUS_2021_CONTEXT]


def list_2021(issuer: str, bits: Bitstring, purpose: str = "revocation") -> dict[str, Any]:
    """A StatusList2021Credential (Status List 2021 §2.2)."""
    return {
        "@context": V1_CONTEXTS,
        "id": LIST_URL,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{LIST_URL}#list", "type": "StatusList2021",
                              "statusPurpose": purpose, "encodedList": encoded_2021(bits)},
    }


def test_the_spec_example_decodes_to_an_empty_list_of_the_minimum_size() -> None:
    bits = Bitstring.decode_2021(SPEC_EXAMPLE)
    assert bits.size == MIN_ENTRIES and not any(bits.to_bytes())


@pytest.mark.parametrize(("alphabet", "padded"), [("url", False), ("url", True),
                                                  ("standard", False), ("standard", True)])
def test_both_base64_alphabets_with_or_without_padding_decode(alphabet: str,
                                                              padded: bool) -> None:
    bits = Bitstring()
    for index in (0, 7, 8, 131_071):
        bits.set(index)
    assert Bitstring.decode_2021(encoded_2021(bits, alphabet=alphabet, padded=padded)) == bits


def test_a_multibase_prefix_before_gzip_data_is_tolerated() -> None:
    assert Bitstring.decode_2021("u" + SPEC_EXAMPLE).size == MIN_ENTRIES


@pytest.mark.parametrize(("encoded", "words"), [
    ("", "base64"),
    ("H4sI*", "base64"),
    (base64.b64encode(b"not gzip").decode(), "GZIP"),
    (base64.b64encode(gzip.compress(bytes(100), mtime=0)).decode(), "fewer than"),
])
def test_malformed_2021_lists_are_refused(encoded: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        Bitstring.decode_2021(encoded)


def test_entries_are_told_apart_by_type() -> None:
    assert list_kind(entry_2021(1)) is STATUS_LIST_2021
    assert list_kind({"type": "1EdTechRevocationList"}) is None
    assert status_list_url(entry_2021(1)) == LIST_URL
    revocations = {"id": "https://x.example/revocations", "type": "1EdTechRevocationList"}
    assert status_list_url(revocations) == "https://x.example/revocations"


def test_check_entry_reads_a_2021_list() -> None:
    bits = Bitstring()
    bits.set(42)
    document = list_2021("did:example:i", bits)
    revoked = check_entry(entry_2021(42), document)
    assert revoked.outcome == Outcome.FAILED and revoked.message.startswith("revoked")
    assert check_entry(entry_2021(41), document).outcome == Outcome.PASSED
    suspended = check_entry(entry_2021(42, "suspension"), list_2021("did:example:i", bits,
                                                                     "suspension"))
    assert suspended.outcome == Outcome.FAILED and suspended.message.startswith("suspended")
    other = check_entry(entry_2021(42, "suspension"), document)
    assert other.outcome == Outcome.WARNING and "could not check" in other.message


def test_a_bitstring_list_does_not_answer_for_a_2021_entry() -> None:
    document = list_2021("did:example:i", Bitstring())
    document["type"] = ["VerifiableCredential", "BitstringStatusListCredential"]
    with pytest.raises(InputError, match="StatusList2021Credential"):
        check_entry(entry_2021(1), document)


def badge_2021(issuer: str, index: int) -> dict[str, Any]:
    """An OB 3.0 credential of the VC 1.1 era (OB 3.0.1 context) with a 2021 status entry."""
    badge = unsigned_badge(issuer)
    badge["@context"] = [V1_CONTEXTS[0], "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
                         *V1_CONTEXTS[1:]]
    badge["issuanceDate"] = badge.pop("validFrom")
    badge["expirationDate"] = badge.pop("validUntil")
    badge["credentialStatus"] = entry_2021(index)
    return badge


def test_the_2021_documents_expand_with_the_bundled_contexts() -> None:
    expand_safe(badge_2021("did:example:i", 5), config.context_loader())
    expand_safe(list_2021("did:example:i", Bitstring()), config.context_loader())


def sign(document: dict[str, Any], key: PrivateKey, vm: str) -> dict[str, Any]:
    return sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                         verification_method=vm,
                         ctx=SuiteContext(loader=config.context_loader()),
                         created="2026-01-01T00:00:00Z")


def test_end_to_end_a_2021_list_revokes_through_the_verifier() -> None:
    key, did, vm = did_key_issuer()
    credential = sign(badge_2021(did, 94567), key, vm)
    bits = Bitstring()
    store = {LIST_URL: sign(list_2021(did, bits), key, vm)}
    plain = verifier()
    check = verifier(status_checker=BitstringStatusChecker(
        store.get, lambda doc: plain.verify(doc).valid))

    report = check.verify(json.dumps(credential))
    assert report.valid, [c.to_json() for c in report.failed]
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.PASSED

    bits.set(94567)
    store[LIST_URL] = sign(list_2021(did, bits), key, vm)
    report = check.verify(json.dumps(credential))
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.FAILED
    assert status.message == "revoked: the issuer's status list marks this credential as revoked"
    assert not report.valid

    # A copy changed after signing proves nothing either way.
    forged = json.loads(json.dumps(store[LIST_URL]))
    forged["credentialSubject"]["encodedList"] = encoded_2021(Bitstring())
    store[LIST_URL] = forged
    status = check.verify(json.dumps(credential)).check("status")
    assert status is not None and status.outcome == Outcome.WARNING


def test_offline_a_2021_list_is_could_not_check_never_a_pass() -> None:
    offline = routed_status([], "the status list {url} is on another site")
    result = offline(entry_2021(3), {"issuer": "did:example:i"})
    assert result.outcome == Outcome.WARNING
    assert result.message == f"could not check the status: the status list {LIST_URL} is on " \
                             "another site"
    result = offline({"id": "https://x.example/revocations", "type": "1EdTechRevocationList"},
                     {"issuer": "did:example:i"})
    assert "https://x.example/revocations" in result.message


def test_list_of_the_wrong_issuer_is_not_used() -> None:
    key, did, vm = did_key_issuer()
    other_key, other, other_vm = did_key_issuer()
    bits = Bitstring()
    bits.set(1)
    store = {LIST_URL: sign(list_2021(other, bits), other_key, other_vm)}
    check = BitstringStatusChecker(store.get, lambda _doc: True)
    result = check(entry_2021(1), {"issuer": did})
    assert result.outcome == Outcome.WARNING and "not by the credential's issuer" in result.message
    assert key is not None and vm
