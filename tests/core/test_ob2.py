"""OB 2.0 assertions verified by :mod:`issuer.core.ob2` against documents served from a dict
(the network tests are in tests/net/test_ob2_online.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from issuer.core import baking
from issuer.core.multibase import b64url_encode
from issuer.core.ob2 import MAX_FETCHES, ob2_payload, recipient_matches, verify_ob2
from issuer.core.verify import Outcome, VerificationReport
from tests.core.ob2_helpers import EMAIL, SALT, Ob2Issuer, ob2_png, tiny_png

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BASE = "https://issuer.example"


class Site:
    """Documents by URL; what was asked for is kept."""

    def __init__(self, *docs: Mapping[str, dict[str, Any]]) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        for group in docs:
            self.docs.update(group)
        self.asked: list[str] = []

    def __call__(self, url: str) -> dict[str, Any] | None:
        self.asked.append(url)
        return self.docs.get(url)


@pytest.fixture(scope="module")
def issuer() -> Ob2Issuer:
    return Ob2Issuer(BASE)


def hosted_site(issuer: Ob2Issuer, assertion: dict[str, Any]) -> Site:
    return Site(issuer.documents(), {assertion["id"]: assertion})


def outcome(report: VerificationReport, check: str) -> Outcome:
    found = report.check(check)
    assert found is not None, [c.to_json() for c in report.checks]
    return found.outcome


def test_a_hosted_assertion_verifies(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    site = hosted_site(issuer, assertion)
    report = verify_ob2(assertion, site, now=NOW, recipient=EMAIL)
    assert report.valid, [c.to_json() for c in report.checks]
    assert report.format == "ob2-hosted" and report.issuer == issuer.id
    assert [c.id for c in report.checks] == ["parse", "type", "issuer", "proof", "recipient",
                                             "dates", "status"]
    assert outcome(report, "recipient") == Outcome.PASSED
    assert issuer.list_id in site.asked


def test_the_hosted_copy_must_equal_what_was_presented(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    site = hosted_site(issuer, assertion)
    altered = {**assertion, "issuedOn": "2025-01-01T00:00:00Z"}
    report = verify_ob2(altered, site, now=NOW)
    assert not report.valid
    assert "differs" in report.check("proof").message  # type: ignore[union-attr]


def test_a_revoked_assertion_is_invalid(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(2)
    site = hosted_site(issuer, assertion)
    site.docs[issuer.list_id] = {**issuer.revocation_list(), "revokedAssertions": [
        {"id": assertion["id"], "revocationReason": "Made in error"}]}
    report = verify_ob2(assertion, site, now=NOW)
    assert outcome(report, "status") == Outcome.FAILED and not report.valid
    assert "Made in error" in report.check("status").message  # type: ignore[union-attr]


def test_a_hosted_copy_that_says_revoked_is_invalid(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(3)
    site = Site(issuer.documents(), {assertion["id"]: {"id": assertion["id"],
                                                       "revoked": True}})
    report = verify_ob2(assertion["id"], site, now=NOW)
    assert not report.valid


def test_an_assertion_that_is_gone_is_invalid(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(4)
    report = verify_ob2(assertion, Site(issuer.documents()), now=NOW)
    assert outcome(report, "proof") == Outcome.FAILED


@pytest.mark.parametrize(("email", "valid"), [(EMAIL, True), (EMAIL.upper(), True),
                                              ("someone@example.org", False)])
def test_the_recipient_is_compared(issuer: Ob2Issuer, email: str, valid: bool) -> None:
    assertion = issuer.assertion()
    report = verify_ob2(assertion, hosted_site(issuer, assertion), now=NOW, recipient=email)
    assert report.valid is valid
    without = verify_ob2(assertion, hosted_site(issuer, assertion), now=NOW)
    assert outcome(without, "recipient") == Outcome.SKIPPED and without.valid


def test_recipient_identities() -> None:
    md5 = hashlib.md5((EMAIL + SALT).encode()).hexdigest()
    assert recipient_matches({"identity": f"md5${md5}", "hashed": True, "salt": SALT}, EMAIL)
    assert recipient_matches({"identity": EMAIL, "hashed": False}, f" {EMAIL.upper()} ")
    assert not recipient_matches({"identity": f"sha1${md5}", "hashed": True}, EMAIL)
    assert not recipient_matches({"identity": f"md5${md5}", "hashed": True}, EMAIL)
    assert not recipient_matches("nobody", EMAIL)


def test_an_expired_assertion_is_invalid(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(5, expires="2026-03-01T00:00:00Z")
    report = verify_ob2(assertion, hosted_site(issuer, assertion), now=NOW)
    assert outcome(report, "dates") == Outcome.FAILED
    earlier = verify_ob2(assertion, hosted_site(issuer, assertion),
                         now=datetime(2026, 2, 1, tzinfo=UTC))
    assert earlier.valid


def test_an_assertion_off_the_issuers_origin_is_invalid(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(6, hosted_at="https://elsewhere.example")
    report = verify_ob2(assertion, hosted_site(issuer, assertion), now=NOW)
    assert outcome(report, "proof") == Outcome.FAILED
    assert "not on the origin" in report.check("proof").message  # type: ignore[union-attr]


def test_allowed_origins_and_starts_with_widen_and_narrow_the_scope() -> None:
    issuer = Ob2Issuer(BASE)
    issuer.verification = {"allowedOrigins": ["elsewhere.example"]}
    there = issuer.assertion(7, hosted_at="https://elsewhere.example")
    assert verify_ob2(there, hosted_site(issuer, there), now=NOW).valid
    home = issuer.assertion(8)
    assert not verify_ob2(home, hosted_site(issuer, home), now=NOW).valid
    issuer.verification = {"startsWith": f"{BASE}/assertions/1"}
    assert verify_ob2(issuer.assertion(1), hosted_site(issuer, issuer.assertion(1)),
                      now=NOW).valid
    assert not verify_ob2(issuer.assertion(2), hosted_site(issuer, issuer.assertion(2)),
                          now=NOW).valid


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_signed_assertion_verifies(algorithm: str) -> None:
    issuer = Ob2Issuer(BASE, algorithm=algorithm)
    token = issuer.sign(issuer.assertion(signed=True))
    report = verify_ob2(token, Site(issuer.documents()), now=NOW, recipient=EMAIL)
    assert report.valid, [c.to_json() for c in report.checks]
    assert report.format == "ob2-signed" and report.verification_method == issuer.key_id


def test_a_signed_assertion_fails_with_another_key_or_owner(issuer: Ob2Issuer) -> None:
    token = issuer.sign(issuer.assertion(signed=True))
    impostor = Ob2Issuer(BASE)
    report = verify_ob2(token, Site(issuer.documents(),
                                    {issuer.key_id: impostor.key_document()}), now=NOW)
    assert outcome(report, "proof") == Outcome.FAILED
    stolen = {**issuer.key_document(), "owner": "https://other.example/issuer.json"}
    report = verify_ob2(token, Site(issuer.documents(), {issuer.key_id: stolen}), now=NOW)
    assert "not owned" in report.check("proof").message  # type: ignore[union-attr]


def test_a_signed_assertion_is_revoked_by_its_uid_or_id(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(9, signed=True)
    site = Site(issuer.documents())
    site.docs[issuer.list_id] = {**issuer.revocation_list(),
                                 "revokedAssertions": [assertion["id"]]}
    report = verify_ob2(issuer.sign(assertion), site, now=NOW)
    assert outcome(report, "status") == Outcome.FAILED


def test_a_tampered_or_loose_jws_is_refused(issuer: Ob2Issuer) -> None:
    token = issuer.sign(issuer.assertion(signed=True))
    header, payload, signature = token.split(".")
    other = json.dumps({**issuer.assertion(signed=True), "issuedOn": "2020-01-01T00:00:00Z"})
    forged = f"{header}.{b64url_encode(other.encode())}.{signature}"
    assert outcome(verify_ob2(forged, Site(issuer.documents()), now=NOW),
                   "proof") == Outcome.FAILED
    padded = f"{header}.{payload}.{signature}=="
    assert not verify_ob2(padded, Site(issuer.documents()), now=NOW).valid
    none_alg = b64url_encode(b'{"alg":"none"}') + f".{payload}."
    assert not verify_ob2(none_alg, Site(issuer.documents()), now=NOW).valid


def test_a_signed_payload_given_as_json_is_not_accepted(issuer: Ob2Issuer) -> None:
    report = verify_ob2(issuer.assertion(signed=True), Site(issuer.documents()), now=NOW)
    assert outcome(report, "proof") == Outcome.FAILED


def test_fetches_are_bounded(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    site = hosted_site(issuer, assertion)
    verify_ob2(assertion, site, now=NOW)
    assert len(site.asked) <= MAX_FETCHES and len(set(site.asked)) == len(site.asked)


def test_detection(issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    token = issuer.sign(issuer.assertion(signed=True))
    assert ob2_payload(json.dumps(assertion).encode()) == assertion
    assert ob2_payload({"type": "Assertion", "id": "x"}) is not None
    assert ob2_payload(token) == token
    assert ob2_payload(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                                   "type": ["VerifiableCredential"]})) is None
    assert ob2_payload(b"\xff\xfe") is None
    assert ob2_payload("https://issuer.example/assertions/1.json") is None


def test_baked_ob2_payloads_are_found(issuer: Ob2Issuer) -> None:
    url = issuer.assertion()["id"]
    assert ob2_payload(ob2_png(url)) == url
    token = issuer.sign(issuer.assertion(signed=True))
    assert ob2_payload(ob2_png(token)) == token
    assert baking.extract(ob2_png(url)) is None  # the OB 3.0 reader leaves it alone
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
           f'<openbadges:assertion verify="{url}"/></svg>')
    assert ob2_payload(svg) == url and ob2_payload(svg.encode()) == url
    assert ob2_payload(tiny_png()) is None
