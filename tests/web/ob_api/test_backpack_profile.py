"""Badges from other organisations in the learner's backpack, on their public profile only
when they choose so; and the ways to the backpack from the learner's pages."""

from __future__ import annotations

import json

import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.bundled import SCHEMAS_DIR
from issuer.services.context import ServiceContext
from issuer.storage.learning import Learner, LearnerBadge
from issuer.storage.ob_api import UpsertedCredential
from tests.conftest import World
from tests.learning_fixtures import LearnerClient, make_learner, signed_in_client
from tests.web.ob_api.badges import Elsewhere, award_here
from tests.web.ob_api.conftest import CSRF, LEARNER_EMAIL, PATH, Consumer


def _store(consumer: Consumer, name: str = "Careful <Reviewer>") -> None:
    consumer.connect()
    badge = Elsewhere().signed(LEARNER_EMAIL, "https://elsewhere.example/badges/7", name=name)
    answer = consumer.api.post(f"{PATH}/credentials", data=json.dumps(badge),
                               content_type="application/json", headers=consumer.bearer())
    assert answer.status_code == 201, answer.get_data(as_text=True)


def _choose(browser: LearnerClient, row_id: int, action: str) -> int:
    page = browser.get("/learn/backpack")
    token = CSRF.search(page.get_data(as_text=True))
    assert token is not None
    return browser.post("/learn/backpack", data={
        "csrf_token": token.group(1), "badge": str(row_id), "action": action}).status_code


def _handle(session: Session) -> str:
    learner = session.scalar(select(Learner).where(Learner.email == LEARNER_EMAIL))
    assert learner is not None
    return learner.profile_handle


def test_a_stored_badge_is_private_until_the_learner_shows_it(
        consumer: Consumer, session: Session) -> None:
    _store(consumer)
    handle = _handle(session)
    visitor = consumer.api
    assert visitor.get(f"/people/{handle}").status_code == 404
    page = consumer.browser.get("/learn/backpack").get_data(as_text=True)
    assert "Private: only you see it here." in page and "Show on my profile" in page

    row_id = session.scalar(select(UpsertedCredential.id))
    assert row_id is not None
    assert _choose(consumer.browser, row_id, "show") == 303
    shown = visitor.get(f"/people/{handle}")
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Badges from other organisations" in text
    assert "Careful &lt;Reviewer&gt;" in text and "<Reviewer>" not in text
    assert "Issued by Community of Practice (another organisation)" in text
    assert "Verified when it was stored here" in text
    assert LEARNER_EMAIL not in text
    assert shown.headers["Cache-Control"] == "no-cache"

    machine = visitor.get(f"/people/{handle}", headers={"Accept": "application/json"})
    body = machine.get_json()
    schema = yaml.safe_load((SCHEMAS_DIR / "openapi.yaml").read_text(encoding="utf-8"))
    Draft202012Validator(schema["components"]["schemas"]["PublicProfile"],
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
    assert body["badges"] == []
    assert [(o["achievement"], o["issuer"], o["issuedHere"]) for o in body["otherIssuers"]] \
        == [("Careful <Reviewer>", "Community of Practice", False)]

    assert _choose(consumer.browser, row_id, "hide") == 303
    assert visitor.get(f"/people/{handle}").status_code == 404
    assert visitor.get(f"/people/{handle}", headers={"Accept": "application/json"}
                       ).status_code == 404


def test_replacing_a_shown_badge_keeps_the_learners_choice(
        consumer: Consumer, session: Session) -> None:
    consumer.connect()
    issuer = Elsewhere()

    def post(name: str, credential_id: str = "https://elsewhere.example/badges/7") -> int:
        badge = issuer.signed(LEARNER_EMAIL, credential_id, name=name)
        return consumer.api.post(f"{PATH}/credentials", data=json.dumps(badge),
                                 content_type="application/json",
                                 headers=consumer.bearer()).status_code

    assert post("First edition") == 201
    row_id = session.scalar(select(UpsertedCredential.id))
    assert row_id is not None
    assert _choose(consumer.browser, row_id, "show") == 303
    assert post("Second edition") == 200  # OB 3.0 §10: same issuer and id, so replaced
    assert post("Another badge", "https://elsewhere.example/badges/8") == 201
    session.expire_all()
    rows = list(session.scalars(select(UpsertedCredential).order_by(UpsertedCredential.id)))
    assert [(r.achievement_name, r.shown) for r in rows] == [
        ("Second edition", True), ("Another badge", False)]


def test_own_badges_and_stored_ones_show_together(
        consumer: Consumer, world: World, session: Session, ctx: ServiceContext) -> None:
    award_here(session, ctx, LEARNER_EMAIL)
    _store(consumer, name="Outside Badge")
    badges = consumer.browser.get("/learn/badges")
    text = badges.get_data(as_text=True)
    token = CSRF.search(text)
    assert token is not None
    stored_id = session.scalar(select(UpsertedCredential.id))
    assert stored_id is not None
    badge_id = session.scalar(select(LearnerBadge.id))
    consumer.browser.post("/learn/badges", data={"csrf_token": token.group(1),
                                                 "badge": str(badge_id), "action": "show"})
    handle = _handle(session)
    only_own = consumer.api.get(f"/people/{handle}").get_data(as_text=True)
    assert "Peer Scaffolder" in only_own and "Outside Badge" not in only_own
    assert "Badges from other organisations" not in only_own
    assert _choose(consumer.browser, stored_id, "show") == 303
    both = consumer.api.get(f"/people/{handle}").get_data(as_text=True)
    assert "Peer Scaffolder" in both and "Outside Badge" in both


def test_another_learner_cannot_show_someone_elses_badge(
        consumer: Consumer, session: Session, app: Flask, ctx: ServiceContext) -> None:
    _store(consumer)
    row_id = session.scalar(select(UpsertedCredential.id))
    assert row_id is not None
    other_row = make_learner(session, ctx, "x@guild.test")
    session.commit()
    other = signed_in_client(app, other_row)
    assert _choose(other, row_id, "show") == 404
    session.expire_all()
    assert session.scalar(select(UpsertedCredential.shown)) is False


def test_a_bad_action_changes_nothing(consumer: Consumer, session: Session) -> None:
    _store(consumer)
    row_id = session.scalar(select(UpsertedCredential.id))
    assert row_id is not None
    assert _choose(consumer.browser, row_id, "publish") == 302
    session.expire_all()
    row = session.scalar(select(UpsertedCredential))
    assert row is not None and row.shown is False


def test_learner_pages_lead_to_the_backpack(consumer: Consumer, world: World,
                                            session: Session, ctx: ServiceContext) -> None:
    credential = award_here(session, ctx, LEARNER_EMAIL)
    text = consumer.browser.get("/learn/badges").get_data(as_text=True)
    assert 'href="/learn/backpack"' in text
    assert f'href="/learn/backpack/send?credential={credential.id}"' in text
    send = consumer.browser.get(f"/learn/backpack/send?credential={credential.id}")
    assert send.status_code == 200
    assert f'value="{credential.id}" selected' in send.get_data(as_text=True)
