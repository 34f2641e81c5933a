"""The traces service on the real database: what an import keeps of an archive (and of other
people), that the kept rows give the same summary as the whole archive, the bounds of an
upload, and that the tables the migration makes are the ones the rows describe."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.activity import discourse, mastodon, mbox, stackexchange
from issuer.core.activity.model import Interaction
from issuer.core.activity.rules import summarise
from issuer.services import traces
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.storage.learning import Claim
from issuer.storage.models import Base
from issuer.storage.traces import TraceImport, TraceItem
from tests.conftest import World
from tests.core.activity import archives
from tests.learning_fixtures import make_learner


@pytest.fixture()
def claim(session: Session, ctx: ServiceContext, world: World) -> Claim:
    from issuer.services.claims import find_achievement, start_claim

    learner = make_learner(session, ctx, "helper@guild.test", "Helper")
    achievement = find_achievement(session, world.issuer_slug, world.achievement_slug)
    row = start_claim(session, ctx, learner, achievement, statement="I help.")
    session.commit()
    return row


def _import(session: Session, ctx: ServiceContext, claim: Claim, kind: str, data: bytes,
            handle: str, site: str | None = None) -> TraceImport:
    return traces.import_archive(session, ctx, claim.learner, claim, kind=kind,
                                 handle=handle, stream=io.BytesIO(data), file_name="archive",
                                 site=site)


def _whole(kind: str, data: bytes) -> list[Interaction]:
    if kind == "posts_xml":
        return stackexchange.read_posts_xml(io.BytesIO(data), site=archives.SITE).interactions
    if kind == "topic_json":
        return discourse.read_topic_json(io.BytesIO(data)).interactions
    return mastodon.read_outbox_json(io.BytesIO(data)).interactions


@pytest.mark.parametrize(("kind", "data", "handle", "site"), [
    ("posts_xml", archives.posts_xml(archives.SE_POSTS), "10", archives.SITE),
    ("topic_json", archives.discourse_topic(), "tom", None),
    ("outbox_json", archives.outbox_json(), "alice@social.example", None),
])
def test_the_kept_items_give_the_summary_of_the_whole_archive(
        session: Session, ctx: ServiceContext, claim: Claim, kind: str, data: bytes,
        handle: str, site: str | None) -> None:
    row = _import(session, ctx, claim, kind, data, handle, site)
    session.commit()
    whole = summarise(handle, _whole(kind, data))
    assert traces.summary_of(row).as_json() == whole.as_json()
    # Nothing of other people's posts beyond what the summary needs, and never their words.
    kept = session.scalars(select(TraceItem).where(TraceItem.import_id == row.id)).all()
    assert all(i.own or i.reply_to_person == handle or i.post_id in
               {j.reply_to_post for j in kept if j.own} or i.reply_to_post in
               {j.post_id for j in kept if j.own} for i in kept)
    assert all(i.content_sha256 is None or len(i.content_sha256) == 64 for i in kept)


def test_mail_and_fresh_accounts_are_kept_for_the_rules(
        session: Session, ctx: ServiceContext, claim: Claim, tmp_path: Path) -> None:
    row = _import(session, ctx, claim, "mbox", archives.mbox_file(), "HELPER@example.net")
    assert row.handle == "helper@example.net"
    assert [e["item"] for e in row.errors] == [6]
    summary = traces.summary_of(row)
    assert summary.answers_to_others == 2 and summary.acknowledged == 1
    path = tmp_path / "box"
    path.write_bytes(archives.mbox_file())
    assert summary.as_json() == summarise("helper@example.net",
                                          mbox.read_mbox(path).interactions).as_json()


def test_an_archive_over_the_limit_is_refused(session: Session, ctx: ServiceContext,
                                              claim: Claim) -> None:
    small = replace(ctx, settings=replace(ctx.settings, trace_upload_max_bytes=100))
    with pytest.raises(Invalid, match="larger than 100 bytes"):
        _import(session, small, claim, "api_json", archives.se_api_json(), "10")
    with pytest.raises(Invalid) as refused:
        _import(session, ctx, claim, "nonsense", b"{}", "")
    assert set(refused.value.fields) == {"kind", "handle"}
    with pytest.raises(Invalid) as site:
        _import(session, ctx, claim, "posts_xml", b"<posts/>", "10", site="not a host/")
    assert set(site.value.fields) == {"site"}


def test_the_migration_makes_the_tables_the_rows_describe(session: Session) -> None:
    connection = session.connection()
    differences = [d for d in compare_metadata(MigrationContext.configure(connection),
                                               Base.metadata)
                   if any(name in repr(d) for name in ("trace_imports", "trace_items",
                                                        "trace_captures"))]
    assert differences == []
