"""Reading a wallet holder's DID document: did:key locally, did:web through the guarded
fetcher of :mod:`issuer.net` when the service is online (did:web §2.5.2 Read), so a wallet
that names its own site gets no further than the verifier's rules allow (https only, no
private or loopback addresses unless allowed, size and time limits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.resolve import Resolver
from issuer.net.errors import FetchError
from issuer.net.fetcher import fetcher_for
from issuer.services.context import ServiceContext

__all__ = ["BINDING_METHODS", "MAX_FETCHES", "binding_methods", "holder_resolver"]


#: Documents one answer of a wallet may make the service fetch: one holder, one document
#: (a second try is spare). A presentation with many proofs naming many sites gets no more.
MAX_FETCHES = 2


def holder_resolver(ctx: ServiceContext) -> Resolver:
    """A resolver for one wallet answer's holder DID; offline (``ISSUER_VERIFY_OFFLINE``)
    it reads none over the network, so only did:key holders authenticate."""
    fetcher = fetcher_for(ctx.settings)
    if fetcher is None:
        return Resolver()
    left = MAX_FETCHES

    def fetch(url: str) -> Mapping[str, Any] | None:
        nonlocal left
        if left <= 0:
            raise FetchError(f"{url[:200]} was not fetched: one answer may name one holder")
        left -= 1
        return fetcher.json(url)

    return Resolver(fetch=fetch)


#: The DID methods a copy can be bound to wherever the service runs (OID4VCI 1.0 Appendix
#: F.1: a ``jwk`` is bound as its did:jwk).
BINDING_METHODS = ("did:key", "did:jwk")


def binding_methods(ctx: ServiceContext) -> list[str]:
    """The DID methods a holder may prove, did:web included only when it can be read."""
    online = not ctx.settings.verify_offline
    return [*BINDING_METHODS, *(["did:web"] if online else [])]
