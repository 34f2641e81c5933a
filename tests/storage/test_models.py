"""Migrations and the award use case on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from issuer.services.achievements import get_achievement, update_achievement
from issuer.services.awards import AwardRequest, EvidenceItem, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import did_document, get_issuer, issuer_did
from issuer.services.verification import verify
from issuer.storage.db import downgrade, make_engine, upgrade
from issuer.storage.models import Credential
from tests.conftest import World


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        downgrade(engine, "base")
        assert not inspect(engine).has_table("credentials")
        upgrade(engine)
        assert inspect(engine).has_table("credentials")
    finally:
        engine.dispose()


def test_award_signs_stores_byte_for_byte_and_verifies(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    row = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse("Learner@Example.org", "Ada Learner"),
        evidence=(EvidenceItem(url="https://forum.example/t/1", name="Answer"),),
    ), actor="test")
    session.commit()
    stored = session.scalar(select(Credential).where(Credential.id == row.id))
    assert stored is not None
    document = json.loads(stored.document)
    assert document["id"] == f"{ctx.base}/credentials/{row.id}"
    assert document["issuer"]["id"] == issuer_did(ctx, issuer)
    assert document["proof"][0]["verificationMethod"] == f"{issuer_did(ctx, issuer)}#key-1"
    identifiers = document["credentialSubject"]["identifier"]
    assert identifiers[0]["hashed"] is True
    assert "learner@example.org" not in stored.document
    report = verify(session, ctx, stored.document)
    assert report.valid, [c.to_json() for c in report.checks]
    assert stored.recipient_email == "learner@example.org"


def test_editing_an_achievement_leaves_issued_credentials_alone(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("did:example:abc")))
    session.commit()
    before = row.document
    update_achievement(session, ctx, achievement, {"name": "Renamed Badge"})
    session.commit()
    session.refresh(row)
    assert row.document == before
    assert "Renamed Badge" not in row.document
    assert verify(session, ctx, row.document).valid


def test_a_failed_award_writes_nothing(session: Session, ctx: ServiceContext,
                                       world: World) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    with pytest.raises(Invalid):
        award(session, ctx, issuer, achievement,
              AwardRequest(recipient=Recipient.parse("not an email")))
    session.rollback()
    assert session.scalars(select(Credential)).all() == []


def test_did_document_lists_the_issuer_key(session: Session, ctx: ServiceContext,
                                           world: World) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    doc = did_document(ctx, issuer)
    did = issuer_did(ctx, issuer)
    assert doc["id"] == did == "did:web:badges.test:issuers:guild"
    assert doc["assertionMethod"] == [f"{did}#key-1"]
    key_file = ctx.keystore.directory / issuer.keys[0].key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_search_treats_percent_and_underscore_literally(
    session: Session, ctx: ServiceContext, world: World
) -> None:
    from issuer.services.awards import search_credentials

    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    award(session, ctx, issuer, achievement,
          AwardRequest(recipient=Recipient.parse("a@example.org", "Ann 100% Sure")))
    award(session, ctx, issuer, achievement,
          AwardRequest(recipient=Recipient.parse("b@example.org", "Bob 1000 Sure")))
    session.commit()
    assert [c.recipient_name for c in search_credentials(session, issuer, "100%")] == [
        "Ann 100% Sure"
    ]
    assert search_credentials(session, issuer, "_") == []
    assert len(search_credentials(session, issuer, "sure")) == 2
