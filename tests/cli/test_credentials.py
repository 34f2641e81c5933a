"""The `issuer` command's contract: keys generate, sign and verify, with their exit codes.

These run the installed console script in a subprocess, as other tools would.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.helpers import unsigned_badge

ISSUER = shutil.which("issuer", path=str(Path(sys.executable).parent)) or "issuer"


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ISSUER, *args], input=stdin, capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})}, cwd=cwd,
    )


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("keys") / "issuer.pem"
    result = run("keys", "generate", "--out", str(path))
    assert result.returncode == 0, result.stderr
    return path, result.stdout.strip()


def test_keys_generate_prints_one_did_key_line_and_writes_a_private_file(
    key: tuple[Path, str],
) -> None:
    path, did = key
    assert did.startswith("did:key:z6Mk") and "\n" not in did
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()


def test_keys_generate_p256(tmp_path: Path) -> None:
    result = run("keys", "generate", "--out", str(tmp_path / "p.pem"), "--type", "p256")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("did:key:zDn")


def test_keys_generate_refuses_to_overwrite(key: tuple[Path, str]) -> None:
    path, _ = key
    before = path.read_bytes()
    result = run("keys", "generate", "--out", str(path))
    assert result.returncode == 1
    assert "exists" in result.stderr
    assert path.read_bytes() == before


def test_passphrase_protected_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.pem"
    env = {"ISSUER_KEY_PASSPHRASE": "correct horse"}
    assert run("keys", "generate", "--out", str(path), env=env).returncode == 0
    assert b"ENCRYPTED" in path.read_bytes()
    doc = tmp_path / "c.json"
    did = run("keys", "generate", "--out", str(tmp_path / "other.pem")).stdout.strip()
    doc.write_text(json.dumps(unsigned_badge(did)))
    wrong = run("sign", str(doc), "--key", str(path), env={"ISSUER_KEY_PASSPHRASE": "nope"})
    assert wrong.returncode == 2
    assert "passphrase" in wrong.stderr
    assert "Traceback" not in wrong.stderr


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc-jwt"])
def test_sign_then_verify(tmp_path: Path, key: tuple[Path, str], suite: str) -> None:
    path, did = key
    doc = tmp_path / "credential.json"
    doc.write_text(json.dumps(unsigned_badge(did)))
    signed = run("sign", str(doc), "--key", str(path), "--suite", suite,
                 "--created", "2026-01-01T00:00:00Z")
    assert signed.returncode == 0, signed.stderr
    out = tmp_path / "signed.txt"
    out.write_text(signed.stdout)
    if suite == "vc-jwt":
        assert signed.stdout.count(".") == 2
    else:
        proof = json.loads(signed.stdout)["proof"][0]
        assert proof["cryptosuite"] == suite
        assert proof["verificationMethod"] == f"{did}#{did.removeprefix('did:key:')}"
        assert proof["created"] == "2026-01-01T00:00:00Z"
    verified = run("verify", str(out), "--at", "2026-06-01T00:00:00Z")
    assert verified.returncode == 0, verified.stdout
    assert "VALID" in verified.stdout
    # The same through standard input, as JSON.
    piped = run("verify", "-", "--json", "--at", "2026-06-01T00:00:00Z", stdin=signed.stdout)
    assert piped.returncode == 0
    assert json.loads(piped.stdout)["valid"] is True


def test_signing_is_deterministic_for_a_fixed_key_and_time(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    path, did = key
    doc = tmp_path / "credential.json"
    doc.write_text(json.dumps(unsigned_badge(did)))
    args = ("sign", str(doc), "--key", str(path), "--created", "2026-01-01T00:00:00Z")
    assert run(*args).stdout == run(*args).stdout


def test_tampered_credential_exits_1_naming_the_check(
    tmp_path: Path, key: tuple[Path, str]
) -> None:
    path, did = key
    doc = tmp_path / "credential.json"
    doc.write_text(json.dumps(unsigned_badge(did)))
    signed = json.loads(run("sign", str(doc), "--key", str(path)).stdout)
    signed["credentialSubject"]["achievement"]["name"] = "Grand Master"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(signed))
    result = run("verify", str(bad), "--at", "2026-06-01T00:00:00Z")
    assert result.returncode == 1
    assert "FAIL  Signature [proof]" in result.stdout
    assert "INVALID" in result.stdout


@pytest.mark.parametrize(
    ("content", "check"),
    [
        ("{not json", "parse"),
        ('{"@context": ["https://www.w3.org/ns/credentials/v2", "https://x.example/c"], '
         '"type": ["VerifiableCredential"]}', "context"),
        ("", "parse"),
    ],
)
def test_bad_inputs_give_a_report_and_exit_1(tmp_path: Path, content: str, check: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    result = run("verify", str(path), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert check in [c["id"] for c in report["checks"] if c["outcome"] == "failed"]
    assert "Traceback" not in result.stderr


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    result = run("verify", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_unusable_trust_document_exits_2(tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text('{"verificationMethod": []}')
    cred = tmp_path / "c.json"
    cred.write_text("{}")
    result = run("verify", str(cred), "--trust", str(trust))
    assert result.returncode == 2
    assert "id" in result.stderr


def test_sign_refuses_undefined_terms(tmp_path: Path, key: tuple[Path, str]) -> None:
    path, did = key
    doc = unsigned_badge(did)
    doc["credentialSubject"]["shoeSize"] = 42
    src = tmp_path / "c.json"
    src.write_text(json.dumps(doc))
    result = run("sign", str(src), "--key", str(path))
    assert result.returncode == 1
    assert "shoeSize" in result.stderr
    assert result.stdout == ""


def test_no_private_key_material_in_any_output(tmp_path: Path, key: tuple[Path, str]) -> None:
    path, did = key
    pem = path.read_text()
    body = "".join(pem.strip().splitlines()[1:-1])
    src = tmp_path / "c.json"
    src.write_text(json.dumps(unsigned_badge(did)))
    for args in (("sign", str(src), "--key", str(path)),
                 ("sign", str(src), "--key", str(path), "--suite", "vc-jwt")):
        result = run(*args)
        assert body[:40] not in result.stdout + result.stderr
