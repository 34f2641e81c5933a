"""Signing as an issuer hosted here: the active key, its DID URL, and one way to refuse."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from issuer.core.credentials import EndorsementCredential, EndorsementSubject
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid, NotFound
from issuer.services.issuers import get_issuer, issuer_did, method_id, profile
from issuer.services.keys import rotate_key
from issuer.services.signing import SigningRefused, sign_as
from issuer.services.verification import verify
from tests.conftest import World

NOW = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


def _endorsement(ctx: ServiceContext, session: Session) -> dict[str, Any]:
    guild = get_issuer(session, "guild")
    return EndorsementCredential(
        id="urn:uuid:0b6d5e4c-3a21-4f7e-9c8d-1e2f3a4b5c6d", issuer=profile(ctx, guild),
        validFrom=NOW, name="Endorsement",
        credentialSubject=EndorsementSubject(id=f"{ctx.base}/issuers/other",
                                             endorsementComment="Trusted."),
    ).to_json()


def test_signed_by_the_active_key_as_named_in_the_did_document(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    guild = get_issuer(session, "guild")
    retired = guild.keys[-1]
    active = rotate_key(session, ctx, guild)
    document = _endorsement(ctx, session)
    signed = sign_as(ctx, guild, document, NOW)
    assert signed.key.id == active.id != retired.id
    proof = signed.document["proof"][0]
    assert proof["verificationMethod"] == method_id(ctx, active)
    assert proof["verificationMethod"].startswith(issuer_did(ctx, guild) + "#")
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == "2026-02-01T09:30:00Z"
    assert "proof" not in document  # the caller's document is left as it was
    session.commit()
    assert verify(session, ctx, signed.document).valid


def test_the_suite_can_be_chosen(session: Session, ctx: ServiceContext, world: World) -> None:
    guild = get_issuer(session, "guild")
    signed = sign_as(ctx, guild, _endorsement(ctx, session), NOW, suite="eddsa-jcs-2022")
    assert signed.document["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"


def test_a_document_that_cannot_be_signed_is_refused_in_one_way(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    guild = get_issuer(session, "guild")
    document = copy.deepcopy(_endorsement(ctx, session))
    document["@context"].append("https://unknown.example/context.json")
    with pytest.raises(SigningRefused) as refused:
        sign_as(ctx, guild, document, NOW, what="endorsement")
    assert isinstance(refused.value, Invalid)
    assert refused.value.message.startswith("the endorsement could not be signed: ")
    assert refused.value.errors and "unknown.example" in refused.value.errors[0]


def test_an_issuer_without_an_active_key_cannot_sign(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    guild = get_issuer(session, "guild")
    for key in guild.keys:
        key.active = False
    with pytest.raises(NotFound, match="no active signing key"):
        sign_as(ctx, guild, _endorsement(ctx, session), NOW)
