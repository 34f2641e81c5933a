"""Small builders shared by the core tests: a real key, a real OB 3.0 credential."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from issuer import config
from issuer.core.dids import did_key_from_public_key, did_key_verification_method_id
from issuer.core.keys import PrivateKey
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.verify import Verifier

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def unsigned_badge(issuer_id: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:2d4c5f6e-0a7b-4c1d-9e8f-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Community of Practice"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "name": "Peer Scaffolder",
        "credentialSubject": {
            "id": "did:example:learner-1",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://badges.example/achievements/peer-scaffolder",
                "type": ["Achievement"],
                "name": "Peer Scaffolder",
                "description": "Helped at least three colleagues learn a new practice.",
                "criteria": {"narrative": "Three peers attest to help received."},
                "creditsAvailable": 2.5,
                "tag": ["mentoring", "cpd"],
            },
        },
        "evidence": [
            {
                "id": "https://forum.example/t/42",
                "type": ["Evidence"],
                "name": "Answer on the practitioners' forum",
                "narrative": "Explained retrieval practice with worked examples.",
            }
        ],
    }


def did_key_issuer(key_type: str = "Ed25519") -> tuple[PrivateKey, str, str]:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return key, did, did_key_verification_method_id(did)


def signed_badge(suite: str = "eddsa-rdfc-2022") -> tuple[dict[str, Any], PrivateKey]:
    key, did, vm = did_key_issuer()
    signed = sign_document(
        unsigned_badge(did), SIGNING_SUITES[suite], key,
        verification_method=vm,
        ctx=SuiteContext(loader=config.context_loader()),
        created="2026-01-01T00:00:00Z",
    )
    return signed, key


def verifier(**kwargs: Any) -> Verifier:
    return Verifier(
        loader=config.context_loader(),
        schemas=config.schema_registry(),
        clock=lambda: NOW,
        **kwargs,
    )
