"""An offline ``issuer verify`` never loads the HTTP client: the guarded fetcher's names
(errors, limits, "absent") live apart from the client (httpx), which is imported only when a
fetcher is made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.core.helpers import signed_badge

PROBE = """
import sys
from issuer.cli import main
try:
    main(["verify", "--offline", sys.argv[1]])
except SystemExit as exit:
    print("exit", exit.code)
print(" ".join(m for m in ("httpx", "httpcore", "h11") if m in sys.modules) or "none")
"""


def test_offline_verification_loads_no_http_client(tmp_path: Path) -> None:
    badge, _key = signed_badge()
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(badge), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                          text=True, timeout=120, check=True)
    lines = done.stdout.strip().splitlines()
    assert lines[-2:] == ["exit 0", "none"], done.stdout + done.stderr


def test_the_fetcher_is_still_there_when_asked_for() -> None:
    from issuer.net import fetcher
    from issuer.net.client import Fetcher

    assert fetcher.Fetcher is Fetcher
