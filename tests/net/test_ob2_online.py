"""Open Badges 2.0 assertions verified online: the issuer's Profile, BadgeClass, key,
revocation list and hosted assertions on real HTTPS servers on loopback, fetched through the
guarded fetcher; in process, and through the installed ``issuer verify`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from issuer.core.ob2 import verify_ob2
from issuer.core.verify import Outcome, VerificationReport
from issuer.net.addresses import Allowlist
from issuer.net.fetcher import Fetcher
from tests.core.ob2_helpers import EMAIL, Ob2Issuer, ob2_png
from tests.net.servers import Pki, Reply, Server
from tests.net.test_cli_online import allowed, line, run

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def resolve(host: str, _port: int) -> list[str]:
    if host in ("issuer.test", "other.test"):
        return ["127.0.0.1"]
    raise OSError(-2, "Name or service not known")


def publish(server: Server, documents: dict[str, Any]) -> None:
    for url, document in documents.items():
        server.routes[urlsplit(url).path] = (
            document if isinstance(document, Reply) else Reply(json.dumps(document).encode(),
                                                               headers={"Content-Type":
                                                                        "application/json"}))


@pytest.fixture()
def fetcher(pki: Pki, https: Server, other_https: Server) -> Iterator[Fetcher]:
    client = Fetcher(allow=Allowlist.of([f"issuer.test:{https.port}",
                                         f"other.test:{other_https.port}"]),
                     verify=pki.client_context(), resolver=resolve)
    yield client
    client.close()


@pytest.fixture()
def issuer(https: Server) -> Ob2Issuer:
    made = Ob2Issuer(f"https://issuer.test:{https.port}")
    publish(https, made.documents())
    return made


def verify(fetcher: Fetcher, data: dict[str, Any] | str, **kwargs: Any) -> VerificationReport:
    return verify_ob2(data, fetcher.json, now=NOW, **kwargs)


def outcome(report: VerificationReport, check: str) -> Outcome:
    found = report.check(check)
    assert found is not None
    return found.outcome


def test_a_hosted_assertion_verifies(fetcher: Fetcher, https: Server,
                                     issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    publish(https, {assertion["id"]: assertion})
    report = verify(fetcher, assertion, recipient=EMAIL)
    assert report.valid, [c.to_json() for c in report.checks]
    paths = {seen.path for seen in https.seen}
    assert {"/assertions/1.json", "/badges/ada.json", "/issuer.json",
            "/revoked.json"} <= paths
    assert all(seen.sni == "issuer.test" for seen in https.seen)


def test_a_revoked_assertion_is_invalid(fetcher: Fetcher, https: Server,
                                        issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(2)
    issuer.revoked.append({"id": assertion["id"], "revocationReason": "Awarded in error"})
    publish(https, {assertion["id"]: assertion, issuer.list_id: issuer.revocation_list()})
    report = verify(fetcher, assertion["id"])
    assert not report.valid and outcome(report, "status") == Outcome.FAILED


def test_an_assertion_gone_from_its_host_is_invalid(fetcher: Fetcher, https: Server,
                                                    issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(3)
    publish(https, {assertion["id"]: Reply(b'{"revoked": true}', 410)})
    report = verify(fetcher, assertion)
    assert not report.valid and outcome(report, "proof") == Outcome.FAILED


def test_a_signed_assertion_verifies(fetcher: Fetcher, https: Server,
                                     issuer: Ob2Issuer) -> None:
    token = issuer.sign(issuer.assertion(signed=True))
    report = verify(fetcher, token, recipient=EMAIL)
    assert report.valid, [c.to_json() for c in report.checks]
    assert "/key.json" in {seen.path for seen in https.seen}
    forged = Ob2Issuer(issuer.base).sign(issuer.assertion(signed=True))
    assert outcome(verify(fetcher, forged), "proof") == Outcome.FAILED


def test_a_wrong_recipient_is_invalid(fetcher: Fetcher, https: Server,
                                      issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion()
    publish(https, {assertion["id"]: assertion})
    report = verify(fetcher, assertion, recipient="impostor@example.org")
    assert not report.valid and outcome(report, "recipient") == Outcome.FAILED


def test_an_expired_assertion_is_invalid(fetcher: Fetcher, https: Server,
                                         issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(4, expires="2026-05-01T00:00:00Z")
    publish(https, {assertion["id"]: assertion})
    report = verify(fetcher, assertion)
    assert not report.valid and outcome(report, "dates") == Outcome.FAILED


def test_an_assertion_on_another_origin_is_invalid(fetcher: Fetcher, other_https: Server,
                                                   issuer: Ob2Issuer) -> None:
    assertion = issuer.assertion(5, hosted_at=f"https://other.test:{other_https.port}")
    publish(other_https, {assertion["id"]: assertion})
    report = verify(fetcher, assertion)
    assert not report.valid and outcome(report, "proof") == Outcome.FAILED
    assert "not on the origin" in report.check("proof").message  # type: ignore[union-attr]


# -- the command, as a user runs it ----------------------------------------------------------


@pytest.fixture()
def local_issuer(https: Server) -> Ob2Issuer:
    made = Ob2Issuer(f"https://{https.authority}")
    publish(https, made.documents())
    return made


def test_the_command_verifies_a_hosted_assertion_by_url(tmp_path: Path, pki: Pki,
                                                        https: Server,
                                                        local_issuer: Ob2Issuer) -> None:
    assertion = local_issuer.assertion()
    publish(https, {assertion["id"]: assertion})
    result = run(tmp_path, assertion["id"], "--recipient", EMAIL, **allowed(pki, https))
    assert result.returncode == 0, result.stdout + result.stderr
    assert line(result.stdout, "recipient").startswith("PASS")
    assert "Recipient [recipient]" in result.stdout
    wrong = run(tmp_path, assertion["id"], "--recipient", "x@example.org", "--json",
                **allowed(pki, https))
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout)["format"] == "ob2-hosted"


def test_the_command_reports_a_hosted_assertion_answering_410_as_revoked(
        tmp_path: Path, pki: Pki, https: Server, local_issuer: Ob2Issuer) -> None:
    assertion = local_issuer.assertion()
    https.routes[urlsplit(assertion["id"]).path] = Reply(b'{"revoked": true}', 410)
    result = run(tmp_path, assertion["id"], **allowed(pki, https))
    assert result.returncode == 1, result.stdout + result.stderr
    assert line(result.stdout, "status").startswith("FAIL")
    assert "which for a hosted Open Badge means revoked" in result.stdout
    # Among several files and addresses, the same report.
    many = run(tmp_path, assertion["id"], assertion["id"], "--json", **allowed(pki, https))
    assert many.returncode == 1, many.stdout + many.stderr
    assert "means revoked" in many.stdout


def test_the_command_says_404_for_an_address_with_nothing(tmp_path: Path, pki: Pki,
                                                          https: Server) -> None:
    result = run(tmp_path, f"https://{https.authority}/nothing", **allowed(pki, https))
    assert result.returncode != 0 and result.returncode != 1, result.stdout + result.stderr
    assert "(HTTP 404)" in result.stderr


def test_the_command_verifies_a_baked_png(tmp_path: Path, pki: Pki, https: Server,
                                          local_issuer: Ob2Issuer) -> None:
    assertion = local_issuer.assertion(6)
    publish(https, {assertion["id"]: assertion})
    image = tmp_path / "badge.png"
    image.write_bytes(ob2_png(assertion["id"]))
    result = run(tmp_path, str(image), **allowed(pki, https))
    assert result.returncode == 0, result.stdout + result.stderr
    local_issuer.revoked.append(assertion["id"])
    publish(https, {local_issuer.list_id: local_issuer.revocation_list()})
    revoked = run(tmp_path, str(image), **allowed(pki, https))
    assert revoked.returncode == 1 and line(revoked.stdout, "status").startswith("FAIL")


def test_the_command_verifies_a_signed_assertion_and_fetches_nothing_offline(
        tmp_path: Path, pki: Pki, https: Server, local_issuer: Ob2Issuer) -> None:
    token = tmp_path / "badge.jws"
    token.write_text(local_issuer.sign(local_issuer.assertion(signed=True)))
    result = run(tmp_path, str(token), **allowed(pki, https))
    assert result.returncode == 0, result.stdout + result.stderr
    assert line(result.stdout, "proof").startswith("PASS")
    before = https.connections
    offline = run(tmp_path, str(token), "--offline", **allowed(pki, https))
    assert offline.returncode == 1 and "offline" in offline.stdout
    assert https.connections == before


def test_an_http_assertion_url_is_not_fetched(fetcher: Fetcher, https: Server,
                                              issuer: Ob2Issuer) -> None:
    url = f"http://other.test:{https.port}/assertions/1.json"  # a host not allowed
    report = verify(fetcher, url)
    assert not report.valid and "only https" in report.checks[0].message
    assert https.connections == 0
