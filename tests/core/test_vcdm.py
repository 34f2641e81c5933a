"""The VC Data Model MUSTs shared by issuing and verifying (issuer.core.vcdm)."""

from __future__ import annotations

from typing import Any

from issuer.core.vcdm import credential_problems

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"


def _vc(context: str, **extra: Any) -> dict[str, Any]:
    return {"@context": [context], "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:1"}, **extra}


def test_a_well_formed_credential_has_no_problems() -> None:
    assert credential_problems(_vc(V2, validFrom="2024-01-01T00:00:00+02:00")) == []
    assert credential_problems(_vc(V1, issuanceDate="2024-01-01T00:00:00")) == []


def test_dates_follow_their_version() -> None:
    # VCDM 2.0 wants a time zone (dateTimeStamp); VC 1.1 a dateTime, whose zone is optional.
    [problem] = credential_problems(_vc(V2, validFrom="2024-01-01T00:00:00"))
    assert problem.startswith("validFrom:") and "§4.9" in problem
    [problem] = credential_problems(_vc(V1, issuanceDate="1 January 2024"))
    assert problem.startswith("issuanceDate:") and "1.1" in problem


def test_a_vc11_status_needs_its_id() -> None:
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
    assert credential_problems(_vc(V2, credentialStatus=entry)) == []
    [problem] = credential_problems(_vc(V1, credentialStatus=entry))
    assert "id must be a URL" in problem and "1.1 §4.9" in problem


def test_digests_are_checked_for_their_form() -> None:
    sha256_multihash = "uEiB" + "A" * 43
    raw_digest = "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"  # no multihash header
    good = [{"id": "https://example.org/a", "digestMultibase": sha256_multihash}]
    bad = [{"id": "https://example.org/a", "digestMultibase": raw_digest}]
    assert credential_problems(_vc(V2, relatedResource=good)) == []
    assert "digestMultibase" in credential_problems(_vc(V2, relatedResource=bad))[0]
