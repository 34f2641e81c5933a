"""Shared fixtures of the informal-learning tests: signed-in learners and an open achievement.

Import the fixtures into a test module with
``from tests.learning_fixtures import learner, open_achievement, peers  # noqa: F401``.

Signing in starts a session on the server and puts it into the client's cookie directly: the
sign-in flow itself is tested by its own tests, and the other features only need somebody
signed in.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.services import learner_sessions
from issuer.services.context import ServiceContext
from issuer.storage.learning import AchievementPolicy, Learner
from issuer.storage.models import Achievement, Issuer
from issuer.web.context import runtime
from issuer.web.learner.session import SESSION_KEY as LEARNER_SESSION_KEY
from tests.conftest import World

LEARNER_EMAIL = "learner@guild.test"
LEARNER_NAME = "Ada Learner"
#: The second peer has no display name yet, so opting in to be named asks for one.
PEERS = (("peer.one@guild.test", "Grace Peer"), ("peer.two@guild.test", None))


class LearnerClient(FlaskClient):
    """A test client signed in as one learner; ``learner_id``, ``email``, ``handle`` name them."""

    learner_id: int
    email: str
    handle: str
    display_name: str | None


@dataclass(frozen=True)
class OpenAchievement:
    """The world's guild/peer-scaffolder with a policy: two attestations, then a reviewer."""

    issuer_id: int
    issuer_slug: str
    achievement_id: int
    achievement_slug: str
    name: str


def make_learner(session: Session, ctx: ServiceContext, email: str,
                 display_name: str | None = None) -> Learner:
    row = Learner(email=email, display_name=display_name,
                  profile_handle=secrets.token_urlsafe(16)[:22],
                  pairwise_secret=secrets.token_hex(32), created_at=ctx.now())
    session.add(row)
    session.flush()
    return row


def sign_in_cookie(app: Flask, client: FlaskClient, learner_id: int) -> None:
    """Sign ``client`` in as the learner, as the mailed link would."""
    rt = runtime(app)
    with rt.sessions() as session:
        token = learner_sessions.start(session, rt.services, session.get_one(Learner, learner_id))
        session.commit()
    with client.session_transaction() as flask_session:
        flask_session["learner_id"] = learner_id
        flask_session[LEARNER_SESSION_KEY] = token


def signed_in_client(app: Flask, row: Learner) -> LearnerClient:
    client = LearnerClient(app, app.response_class, use_cookies=True)
    sign_in_cookie(app, client, row.id)
    client.learner_id = row.id
    client.email = row.email
    client.handle = row.profile_handle
    client.display_name = row.display_name
    return client


@pytest.fixture()
def learner(app: Flask, session: Session, ctx: ServiceContext) -> LearnerClient:
    """A test client signed in as learner@guild.test (display name "Ada Learner")."""
    row = make_learner(session, ctx, LEARNER_EMAIL, LEARNER_NAME)
    session.commit()
    return signed_in_client(app, row)


@pytest.fixture()
def peers(app: Flask, session: Session, ctx: ServiceContext) -> tuple[LearnerClient, ...]:
    """Two more signed-in learners; the second has no display name yet."""
    rows = [make_learner(session, ctx, email, name) for email, name in PEERS]
    session.commit()
    return tuple(signed_in_client(app, row) for row in rows)


@pytest.fixture()
def open_achievement(session: Session, world: World) -> OpenAchievement:
    """guild/peer-scaffolder open to claims: two peer attestations, then a reviewer decides."""
    achievement = session.scalar(
        select(Achievement).join(Issuer, Issuer.id == Achievement.issuer_id)
        .where(Issuer.slug == world.issuer_slug, Achievement.slug == world.achievement_slug))
    assert achievement is not None
    session.add(AchievementPolicy(achievement_id=achievement.id, attestations_required=2,
                                  review_required=True, attestation_kind="helped-me-learn",
                                  cpd_category="Mentoring", open_to_claims=True))
    session.commit()
    return OpenAchievement(achievement.issuer_id, world.issuer_slug, achievement.id,
                           achievement.slug, achievement.name)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: FlaskClient, url: str = "/learn/") -> str:
    """A CSRF token from a page of the signed-in client (every learner page has a form)."""
    response = client.get(url)
    found = CSRF.search(response.get_data(as_text=True))
    assert found, f"{url} has no form with a csrf_token (status {response.status_code})"
    return found.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, *,
              token_from: str = "/learn/", **kwargs: Any) -> TestResponse:
    """POST a form as a browser would, with the CSRF token of ``token_from``."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_of(client, token_from)},
                       **kwargs)
