"""The per-process copies of token and achievement rows: always checked, never shared."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.services.achievements import get_achievement
from issuer.services.context import ServiceContext
from issuer.services.lookups import CopyCache
from issuer.services.tokens import authenticate, revoke_token
from issuer.storage.models import Issuer
from tests.conftest import World


def test_a_copy_is_given_only_for_its_stamp_and_the_oldest_goes_first() -> None:
    cache: CopyCache[str] = CopyCache(max_entries=2)
    cache.put("a", (1, ["x"]), "copy a")
    assert cache.get("a", (1, ["x"])) == "copy a"
    assert cache.get("a", (2, ["x"])) is None
    assert cache.get("a", (1, ["y"])) is None
    cache.put("b", 1, "copy b")
    cache.get("a", (1, ["x"]))  # a is now the most recently used
    cache.put("c", 1, "copy c")
    assert cache.get("b", 1) is None
    assert cache.get("a", (1, ["x"])) == "copy a"
    assert (cache.hits, cache.misses) == (3, 3)


def test_each_session_gets_instances_of_its_own(app: Flask, ctx: ServiceContext,
                                                world: World) -> None:
    sessions = runtime(app).sessions
    with sessions() as first:
        token = authenticate(first, ctx, world.token)
        assert token is not None and token in first
        key_ids = [k.id for k in token.issuer.keys]
        token.issuer.name = "Changed, never committed"
        achievement = get_achievement(first, token.issuer, world.achievement_slug,
                                      lookups=ctx.lookups)
        achievement.name = "Changed, never committed"
        first.rollback()
    with sessions() as second:
        again = authenticate(second, ctx, world.token)
        assert again is not None and again in second
        assert again.issuer.name == "Guild Guild"
        assert [k.id for k in again.issuer.keys] == key_ids
        found = get_achievement(second, again.issuer, world.achievement_slug,
                                lookups=ctx.lookups)
        assert found in second and found.name == "Peer Scaffolder"
    assert ctx.lookups.tokens.hits >= 1 and ctx.lookups.achievements.hits >= 1


def test_changes_of_the_session_itself_are_kept(session: Session, ctx: ServiceContext,
                                                world: World) -> None:
    warm = authenticate(session, ctx, world.token)
    assert warm is not None
    session.rollback()
    session.expunge_all()

    issuer = session.scalars(select(Issuer).where(Issuer.slug == world.issuer_slug)).one()
    issuer.name = "Renamed in this session"
    # Not flushed yet: the database still holds what the copy was made from.
    with session.no_autoflush:
        token = authenticate(session, ctx, world.token)
    assert token is not None and token.issuer is issuer
    assert token.issuer.name == "Renamed in this session"

    revoke_token(session, ctx, issuer, token.id)
    assert authenticate(session, ctx, world.token) is None


def test_a_token_revoked_in_another_session_is_refused_at_once(
        app: Flask, ctx: ServiceContext, world: World) -> None:
    sessions = runtime(app).sessions
    for _ in range(2):
        with sessions() as reader:
            assert authenticate(reader, ctx, world.token) is not None
    with sessions() as writer:
        token = authenticate(writer, ctx, world.token)
        assert token is not None
        revoke_token(writer, ctx, token.issuer, token.id)
        writer.commit()
    with sessions() as reader:
        assert authenticate(reader, ctx, world.token) is None
        assert authenticate(reader, ctx, world.other_token) is not None
