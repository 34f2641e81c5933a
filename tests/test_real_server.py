"""The newcomer's path on a real server: `issuer serve --init-demo` (what `make run` runs).

Starts the production WSGI server in a subprocess on a free loopback port with its own
database, key store and instance folder, then talks to it over real HTTP.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import ISSUER, Server, live_server, printed

pytestmark = pytest.mark.db  # the server runs on the test database


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(tmp_path_factory.mktemp("server")) as running:
        yield running


def test_it_prints_the_urls_a_newcomer_needs(server: Server) -> None:
    assert printed(server, "Admin") == f"{server.base}/admin/"
    assert printed(server, "Verify page") == f"{server.base}/verify"
    assert printed(server, "Demo badge").startswith(f"{server.base}/credentials/")
    assert "Sign in as admin@example.org with password" in "".join(server.output)


def test_the_demo_credential_verifies_from_its_url(server: Server, tmp_path: Path) -> None:
    url = printed(server, "Demo badge")
    status, _, body = server.get(url.removeprefix(server.base), accept="application/ld+json")
    assert status == 200
    credential = json.loads(body)
    assert credential["id"] == url
    # The badge the demo learner earned through a claim: evidence and two peer attestations.
    assert [e["type"] for e in credential["evidence"]] == [["Evidence"], ["Evidence"]]
    assert [e["type"][-1] for e in credential["endorsement"]] == ["EndorsementCredential"] * 2
    status, _, did_doc = server.get("/issuers/demo/did.json", accept="application/json")
    assert status == 200
    (tmp_path / "did.json").write_bytes(did_doc)
    (tmp_path / "badge.json").write_bytes(body)
    result = subprocess.run(
        [ISSUER, "verify", str(tmp_path / "badge.json"), "--trust", str(tmp_path / "did.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    credential["credentialSubject"]["achievement"]["name"] = "Something Grander"
    (tmp_path / "tampered.json").write_text(json.dumps(credential))
    result = subprocess.run(
        [ISSUER, "verify", str(tmp_path / "tampered.json"), "--trust",
         str(tmp_path / "did.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "FAIL  Signature [proof]" in result.stdout


def test_the_demo_credential_page_is_html_for_people(server: Server) -> None:
    url = printed(server, "Demo badge")
    status, headers, body = server.get(url.removeprefix(server.base))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"Peer Scaffolder" in body


def test_the_demo_learners_public_profile_shows_the_badge(server: Server) -> None:
    # The profile address is random (profiles cannot be enumerated); start-up prints it.
    status, _, body = server.get(printed(server, "Demo profile").removeprefix(server.base))
    assert status == 200
    page = body.decode("utf-8")
    assert "Demo Learner" in page and "Peer Scaffolder" in page
    assert printed(server, "Demo badge").removeprefix(server.base) in page
    assert "learner@example.org" not in page


def test_restarting_keeps_the_same_demo(server: Server) -> None:
    """`make run` twice must not create a second demo issuer or lose the first."""
    result = subprocess.run([ISSUER, "init", "--demo"], env=server.env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert printed(server, "Demo badge") in result.stdout


def test_workers_serve_on_after_their_first_request_froze_the_heap(server: Server) -> None:
    """Each worker freezes its long-lived objects after its first request (gc.freeze): the
    requests after it are answered, and the hook logged no error."""
    for _ in range(6):  # enough for both workers to be past their first request
        status, _, _ = server.get("/verify")
        assert status == 200
    assert "Exception in post_request hook" not in "".join(server.output)
