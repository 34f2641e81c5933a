"""Which network addresses a fetch may reach (server-side request forgery defences).

A verifier fetches URLs that strangers write into credentials (did:web documents, status
lists). Left unchecked, such a URL would let anyone make this service reach its own loopback
interface, the private network behind it or a cloud metadata endpoint (OWASP SSRF
Prevention Cheat Sheet, "Application layer"). So the check is made on every address a name
resolves to, after resolution and on every redirect, against the IANA special-purpose
address registries (RFC 6890): only globally reachable unicast addresses pass.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass

__all__ = [
    "Allowlist",
    "HostResolver",
    "IPAddress",
    "refusal",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Gives the addresses of a host name for a port (the system resolver by default).
HostResolver = Callable[[str, int], list[str]]

#: RFC 6052 §2.1 well-known NAT64 prefix: the last 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _kind(address: IPAddress) -> str | None:
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        # 169.254.169.254 and fe80::/10: where cloud metadata services answer.
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def refusal(address: str | IPAddress) -> str | None:
    """Why ``address`` may not be reached (e.g. "a loopback address"), or None if it may.

    An IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by the
    IPv4 address too, since that is where the packets end up.
    """
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in embedded:
            inner_why = _kind(inner)
            if inner_why is not None:
                return f"{inner_why} ({inner} inside {ip})"
    return _kind(ip)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, without repeats."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Allowlist:
    """Hosts an operator lets the verifier reach whatever their address, and over http.

    An entry is ``host`` (any port) or ``host:port``; ``[::1]:8443`` for an IPv6 literal.
    For tests and private deployments only: an allowed host is trusted not to be a way in.
    """

    entries: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entries: Collection[str]) -> Allowlist:
        return cls(frozenset(entry.strip().lower() for entry in entries if entry.strip()))

    def allows(self, host: str, port: int) -> bool:
        name = host.lower()
        shown = f"[{name}]" if ":" in name else name
        return shown in self.entries or f"{shown}:{port}" in self.entries
