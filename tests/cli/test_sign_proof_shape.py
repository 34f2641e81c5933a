"""`issuer sign`: one proof is the proof object itself (VC Data Integrity §4.2)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_credentials import run
from tests.core.helpers import unsigned_badge


def test_sign_writes_one_proof_as_an_object_and_keeps_the_ob_list(tmp_path: Path) -> None:
    key = tmp_path / "issuer.pem"
    generated = run("keys", "generate", "--out", str(key))
    assert generated.returncode == 0, generated.stderr
    did = generated.stdout.strip()
    generic = {"@context": ["https://www.w3.org/ns/credentials/v2"],
               "type": ["VerifiableCredential"], "issuer": did,
               "validFrom": "2026-01-01T00:00:00Z",
               "credentialSubject": {"id": "did:example:learner", "name": "Ada"}}
    for document, shape in ((generic, dict), (unsigned_badge(did), list)):
        path = tmp_path / "credential.json"
        path.write_text(json.dumps(document))
        signed = run("sign", str(path), "--key", str(key), "--created",
                     "2026-01-01T00:00:00Z")
        assert signed.returncode == 0, signed.stderr
        assert isinstance(json.loads(signed.stdout)["proof"], shape)
        out = tmp_path / "signed.json"
        out.write_text(signed.stdout)
        verified = run("verify", str(out), "--at", "2026-06-01T00:00:00Z")
        assert verified.returncode == 0, verified.stdout
