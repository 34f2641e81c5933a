"""VC API verification results as JSON (https://w3c-ccg.github.io/vc-api/).

Beside the VC API members (``verified``, ``checks``, ``warnings``, ``errors``), a result says
who vouches for the credential: ``endorsements`` lists each embedded endorsement (OB 3.0
§B.1.7; peer attestations among them) as a person reads it, each verified on its own, and
``scaffolding`` the rubric level the credential records (§B.1.16, §B.1.18). Clients that know
only the VC API ignore members they do not know; those are additions, never changes.
"""

from __future__ import annotations

from typing import Any

from issuer.core.datetimes import format_datetime
from issuer.core.verify import Check, Outcome
from issuer.services.attestation_reading import (
    EndorsementReading,
    EndorsementReadings,
    ScaffoldingReading,
)
from issuer.services.attestation_scaffolding import level_words


def check_json(check: Check, titles: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": check.id, "title": titles.get(check.id, check.id),
                            "outcome": str(check.outcome), "message": check.message}
    if check.details:
        body["details"] = list(check.details)
    return body


def endorsement_json(reading: EndorsementReading) -> dict[str, Any]:
    """One endorsement as a person reads it: who (a peer's name, or the pseudonym of a peer
    who chose not to be named), when, their words, the kind of help and its level, and
    whether this endorsement alone verified."""
    return {
        "peer": reading.peer,
        "name": reading.who,
        "pseudonym": reading.pseudonym,
        "date": format_datetime(reading.signed_on) if reading.signed_on else None,
        "words": reading.words,
        "kind": reading.kind,
        "helpGiven": list(reading.help_given),
        "qualities": list(reading.qualities),
        "transferUrl": reading.transfer_url,
        "level": level_words(reading.level) if reading.level else None,
        "signedBy": reading.signed_by,
        "verified": reading.verified,
        "problem": reading.problem,
        "details": list(reading.details),
    }


def scaffolding_json(reading: ScaffoldingReading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {"level": reading.level, "description": reading.description,
            "required": reading.required, "peers": reading.peers,
            "transfers": reading.transfers, "helpGiven": list(reading.help_given)}


def result_json(checks: list[Check], titles: dict[str, str], *,
                issuer: str | None, fmt: str,
                endorsements: EndorsementReadings | None = None) -> dict[str, Any]:
    """The VC API verification result: ``checks`` names what passed; ``errors`` and
    ``warnings`` explain, in words, what did not; with ``endorsements`` (the credential's,
    each checked), who vouches for it and the scaffolding level it records."""
    verified = bool(checks) and all(c.outcome != Outcome.FAILED for c in checks)
    body = {
        "verified": verified,
        "checks": [c.id for c in checks if c.outcome == Outcome.PASSED],
        "warnings": [check_json(c, titles) for c in checks if c.outcome == Outcome.WARNING],
        "errors": [check_json(c, titles) for c in checks if c.outcome == Outcome.FAILED],
        "results": [check_json(c, titles) for c in checks],
        "issuer": issuer,
        "format": fmt,
    }
    if endorsements is not None:
        body["endorsements"] = [endorsement_json(r) for r in endorsements]
        body["scaffolding"] = scaffolding_json(endorsements.scaffolding)
    return body
