"""A verification method's ``revoked`` date (Controlled Identifiers §2.2), with no service.

An issuer's pinned controller document lists a compromised key with ``revoked``: proofs made
before that moment keep verifying, proofs made at or after it do not, and neither does a
proof that does not say when it was made. Whoever holds the key writes the proof's date, so
one before the compromise verifies with a warning unless the issuer's records confirm it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from issuer import config
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import encode_compact, sign_ob_vc_jwt
from issuer.core.resolve import ResolvedKey, Resolver
from issuer.core.verify import IssuanceRecord, Outcome, VerificationReport
from tests.core.helpers import unsigned_badge, verifier

ISSUER = "https://badges.example/issuers/guild"
OLD = f"{ISSUER}#key-1"
NEW = f"{ISSUER}#key-2"
REVOKED = "2026-01-10T00:00:00Z"

OLD_KEY = PrivateKey.generate()
NEW_KEY = PrivateKey.generate()


def method(vm_id: str, key: PrivateKey, **extra: str) -> dict[str, str]:
    return {"id": vm_id, "type": "Multikey", "controller": ISSUER,
            "publicKeyMultibase": key.public_key.to_multibase(), **extra}


def document(*, revoked: str | None = REVOKED, listed: bool = True) -> dict[str, Any]:
    """The issuer's controller document: key-1 compromised, key-2 signing now."""
    old = method(OLD, OLD_KEY) if revoked is None else method(OLD, OLD_KEY, revoked=revoked)
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ISSUER,
        "verificationMethod": [old, method(NEW, NEW_KEY)],
        "assertionMethod": [OLD, NEW] if listed else [NEW],
    }


def signed(key: PrivateKey, vm: str, created: str | None) -> dict[str, Any]:
    return sign_document(unsigned_badge(ISSUER), SIGNING_SUITES["eddsa-rdfc-2022"], key,
                         verification_method=vm,
                         ctx=SuiteContext(loader=config.context_loader()), created=created)


def check(credential: Any, doc: Mapping[str, Any] | None = None,
          **kwargs: Any) -> VerificationReport:
    resolver = Resolver.with_trusted([document() if doc is None else doc])
    return verifier(resolver=resolver, **kwargs).verify(credential)


def proof_message(report: VerificationReport) -> str:
    proof = report.check("proof")
    assert proof is not None
    return proof.message


def proof_outcome(report: VerificationReport) -> Outcome:
    proof = report.check("proof")
    assert proof is not None
    return proof.outcome


def test_the_resolved_key_carries_its_revoked_date() -> None:
    resolver = Resolver.with_trusted([document()])
    old = resolver.assertion_key(OLD, ISSUER)
    assert old.revoked == datetime(2026, 1, 10, tzinfo=UTC)
    assert resolver.assertion_key(NEW, ISSUER).revoked is None
    jwt = resolver.jwt_key(ISSUER, kid=OLD, jwk=None)
    assert jwt.revoked == old.revoked


CAUTION = (f"the key that signed this ({OLD}) was reported compromised since {REVOKED}; a "
           "badge signed with it cannot prove it was signed before that date unless the "
           "issuer's records say so")


