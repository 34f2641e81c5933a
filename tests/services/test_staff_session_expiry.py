"""Staff sessions end by themselves: after an idle hour, and twelve hours after sign-in,
checked on the server over HTTP (a copied cookie cannot extend them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.services import staff_sessions
from issuer.services.context import ServiceContext
from issuer.storage.jobs import StaffSessionActivity
from issuer.storage.models import StaffSession, User
from tests.conftest import World


def signed_in(client: FlaskClient, session: Session, ctx: ServiceContext,
              world: World) -> StaffSession:
    user = session.scalars(select(User).where(User.email == world.staff_email)).one()
    token = staff_sessions.start(session, ctx, user)
    session.commit()
    with client.session_transaction() as cookie:
        cookie["user_id"] = user.id
        cookie["staff_session"] = token
    assert client.get("/admin/").status_code == 200
    row = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)
                          .order_by(StaffSession.id.desc())).first()
    assert row is not None
    START[row.id] = row.created_at
    return row


def shift(session: Session, row: StaffSession, *, created: timedelta = timedelta(),
          seen: timedelta = timedelta()) -> None:
    """Make the session ``created`` old, last used ``seen`` ago (from its sign-in)."""
    signed_in_at = START[row.id]
    session.execute(update(StaffSession).where(StaffSession.id == row.id)
                    .values(created_at=signed_in_at - created)
                    .execution_options(synchronize_session=False))
    session.execute(update(StaffSessionActivity)
                    .where(StaffSessionActivity.session_id == row.id)
                    .values(last_seen_at=signed_in_at - seen)
                    .execution_options(synchronize_session=False))
    session.commit()


#: When each session of a test was started, by id.
START: dict[int, datetime] = {}


def refused(client: FlaskClient) -> bool:
    answer = client.get("/admin/")
    return answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


def test_an_idle_session_ends(client: FlaskClient, session: Session, ctx: ServiceContext,
                              world: World) -> None:
    row = signed_in(client, session, ctx, world)
    shift(session, row, created=timedelta(minutes=61), seen=timedelta(minutes=61))
    assert refused(client)
    session.expire_all()
    ended = session.get(StaffSession, row.id)
    assert ended is not None and ended.ended_at is not None
    shift(session, row, created=timedelta(minutes=-61), seen=timedelta(minutes=-61))
    assert refused(client)  # ended for good, however the clock looks now


def test_use_keeps_a_session_alive_until_its_absolute_limit(
        client: FlaskClient, session: Session, ctx: ServiceContext, world: World) -> None:
    row = signed_in(client, session, ctx, world)
    shift(session, row, created=timedelta(hours=5), seen=timedelta(minutes=50))
    assert client.get("/admin/").status_code == 200  # used within the hour: still on
    session.expire_all()
    activity = session.get(StaffSessionActivity, row.id)
    assert activity is not None
    assert activity.last_seen_at > START[row.id] - timedelta(minutes=1)  # written now
    shift(session, row, created=timedelta(hours=12), seen=timedelta(minutes=-1))
    assert refused(client)  # busy or not, twelve hours after sign-in it ends
