"""The verification pipeline on credentials this product signs, good and bad."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issuer import config
from issuer.core.keys import PrivateKey
from issuer.core.multibase import multibase_decode, multibase_encode
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.core.resolve import Resolver
from issuer.core.verify import Outcome, VerificationReport
from tests.core.helpers import NOW, did_key_issuer, signed_badge, unsigned_badge, verifier

ORDER = ["parse", "context", "type", "schema", "proof", "refresh", "dates", "status",
         "endorsements"]


def _outcomes(report: VerificationReport) -> dict[str, Outcome]:
    return {c.id: c.outcome for c in report.checks}


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_signed_badge_verifies_with_checks_in_spec_order(suite: str) -> None:
    signed, _ = signed_badge(suite)
    report = verifier().verify(json.dumps(signed))
    assert [c.id for c in report.checks] == ORDER
    assert report.valid, [c.to_json() for c in report.failed]
    assert _outcomes(report)["proof"] == Outcome.PASSED
    assert _outcomes(report)["schema"] == Outcome.PASSED


def test_vc_jwt_round_trip_with_p256() -> None:
    key, did, vm = did_key_issuer("P-256")
    token = sign_ob_vc_jwt(unsigned_badge(did), key, kid=vm)
    report = verifier().verify(token)
    assert report.valid, [c.to_json() for c in report.failed]
    assert report.format == "jwt"


def test_vc_jwt_round_trip_with_ed25519() -> None:
    key, did, vm = did_key_issuer("Ed25519")
    token = sign_ob_vc_jwt(unsigned_badge(did), key, kid=vm)
    assert verifier().verify(token).valid


def test_tampered_jwt_payload_fails() -> None:
    key, did, vm = did_key_issuer("P-256")
    token = sign_ob_vc_jwt(unsigned_badge(did), key, kid=vm)
    head, body, sig = token.split(".")
    from issuer.core.multibase import b64url_decode, b64url_encode

    payload = json.loads(b64url_decode(body))
    payload["name"] = "Something else"
    forged = ".".join([head, b64url_encode(json.dumps(payload).encode()), sig])
    report = verifier().verify(forged)
    assert not report.valid
    assert _outcomes(report)["proof"] == Outcome.FAILED


def _fail(report: VerificationReport, check: str) -> str:
    assert not report.valid
    failed = {c.id: c for c in report.failed}
    assert check in failed, [c.to_json() for c in report.checks]
    return failed[check].message


def test_malformed_json_fails_parse() -> None:
    message = _fail(verifier().verify('{"@context": ['), "parse")
    assert "not valid JSON" in message


def test_duplicate_proof_key_is_refused() -> None:
    signed, _ = signed_badge()
    text = json.dumps(signed)
    proof = json.dumps(signed["proof"])
    doubled = text[:-1] + f', "proof": {proof}' + "}"
    assert "twice" in _fail(verifier().verify(doubled), "parse")


def test_same_proof_twice_in_a_set_is_checked_as_a_repeat() -> None:
    """VC Data Integrity §4.5: each proof of a set is verified; a repeat is one more graph
    of the set, not another signer (see tests/core/test_proof_sets.py)."""
    signed, _ = signed_badge()
    signed["proof"] = signed["proof"] * 2
    report = verifier().verify(signed)
    assert report.valid
    assert "the same as proof 1" in report.check("proof").details[1]  # type: ignore[union-attr]
    signed["proof"][1] = {**signed["proof"][1], "proofValue": "z" + "1" * 80}
    assert not verifier().verify(signed).valid


def test_missing_proof() -> None:
    signed, _ = signed_badge()
    del signed["proof"]
    assert "no proof" in _fail(verifier().verify(signed), "proof")


def test_unknown_context_is_named() -> None:
    signed, _ = signed_badge()
    signed["@context"].append("https://evil.example/context.json")
    message = _fail(verifier().verify(signed), "context")
    assert "https://evil.example/context.json" in message


def test_undefined_term_is_named() -> None:
    signed, _ = signed_badge()
    signed["credentialSubject"]["favouriteColour"] = "blue"
    message = _fail(verifier().verify(signed), "context")
    assert "favouriteColour" in message


def test_bad_multibase_proof_value() -> None:
    signed, _ = signed_badge()
    signed["proof"][0]["proofValue"] = "z0OIl"  # characters outside base58btc
    assert not verifier().verify(signed).valid
    assert _outcomes(verifier().verify(signed))["proof"] == Outcome.FAILED


def test_truncated_signature() -> None:
    signed, _ = signed_badge()
    raw = multibase_decode(signed["proof"][0]["proofValue"])
    signed["proof"][0]["proofValue"] = multibase_encode(raw[:40], "z")
    _fail(verifier().verify(signed), "proof")


def test_signed_by_another_key() -> None:
    signed, _ = signed_badge()
    other = PrivateKey.generate()
    resigned = sign_document(
        {k: v for k, v in signed.items() if k != "proof"}, SIGNING_SUITES["eddsa-rdfc-2022"],
        other, verification_method=signed["proof"][0]["verificationMethod"],
        ctx=SuiteContext(loader=config.context_loader()), created="2026-01-01T00:00:00Z",
    )
    assert "does not match" in _fail(verifier().verify(resigned), "proof")


def test_key_of_another_did_is_not_the_issuers() -> None:
    signed, _ = signed_badge()
    _, _, other_vm = did_key_issuer()
    signed["proof"][0]["verificationMethod"] = other_vm
    assert "not listed" in _fail(verifier().verify(signed), "proof")


def test_fragment_key_on_https_issuer_is_not_trusted_without_a_pinned_document() -> None:
    key = PrivateKey.generate()
    issuer = "https://badges.example/issuers/1"
    vm = f"{issuer}#{key.public_key.to_multibase()}"
    signed = sign_document(
        unsigned_badge(issuer), SIGNING_SUITES["eddsa-rdfc-2022"], key,
        verification_method=vm, ctx=SuiteContext(loader=config.context_loader()),
    )
    assert "no trusted controller document" in _fail(verifier().verify(signed), "proof")
    pinned = {
        "id": issuer,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": issuer,
                                "publicKeyMultibase": key.public_key.to_multibase()}],
        "assertionMethod": [vm],
    }
    report = verifier(resolver=Resolver.with_trusted([pinned])).verify(signed)
    assert report.valid, [c.to_json() for c in report.failed]


def test_pinned_document_whose_key_has_another_controller_is_refused() -> None:
    key = PrivateKey.generate()
    issuer = "https://badges.example/issuers/1"
    vm = f"{issuer}#k1"
    signed = sign_document(
        unsigned_badge(issuer), SIGNING_SUITES["eddsa-rdfc-2022"], key,
        verification_method=vm, ctx=SuiteContext(loader=config.context_loader()),
    )
    pinned = {
        "id": issuer,
        "verificationMethod": [{"id": vm, "type": "Multikey",
                                "controller": "https://someone-else.example",
                                "publicKeyMultibase": key.public_key.to_multibase()}],
        "assertionMethod": [vm],
    }
    report = verifier(resolver=Resolver.with_trusted([pinned])).verify(signed)
    assert "not by the issuer" in _fail(report, "proof")


def test_expired() -> None:
    signed, _ = signed_badge()
    later = verifier()
    report = type(later)(loader=later.loader, schemas=later.schemas,
                         clock=lambda: datetime(2027, 6, 1, tzinfo=UTC)).verify(signed)
    assert "expired" in _fail(report, "dates")


def test_not_yet_valid() -> None:
    signed, _ = signed_badge()
    v = verifier()
    early = type(v)(loader=v.loader, schemas=v.schemas,
                    clock=lambda: datetime(2025, 6, 1, tzinfo=UTC))
    assert "not valid yet" in _fail(early.verify(signed), "dates")


def test_schema_violation_is_reported_with_its_path() -> None:
    key, did, vm = did_key_issuer()
    doc = unsigned_badge(did)
    del doc["credentialSubject"]["achievement"]["criteria"]
    signed = sign_document(doc, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=vm,
                           ctx=SuiteContext(loader=config.context_loader()))
    report = verifier().verify(signed)
    _fail(report, "schema")
    schema = next(c for c in report.checks if c.id == "schema")
    assert any("criteria" in d for d in schema.details)
    # The signature is still reported on its own merits.
    assert _outcomes(report)["proof"] == Outcome.PASSED


def test_status_without_a_checker_is_never_reported_as_not_revoked() -> None:
    key, did, vm = did_key_issuer()
    doc = unsigned_badge(did)
    doc["credentialStatus"] = {
        "id": "https://badges.example/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://badges.example/status/1",
    }
    signed = sign_document(doc, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=vm,
                           ctx=SuiteContext(loader=config.context_loader()))
    report = verifier().verify(signed)
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.WARNING
    assert "could not check" in status.message
    assert "not revoked" not in status.message


def test_endorsements_are_verified() -> None:
    endorsement_key, endorser, endorser_vm = did_key_issuer()
    endorsement = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:6a1d2e3f-4b5c-4d6e-8f90-a1b2c3d4e5f6",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Endorsement of Peer Scaffolder",
        "issuer": {"id": endorser, "type": ["Profile"], "name": "Professional Body"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://badges.example/achievements/peer-scaffolder",
            "type": ["EndorsementSubject"],
            "endorsementComment": "Recognised for CPD.",
        },
    }
    ctx = SuiteContext(loader=config.context_loader())
    signed_endorsement = sign_document(endorsement, SIGNING_SUITES["eddsa-rdfc-2022"],
                                       endorsement_key, verification_method=endorser_vm,
                                       ctx=ctx)
    key, did, vm = did_key_issuer()
    doc = unsigned_badge(did)
    doc["credentialSubject"]["achievement"]["endorsement"] = [signed_endorsement]
    signed = sign_document(doc, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=vm, ctx=ctx)
    report = verifier().verify(signed)
    assert report.valid
    assert _outcomes(report)["endorsements"] == Outcome.PASSED

    broken = copy.deepcopy(doc)
    bad = copy.deepcopy(signed_endorsement)
    bad["credentialSubject"]["endorsementComment"] = "Changed after signing."
    broken["credentialSubject"]["achievement"]["endorsement"] = [bad]
    resigned = sign_document(broken, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                             verification_method=vm, ctx=ctx)
    report = verifier().verify(resigned)
    assert report.valid  # the badge itself is intact...
    endorsements = report.check("endorsements")
    assert endorsements is not None and endorsements.outcome == Outcome.WARNING  # ...not it


@pytest.mark.parametrize(
    "text",
    ["", "   ", "[1, 2]", "null", "\"a string\"", "eyJ.only-two", "not json at all",
     "{\"a\": NaN", "\u0000"],
)
def test_unreadable_inputs_never_raise(text: str) -> None:
    report = verifier().verify(text)
    assert not report.valid
    assert report.checks[0].id == "parse"
    assert report.checks[0].outcome == Outcome.FAILED


def test_deeply_nested_json_is_refused_cleanly() -> None:
    text = "{\"a\":" * 100_000 + "1" + "}" * 100_000
    report = verifier().verify(text)
    assert not report.valid


def test_proof_created_in_the_future_is_allowed_but_proof_expiry_is_enforced() -> None:
    key, did, vm = did_key_issuer()
    signed = sign_document(unsigned_badge(did), SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=vm,
                           ctx=SuiteContext(loader=config.context_loader()),
                           created=NOW - timedelta(days=1))
    assert verifier().verify(signed).valid
    signed["proof"][0]["expires"] = "2026-01-01T00:00:00Z"
    assert not verifier().verify(signed).valid


def _report_json(report: VerificationReport) -> dict[str, Any]:
    data = report.to_json()
    json.dumps(data)
    return data


def test_report_serialises() -> None:
    signed, _ = signed_badge()
    data = _report_json(verifier().verify(signed))
    assert data["valid"] is True
    assert {c["outcome"] for c in data["checks"]} <= {"passed", "failed", "skipped", "warning"}


@pytest.mark.parametrize(("where", "value"), [
    ("credentialSubject", None), ("credentialSubject", []),
    ("proof", None), ("proof", []), ("proof", [None]), ("proof", ["x", "x"]),
])
def test_what_a_signature_would_not_cover_is_refused_in_the_proof_too(
        where: str, value: Any) -> None:
    # JSON-LD drops nulls, empty lists and repeats before canonicalizing the document and
    # the proof's options alike: the signature would still verify with them added.
    signed, _ = signed_badge()
    tampered = copy.deepcopy(signed)
    target = tampered["proof"][0] if where == "proof" else tampered[where]
    target["iss"] = value
    report = verifier().verify(tampered)
    assert not report.valid
    (context,) = [c for c in report.checks if c.id == "context"]
    assert context.outcome is Outcome.FAILED
    assert "a signature does not cover" in context.message
    assert any(d.startswith(f"{'proof[0]' if where == 'proof' else where}.iss")
               for d in context.details)
    assert verifier().verify(signed).valid