def test_signed_before_the_compromise_still_verifies() -> None:
    report = check(signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z"))
    assert report.valid, [c.to_json() for c in report.failed]
    proof = report.check("proof")
    assert proof is not None
    assert proof.outcome == Outcome.WARNING
    assert proof.message == f"signed by {ISSUER} with a key it controls ({OLD}); {CAUTION}"
    assert report.warnings == [proof]
    assert any("before its key was reported compromised (since 2026-01-10T00:00:00Z)" in d
               for d in proof.details)


def test_signed_after_the_compromise_fails_with_the_reason() -> None:
    credential = signed(OLD_KEY, OLD, "2026-01-12T08:30:00Z")
    assert check(credential, document(revoked=None)).valid  # the same bytes, before reporting
    report = check(credential)
    assert not report.valid
    assert [c.id for c in report.failed] == ["proof"]
    message = proof_message(report)
    assert f"signed on 2026-01-12T08:30:00Z (according to its proof) with key {OLD}" in message
    assert "which its issuer reports compromised since 2026-01-10T00:00:00Z" in message
    assert message.endswith("re-issue the badge")


def test_signed_at_the_very_moment_of_revocation_fails() -> None:
    report = check(signed(OLD_KEY, OLD, REVOKED))
    assert "reports compromised since" in proof_message(report)
    assert proof_outcome(report) == Outcome.FAILED


def test_a_proof_without_created_cannot_predate_the_compromise() -> None:
    credential = signed(OLD_KEY, OLD, None)
    assert "created" not in credential["proof"][0]
    assert check(credential, document(revoked=None)).valid
    report = check(credential)
    assert not report.valid
    assert "does not say when it was signed" in proof_message(report)


def test_the_new_key_is_not_affected() -> None:
    report = check(signed(NEW_KEY, NEW, "2026-01-12T08:30:00Z"))
    assert report.valid, [c.to_json() for c in report.failed]
    assert proof_outcome(report) == Outcome.PASSED
    assert "compromised" not in proof_message(report)


def test_the_old_key_raises_no_warning_before_it_is_reported() -> None:
    report = check(signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z"), document(revoked=None))
    assert proof_outcome(report) == Outcome.PASSED
    assert report.warnings == []


def test_offsets_are_compared_as_instants() -> None:
    # 2026-01-10T01:30+02:00 is 2026-01-09T23:30Z: before the revocation.
    before = check(signed(OLD_KEY, OLD, "2026-01-10T01:30:00+02:00"))
    assert before.valid, [c.to_json() for c in before.failed]
    after = check(signed(OLD_KEY, OLD, "2026-01-09T23:30:00-01:00"))
    assert "reports compromised since" in proof_message(after)


def test_a_revoked_key_taken_out_of_assertion_method_is_explained() -> None:
    report = check(signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z"), document(listed=False))
    assert f"the key {OLD} was revoked on {REVOKED}" in proof_message(report)


@pytest.mark.parametrize("value", ["soon", "2026-01-10", "2026-01-10T00:00:00", 20260110])
def test_an_unreadable_revoked_date_makes_the_key_unusable(value: Any) -> None:
    doc = document()
    doc["verificationMethod"][0]["revoked"] = value
    report = check(signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z"), doc)
    assert not report.valid
    assert "unreadable 'revoked' date" in proof_message(report)


def test_a_jwt_is_dated_by_nbf_when_it_has_no_iat() -> None:
    credential = unsigned_badge(ISSUER)  # validFrom 2026-01-01, so nbf is that moment
    token = sign_ob_vc_jwt(credential, OLD_KEY, kid=OLD)
    assert check(token).valid
    later = check(token, document(revoked="2025-12-01T00:00:00Z"))
    message = proof_message(later)
    assert "signed on 2026-01-01T00:00:00Z (according to its 'nbf' claim)" in message
    assert "compromised since 2025-12-01T00:00:00Z" in message


def test_a_jwt_is_dated_by_iat_first_and_needs_some_date() -> None:
    credential = unsigned_badge(ISSUER)
    header = {"alg": "EdDSA", "typ": "JWT", "kid": OLD}
    issued = datetime(2026, 1, 12, tzinfo=UTC).timestamp()
    token = encode_compact(header, {**credential, "iss": ISSUER, "iat": int(issued)}, OLD_KEY)
    assert "(according to its 'iat' claim)" in proof_message(check(token))
    undated = {k: v for k, v in credential.items() if k != "validFrom"}
    token = encode_compact(header, {**undated, "iss": ISSUER}, OLD_KEY)
    assert proof_outcome(check(token, document(revoked=None))) == Outcome.PASSED
    assert "does not say when it was signed" in proof_message(check(token))


def test_the_issuers_records_outweigh_a_back_dated_proof() -> None:
    """A thief with the key can write any ``created``; an issuer's records know better."""
    back_dated = signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z")
    seen: list[ResolvedKey] = []

    def records(credential: Mapping[str, Any], key: ResolvedKey) -> IssuanceRecord:
        seen.append(key)
        return IssuanceRecord(issued_at=datetime(2026, 1, 11, tzinfo=UTC),
                              source="the guild's ledger")

    report = check(back_dated, records=records)
    assert "signed on 2026-01-11T00:00:00Z (according to the guild's ledger)" in (
        proof_message(report))
    assert seen and seen[0].method_id == OLD and seen[0].revoked is not None

    def refuses(credential: Mapping[str, Any], key: ResolvedKey) -> IssuanceRecord:
        return IssuanceRecord(problem="not issued by this service")

    assert proof_message(check(back_dated, records=refuses)).endswith(
        ": not issued by this service")
    # Records that do not cover the credential leave the proof's own date in charge.
    assert check(back_dated, records=lambda credential, key: None).valid


def test_the_issuers_records_confirming_an_earlier_signing_leave_no_warning() -> None:
    """Records the verifier trusts say when it was signed: the proof's date need not."""
    credential = signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z")

    def records(credential: Mapping[str, Any], key: ResolvedKey) -> IssuanceRecord:
        return IssuanceRecord(issued_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
                              source="the guild's ledger")

    report = check(credential, records=records)
    assert report.valid, [c.to_json() for c in report.failed]
    assert proof_outcome(report) == Outcome.PASSED
    assert report.warnings == []
    proof = report.check("proof")
    assert proof is not None
    assert any("(according to the guild's ledger), before its key was reported compromised"
               in d for d in proof.details)
    # Records that know nothing of it confirm nothing: the warning stays.
    unknown = check(credential, records=lambda credential, key: None)
    assert proof_outcome(unknown) == Outcome.WARNING
    assert CAUTION in proof_message(unknown)


def test_a_jwt_dated_before_the_compromise_verifies_with_the_warning() -> None:
    token = sign_ob_vc_jwt(unsigned_badge(ISSUER), OLD_KEY, kid=OLD)  # nbf 2026-01-01
    report = check(token)
    assert report.valid, [c.to_json() for c in report.failed]
    assert proof_outcome(report) == Outcome.WARNING
    assert proof_message(report) == (
        f"signed by {ISSUER} with a key it controls ({OLD}); {CAUTION}")
    assert proof_outcome(check(token, document(revoked=None))) == Outcome.PASSED


def test_a_proof_set_warns_once_for_the_compromised_key() -> None:
    first = signed(OLD_KEY, OLD, "2026-01-05T09:00:00Z")
    both = sign_document(first, SIGNING_SUITES["eddsa-rdfc-2022"], NEW_KEY,
                         verification_method=NEW,
                         ctx=SuiteContext(loader=config.context_loader()),
                         created="2026-01-12T08:30:00Z")
    assert len(both["proof"]) == 2
    report = check(both)
    assert report.valid, [c.to_json() for c in report.failed]
    assert proof_outcome(report) == Outcome.WARNING
    assert proof_message(report).count(CAUTION) == 1
