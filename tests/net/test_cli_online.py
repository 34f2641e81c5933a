"""``issuer verify`` online, as a user runs it: the installed command in a subprocess,
did:web issuers and status lists on HTTPS servers on loopback, reached because the test
allows them (ISSUER_VERIFY_ALLOW_HOSTS) and trusts their CA (ISSUER_VERIFY_CA_FILE)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.net.documents import WebIssuer
from tests.net.servers import Pki, Reply, Server

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))


def run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # No service here: an instance folder of its own, and none of the caller's settings.
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith("ISSUER_")}
    clean["ISSUER_INSTANCE_DIR"] = str(tmp / "instance")
    return subprocess.run([ISSUER_CMD, "verify", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120, check=False)


def allowed(pki: Pki, *servers: Server) -> dict[str, str]:
    return {"ISSUER_VERIFY_ALLOW_HOSTS": ",".join(s.authority for s in servers),
            "ISSUER_VERIFY_CA_FILE": str(pki.ca_file)}


def line(output: str, check: str) -> str:
    return next(text for text in output.splitlines() if f"[{check}]" in text)


def write(tmp: Path, name: str, document: object) -> str:
    path = tmp / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


@pytest.fixture()
def issuer(https: Server) -> WebIssuer:
    web = WebIssuer(f"did:web:localhost%3A{https.port}:issuers:guild")
    https.routes["/issuers/guild/did.json"] = Reply(json.dumps(web.document).encode())
    return web


def test_a_did_web_badge_verifies_with_no_trust(tmp_path: Path, pki: Pki, https: Server,
                                                issuer: WebIssuer) -> None:
    badge = write(tmp_path, "badge.json", issuer.badge())
    result = run(tmp_path, badge, **allowed(pki, https))
    assert result.returncode == 0, result.stdout + result.stderr
    assert line(result.stdout, "proof").startswith("PASS")
    offline = run(tmp_path, badge, "--offline", **allowed(pki, https))
    assert offline.returncode == 1 and "cannot be fetched offline" in offline.stdout
    by_setting = run(tmp_path, badge, ISSUER_VERIFY_OFFLINE="1", **allowed(pki, https))
    assert by_setting.returncode == 1
    assert [seen.path for seen in https.seen] == ["/issuers/guild/did.json"]


def test_a_credential_is_fetched_by_url_from_another_host(
        tmp_path: Path, pki: Pki, https: Server, other_https: Server,
        issuer: WebIssuer) -> None:
    other_https.routes["/badges/1"] = Reply(json.dumps(issuer.badge()).encode())
    url = f"https://{other_https.authority}/badges/1"
    result = run(tmp_path, url, **allowed(pki, https, other_https))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout
    missing = run(tmp_path, url + "0", **allowed(pki, https, other_https))
    assert missing.returncode == 2 and "nothing at" in missing.stderr
    offline = run(tmp_path, url, "--offline", **allowed(pki, https, other_https))
    assert offline.returncode == 2 and "offline" in offline.stderr


@pytest.mark.parametrize("revoked", [False, True])
def test_a_remote_status_list_decides(tmp_path: Path, pki: Pki, https: Server,
                                      other_https: Server, issuer: WebIssuer,
                                      revoked: bool) -> None:
    url = f"https://{other_https.authority}/lists/1"
    other_https.routes["/lists/1"] = Reply(
        json.dumps(issuer.status_list(url, revoked=revoked)).encode())
    badge = write(tmp_path, "badge.json", issuer.badge(url))
    result = run(tmp_path, badge, **allowed(pki, https, other_https))
    status = line(result.stdout, "status")
    if revoked:
        assert result.returncode == 1 and status.startswith("FAIL") and "revoked" in status
    else:
        assert result.returncode == 0 and status.startswith("PASS"), result.stdout


def test_an_unreachable_status_list_is_could_not_check_unless_status_is_required(
        tmp_path: Path, pki: Pki, https: Server, issuer: WebIssuer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"localhost:{probe.getsockname()[1]}"
    badge = write(tmp_path, "badge.json", issuer.badge(f"https://{dead}/lists/1"))
    env = {**allowed(pki, https), "ISSUER_VERIFY_ALLOW_HOSTS": f"{https.authority},{dead}"}
    warned = run(tmp_path, badge, **env)
    assert warned.returncode == 0, warned.stdout
    status = line(warned.stdout, "status")
    assert status.startswith("WARN") and "could not check" in status
    assert "not revoked" not in warned.stdout
    required = run(tmp_path, badge, "--require-status", "--json", **env)
    assert required.returncode == 1
    report = json.loads(required.stdout)
    assert report["valid"] is False
    (check,) = [c for c in report["checks"] if c["id"] == "status"]
    assert check["outcome"] == "failed" and "--require-status" in check["message"]


def test_nothing_on_loopback_is_fetched_unless_allowed(tmp_path: Path, pki: Pki,
                                                       https: Server, other_https: Server,
                                                       issuer: WebIssuer) -> None:
    trust = {"ISSUER_VERIFY_CA_FILE": str(pki.ca_file)}
    badge = write(tmp_path, "badge.json", issuer.badge())
    result = run(tmp_path, badge, **trust)
    assert result.returncode == 1
    proof = line(result.stdout, "proof")
    assert "could not be fetched" in proof and "loopback" in proof, proof
    other_https.routes["/badges/1"] = Reply(json.dumps(issuer.badge()).encode())
    for host in ("127.0.0.1", "[::1]", "localhost"):
        by_url = run(tmp_path, f"https://{host}:{other_https.port}/badges/1", **trust)
        assert by_url.returncode == 2 and "loopback" in by_url.stderr, by_url.stderr
    assert https.connections == 0 and other_https.connections == 0
