"""Does a credential belong to this e-mail address? (OB 3.0 §B.1.12 IdentityObject, §B.7
IdentityHash; OB 2.0 IdentityObject through :func:`issuer.core.ob2.recipient_matches`.)

A verifier who already knows the address hashes it the way the issuer did and compares
(OB 3.0 §9.3): ``<algorithm>$<hex of hash(identifier + salt)>``, sha256 (md5 is allowed by
§B.7 for old data). Addresses are compared trimmed and in lower case, as issuers hash them
(:func:`issuer.core.credentials.normalize_email`), and also exactly as typed, since another
issuer may have hashed the address without lower-casing it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

from issuer.core.ob2 import recipient_matches

__all__ = ["EMAIL_TYPES", "RecipientMatch", "email_identifiers", "email_match",
           "identity_matches", "ob2_email_match", "subject_email_match"]

#: ``identityType`` values that name an e-mail address (OB 3.0 §B.2.3; OB 2.0 says "email").
EMAIL_TYPES = frozenset({"emailAddress", "email"})
_HASHES: dict[str, Callable[[bytes], Any]] = {"sha256": hashlib.sha256, "md5": hashlib.md5}


class RecipientMatch(StrEnum):
    MATCHES = "matches"
    DOES_NOT_MATCH = "does_not_match"
    NO_EMAIL = "no_email"


def _candidates(email: str) -> set[str]:
    return {email.strip(), email.strip().lower()}


def identity_matches(identity: Mapping[str, Any], email: str) -> bool:
    """Whether ``email`` is the address this IdentityObject names (hashed or plain)."""
    stated = identity.get("identityHash")
    if not isinstance(stated, str):
        return False
    if identity.get("hashed") is not True:
        return stated.strip().lower() == email.strip().lower()
    algorithm, sep, digest = stated.partition("$")
    hasher = _HASHES.get(algorithm.lower())
    salt = identity.get("salt") or ""
    if not sep or hasher is None or not isinstance(salt, str):
        return False
    return any(
        hmac.compare_digest(hasher((c + salt).encode("utf-8")).hexdigest(), digest.lower())
        for c in _candidates(email)
    )


def email_identifiers(subject: Any) -> list[Mapping[str, Any]]:
    """The subject's IdentityObjects that name an e-mail address (OB 3.0 §B.1.3
    AchievementSubject ``identifier``, one object or a list)."""
    if not isinstance(subject, Mapping):
        return []
    found = subject.get("identifier")
    items: Iterable[Any] = found if isinstance(found, list) else [found]
    return [i for i in items
            if isinstance(i, Mapping) and i.get("identityType") in EMAIL_TYPES]


def subject_email_match(credential: Mapping[str, Any], email: str) -> RecipientMatch:
    """An OB 3.0 credential's answer for ``email``: any subject naming it matches."""
    subjects = credential.get("credentialSubject")
    listed: Iterable[Any] = subjects if isinstance(subjects, list) else [subjects]
    identities = [i for s in listed for i in email_identifiers(s)]
    if not identities:
        return RecipientMatch.NO_EMAIL
    if any(identity_matches(i, email) for i in identities):
        return RecipientMatch.MATCHES
    return RecipientMatch.DOES_NOT_MATCH


def ob2_email_match(assertion: Mapping[str, Any], email: str) -> RecipientMatch:
    """An OB 2.0 assertion's answer for ``email`` (OB 2.0 IdentityObject ``recipient``)."""
    recipient = assertion.get("recipient")
    if not isinstance(recipient, Mapping) or recipient.get("type") not in EMAIL_TYPES:
        return RecipientMatch.NO_EMAIL
    if recipient_matches(recipient, email):
        return RecipientMatch.MATCHES
    return RecipientMatch.DOES_NOT_MATCH


def email_match(credential: Mapping[str, Any], email: str, *, ob2: bool) -> RecipientMatch:
    """Whether the credential (an OB 2.0 assertion when ``ob2``) names ``email``."""
    return ob2_email_match(credential, email) if ob2 else subject_email_match(credential, email)
