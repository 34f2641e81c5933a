"""The guarded fetcher against real HTTPS servers on loopback.

The servers are allowed by the allowlist (as an operator would allow a private host) when a
test needs them reached; every test of a refusal leaves them off it and checks that the
server never saw a connection. Names other than ``localhost`` are resolved by a resolver
double that answers 127.0.0.1 (or an address that must never be reached)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from issuer.net.addresses import Allowlist
from issuer.net.cache import ResponseCache
from issuer.net.fetcher import Fetcher, FetchError, FetchLimits
from tests.net.servers import Pki, Reply, Server, serving

DOC = {"id": "urn:example:doc", "value": 1}


def names(table: dict[str, list[str]]) -> Any:
    """A resolver double: the addresses of the names in ``table``, localhost's own."""

    def resolve(host: str, _port: int) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        if host not in table:
            raise OSError(-2, "Name or service not known")
        return table[host]

    return resolve


_OPEN: list[Fetcher] = []


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def fetcher(pki: Pki, *allowed: str, resolver: Any = None, **limits: Any) -> Fetcher:
    client = Fetcher(allow=Allowlist.of(allowed), verify=pki.client_context(),
                     limits=FetchLimits(**limits),
                     resolver=resolver or names({"issuer.test": ["127.0.0.1"],
                                                 "evil.test": ["127.0.0.1"]}))
    _OPEN.append(client)
    return client


def test_a_document_is_fetched_from_the_checked_address_under_its_name(
        pki: Pki, https: Server, loopback_only: list[Any]) -> None:
    https.routes["/doc.json"] = Reply(json.dumps(DOC).encode(),
                                      headers={"Content-Type": "application/json"})
    client = fetcher(pki, f"issuer.test:{https.port}")
    assert client.json(f"https://issuer.test:{https.port}/doc.json") == DOC
    (seen,) = https.seen
    # The name goes to TLS (SNI, certificate) and the Host header; the socket to the address.
    assert seen.sni == "issuer.test"
    assert seen.host == f"issuer.test:{https.port}"
    assert loopback_only == [("127.0.0.1", https.port)]


def test_the_certificate_must_be_for_the_name_and_from_a_trusted_ca(
        pki: Pki, https: Server) -> None:
    https.routes["/doc.json"] = Reply(json.dumps(DOC).encode())
    wrong = fetcher(pki, f"wrong.test:{https.port}",
                    resolver=names({"wrong.test": ["127.0.0.1"]}))
    with pytest.raises(FetchError, match="could not be fetched"):
        wrong.get(f"https://wrong.test:{https.port}/doc.json")
    public_cas = Fetcher(allow=Allowlist.of([https.authority]))
    _OPEN.append(public_cas)
    with pytest.raises(FetchError, match="could not be fetched"):
        public_cas.get(f"https://{https.authority}/doc.json")
    assert https.seen == []


def test_a_missing_document_is_none_and_an_error_status_is_an_error(
        pki: Pki, https: Server) -> None:
    https.routes["/gone"] = Reply(b"", 410)
    https.routes["/broken"] = Reply(b"oops", 500)
    https.routes["/list"] = Reply(b"[1, 2]")
    https.routes["/twice"] = Reply(b'{"id": 1, "id": 2}')
    client = fetcher(pki, https.authority)
    base = f"https://{https.authority}"
    assert client.json(f"{base}/nothing-here") is None
    assert client.json(f"{base}/gone") is None
    with pytest.raises(FetchError, match="HTTP 500"):
        client.json(f"{base}/broken")
    with pytest.raises(FetchError, match="not a JSON object"):
        client.json(f"{base}/list")
    with pytest.raises(FetchError, match="twice"):
        client.json(f"{base}/twice")


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "evil.test",
                                  "[::ffff:127.0.0.1]"])
