"""Every signed vector verifies (or fails) as its publisher says, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuer.cli import main
from tests.core.vector_trust import VECTORS, trust_for

EXPECTED = json.loads((VECTORS / "EXPECTED.json").read_text(encoding="utf-8"))["vectors"]

#: A moment inside every vector's validity window (the VC-JOSE-COSE presentations expire
#: within hours of 2024-12-16),
#: so the outcome depends on the vector, not on the day the suite runs.
AS_OF = "2024-12-16T00:30:00Z"


def _run_verify(tmp_path: Path, relative: str, trusted: list[dict]) -> tuple[int, dict]:
    args = ["verify", str(VECTORS / relative), "--json", "--at", AS_OF]
    for i, doc in enumerate(trusted):
        path = tmp_path / f"trust-{i}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        args += ["--trust", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("vector", EXPECTED, ids=[v["file"] for v in EXPECTED])
def test_vector_outcome(tmp_path: Path, vector: dict) -> None:
    code, report = _run_verify(tmp_path, vector["file"], trust_for(vector["file"]))
    checks = {c["id"]: c for c in report["checks"]}
    expected = vector["expected"]
    if expected == "VALID":
        failed = [c for c in report["checks"] if c["outcome"] == "failed"]
        assert failed == [] and code == 0 and report["valid"] is True
        assert checks["proof"]["outcome"] == "passed"
        return
    assert code == 1 and report["valid"] is False
    if expected == "INVALID (inner credential)":
        assert checks["credentials"]["outcome"] == "failed"
        assert checks["proof"]["outcome"] == "passed"
    elif expected in ("INVALID (media type)", "INVALID (claims)"):
        # The signature itself is good; what is wrong is the header or the claims.
        assert checks["proof"]["outcome"] == "failed"
        assert "signature is valid" in checks["proof"]["message"]
        word = "typ" if "media type" in expected else "'vc' claim"
        assert any(word in d for d in checks["proof"].get("details", []))
    else:
        assert checks["proof"]["outcome"] == "failed"
        assert "does not match" in checks["proof"]["message"]


@pytest.mark.parametrize(
    "vector",
    [v for v in EXPECTED if v["expected"] == "VALID"],
    ids=[v["file"] for v in EXPECTED if v["expected"] == "VALID"],
)
def test_vector_without_pinned_keys_is_not_trusted(tmp_path: Path, vector: dict) -> None:
    """A key named by a URL (or carried in a JWT header) proves nothing on its own."""
    code, report = _run_verify(tmp_path, vector["file"], [])
    proof = next(c for c in report["checks"] if c["id"] == "proof")
    assert code == 1
    assert proof["outcome"] == "failed"
    text = " ".join([proof["message"], *proof.get("details", [])])
    assert "no trusted controller document" in text


def test_status_that_needs_the_network_is_reported_as_unchecked(tmp_path: Path) -> None:
    relative = "1edtech-spec-examples-2024-04/complete-openbadgecredential.di.json"
    code, report = _run_verify(tmp_path, relative, trust_for(relative))
    status = next(c for c in report["checks"] if c["id"] == "status")
    assert code == 0
    assert status["outcome"] == "warning"
    assert "could not check" in status["message"]
    # Its embedded endorsements are unsigned placeholders: shown as unverified, not trusted.
    endorsements = next(c for c in report["checks"] if c["id"] == "endorsements")
    assert endorsements["outcome"] == "warning"
