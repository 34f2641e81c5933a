"""Through the production server (two gunicorn workers, each with its own copies): a token
revoked from the command line is refused by every request that follows, whichever worker
answers it."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.live_server import ISSUER, Server, live_server, printed

#: Requests each way; gunicorn's sync workers close every connection, so they spread over
#: both workers and warm the copies of each.
REQUESTS = 12


def _issuer_status(server: Server, token: str) -> int:
    request = urllib.request.Request(server.base + "/api/v1/issuer",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def _cli(server: Server, *args: str) -> str:
    done = subprocess.run([ISSUER, *args], env=server.env, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.strip()


def test_a_token_revoked_from_the_command_line_is_refused_by_both_workers(
        tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        slug = printed(server, "Demo issuer").rstrip("/").rsplit("/", 1)[-1]
        token = _cli(server, "tokens", "create", "--issuer", slug).splitlines()[-1]
        assert [_issuer_status(server, token) for _ in range(REQUESTS)] == [200] * REQUESTS
        assert _cli(server, "tokens", "revoke", "--issuer", slug, token[:10]) == "revoked"
        assert [_issuer_status(server, token) for _ in range(REQUESTS)] == [401] * REQUESTS