def test_loopback_is_never_reached_unless_allowed(pki: Pki, https: Server, host: str,
                                                  loopback_only: list[Any]) -> None:
    https.routes["/doc.json"] = Reply(json.dumps(DOC).encode())
    client = fetcher(pki)
    with pytest.raises(FetchError, match="loopback") as refused:
        client.get(f"https://{host}:{https.port}/doc.json")
    assert "was not fetched" in refused.value.message
    assert https.connections == 0 and loopback_only == []


@pytest.mark.parametrize("host", ["localhost", "127.1", "0x7f000001", "2130706433"])
def test_the_system_resolver_is_checked_too(pki: Pki, https: Server, host: str,
                                            loopback_only: list[Any]) -> None:
    # The real resolver: these are all spellings of 127.0.0.1 (inet_aton's shorthand).
    client = Fetcher(verify=pki.client_context())
    _OPEN.append(client)
    with pytest.raises(FetchError, match=rf"{host} resolves to .*loopback"):
        client.get(f"https://{host}:{https.port}/doc.json")
    assert https.connections == 0 and loopback_only == []


@pytest.mark.parametrize(("answers", "why"), [
    (["10.0.0.1"], "private"),
    (["169.254.169.254"], "link-local"),
    (["fd00:ec2::254"], "private"),
    (["224.0.0.251"], "multicast"),
    (["0.0.0.0"], "unspecified"),
    (["93.184.215.14", "192.168.0.10"], "private"),  # one bad answer spoils the lot
])
def test_private_and_metadata_addresses_are_refused_before_any_connection(
        pki: Pki, answers: list[str], why: str, loopback_only: list[Any]) -> None:
    client = fetcher(pki, resolver=names({"inside.test": answers}))
    with pytest.raises(FetchError, match=why):
        client.get("https://inside.test/latest/meta-data/")
    assert loopback_only == []


@pytest.mark.parametrize("target", ["https://127.0.0.1:{port}/doc.json",
                                    "https://[::1]:{port}/doc.json",
                                    "https://localhost:{port}/doc.json",
                                    "https://evil.test:{port}/doc.json",
                                    "http://localhost:{port}/doc.json"])
def test_a_redirect_to_loopback_is_refused(pki: Pki, https: Server, other_https: Server,
                                           target: str) -> None:
    other_https.routes["/doc.json"] = Reply(json.dumps(DOC).encode())
    https.routes["/start"] = Reply(
        status=302, headers={"Location": target.format(port=other_https.port)})
    client = fetcher(pki, f"issuer.test:{https.port}")
    with pytest.raises(FetchError, match="was not fetched"):
        client.get(f"https://issuer.test:{https.port}/start")
    assert other_https.connections == 0


def test_redirects_are_followed_three_times_at_most(pki: Pki, https: Server) -> None:
    https.routes["/doc.json"] = Reply(json.dumps(DOC).encode())
    for hop in range(1, 5):
        https.routes[f"/r{hop}"] = Reply(
            status=301, headers={"Location": f"/r{hop + 1}" if hop < 4 else "/doc.json"})
    client = fetcher(pki, https.authority)
    assert client.json(f"https://{https.authority}/r2") == DOC  # r2 → r3 → r4 → doc
    with pytest.raises(FetchError, match="redirects more than 3 times"):
        client.get(f"https://{https.authority}/r1")


def test_http_is_only_for_allowed_hosts(pki: Pki) -> None:
    with serving(None) as plain:
        plain.routes["/doc.json"] = Reply(json.dumps(DOC).encode())
        refused = fetcher(pki, resolver=names({"public.test": ["93.184.215.14"]}))
        with pytest.raises(FetchError, match="only https"):
            refused.get("http://public.test/doc.json")
        assert fetcher(pki, plain.authority).json(f"http://{plain.authority}/doc.json") == DOC
        with pytest.raises(FetchError, match="not an https URL"):
            refused.get("ftp://public.test/doc.json")
        with pytest.raises(FetchError, match="user name"):
            refused.get("https://user:pw@public.test/doc.json")


