"""An awarded badge to offer, and a wallet talking to the app through the test client."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.storage.models import Credential
from tests import learning_fixtures
from tests.conftest import BASE_URL, World
from tests.learning_fixtures import LEARNER_EMAIL
from tests.web.oid4vci.wallet import FlaskTransport, Wallet


@pytest.fixture()
def badge(session: Session, ctx: ServiceContext, world: World) -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    row = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse(LEARNER_EMAIL, "Ada Learner")), actor="test")
    session.commit()
    return row


learner = learning_fixtures.learner
peers = learning_fixtures.peers


@pytest.fixture()
def wallet(client: FlaskClient) -> Wallet:
    return Wallet(FlaskTransport(client, BASE_URL))
