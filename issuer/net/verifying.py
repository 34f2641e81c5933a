"""A verifier that may look beyond this installation, through the guarded fetcher.

Two things a credential points at live on other sites: its issuer's did:web document
(did-method-web §2.5.2 Read) and its status list: a W3C Bitstring Status List v1.0 (§3.2) or
W3C CCG Status List 2021 credential, fetched by its ``statusListCredential`` URL and trusted
only once its own proof verifies and it is the credential's issuer's; or a 1EdTech
Revocation List (OB 3.0 §9.1 step 4), fetched by the entry's ``id``
(:mod:`issuer.core.revocation_list`). :func:`online` gives the verifier these through
:class:`issuer.net.fetcher.Fetcher`; lists this installation answers for itself (``local``
routes) are never fetched. :func:`ob2_fetch` is the fetch an OB 2.0 verification uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from issuer.core.errors import IssuerError
from issuer.core.json_input import parse_json
from issuer.core.nodes import types_of
from issuer.core.ob2 import Fetch, Gone
from issuer.core.revocation_list import ENTRY_TYPE as REVOCATION_LIST
from issuer.core.revocation_list import RevocationListChecker
from issuer.core.status_list import BitstringStatusChecker, StatusRoute, routed_status
from issuer.core.verify import StatusChecker, StatusResult, Verifier
from issuer.net.errors import Absent, FetchError

if TYPE_CHECKING:
    from issuer.net.client import Fetcher

__all__ = ["MAX_FETCHES", "OFFLINE", "ob2_fetch", "online"]

#: The status answer for a list on another site when nothing may be fetched.
OFFLINE = ("the status list {url} is on another site and this verification is offline "
           "(nothing is fetched)")


#: Documents one verifier may fetch: the issuer's, a list's and its issuer's, endorsers'…
#: Past this a credential is making the verifier work for someone else.
MAX_FETCHES = 16


class _Budget:
    """``fetcher.json``, at most ``limit`` times (thread-safe enough: a verifier serves one
    request; an overrun by a racing call or two is harmless)."""

    def __init__(self, fetcher: Fetcher, limit: int) -> None:
        self._fetcher = fetcher
        self._left = limit
        self._limit = limit

    def __call__(self, url: str) -> Mapping[str, Any] | None:
        if self._left <= 0:
            raise FetchError(f"{url} was not fetched: this verification already fetched "
                             f"{self._limit} documents")
        self._left -= 1
        return self._fetcher.json(url)


def online(verifier: Verifier, fetcher: Fetcher, *, local: Sequence[StatusRoute] = (),
           max_fetches: int = MAX_FETCHES) -> Verifier:
    """``verifier`` resolving did:web issuers and checking status lists over the network.

    A fetched list is checked with the same verifier minus status checks (a list's own
    status is not looked up), so its did:web issuer is resolved the same guarded way. The
    verifier fetches at most ``max_fetches`` documents in all: make one per verification.
    """
    fetch = _Budget(fetcher, max_fetches)
    resolver = replace(verifier.resolver, fetch=fetch)
    fetching = replace(verifier, resolver=resolver)
    lists = replace(fetching, status_checker=None)

    def verify_list(document: Mapping[str, Any]) -> bool:
        return lists.verify(document).valid

    return replace(fetching, status_checker=routed_status(
        local, _by_method(BitstringStatusChecker(fetch, verify_list),
                          RevocationListChecker(fetch, verify_list))))


def _by_method(lists: StatusChecker, revocations: StatusChecker) -> StatusChecker:
    """Each ``credentialStatus`` entry to the checker of its method (by its ``type``)."""

    def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> StatusResult:
        if REVOCATION_LIST in types_of(entry):
            return revocations(entry, credential)
        return lists(entry, credential)

    return check


def ob2_fetch(fetcher: Fetcher | None) -> Fetch:
    """The fetch :func:`issuer.core.ob2.verify_ob2` takes: JSON objects through ``fetcher``,
    None for 404, :class:`issuer.core.ob2.Gone` for 410 (with the JSON object it sent, if
    any); offline (``fetcher`` None) nothing is fetched and the report says so."""

    def fetch(url: str) -> Mapping[str, Any] | Gone | None:
        if fetcher is None:
            raise FetchError(f"{url} cannot be fetched offline")
        answer = fetcher.json_or_absent(url)
        if not isinstance(answer, Absent):
            return answer
        if not answer.gone:
            return None
        return Gone(_json_object(answer.body))

    return fetch


def _json_object(body: bytes) -> Mapping[str, Any] | None:
    try:
        value = parse_json(body)
    except (IssuerError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
