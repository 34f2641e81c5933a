"""Matching an e-mail address against OB 3.0 IdentityObjects (§B.1.12, §B.7 IdentityHash) and
OB 2.0 recipients."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from issuer.core.credentials import hashed_email
from issuer.core.identity import (
    RecipientMatch,
    email_match,
    identity_matches,
    subject_email_match,
)


def spec_hash(identifier: str, salt: str) -> str:
    """OB 3.0 §B.7, written out independently: "sha256$" + lowercase hex of SHA-256 over the
    identifier with the salt appended, no separator."""
    return "sha256$" + hashlib.sha256(f"{identifier}{salt}".encode()).hexdigest()


def credential(*identifiers: dict[str, Any]) -> dict[str, Any]:
    return {"type": ["VerifiableCredential", "OpenBadgeCredential"],
            "credentialSubject": {"type": ["AchievementSubject"],
                                  "identifier": list(identifiers)}}


def hashed(email: str, salt: str = "s@lt") -> dict[str, Any]:
    return {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
            "identityHash": spec_hash(email, salt), "salt": salt}


def test_a_salted_sha256_hash_matches_its_address_only() -> None:
    identity = hashed("grace@example.org")
    assert identity["identityHash"].startswith("sha256$")
    assert identity_matches(identity, "grace@example.org")
    assert identity_matches(identity, "  Grace@Example.org ")  # as issuers normalise
    assert not identity_matches(identity, "ada@example.org")
    assert not identity_matches({**identity, "salt": "other"}, "grace@example.org")


def test_the_hash_this_service_issues_follows_the_spec_rule() -> None:
    issued = hashed_email("Grace@Example.org", salt="pepper")
    assert issued.identityHash == spec_hash("grace@example.org", "pepper")
    assert identity_matches({"identityHash": issued.identityHash, "hashed": True,
                             "salt": issued.salt}, "grace@example.org")


def test_an_unsalted_hash_and_an_uppercase_digest_still_match() -> None:
    digest = hashlib.sha256(b"grace@example.org").hexdigest()
    assert identity_matches({"identityHash": f"sha256${digest}", "hashed": True},
                            "grace@example.org")
    assert identity_matches({"identityHash": f"SHA256${digest.upper()}", "hashed": True},
                            "grace@example.org")


@pytest.mark.parametrize("stated", ["sha512$00", "nodollar", "sha256$", 42])
def test_unknown_or_broken_hashes_never_match(stated: Any) -> None:
    assert not identity_matches({"identityHash": stated, "hashed": True}, "grace@example.org")


def test_a_plain_address_is_compared_without_case() -> None:
    plain = {"identityType": "emailAddress", "hashed": False,
             "identityHash": "Grace@example.org"}
    assert subject_email_match(credential(plain), "grace@EXAMPLE.org") == RecipientMatch.MATCHES
    assert subject_email_match(credential(plain), "ada@example.org") == \
        RecipientMatch.DOES_NOT_MATCH


def test_a_credential_answers_by_its_email_identifiers_only() -> None:
    name = {"identityType": "name", "hashed": False, "identityHash": "grace@example.org"}
    assert subject_email_match(credential(name), "grace@example.org") == RecipientMatch.NO_EMAIL
    assert subject_email_match({"credentialSubject": {"id": "did:example:1"}},
                               "grace@example.org") == RecipientMatch.NO_EMAIL
    both = credential(name, hashed("grace@example.org"))
    assert subject_email_match(both, "grace@example.org") == RecipientMatch.MATCHES
    assert subject_email_match(both, "ada@example.org") == RecipientMatch.DOES_NOT_MATCH


def test_ob2_recipients() -> None:
    salt = "deadsea"
    recipient = {"type": "email", "hashed": True, "salt": salt,
                 "identity": spec_hash("grace@example.org", salt)}
    assertion = {"type": "Assertion", "recipient": recipient}
    assert email_match(assertion, "grace@example.org", ob2=True) == RecipientMatch.MATCHES
    assert email_match(assertion, "ada@example.org", ob2=True) == RecipientMatch.DOES_NOT_MATCH
    url = {"type": "Assertion", "recipient": {"type": "url", "identity": "https://x.example"}}
    assert email_match(url, "grace@example.org", ob2=True) == RecipientMatch.NO_EMAIL
