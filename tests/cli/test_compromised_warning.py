"""`issuer verify --offline --trust did.json badge.json` on a badge whose key was compromised.

Controlled Identifiers §2.2 ``revoked``: the pinned DID document marks the key compromised
from a date. A proof dated before it still verifies (exit 0), but the report warns that the
date, written by whoever held the key, proves nothing without the issuer's records.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from issuer import config
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from tests.core.helpers import unsigned_badge

ISSUER_CMD = shutil.which("issuer", path=str(Path(sys.executable).parent)) or "issuer"
DID = "did:web:badges.example:issuers:guild"
KEY_ID = f"{DID}#key-1"
COMPROMISED = "2026-03-01T00:00:00Z"
KEY = PrivateKey.generate()


def did_document(*, revoked: str | None) -> dict[str, Any]:
    method: dict[str, Any] = {"id": KEY_ID, "type": "Multikey", "controller": DID,
                              "publicKeyMultibase": KEY.public_key.to_multibase()}
    if revoked is not None:
        method["revoked"] = revoked
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID, "verificationMethod": [method], "assertionMethod": [KEY_ID],
    }


def verify(tmp_path: Path, *, revoked: str | None) -> subprocess.CompletedProcess[str]:
    badge = sign_document(unsigned_badge(DID), SIGNING_SUITES["eddsa-rdfc-2022"], KEY,
                          verification_method=KEY_ID,
                          ctx=SuiteContext(loader=config.context_loader()),
                          created="2026-02-01T12:00:00Z")  # before the compromise
    (tmp_path / "cred.json").write_text(json.dumps(badge), encoding="utf-8")
    (tmp_path / "doc.json").write_text(json.dumps(did_document(revoked=revoked)),
                                       encoding="utf-8")
    # No service configured here: nothing but the pinned document speaks for the issuer.
    env = {k: v for k, v in os.environ.items() if k != "ISSUER_DATABASE_URL"}
    return subprocess.run(
        [ISSUER_CMD, "verify", "--offline", "--trust", str(tmp_path / "doc.json"),
         str(tmp_path / "cred.json"), "--at", "2026-06-01T00:00:00Z"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )


def test_a_back_dated_badge_verifies_with_the_compromise_warning(tmp_path: Path) -> None:
    result = verify(tmp_path, revoked=COMPROMISED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"the key that signed this ({KEY_ID}) was reported compromised since "
            f"{COMPROMISED}; a badge signed with it cannot prove it was signed before that "
            "date unless the issuer's records say so") in result.stdout
    assert "VALID: valid, with warnings" in result.stdout


def test_the_same_badge_has_no_warning_while_its_key_is_not_compromised(
        tmp_path: Path) -> None:
    result = verify(tmp_path, revoked=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compromised" not in result.stdout
    assert "VALID: every check passed" in result.stdout
