"""The guarded HTTPS client (:class:`Fetcher`): the one way the verifier reaches the network.
:func:`issuer.net.fetcher.fetcher_for` gives out one per settings.

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
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from issuer.core.errors import InputError
from issuer.core.json_input import parse_json
from issuer.net.addresses import Allowlist, HostResolver, refusal, system_resolver
from issuer.net.cache import ResponseCache
from issuer.net.errors import Absent, FetchError, FetchLimits, FetchRefused
from issuer.net.provenance import note

__all__ = ["Fetcher"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Answers that mean "there is no such document" rather than "the fetch failed".
_ABSENT = frozenset({404, 410})
_ACCEPT = ("application/did+ld+json, application/did+json, application/vc+ld+json, "
           "application/ld+json;q=0.9, application/json;q=0.8")


@dataclass
class _Target:
    url: httpx.URL
    host: str
    port: int
    addresses: list[str] = field(default_factory=list)


class Fetcher:
    """Fetches documents for the verifier under the rules of this module.

    ``verify`` is what httpx takes for TLS: True for the system's CAs, or an
    :class:`ssl.SSLContext` (a private CA). ``resolver`` looks host names up (the system
    resolver by default).
    """

    def __init__(self, *, allow: Allowlist | None = None, limits: FetchLimits | None = None,
                 verify: ssl.SSLContext | bool = True, resolver: HostResolver = system_resolver,
                 cache: ResponseCache | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.allow = allow or Allowlist()
        self.limits = limits or FetchLimits()
        self._resolver = resolver
        self._clock = clock
        self.cache = cache if cache is not None else ResponseCache()
        # trust_env=False: proxies and certificate bundles named in the environment would
        # bypass the address checks, and settings are read in issuer.config only.
        # No kept-alive connections: the pool knows a connection by its address only, so a
        # connection whose certificate was checked for one name could serve another name on
        # the same address.
        self._client = httpx.Client(verify=verify, trust_env=False, follow_redirects=False,
                                    headers={"Accept": _ACCEPT},
                                    limits=httpx.Limits(max_keepalive_connections=0))

    def close(self) -> None:
        self._client.close()

    # -- what the verifier calls ---------------------------------------------------------

    def json(self, url: str) -> Mapping[str, Any] | None:
        """The JSON object at ``url``; None when the server says there is none (404, 410).

        Suits :data:`issuer.core.did_web.DocumentFetch` and status list fetches.
        """
        value = self.json_or_absent(url)
        return None if isinstance(value, Absent) else value

    def json_or_absent(self, url: str) -> Mapping[str, Any] | Absent:
        """The JSON object at ``url``, or the server's :class:`Absent` answer (404, 410)."""
        body = self.fetch(url)
        if isinstance(body, Absent):
            return body
        try:
            value = parse_json(body)
        except InputError as exc:
            raise FetchError(f"{_shown(url)} is not JSON: {exc.message}") from None
        if not isinstance(value, dict):
            raise FetchError(f"{_shown(url)} is not a JSON object")
        return value

    def get(self, url: str) -> bytes | None:
        """The body at ``url`` (after redirects), or None for 404/410; FetchError otherwise."""
        body = self.fetch(url)
        return None if isinstance(body, Absent) else body

    def fetch(self, url: str) -> bytes | Absent:
        """The body at ``url`` (after redirects), or :class:`Absent` for 404/410; FetchError
        otherwise."""
        deadline = self._clock() + self.limits.timeout
        cached = self.cache.get(url)
        if cached is not None and cached.fresh_until > self.cache.clock():
            note(url, cached.fetched_at or _now(), from_cache=True)
            return cached.body
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            target = self._checked(current)
            response = self._send(target, deadline, etag=cached.etag if cached else None)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = str(target.url.join(response.headers["location"]))
                    cached = None
                    continue
                if response.status_code == 304 and cached is not None and current == url:
                    kept = self.cache.refresh(url, response.headers.get("cache-control"),
                                              fetched_at=_now())
                    note(url, _now(), from_cache=True)
                    return (kept or cached).body
                if response.status_code in _ABSENT:
                    try:
                        said = self._read(response, current, deadline)
                    except FetchError:
                        said = b""  # the answer is the status; its body is only a remark
                    return Absent(response.status_code, said)
                if response.status_code != 200:
                    raise FetchError(f"{_shown(current)} answered HTTP {response.status_code}")
                body = self._read(response, current, deadline)
            finally:
                response.close()
            fetched_at = _now()
            if current == url:
                self.cache.put(url, body, response.headers.get("content-type", ""),
                               etag=response.headers.get("etag"),
                               cache_control=response.headers.get("cache-control"),
                               fetched_at=fetched_at)
            note(url, fetched_at, from_cache=False)
            return body
        raise FetchError(f"{_shown(url)} redirects more than {self.limits.max_redirects} times")

    # -- the rules -------------------------------------------------------------------------

    def _checked(self, url: str) -> _Target:
        """The URL's host, port and addresses, if every rule lets it be fetched."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise FetchError(f"{_shown(url)} is not a URL that can be fetched") from None
        host = parsed.host
        if parsed.scheme not in ("https", "http") or not host:
            raise FetchError(f"{_shown(url)} is not an https URL")
        if parsed.userinfo:
            raise FetchError(f"{_shown(url)} carries a user name or password")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        allowed = self.allow.allows(host, port)
        if parsed.scheme == "http" and not allowed:
            raise FetchError(f"{_shown(url)} was not fetched: only https URLs are fetched")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self._resolver(host, port)
            except OSError as exc:
                raise FetchError(f"{_shown(url)} was not fetched: the name {host} does not "
                                 f"resolve ({exc.strerror or exc})") from None
            if not addresses:
                raise FetchError(f"{_shown(url)} was not fetched: the name {host} does not "
                                 "resolve")
        if not allowed:
            for address in addresses:
                why = refusal(address)
                if why is not None:
                    named = host if literal is not None else f"{host} resolves to {address},"
                    raise FetchRefused(f"{_shown(url)} was not fetched: {named} {why}, which "
                                     "this verifier does not reach")
        return _Target(parsed, host, port, addresses)

    def _send(self, target: _Target, deadline: float, *, etag: str | None) -> httpx.Response:
        """A streamed response from the first checked address that accepts a connection."""
        failure: Exception | None = None
        for address in target.addresses:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            headers = {"Host": _authority(target)}
            if etag is not None:
                headers["If-None-Match"] = etag
            request = self._client.build_request(
                "GET", target.url.copy_with(host=address), headers=headers,
                timeout=httpx.Timeout(remaining),
                # The certificate is checked against the name, not the address.
                extensions={"sni_hostname": target.host},
            )
            try:
                return self._client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(f"{_shown(str(target.url))} did not answer within "
                                 f"{self.limits.timeout:g} s") from None
            except httpx.ConnectError as exc:
                failure = exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{_shown(str(target.url))} could not be fetched: "
                                 f"{_reason(exc)}") from None
        if failure is None:
            raise FetchError(f"{_shown(str(target.url))} did not answer within "
                             f"{self.limits.timeout:g} s")
        raise FetchError(f"{_shown(str(target.url))} could not be fetched: {_reason(failure)}")

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        limit = self.limits.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{_shown(url)} is larger than {limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"{_shown(url)} is larger than {limit:,} bytes")
                if self._clock() > deadline:
                    raise FetchError(f"{_shown(url)} took longer than "
                                     f"{self.limits.timeout:g} s")
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise FetchError(f"{_shown(url)} took longer than "
                             f"{self.limits.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{_shown(url)} could not be read: {_reason(exc)}") from None
        return b"".join(chunks)


def _now() -> datetime:
    return datetime.now(UTC)


def _authority(target: _Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.url.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def _shown(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "…"


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"
