"""Requests with a body to a host a person named, under the guarded fetcher's rules.

The Open Badges API consumer registers with, gets tokens from and stores credentials on a
host a learner typed in: the same rules as the verifier's fetches apply (https only, http
only to allowed hosts; the name resolved once and every address checked; no redirects; the
answer's size and the whole exchange's time limited), through :class:`Fetcher`'s checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from issuer.net.fetcher import Fetcher, FetchError

__all__ = ["Sent", "send"]


@dataclass(frozen=True)
class Sent:
    """The host's answer: its status, media type, headers and body (within the limit)."""

    status: int
    media_type: str
    headers: Mapping[str, str]
    body: bytes


def send(fetcher: Fetcher, method: str, url: str, *, body: bytes = b"",
         headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Sent:
    """``method`` ``url`` with ``body``; any status is an answer, FetchError when the URL may
    not be reached or the host does not answer in time. Redirects are not followed: a
    request with a body is not repeated elsewhere. ``timeout`` replaces the fetcher's limit
    for a request the host needs time to answer (it may verify what it is sent)."""
    limit = timeout if timeout is not None else fetcher.limits.timeout
    deadline = fetcher._clock() + limit
    target = fetcher._checked(url)
    failure: Exception | None = None
    for address in target.addresses:
        remaining = deadline - fetcher._clock()
        if remaining <= 0:
            break
        request = fetcher._client.build_request(
            method, target.url.copy_with(host=address), content=body,
            headers={**(headers or {}), "Host": _authority(target.host, target.port,
                                                           target.url.scheme)},
            timeout=httpx.Timeout(remaining), extensions={"sni_hostname": target.host})
        try:
            response = fetcher._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchError(f"{url} did not answer within {limit:g} s") from None
        except httpx.ConnectError as exc:
            failure = exc
            continue
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} could not be reached: {exc}") from None
        try:
            data = fetcher._read(response, url, deadline)
        finally:
            response.close()
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return Sent(response.status_code, media, dict(response.headers), data)
    raise FetchError(f"{url} could not be reached: {failure or 'no time left'}")


def _authority(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"
