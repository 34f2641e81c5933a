"""How issuers, achievements and credentials look in the JSON API (camelCase, as OB 3.0)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from issuer.services.achievements import achievement_id, image_url
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.issuers import issuer_did, issuer_url
from issuer.storage.models import Achievement, Credential, Issuer


def timestamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def issuer_json(ctx: ServiceContext, issuer: Issuer) -> dict[str, Any]:
    profile = issuer_url(ctx, issuer.slug)
    return _compact({
        "slug": issuer.slug,
        "name": issuer.name,
        "did": issuer_did(ctx, issuer),
        "profileUrl": profile,
        "didDocumentUrl": f"{profile}/did.json",
        "url": issuer.url,
        "email": issuer.email,
        "description": issuer.description,
    })


def achievement_json(ctx: ServiceContext, achievement: Achievement) -> dict[str, Any]:
    image = None
    if achievement.image is not None:
        image = _compact({"id": image_url(ctx, achievement.image),
                          "caption": achievement.image_caption})
    return _compact({
        "slug": achievement.slug,
        "id": achievement_id(ctx, achievement),
        "name": achievement.name,
        "description": achievement.description,
        "criteria": _compact({"id": achievement.criteria_url,
                              "narrative": achievement.criteria_narrative}),
        "achievementType": achievement.achievement_type,
        "creditsAvailable": achievement.credits_available,
        "tags": list(achievement.tags or []),
        "alignments": list(achievement.alignments or []),
        "imageCaption": achievement.image_caption,
        "image": image,
        "version": achievement.version,
        "createdAt": timestamp(achievement.created_at),
        "updatedAt": timestamp(achievement.updated_at),
    })


#: API member → the field name the achievements use case takes.
ACHIEVEMENT_FIELDS = {
    "slug": "slug",
    "name": "name",
    "description": "description",
    "achievementType": "achievement_type",
    "creditsAvailable": "credits_available",
    "tags": "tags",
    "alignments": "alignments",
    "imageCaption": "image_caption",
}


def achievement_data(body: dict[str, Any]) -> dict[str, Any]:
    """The use case's input from an API body; only members present are passed on."""
    data = {field: body[member] for member, field in ACHIEVEMENT_FIELDS.items()
            if member in body}
    for member in ("tags", "alignments"):
        if member in body and body[member] is None:
            data[member] = []
    criteria = body.get("criteria")
    if isinstance(criteria, dict):
        if "narrative" in criteria:
            data["criteria_narrative"] = criteria["narrative"]
        if "id" in criteria:
            data["criteria_url"] = criteria["id"]
    return data


def credential_summary(ctx: ServiceContext, row: Credential) -> dict[str, Any]:
    return _compact({
        "id": row.id,
        "url": credential_url(ctx, row.id),
        "recipient": _compact({"name": row.recipient_name, "email": row.recipient_email,
                               "did": row.recipient_did}),
        "achievement": _compact({
            "slug": row.achievement.slug if row.achievement is not None else None,
            "name": row.achievement_name,
        }),
        "issuedAt": timestamp(row.issued_at),
        "validUntil": timestamp(row.valid_until),
        "proofFormat": row.proof_format,
        "bulkJob": row.bulk_job_id,
    })


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
