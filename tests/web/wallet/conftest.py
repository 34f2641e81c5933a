"""An awarded badge to hand to a wallet, and the wallet."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.storage.models import Credential
from tests.conftest import World
from tests.learning_fixtures import LEARNER_EMAIL
from tests.web.wallet.holder import Holder


@pytest.fixture()
def badge(session: Session, ctx: ServiceContext, world: World) -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    row = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse(LEARNER_EMAIL, "Ada Learner")), actor="test")
    session.commit()
    return row


@pytest.fixture()
def holder() -> Holder:
    return Holder.generate()
