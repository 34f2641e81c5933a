"""What the guarded fetcher answers besides a body, and how much it may take: the part of
:mod:`issuer.net.fetcher` that needs no HTTP client, so that code which only names these
(an offline verification) does not load one."""

from __future__ import annotations

from dataclasses import dataclass

from issuer.core.errors import ResolutionError

__all__ = ["Absent", "FetchError", "FetchLimits", "FetchRefused"]


class FetchError(ResolutionError):
    """A URL that was not fetched: refused by the rules above, or the server failed."""


class FetchRefused(FetchError):
    """A URL not fetched because of where it points (a private, loopback or otherwise
    reserved address), not because its server failed."""


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may take: bytes of body, seconds in all, redirects followed."""

    max_bytes: int = 1_000_000
    timeout: float = 5.0
    max_redirects: int = 3


@dataclass(frozen=True)
class Absent:
    """The server's answer that there is no document: 404 Not Found, or 410 Gone (RFC 9110
    §15.5.5, §15.5.11: removed on purpose, which OB 2.0 uses for a revoked hosted assertion),
    with the body it sent (within the size limit), which may say why."""

    status: int
    body: bytes = b""

    @property
    def gone(self) -> bool:
        return self.status == 410
