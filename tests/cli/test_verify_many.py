"""``issuer verify`` over many paths and folders: a line per file, a summary, the worst exit.

One path keeps the full report (checked in test_credentials.py); these run the ``issuer``
group in-process, with real keys, signatures and files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import main
from tests.core.helpers import unsigned_badge

AT = ("--at", "2026-06-01T00:00:00Z", "--offline")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def badges(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of two valid credentials (JSON and JWT), one tampered, and a stray file."""
    folder = tmp_path_factory.mktemp("badges")
    key = folder.parent / "issuer.pem"
    generated = invoke("keys", "generate", "--out", str(key))
    assert generated.exit_code == 0, generated.output
    unsigned = folder.parent / "unsigned.json"
    unsigned.write_text(json.dumps(unsigned_badge(generated.output.strip())))
    signed = invoke("sign", str(unsigned), "--key", str(key))
    assert signed.exit_code == 0, signed.output
    (folder / "b-good.json").write_text(signed.output)
    jwt = invoke("sign", str(unsigned), "--key", str(key), "--suite", "vc-jwt")
    (folder / "a-good.jwt").write_text(jwt.output)
    tampered = json.loads(signed.output)
    tampered["credentialSubject"]["achievement"]["name"] = "Grand Master"
    (folder / "c-bad.json").write_text(json.dumps(tampered))
    (folder / "notes.txt").write_text("not a credential")
    (folder / "sub").mkdir()
    return folder


def test_a_folder_gives_a_line_per_credential_file_sorted_and_a_summary(badges: Path) -> None:
    result = invoke("verify", str(badges), *AT)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"VALID {badges / 'a-good.jwt'}",
        f"VALID {badges / 'b-good.json'}",
        f"INVALID {badges / 'c-bad.json'}: proof: "
        + result.output.splitlines()[2].split(": proof: ", 1)[1],
        "3 files: 2 valid, 1 invalid, 0 unreadable",
    ]


def test_many_valid_paths_exit_0(badges: Path) -> None:
    good = [str(badges / "a-good.jwt"), str(badges / "b-good.json")]
    result = invoke("verify", *good, *AT)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"VALID {good[0]}", f"VALID {good[1]}",
                                          "2 files: 2 valid, 0 invalid, 0 unreadable"]


def test_an_unreadable_file_exits_2_and_the_others_are_still_verified(
    badges: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("verify", str(missing), str(badges / "c-bad.json"), str(empty), *AT)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0].startswith(f"UNREADABLE {missing}: cannot read")
    assert lines[1].startswith(f"INVALID {badges / 'c-bad.json'}: proof: ")
    assert lines[2].startswith(f"UNREADABLE {empty}: ")
    assert lines[3] == "3 files: 0 valid, 1 invalid, 2 unreadable"


def test_json_with_many_paths_is_an_array_of_reports_with_their_path(badges: Path) -> None:
    result = invoke("verify", str(badges), "--json", *AT)
    assert result.exit_code == 1
    reports = json.loads(result.output)
    assert [(r["path"], r["valid"]) for r in reports] == [
        (str(badges / "a-good.jwt"), True),
        (str(badges / "b-good.json"), True),
        (str(badges / "c-bad.json"), False),
    ]
    assert "proof" in [c["id"] for c in reports[2]["checks"] if c["outcome"] == "failed"]


def test_one_path_keeps_the_full_report(badges: Path) -> None:
    result = invoke("verify", str(badges / "c-bad.json"), *AT)
    assert result.exit_code == 1
    assert "FAIL  Signature [proof]" in result.output
    assert result.output.splitlines()[-1].startswith("INVALID: failed: proof")
