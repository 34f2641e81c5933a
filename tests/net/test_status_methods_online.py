"""Status List 2021 and 1EdTech Revocation List status on other sites, and OB 2.0 hosted
assertions that answer 410 Gone or 404: real HTTPS servers on loopback, the guarded fetcher.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from issuer.core.ob2 import verify_ob2
from issuer.core.status_list import Bitstring
from issuer.core.verify import Outcome, VerificationReport
from issuer.net.addresses import Allowlist
from issuer.net.fetcher import Absent, Fetcher
from issuer.net.verifying import ob2_fetch, online
from tests.core.helpers import unsigned_badge, verifier
from tests.core.ob2_helpers import Ob2Issuer
from tests.core.test_status_2021 import V1_CONTEXTS, badge_2021, encoded_2021
from tests.net.documents import INDEX, WebIssuer
from tests.net.servers import Pki, Reply, Server
from tests.net.test_cli_online import allowed, line, run, write
from tests.net.test_ob2_online import publish as publish_ob2

CREDENTIAL_ID = "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f"
EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


def resolve(host: str, _port: int) -> list[str]:
    if host in ("issuer.test", "status.test"):
        return ["127.0.0.1"]
    raise OSError(-2, "Name or service not known")


@pytest.fixture()
def fetcher(pki: Pki, https: Server, other_https: Server) -> Iterator[Fetcher]:
    client = Fetcher(allow=Allowlist.of([f"issuer.test:{https.port}",
                                         f"status.test:{other_https.port}"]),
                     verify=pki.client_context(), resolver=resolve)
    yield client
    client.close()


def serve(server: Server, path: str, document: Any, status: int = 200) -> None:
    server.routes[path] = Reply(json.dumps(document).encode(), status,
                                headers={"Content-Type": "application/json"})


def web_issuer(https: Server) -> WebIssuer:
    issuer = WebIssuer(f"did:web:issuer.test%3A{https.port}")
    serve(https, "/.well-known/did.json", issuer.document)
    return issuer


def status(report: VerificationReport) -> Any:
    found = report.check("status")
    assert found is not None
    return found


# -- Status List 2021 ------------------------------------------------------------------------


def list_2021(issuer: WebIssuer, url: str, *, revoked: bool) -> dict[str, Any]:
    bits = Bitstring()
    if revoked:
        bits.set(INDEX)
    return issuer.sign({
        "@context": V1_CONTEXTS, "id": url,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": issuer.did, "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "StatusList2021",
                              "statusPurpose": "revocation", "encodedList": encoded_2021(bits)},
    })


@pytest.mark.parametrize("revoked", [False, True])
def test_a_remote_status_list_2021_is_fetched_checked_and_read(
        fetcher: Fetcher, https: Server, other_https: Server, revoked: bool) -> None:
    issuer = web_issuer(https)
    url = f"https://status.test:{other_https.port}/lists/2021"
    badge = badge_2021(issuer.did, INDEX)
    badge["credentialStatus"] = {**badge["credentialStatus"], "id": f"{url}#{INDEX}",
                                 "statusListCredential": url}
    serve(other_https, "/lists/2021", list_2021(issuer, url, revoked=revoked))
    report = online(verifier(), fetcher).verify(json.dumps(issuer.sign(badge)))
    assert report.valid is not revoked, [c.to_json() for c in report.failed]
    assert status(report).outcome == (Outcome.FAILED if revoked else Outcome.PASSED)
    assert status(report).message.startswith("revoked" if revoked else "not revoked")
    assert [s.path for s in other_https.seen] == ["/lists/2021"]


def test_an_unreachable_2021_list_is_could_not_check(fetcher: Fetcher, https: Server,
                                                     other_https: Server) -> None:
    issuer = web_issuer(https)
    url = f"https://status.test:{other_https.port}/lists/missing"
    badge = badge_2021(issuer.did, INDEX)
    badge["credentialStatus"] = {**badge["credentialStatus"], "statusListCredential": url}
    report = online(verifier(), fetcher).verify(json.dumps(issuer.sign(badge)))
    assert status(report).outcome == Outcome.WARNING
    assert status(report).message.startswith("could not check")


# -- 1EdTech Revocation List -------------------------------------------------------------------


def badge_with_revocation_list(issuer: WebIssuer, list_url: str) -> dict[str, Any]:
    badge = unsigned_badge(issuer.did)
    badge["@context"].append(EXTENSIONS)
    badge["credentialStatus"] = {"id": list_url, "type": "1EdTechRevocationList"}
    return issuer.sign(badge)


@pytest.mark.parametrize(("listed", "outcome", "words"), [
    ([{"id": CREDENTIAL_ID, "revocationReason": "issued in error"}], Outcome.FAILED,
     "revoked: the issuer's revocation list revokes this credential (issued in error)"),
    ([{"id": CREDENTIAL_ID, "revoked": False}, {"id": "urn:uuid:other"}], Outcome.PASSED,
     "not revoked (checked against the issuer's revocation list just now)"),
])
def test_a_revocation_list_on_the_issuers_site_is_believed(
        fetcher: Fetcher, https: Server, listed: list[Any], outcome: Outcome,
        words: str) -> None:
    issuer = web_issuer(https)
    url = f"https://issuer.test:{https.port}/revocations"
    serve(https, "/revocations", {"revokedCredentials": listed})
    report = online(verifier(), fetcher).verify(json.dumps(badge_with_revocation_list(issuer,
                                                                                      url)))
    assert (status(report).outcome, status(report).message) == (outcome, words)
    assert report.valid is (outcome == Outcome.PASSED)


def test_an_unsigned_revocation_list_on_another_site_is_not_believed(
        fetcher: Fetcher, https: Server, other_https: Server) -> None:
    issuer = web_issuer(https)
    url = f"https://status.test:{other_https.port}/revocations"
    serve(other_https, "/revocations", {"revokedCredentials": [{"id": CREDENTIAL_ID}]})
    report = online(verifier(), fetcher).verify(json.dumps(badge_with_revocation_list(issuer,
                                                                                      url)))
    assert status(report).outcome == Outcome.WARNING
    assert "not signed and not on the issuer's own site" in status(report).message


def test_a_missing_revocation_list_is_could_not_check(fetcher: Fetcher, https: Server) -> None:
    issuer = web_issuer(https)
    url = f"https://issuer.test:{https.port}/gone-list"
    report = online(verifier(), fetcher).verify(json.dumps(badge_with_revocation_list(issuer,
                                                                                      url)))
    assert status(report).outcome == Outcome.WARNING
    assert status(report).message.startswith("could not check the status")


def test_a_revocation_list_on_loopback_is_never_fetched(
        fetcher: Fetcher, https: Server, other_https: Server, loopback_only: list[Any]) -> None:
    issuer = web_issuer(https)
    url = f"https://127.0.0.1:{other_https.port}/revocations"
    serve(other_https, "/revocations", {"revokedCredentials": []})
    report = online(verifier(), fetcher).verify(json.dumps(badge_with_revocation_list(issuer,
                                                                                      url)))
    assert status(report).outcome == Outcome.WARNING and "loopback" in status(report).message
    assert other_https.connections == 0


# -- OB 2.0 hosted assertions: 410 Gone and 404 --------------------------------------------------

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture()
def ob2_issuer(https: Server) -> Ob2Issuer:
    made = Ob2Issuer(f"https://issuer.test:{https.port}")
    publish_ob2(https, made.documents())
    return made


def test_the_fetcher_tells_gone_from_not_found(fetcher: Fetcher, https: Server) -> None:
    serve(https, "/gone", {"revoked": True}, 410)
    gone = fetcher.json_or_absent(f"https://issuer.test:{https.port}/gone")
    assert isinstance(gone, Absent) and gone.gone and json.loads(gone.body) == {"revoked": True}
    missing = fetcher.json_or_absent(f"https://issuer.test:{https.port}/nothing")
    assert isinstance(missing, Absent) and not missing.gone
    assert fetcher.json(f"https://issuer.test:{https.port}/gone") is None


@pytest.mark.parametrize("body", [{"revoked": True}, None])
def test_a_hosted_assertion_answering_410_is_revoked(
        fetcher: Fetcher, https: Server, ob2_issuer: Ob2Issuer, body: Any) -> None:
    assertion = ob2_issuer.assertion()
    path = assertion["id"].split(str(https.port), 1)[1]
    https.routes[path] = Reply(b"" if body is None else json.dumps(body).encode(), 410)
    report = verify_ob2(assertion, ob2_fetch(fetcher), now=NOW)
    assert not report.valid
    assert status(report).outcome == Outcome.FAILED
    assert status(report).message.startswith("revoked: the issuer withdrew this badge")
    assert "410 Gone" in status(report).message
    by_url = verify_ob2(assertion["id"], ob2_fetch(fetcher), now=NOW)
    assert not by_url.valid and status(by_url).outcome == Outcome.FAILED
    assert "which for a hosted Open Badge means revoked" in status(by_url).message


def test_a_hosted_assertion_answering_404_is_not_found(
        fetcher: Fetcher, https: Server, ob2_issuer: Ob2Issuer) -> None:
    assertion = ob2_issuer.assertion(7)
    report = verify_ob2(assertion, ob2_fetch(fetcher), now=NOW)
    assert not report.valid
    proof = report.check("proof")
    assert proof is not None and proof.outcome == Outcome.FAILED
    assert "there is no such document (404 Not Found)" in proof.message
    # Its revocation list does not name it; what fails is that it is not hosted.


def test_offline_nothing_is_fetched_for_ob2(https: Server, ob2_issuer: Ob2Issuer) -> None:
    report = verify_ob2(ob2_issuer.assertion(), ob2_fetch(None), now=NOW)
    assert not report.valid and https.connections == 0


# -- the same through ``issuer verify`` -----------------------------------------------------------


def test_issuer_verify_reads_a_revocation_list_and_a_2021_list(
        tmp_path: Path, pki: Pki, https: Server, other_https: Server) -> None:
    issuer = WebIssuer(f"did:web:localhost%3A{https.port}:issuers:guild")
    https.routes["/issuers/guild/did.json"] = Reply(json.dumps(issuer.document).encode())
    serve(https, "/revocations", {"revokedCredentials": [{"id": CREDENTIAL_ID}]})
    revoked = write(tmp_path, "revoked.json", badge_with_revocation_list(
        issuer, f"https://{https.authority}/revocations"))
    result = run(tmp_path, revoked, **allowed(pki, https))
    assert result.returncode == 1, result.stdout + result.stderr
    assert line(result.stdout, "status").startswith("FAIL")
    assert "revoked: the issuer's revocation list revokes this credential" in result.stdout

    url = f"https://{other_https.authority}/lists/2021"
    badge = badge_2021(issuer.did, INDEX)
    badge["credentialStatus"] = {**badge["credentialStatus"], "statusListCredential": url}
    unreachable = write(tmp_path, "2021.json", issuer.sign(badge))
    lenient = run(tmp_path, unreachable, **allowed(pki, https, other_https))
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert line(lenient.stdout, "status").startswith("WARN")
    strict = run(tmp_path, unreachable, "--require-status", **allowed(pki, https, other_https))
    assert strict.returncode == 1 and line(strict.stdout, "status").startswith("FAIL")

    serve(other_https, "/lists/2021", list_2021(issuer, url, revoked=True))
    result = run(tmp_path, unreachable, **allowed(pki, https, other_https))
    assert result.returncode == 1 and line(result.stdout, "status").startswith("FAIL")
