"""The one way the verifier reaches the network: a guarded HTTPS client.

Every rule here is about fetching URLs that strangers chose (OWASP SSRF Prevention Cheat
Sheet):

* https only; http only to a host the operator allows (:class:`Allowlist`);
* the host name is resolved once, every address is checked (:func:`refusal`), and the
  connection goes to a checked address, so a second lookup cannot "rebind" the name to
  another one; the name is still what TLS checks the certificate against (SNI, RFC 6066 §3)
  and what the ``Host`` header says (RFC 9110 §7.2);
* redirects are followed by hand, at most :attr:`FetchLimits.max_redirects`, each target
  checked like the first URL;
* the body is read as a stream and cut off past :attr:`FetchLimits.max_bytes` (decompressed),
  the whole fetch past :attr:`FetchLimits.timeout` seconds;
* responses are reused as their ``Cache-Control``/``ETag`` allow (:mod:`issuer.net.cache`).

A refusal or failure is a :class:`FetchError` whose message says what was not fetched and
why, for the verification report. JSON-LD contexts never come through here.

The client itself is :mod:`issuer.net.client` (httpx), loaded only when a fetcher is made:
an offline verification needs only this module's names.
"""

from __future__ import annotations

import ssl
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from issuer.config import Settings
from issuer.net.addresses import Allowlist
from issuer.net.errors import Absent, FetchError, FetchLimits, FetchRefused

if TYPE_CHECKING:
    from issuer.net.client import Fetcher

__all__ = ["Absent", "FetchError", "FetchLimits", "FetchRefused", "Fetcher", "fetcher_for"]


def __getattr__(name: str) -> Any:
    # The client (httpx, with what it loads) is imported when first asked for: an offline
    # verification names the errors above and never fetches, so it never pays for it.
    if name == "Fetcher":
        from issuer.net.client import Fetcher

        return Fetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _tls(ca_file: Path | None) -> ssl.SSLContext | bool:
    if ca_file is None:
        return True
    return ssl.create_default_context(cafile=str(ca_file))


@lru_cache(maxsize=4)
def fetcher_for(settings: Settings) -> Fetcher | None:
    """The process's fetcher for ``settings`` (its cache shared), or None when offline."""
    if settings.verify_offline:
        return None
    from issuer.net.client import Fetcher

    return Fetcher(
        allow=Allowlist.of(settings.verify_allow_hosts),
        limits=FetchLimits(max_bytes=settings.verify_max_bytes,
                           timeout=settings.verify_timeout),
        verify=_tls(settings.verify_ca_file),
    )
