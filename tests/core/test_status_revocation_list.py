"""The 1EdTech Revocation List status method (OB 3.0 §9.1 step 4): a list the issuer
publishes, believed only when it is the issuer's own."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from issuer import config
from issuer.core.errors import InputError
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.revocation_list import RevocationListChecker, issuer_host
from issuer.core.verify import Outcome
from tests.core.helpers import did_key_issuer, unsigned_badge, verifier

LIST_URL = "https://issuer.example/credentials/revocations"
CREDENTIAL_ID = "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f"
ENTRY = {"id": LIST_URL, "type": "1EdTechRevocationList"}
CREDENTIAL = {"id": CREDENTIAL_ID, "issuer": {"id": "https://issuer.example/profile"}}


def checker(store: Mapping[str, Any], trusted: bool = False) -> RevocationListChecker:
    return RevocationListChecker(store.get, lambda _doc: trusted)


def revocations(*items: Any) -> dict[str, Any]:
    return {"revokedCredentials": list(items)}


@pytest.mark.parametrize(("issuer", "host"), [
    ("https://Issuer.Example/profile", "issuer.example"),
    ("did:web:issuer.example", "issuer.example"),
    ("did:web:issuer.example%3A8443:issuers:7", "issuer.example"),
    ("did:key:z6Mk", None),
    ("http://issuer.example/", None),
    (None, None),
])
def test_the_issuers_own_host(issuer: Any, host: str | None) -> None:
    assert issuer_host(issuer) == host


def test_a_listed_credential_is_revoked() -> None:
    store = {LIST_URL: revocations({"id": CREDENTIAL_ID, "revocationReason": "withdrawn"})}
    result = checker(store)(ENTRY, CREDENTIAL)
    assert result.outcome == Outcome.FAILED
    assert result.message == ("revoked: the issuer's revocation list revokes this credential "
                              "(withdrawn)")


@pytest.mark.parametrize("listed", [
    revocations(),
    revocations({"id": "urn:uuid:another"}),
    revocations({"id": CREDENTIAL_ID, "revoked": False}),
])
def test_a_credential_not_revoked_by_the_list_passes(listed: dict[str, Any]) -> None:
    result = checker({LIST_URL: listed})(ENTRY, CREDENTIAL)
    assert result.outcome == Outcome.PASSED
    assert result.message == ("not revoked (checked against the issuer's revocation list just "
                              "now)")


@pytest.mark.parametrize(("store", "credential", "words"), [
    ({}, CREDENTIAL, "was not available"),
    ({LIST_URL: {"revoked": []}}, CREDENTIAL, "no revokedCredentials"),
    ({LIST_URL: revocations()}, {"issuer": "https://issuer.example/"}, "has no id"),
    ({LIST_URL: revocations({"id": CREDENTIAL_ID})},
     {"id": CREDENTIAL_ID, "issuer": "https://elsewhere.example/"}, "not on the issuer's own"),
    ({LIST_URL: revocations({"id": CREDENTIAL_ID})},
     {"id": CREDENTIAL_ID, "issuer": "did:key:z6MkexampleOnly"}, "not on the issuer's own"),
])
def test_what_cannot_be_answered_is_could_not_check(store: dict[str, Any],
                                                    credential: dict[str, Any],
                                                    words: str) -> None:
    result = checker(store)(ENTRY, credential)
    assert result.outcome == Outcome.WARNING
    assert result.message.startswith("could not check the status:") and words in result.message


def test_a_failing_fetch_is_could_not_check() -> None:
    def fetch(url: str) -> Mapping[str, Any] | None:
        raise InputError(f"{url} did not answer within 5 s")

    result = RevocationListChecker(fetch, lambda _doc: True)(ENTRY, CREDENTIAL)
    assert result.outcome == Outcome.WARNING and "did not answer" in result.message


def test_an_http_list_on_the_issuers_host_is_not_believed() -> None:
    entry = {**ENTRY, "id": LIST_URL.replace("https:", "http:")}
    store = {entry["id"]: revocations({"id": CREDENTIAL_ID})}
    assert checker(store)(entry, CREDENTIAL).outcome == Outcome.WARNING


def test_a_signed_list_counts_only_when_it_verifies_and_is_the_issuers() -> None:
    key, did, vm = did_key_issuer()
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://lists.example/r", "type": ["VerifiableCredential"],
        "issuer": did, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://lists.example/r#list"},
    }
    signed = sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=vm,
                           ctx=SuiteContext(loader=config.context_loader()),
                           created="2026-01-01T00:00:00Z")
    # The list terms are outside the signed document's vocabulary; what matters here is
    # whose proof it carries, so the check is handed a verifier's answer.
    listed = {**signed, "revokedCredentials": [{"id": CREDENTIAL_ID}]}
    entry = {**ENTRY, "id": "https://lists.example/r"}
    ours = {"id": CREDENTIAL_ID, "issuer": did}
    assert checker({entry["id"]: listed}, trusted=True)(entry, ours).outcome == Outcome.FAILED
    untrusted = checker({entry["id"]: listed}, trusted=False)(entry, ours)
    assert untrusted.outcome == Outcome.WARNING and "signature" in untrusted.message
    theirs = checker({entry["id"]: listed}, trusted=True)(entry, {**ours, "issuer": "did:x:y"})
    assert theirs.outcome == Outcome.WARNING and "not by the credential's issuer" in \
        theirs.message
    assert verifier().verify(json.dumps(signed)).valid


def test_end_to_end_through_the_verifier() -> None:
    key, did, vm = did_key_issuer()
    badge = unsigned_badge(did)
    badge["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    badge["credentialStatus"] = dict(ENTRY)
    signed = sign_document(badge, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=vm,
                           ctx=SuiteContext(loader=config.context_loader()),
                           created="2026-01-01T00:00:00Z")
    store: dict[str, Any] = {LIST_URL: revocations({"id": CREDENTIAL_ID})}
    # A did:key issuer has no site of its own, so an unsigned list cannot be its word.
    report = verifier(status_checker=checker(store)).verify(json.dumps(signed))
    status = report.check("status")
    assert status is not None and status.outcome == Outcome.WARNING
    assert "not on the issuer's own site" in status.message
    # The status could not be checked: a warning, so the report is valid with a warning.
    assert report.valid and [c.id for c in report.warnings if c.id == "status"] == ["status"]
