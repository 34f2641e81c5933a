"""VC API verification results as JSON (https://w3c-ccg.github.io/vc-api/)."""

from __future__ import annotations

from typing import Any

from issuer.core.verify import Check, Outcome


def check_json(check: Check, titles: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": check.id, "title": titles.get(check.id, check.id),
                            "outcome": str(check.outcome), "message": check.message}
    if check.details:
        body["details"] = list(check.details)
    return body


def result_json(checks: list[Check], titles: dict[str, str], *,
                issuer: str | None, fmt: str) -> dict[str, Any]:
    """The VC API verification result: ``checks`` names what passed; ``errors`` and
    ``warnings`` explain, in words, what did not."""
    verified = bool(checks) and all(c.outcome != Outcome.FAILED for c in checks)
    return {
        "verified": verified,
        "checks": [c.id for c in checks if c.outcome == Outcome.PASSED],
        "warnings": [check_json(c, titles) for c in checks if c.outcome == Outcome.WARNING],
        "errors": [check_json(c, titles) for c in checks if c.outcome == Outcome.FAILED],
        "results": [check_json(c, titles) for c in checks],
        "issuer": issuer,
        "format": fmt,
    }
