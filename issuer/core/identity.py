"""Does a credential belong to this e-mail address, or this web address? (OB 3.0 §B.1.12
IdentityObject, §B.7 IdentityHash, §B.2.3 IdentifierTypeEnum ``emailAddress``/``url``; OB 2.0
IdentityObject ``type`` ``email``/``url`` through :func:`issuer.core.ob2.recipient_matches`.)

A verifier who already knows the address hashes it the way the issuer did and compares
(OB 3.0 §9.3): ``<algorithm>$<hex of hash(identifier + salt)>``, sha256 (md5 is allowed by
§B.7 for old data). Addresses are compared trimmed and in lower case, as issuers hash them
(:func:`issuer.core.credentials.normalize_email`), and also exactly as typed, since another
issuer may have hashed the address without lower-casing it. A web address (a profile or
portfolio URL) is compared as given, trimmed: its path may be case-sensitive; an OB 3.0
subject whose ``id`` is that URL names it too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

from issuer.core.ob2 import recipient_matches
from issuer.core.verify import Check, Outcome

__all__ = ["EMAIL_TYPES", "URL_TYPES", "RecipientMatch", "email_identifiers", "email_match",
           "identity_matches", "is_web_address", "ob2_email_match", "recipient_check",
           "recipient_match", "subject_email_match"]

#: ``identityType`` values that name an e-mail address (OB 3.0 §B.2.3; OB 2.0 says "email").
EMAIL_TYPES = frozenset({"emailAddress", "email"})
#: ``identityType`` values that name a web address (OB 3.0 §B.2.3 ``url``; OB 2.0 "url").
URL_TYPES = frozenset({"url"})
_HASHES: dict[str, Callable[[bytes], Any]] = {"sha256": hashlib.sha256, "md5": hashlib.md5}


class RecipientMatch(StrEnum):
    MATCHES = "matches"
    DOES_NOT_MATCH = "does_not_match"
    NO_EMAIL = "no_email"
    NO_URL = "no_url"


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


def is_web_address(identity: str) -> bool:
    """Whether what a person typed is a web address rather than an e-mail address."""
    return identity.strip().lower().startswith(("https://", "http://"))


def _url_identity_matches(identity: Mapping[str, Any], url: str) -> bool:
    stated = identity.get("identityHash")
    if identity.get("hashed") is True or not isinstance(stated, str):
        return identity_matches(identity, url)
    return stated.strip() == url.strip()


def recipient_match(credential: Mapping[str, Any], identity: str, *, ob2: bool
                    ) -> RecipientMatch:
    """Whether the credential names ``identity``: an e-mail address, or a web address
    (:func:`is_web_address`), each compared only with identities of its own kind."""
    if not is_web_address(identity):
        return email_match(credential, identity, ob2=ob2)
    url = identity.strip()
    if ob2:
        recipient = credential.get("recipient")
        if not isinstance(recipient, Mapping) or recipient.get("type") not in URL_TYPES:
            return RecipientMatch.NO_URL
        if recipient.get("hashed"):
            matched = recipient_matches(recipient, url)
        else:
            matched = str(recipient.get("identity", "")).strip() == url
        return RecipientMatch.MATCHES if matched else RecipientMatch.DOES_NOT_MATCH
    subjects = credential.get("credentialSubject")
    listed: Iterable[Any] = subjects if isinstance(subjects, list) else [subjects]
    ids = [s.get("id") for s in listed if isinstance(s, Mapping) and isinstance(s.get("id"), str)
           and is_web_address(s["id"])]
    identities = [i for s in listed if isinstance(s, Mapping)
                  for i in _identifiers(s) if i.get("identityType") in URL_TYPES]
    if not ids and not identities:
        return RecipientMatch.NO_URL
    if url in ids or any(_url_identity_matches(i, url) for i in identities):
        return RecipientMatch.MATCHES
    return RecipientMatch.DOES_NOT_MATCH


def _identifiers(subject: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = subject.get("identifier")
    items: Iterable[Any] = found if isinstance(found, list) else [found]
    return [i for i in items if isinstance(i, Mapping)]


def recipient_check(credential: Any, identity: str, *, ob2: bool) -> Check:
    """The ``recipient`` check of a verification asked whether the credential is
    ``identity``'s: passed when it names them, failed otherwise (also when it names no one
    of that kind: asked, "cannot tell" is not "yes")."""
    if not isinstance(credential, Mapping):
        return Check("recipient", Outcome.FAILED, f"there is no credential to match to "
                                                  f"{identity}")
    answer = recipient_match(credential, identity, ob2=ob2)
    what = "web address" if is_web_address(identity) else "e-mail address"
    if answer == RecipientMatch.MATCHES:
        return Check("recipient", Outcome.PASSED, f"the credential was awarded to {identity}")
    if answer == RecipientMatch.DOES_NOT_MATCH:
        return Check("recipient", Outcome.FAILED, f"the credential was not awarded to "
                                                  f"{identity}: the {what} it names is a "
                                                  "different one")
    return Check("recipient", Outcome.FAILED, f"the credential names no {what} for its "
                                              f"recipient, so it cannot be matched to "
                                              f"{identity}")
