"""Revocation with the 1EdTech Revocation List Status Method (VCRL 1.0), as OB 3.0 §9.1
step 4 and CLR 2.0 name it.

The credential carries ``credentialStatus: {"id": <list URL>, "type": "1EdTechRevocationList"}``
(the type is defined by the 1EdTech extensions context). The verifier GETs that URL; the JSON
answer lists ``revokedCredentials``, each ``{"id", "revoked"?, "revocationReason"?}``. The
credential is revoked when its ``id`` is listed and ``revoked`` is true or absent (the
behaviour of 1EdTech's own validator, ``RevocationListProbe``).

The list is a plain JSON document, usually without a proof. So that a stranger's list cannot
revoke or clear anyone's badge, it is believed only when it is the issuer's own: it carries a
proof that verifies and names the credential's issuer, or it is served from the issuer's own
host (the host of an ``https`` issuer id, or of a ``did:web`` issuer). Anything else, and any
list that cannot be had, is "could not check", never "not revoked".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from issuer.core.errors import IssuerError
from issuer.core.nodes import issuer_id, types_of
from issuer.core.verify import Outcome, StatusResult
from issuer.core.vocab import REVOCATION_LIST

__all__ = ["ENTRY_TYPE", "MAX_LISTED", "RevocationListChecker", "issuer_host", "revoked_entry"]

ENTRY_TYPE = REVOCATION_LIST
#: Entries read from one list; past this a list is making the verifier work for nothing.
MAX_LISTED = 100_000


def issuer_host(issuer: str | None) -> str | None:
    """The host an issuer id stands for: of an https URL, or of a ``did:web`` (did-method-web
    §3.2: the first segment, with ``%3A`` for a port)."""
    if not isinstance(issuer, str):
        return None
    if issuer.startswith("did:web:"):
        authority = unquote(issuer[len("did:web:"):].split(":", 1)[0])
        return (urlsplit(f"https://{authority}").hostname or "").lower() or None
    if issuer.lower().startswith("https://"):
        return (urlsplit(issuer).hostname or "").lower() or None
    return None


def revoked_entry(revocations: Mapping[str, Any], credential_id: str
                  ) -> Mapping[str, Any] | None:
    """The list's entry that revokes ``credential_id``, if there is one."""
    listed = revocations.get("revokedCredentials")
    if not isinstance(listed, list):
        raise ValueError("the revocation list has no revokedCredentials array")
    for item in listed[:MAX_LISTED]:
        if (isinstance(item, Mapping) and item.get("id") == credential_id
                and item.get("revoked", True) is not False):
            return item
    return None


class RevocationListChecker:
    """The verifier's status checker for ``1EdTechRevocationList`` entries.

    ``fetch`` returns the JSON at a URL (None when there is none); ``verify_list`` says
    whether a list's own proof verifies (used only when the list carries one).
    """

    def __init__(self, fetch: Callable[[str], Mapping[str, Any] | None],
                 verify_list: Callable[[Mapping[str, Any]], bool]) -> None:
        self._fetch = fetch
        self._verify_list = verify_list

    def __call__(self, entry: Mapping[str, Any], credential: Mapping[str, Any]
                 ) -> StatusResult:
        if ENTRY_TYPE not in types_of(entry):
            return _unknown("this is not a 1EdTech revocation list entry")
        url = entry.get("id")
        if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
            return _unknown("the 1EdTech revocation list entry has no list URL as its id")
        credential_id = credential.get("id")
        if not isinstance(credential_id, str):
            return _unknown("the credential has no id to look for in its issuer's "
                            "revocation list")
        try:
            revocations = self._fetch(url)
        except IssuerError as exc:
            return _unknown(f"the revocation list was not available: {exc.message}")
        except Exception:  # noqa: BLE001 - a failing fetch means "unavailable", whatever it was
            revocations = None
        if not isinstance(revocations, Mapping):
            return _unknown(f"the revocation list {_shown(url)} was not available")
        why = self._distrust(url, revocations, issuer_id(credential))
        if why is not None:
            return _unknown(why)
        try:
            found = revoked_entry(revocations, credential_id)
        except ValueError as exc:
            return _unknown(str(exc))
        if found is not None:
            reason = found.get("revocationReason")
            return StatusResult(Outcome.FAILED, "revoked: the issuer's revocation list "
                                "revokes this credential"
                                + (f" ({reason[:200]})" if isinstance(reason, str) and reason
                                   else ""))
        return StatusResult(Outcome.PASSED, "not revoked (checked against the issuer's "
                                            "revocation list just now)")

    def _distrust(self, url: str, revocations: Mapping[str, Any], issuer: str | None
                  ) -> str | None:
        """Why this list is not the credential's issuer's to believe; None when it is."""
        if "proof" in revocations:
            try:
                trusted = bool(self._verify_list(revocations))
            except Exception:  # noqa: BLE001 - a list that breaks the verifier is not trusted
                trusted = False
            if not trusted:
                return "the revocation list's signature could not be verified, so it " \
                       "cannot be trusted"
            if issuer_id(revocations) != issuer:
                return f"the revocation list is issued by {issuer_id(revocations)}, not by " \
                       f"the credential's issuer {issuer}"
            return None
        parts = urlsplit(url)
        host = issuer_host(issuer)
        if parts.scheme.lower() != "https" or host is None or \
                (parts.hostname or "").lower() != host:
            return (f"the revocation list {_shown(url)} is not signed and not on the "
                    f"issuer's own site, so it cannot be trusted")
        return None


def _shown(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "…"


def _unknown(why: str) -> StatusResult:
    return StatusResult(Outcome.WARNING, f"could not check the status: {why}")
