"""A verifier that may look beyond this installation, through the guarded fetcher.

Two things a credential points at live on other sites: its issuer's did:web document
(did-method-web §2.5.2 Read) and its status list (W3C Bitstring Status List v1.0 §3.2,
fetched by its ``statusListCredential`` URL and trusted only once its own proof verifies).
:func:`online` gives the verifier both, through :class:`issuer.net.fetcher.Fetcher`; lists
this installation answers for itself (``local`` routes) are never fetched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from issuer.core.status_list import BitstringStatusChecker, StatusRoute, routed_status
from issuer.core.verify import Verifier
from issuer.net.fetcher import Fetcher, FetchError

__all__ = ["MAX_FETCHES", "OFFLINE", "online"]

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

    remote = BitstringStatusChecker(fetch, verify_list)
    return replace(fetching, status_checker=routed_status(local, remote))