def test_an_oversize_body_is_cut_off(pki: Pki, https: Server) -> None:
    https.routes["/declared"] = Reply(b"x" * 2000)
    # Without a Content-Length the body is counted as it streams in.
    https.routes["/streamed"] = Reply(b"x" * 2000, drip=0.0)
    client = fetcher(pki, https.authority, max_bytes=1000)
    for path in ("/declared", "/streamed"):
        with pytest.raises(FetchError, match="larger than 1,000 bytes"):
            client.get(f"https://{https.authority}{path}")
    https.routes["/small"] = Reply(b"x" * 1000, drip=0.0)
    assert client.get(f"https://{https.authority}/small") == b"x" * 1000


def test_a_slow_server_is_cut_off_within_the_time_limit(pki: Pki, https: Server) -> None:
    def stall(_handler: Any) -> Reply:
        time.sleep(1.5)
        return Reply(b"{}")

    https.routes["/drip"] = Reply(b"x" * 100, drip=0.05)  # 5 s in all
    https.routes["/stall"] = stall
    client = fetcher(pki, https.authority, timeout=0.5)
    for path, words in (("/drip", "took longer than 0.5 s"),
                        ("/stall", "0.5 s")):
        started = time.monotonic()
        with pytest.raises(FetchError, match=words):
            client.get(f"https://{https.authority}{path}")
        assert time.monotonic() - started < 1.2


def test_responses_are_reused_as_their_headers_allow(pki: Pki, https: Server) -> None:
    body = json.dumps(DOC).encode()
    https.routes["/fresh"] = Reply(body, headers={"Cache-Control": "max-age=60"})
    https.routes["/nostore"] = Reply(body, headers={"Cache-Control": "no-store, max-age=60"})

    def tagged(handler: Any) -> Reply:
        if handler.headers.get("If-None-Match") == '"v1"':
            return Reply(b"", 304, headers={"ETag": '"v1"', "Cache-Control": "no-cache"})
        return Reply(body, headers={"ETag": '"v1"', "Cache-Control": "no-cache"})

    https.routes["/tagged"] = tagged
    client = fetcher(pki, https.authority)
    base = f"https://{https.authority}"
    for path in ("/fresh", "/nostore", "/tagged"):
        assert client.get(base + path) == body
        assert client.get(base + path) == body
    hits = [seen.path for seen in https.seen]
    assert hits.count("/fresh") == 1
    assert hits.count("/nostore") == 2
    revalidations = [seen.if_none_match for seen in https.seen if seen.path == "/tagged"]
    assert revalidations == [None, '"v1"']


def test_the_cache_is_bounded() -> None:
    cache = ResponseCache(max_entries=2, max_bytes=10)
    for url in ("a", "b", "c"):
        cache.put(url, b"1234", "", etag=None, cache_control="max-age=60")
    assert len(cache) == 2 and cache.get("a") is None
    cache.put("big", b"x" * 11, "", etag=None, cache_control="max-age=60")
    assert cache.get("big") is None
    cache.put("d", b"12345678", "", etag=None, cache_control="max-age=60")
    assert cache.get("b") is None and cache.get("c") is None and cache.get("d") is not None
    cache.put("e", b"1", "", etag=None, cache_control="max-age=1000000")
    assert cache.get("e").fresh_until <= cache.clock() + 24 * 3600  # type: ignore[union-attr]


def test_a_connection_checked_for_one_name_does_not_serve_another(
        pki: Pki, https: Server) -> None:
    https.routes["/doc.json"] = Reply(json.dumps(DOC).encode())
    client = fetcher(pki, f"issuer.test:{https.port}", f"wrong.test:{https.port}",
                     resolver=names({"issuer.test": ["127.0.0.1"],
                                     "wrong.test": ["127.0.0.1"]}))
    assert client.json(f"https://issuer.test:{https.port}/doc.json") == DOC
    # Same address and port, a name the certificate does not cover: a new handshake fails.
    with pytest.raises(FetchError, match="could not be fetched"):
        client.get(f"https://wrong.test:{https.port}/doc.json")
