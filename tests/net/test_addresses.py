"""The address check: only globally reachable unicast addresses may be fetched from.

Judged on the addresses themselves: no connection is ever opened to any of them."""

from __future__ import annotations

import pytest

from issuer.net.addresses import Allowlist, refusal


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("fe80::1", "link-local"),
    ("fd00:ec2::254", "private"),  # AWS metadata over IPv6
    ("fc00::1", "private"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),  # limited broadcast
    ("100.64.0.1", "not a public address"),  # carrier-grade NAT (RFC 6598)
    ("192.0.2.1", "private"),  # documentation (RFC 5737)
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("not an address", "not an IP address"),
])
def test_addresses_that_are_not_public_are_refused_with_a_reason(address: str,
                                                                why: str) -> None:
    reason = refusal(address)
    assert reason is not None and why in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111",
                                     "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_the_allowlist_matches_a_host_or_a_host_and_port() -> None:
    allow = Allowlist.of(["Localhost:8443", "intranet.example", "[::1]:9000", " "])
    assert allow.allows("localhost", 8443)
    assert not allow.allows("localhost", 443)
    assert allow.allows("INTRANET.example", 443) and allow.allows("intranet.example", 8080)
    assert allow.allows("::1", 9000) and not allow.allows("::1", 9001)
    assert not allow.allows("evil.example", 443)
    assert not Allowlist().allows("localhost", 443)
