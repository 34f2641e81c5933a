"""The verifier online: did:web issuers and status lists on other sites, fetched from real
HTTPS servers on loopback through the guarded fetcher, and never from where it must not go.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from issuer.core.resolve import Resolver
from issuer.core.verify import Outcome, VerificationReport, Verifier
from issuer.net.addresses import Allowlist
from issuer.net.fetcher import Fetcher
from issuer.net.verifying import online
from tests.core.helpers import verifier
from tests.net.documents import WebIssuer
from tests.net.servers import Pki, Reply, Server


def resolve(host: str, _port: int) -> list[str]:
    if host in ("issuer.test", "status.test", "evil.test", "localhost"):
        return ["127.0.0.1"]
    raise OSError(-2, "Name or service not known")


@pytest.fixture()
def fetcher(pki: Pki, https: Server, other_https: Server) -> Iterator[Fetcher]:
    client = Fetcher(allow=Allowlist.of([f"issuer.test:{https.port}",
                                         f"status.test:{other_https.port}"]),
                     verify=pki.client_context(), resolver=resolve)
    yield client
    client.close()


def check(report: VerificationReport, check_id: str) -> Any:
    found = report.check(check_id)
    assert found is not None
    return found


def publish(server: Server, issuer: WebIssuer, path: str) -> None:
    server.routes[path] = Reply(json.dumps(issuer.document).encode(),
                                headers={"Content-Type": "application/did+ld+json"})


@pytest.mark.parametrize(("tail", "path"), [
    ("", "/.well-known/did.json"),
    (":issuers:guild", "/issuers/guild/did.json"),
])
def test_a_did_web_issuer_is_resolved_over_https(fetcher: Fetcher, https: Server,
                                                 tail: str, path: str) -> None:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}{tail}")
    publish(https, issuer, path)
    report = online(verifier(), fetcher).verify(json.dumps(issuer.badge()))
    assert report.valid, [c.to_json() for c in report.failed]
    assert check(report, "proof").outcome == Outcome.PASSED
    assert [seen.path for seen in https.seen] == [path]
    assert https.seen[0].sni == "issuer.test"


def test_offline_the_did_web_document_is_not_fetched(https: Server) -> None:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}")
    publish(https, issuer, "/.well-known/did.json")
    report = verifier().verify(json.dumps(issuer.badge()))
    assert not report.valid
    assert "cannot be fetched offline" in check(report, "proof").message
    assert https.connections == 0


def test_a_did_document_for_another_did_is_refused(fetcher: Fetcher, https: Server) -> None:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}")
    impostor = WebIssuer(f"did:web:issuer.test%3A{https.port}:someone")
    publish(https, impostor, "/.well-known/did.json")
    report = online(verifier(), fetcher).verify(json.dumps(issuer.badge()))
    assert not report.valid
    assert "is not the DID document of" in check(report, "proof").message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "evil.test"])
def test_a_did_web_on_loopback_is_never_fetched_unless_allowed(
        fetcher: Fetcher, other_https: Server, host: str, loopback_only: list[Any]) -> None:
    issuer = WebIssuer(f"did:web:{host}%3A{other_https.port}")
    publish(other_https, issuer, "/.well-known/did.json")
    report = online(verifier(), fetcher).verify(json.dumps(issuer.badge()))
    assert not report.valid
    message = check(report, "proof").message
    assert "could not be fetched" in message and "loopback" in message, message
    assert other_https.connections == 0 and loopback_only == []


def test_a_did_web_on_a_private_address_is_refused_before_connecting(
        pki: Pki, loopback_only: list[Any]) -> None:
    client = Fetcher(verify=pki.client_context(),
                     resolver=lambda host, port: ["169.254.169.254"])
    try:
        issuer = WebIssuer("did:web:metadata.test")
        report = online(verifier(), client).verify(json.dumps(issuer.badge()))
    finally:
        client.close()
    assert "link-local" in check(report, "proof").message
    assert loopback_only == []


# -- status lists on other sites -----------------------------------------------------------


def status_setup(https: Server, other_https: Server) -> tuple[WebIssuer, str]:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}")
    publish(https, issuer, "/.well-known/did.json")
    return issuer, f"https://status.test:{other_https.port}/lists/1"


@pytest.mark.parametrize("revoked", [False, True])
def test_a_remote_status_list_is_fetched_and_its_proof_checked(
        fetcher: Fetcher, https: Server, other_https: Server, revoked: bool) -> None:
    issuer, url = status_setup(https, other_https)
    other_https.routes["/lists/1"] = Reply(
        json.dumps(issuer.status_list(url, revoked=revoked)).encode())
    report = online(verifier(), fetcher).verify(json.dumps(issuer.badge(url)))
    status = check(report, "status")
    if revoked:
        assert status.outcome == Outcome.FAILED and "revoked" in status.message
        assert not report.valid and [c.id for c in report.failed] == ["status"]
    else:
        assert status.outcome == Outcome.PASSED, status.message
        assert report.valid


def test_a_forged_remote_list_is_not_trusted(fetcher: Fetcher, https: Server,
                                            other_https: Server) -> None:
    issuer, url = status_setup(https, other_https)
    forged = issuer.status_list(url, revoked=False)
    forged["credentialSubject"]["encodedList"] = issuer.status_list(
        url, revoked=True)["credentialSubject"]["encodedList"]
    other_https.routes["/lists/1"] = Reply(json.dumps(forged).encode())
    status = check(online(verifier(), fetcher).verify(json.dumps(issuer.badge(url))), "status")
    assert status.outcome == Outcome.WARNING and "signature" in status.message


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_status_list_is_could_not_check(pki: Pki, https: Server,
                                                       other_https: Server) -> None:
    issuer, _ = status_setup(https, other_https)
    dead = closed_port()
    client = Fetcher(allow=Allowlist.of([f"issuer.test:{https.port}", f"status.test:{dead}"]),
                     verify=pki.client_context(), resolver=resolve)
    try:
        for url in (f"https://status.test:{dead}/lists/1",  # nobody listens
                    f"https://status.test:{other_https.port}/nothing"):  # not allowed
            report = online(verifier(), client).verify(json.dumps(issuer.badge(url)))
            status = check(report, "status")
            assert status.outcome == Outcome.WARNING, status.message
            assert status.message.startswith("could not check the status: the status list "
                                             "was not available: ")
            assert report.valid  # unknown is a warning …
            assert "not revoked" not in status.message  # … and never "not revoked"
    finally:
        client.close()
    assert other_https.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "evil.test"])
def test_a_status_list_on_loopback_is_never_fetched_unless_allowed(
        fetcher: Fetcher, https: Server, other_https: Server, host: str) -> None:
    issuer, _ = status_setup(https, other_https)
    url = f"https://{host}:{other_https.port}/lists/1"
    other_https.routes["/lists/1"] = Reply(json.dumps(issuer.status_list(url, revoked=True))
                                           .encode())
    report = online(verifier(), fetcher).verify(json.dumps(issuer.badge(url)))
    status = check(report, "status")
    assert status.outcome == Outcome.WARNING and "loopback" in status.message, status.message
    assert other_https.connections == 0


def test_pinned_documents_win_over_the_network(fetcher: Fetcher, https: Server) -> None:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}")
    pinned = Verifier(loader=verifier().loader, schemas=verifier().schemas,
                      clock=verifier().clock,
                      resolver=Resolver.with_trusted([issuer.document]))
    assert online(pinned, fetcher).verify(json.dumps(issuer.badge())).valid
    assert https.connections == 0


def test_json_ld_contexts_are_never_fetched(fetcher: Fetcher, https: Server,
                                            other_https: Server) -> None:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}")
    publish(https, issuer, "/.well-known/did.json")
    context_url = f"https://status.test:{other_https.port}/context.json"
    other_https.routes["/context.json"] = Reply(json.dumps(
        {"@context": {"extra": "https://example.org/extra"}}).encode())
    badge = issuer.badge()
    badge["@context"] = [*badge["@context"], context_url]
    report = online(verifier(), fetcher).verify(json.dumps(badge))
    assert check(report, "context").outcome == Outcome.FAILED
    assert other_https.connections == 0


def test_one_verification_fetches_a_bounded_number_of_documents(
        fetcher: Fetcher, https: Server, other_https: Server) -> None:
    issuer, url = status_setup(https, other_https)
    other_https.routes["/lists/1"] = Reply(
        json.dumps(issuer.status_list(url, revoked=True)).encode())
    # The DID document, then the list: the second is one fetch too many.
    report = online(verifier(), fetcher, max_fetches=1).verify(json.dumps(issuer.badge(url)))
    assert check(report, "proof").outcome == Outcome.PASSED
    status = check(report, "status")
    assert status.outcome == Outcome.WARNING and "already fetched 1 documents" in status.message
    assert other_https.connections == 0
