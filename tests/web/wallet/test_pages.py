"""The learner's "Add to wallet" page: signed in, one's own badge only, a QR code and the
links of a fresh exchange."""

from __future__ import annotations

import base64
import html
import io
import re

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from issuer.services.award_mail import award_mail_values
from issuer.services.context import ServiceContext
from issuer.services.profiles import link_badges
from issuer.storage.learning import Learner
from issuer.storage.models import Credential
from tests.learning_fixtures import (
    LearnerClient,
    learner,
    make_learner,
    post_form,
    signed_in_client,
)
from tests.web.wallet.holder import parse_dcc_link, parse_lcw_link

__all__ = ["learner"]  # the fixture, imported for pytest


def _own(session: Session, client: LearnerClient) -> None:
    row = session.get(Learner, client.learner_id)
    assert row is not None
    link_badges(session, row)
    session.commit()


def _href(text: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', text)
    assert found is not None, text
    return html.unescape(found.group(1))


def test_the_page_asks_before_starting(learner: LearnerClient, session: Session,
                                       badge: Credential) -> None:
    _own(session, learner)
    page = learner.get(f"/learn/wallet/{badge.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Add to wallet" in text
    assert "lcw.app" not in text


def test_starting_shows_the_links_and_a_qr_code(learner: LearnerClient, session: Session,
                                                badge: Credential) -> None:
    _own(session, learner)
    url = f"/learn/wallet/{badge.id}"
    page = post_form(learner, url, token_from=url)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    lcw = parse_lcw_link(_href(text, "wallet-open"))
    dcc = parse_dcc_link(_href(text, "wallet-dcc"))
    assert dcc["protocols"]["vcapi"] == lcw.vc_request_url
    qr = re.search(r'id="wallet-qr" src="data:image/png;base64,([^"]+)"', text)
    assert qr is not None
    Image.open(io.BytesIO(base64.b64decode(qr.group(1)))).verify()


def test_another_learners_badge_is_not_found(app: Flask, learner: LearnerClient,
                                             session: Session, ctx: ServiceContext,
                                             badge: Credential) -> None:
    other = make_learner(session, ctx, "someone.else@guild.test")
    session.commit()
    stranger = signed_in_client(app, other)
    assert stranger.get(f"/learn/wallet/{badge.id}").status_code == 404
    assert stranger.get("/learn/wallet/not-a-uuid").status_code == 404


def test_signing_in_comes_first(client: FlaskClient, badge: Credential) -> None:
    response = client.get(f"/learn/wallet/{badge.id}")
    assert response.status_code == 302
    assert f"/learn/wallet/{badge.id}" in response.headers["Location"]


def test_the_badges_page_links_to_it(learner: LearnerClient, session: Session,
                                     badge: Credential) -> None:
    _own(session, learner)
    text = learner.get("/learn/badges").get_data(as_text=True)
    assert f"/learn/wallet/{badge.id}" in text


def test_the_badge_mail_links_to_the_page_which_works_straight_away(
        learner: LearnerClient, session: Session, ctx: ServiceContext,
        badge: Credential) -> None:
    values = award_mail_values(ctx, badge, issuer_name="Guild")
    assert values is not None
    link = f"{ctx.base}/learn/wallet/{badge.id}"
    assert link in values["body"]
    # Not linked to the learner yet: the page brings the badge in itself.
    url = link.removeprefix(ctx.base)
    assert learner.get(url).status_code == 200
    assert post_form(learner, url, token_from=url).status_code == 200
