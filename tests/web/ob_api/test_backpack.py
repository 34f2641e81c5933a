"""The learner's backpack page: badges applications stored through upsertCredential, with
what the verifier said; and the description of every route of the API."""

from __future__ import annotations

import json
import re

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.core.bundled import SCHEMAS_DIR
from issuer.services.context import ServiceContext
from issuer.storage.ob_api import UpsertedCredential
from tests.learning_fixtures import make_learner, signed_in_client
from tests.web.ob_api.badges import Elsewhere
from tests.web.ob_api.conftest import CSRF, LEARNER_EMAIL, PATH, Consumer


def test_stored_badges_show_with_their_verification_and_can_be_removed(
        consumer: Consumer, session: Session) -> None:
    consumer.connect()
    badge = Elsewhere().signed(LEARNER_EMAIL, "https://elsewhere.example/badges/7",
                               name="Careful <Reviewer>")
    assert consumer.api.post(f"{PATH}/credentials", data=json.dumps(badge),
                             content_type="application/json",
                             headers=consumer.bearer()).status_code == 201
    page = consumer.browser.get("/learn/backpack")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Careful &lt;Reviewer&gt;" in text and "Verified when it arrived" in text
    assert "Community of Practice" in text
    row_id = session.scalar(select(UpsertedCredential.id))
    token = CSRF.search(text)
    assert token is not None
    removed = consumer.browser.post("/learn/backpack", data={
        "csrf_token": token.group(1), "badge": str(row_id)})
    assert removed.status_code == 302
    assert session.scalar(select(func.count()).select_from(UpsertedCredential)) == 0
    body = consumer.api.get(f"{PATH}/credentials", headers=consumer.bearer()).get_json()
    assert body["credential"] == []


def test_another_learners_badge_cannot_be_removed(consumer: Consumer, session: Session,
                                                  app: Flask, ctx: ServiceContext) -> None:
    consumer.connect()
    badge = Elsewhere().signed(LEARNER_EMAIL, "https://elsewhere.example/badges/8")
    consumer.api.post(f"{PATH}/credentials", data=json.dumps(badge),
                      content_type="application/json", headers=consumer.bearer())
    row_id = session.scalar(select(UpsertedCredential.id))
    other_row = make_learner(session, ctx, "x@guild.test")
    session.commit()
    other = signed_in_client(app, other_row)
    page = other.get("/learn/backpack")
    token = CSRF.search(page.get_data(as_text=True))
    assert token is not None
    answer = other.post("/learn/backpack", data={"csrf_token": token.group(1),
                                                 "badge": str(row_id)})
    assert answer.status_code == 404
    assert session.scalar(select(func.count()).select_from(UpsertedCredential)) == 1


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/learn/backpack")
    assert answer.status_code == 302 and "/learn/sign-in" in answer.headers["Location"]


def test_every_api_route_is_described(app: Flask) -> None:
    described = yaml.safe_load((SCHEMAS_DIR / "openapi.yaml").read_text(encoding="utf-8"))
    paths = described["paths"]
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        if not path.startswith(PATH) or path == f"{PATH}/terms":
            continue
        assert path in paths, path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], (path, method)
