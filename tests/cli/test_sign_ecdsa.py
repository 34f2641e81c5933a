"""`issuer sign --suite ecdsa-rdfc-2019 | ecdsa-jcs-2019` with a P-256 or P-384 key file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_credentials import run
from tests.core.helpers import unsigned_badge

#: ``issuer keys generate --type`` value → the did:key prefix of such a key.
KEY_TYPES = {"p256": "did:key:zDn", "p384": "did:key:z82"}


@pytest.fixture(scope="module", params=sorted(KEY_TYPES))
def ec_key(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("keys") / f"{request.param}.pem"
    result = run("keys", "generate", "--type", request.param, "--out", str(path))
    assert result.returncode == 0, result.stderr
    did = result.stdout.strip()
    assert did.startswith(KEY_TYPES[request.param])
    return path, did


def _sign(tmp_path: Path, key: Path, did: str, *options: str) -> tuple[dict, Path]:
    doc = tmp_path / "credential.json"
    doc.write_text(json.dumps(unsigned_badge(did)))
    signed = run("sign", str(doc), "--key", str(key), "--created", "2026-01-01T00:00:00Z",
                 *options)
    assert signed.returncode == 0, signed.stderr
    out = tmp_path / "signed.json"
    out.write_text(signed.stdout)
    return json.loads(signed.stdout), out


@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_sign_with_an_ecdsa_suite_then_verify(tmp_path: Path, ec_key: tuple[Path, str],
                                              suite: str) -> None:
    key, did = ec_key
    signed, out = _sign(tmp_path, key, did, "--suite", suite)
    [proof] = signed["proof"]
    assert proof["cryptosuite"] == suite
    assert proof["verificationMethod"] == f"{did}#{did.removeprefix('did:key:')}"
    verified = run("verify", str(out), "--at", "2026-06-01T00:00:00Z")
    assert verified.returncode == 0, verified.stdout
    assert "VALID" in verified.stdout and "PASS  Signature" in verified.stdout
    # A changed claim no longer verifies: the signature covers the document.
    signed["credentialSubject"]["achievement"]["name"] = "Something else"
    out.write_text(json.dumps(signed))
    tampered = run("verify", str(out), "--at", "2026-06-01T00:00:00Z")
    assert tampered.returncode == 1, tampered.stdout


def test_an_ecdsa_key_signs_with_ecdsa_rdfc_2019_by_default(
        tmp_path: Path, ec_key: tuple[Path, str]) -> None:
    key, did = ec_key
    signed, _ = _sign(tmp_path, key, did)
    assert signed["proof"][0]["cryptosuite"] == "ecdsa-rdfc-2019"


def test_a_suite_of_another_key_type_is_refused(tmp_path: Path,
                                                ec_key: tuple[Path, str]) -> None:
    key, did = ec_key
    doc = tmp_path / "credential.json"
    doc.write_text(json.dumps(unsigned_badge(did)))
    refused = run("sign", str(doc), "--key", str(key), "--suite", "eddsa-rdfc-2022")
    assert refused.returncode == 1
    assert "eddsa-rdfc-2022 cannot sign with a P-" in refused.stderr
    assert "PRIVATE" not in refused.stderr + refused.stdout


def test_an_ed25519_key_cannot_sign_an_ecdsa_suite(tmp_path: Path) -> None:
    key = tmp_path / "ed.pem"
    did = run("keys", "generate", "--out", str(key)).stdout.strip()
    doc = tmp_path / "credential.json"
    doc.write_text(json.dumps(unsigned_badge(did)))
    refused = run("sign", str(doc), "--key", str(key), "--suite", "ecdsa-jcs-2019")
    assert refused.returncode == 1
    assert "ecdsa-jcs-2019" in refused.stderr and "Ed25519" in refused.stderr
