""""Send to my backpack" refusals that need no second server: each is said in plain words
on the form, and nothing is sent."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.ob_api_consumer import SendFailed, discovery_url
from issuer.storage.ob_api import RemoteHost, SendRequest
from tests.conftest import World
from tests.learning_fixtures import LearnerClient
from tests.web.ob_api.badges import award_here
from tests.web.ob_api.conftest import CSRF, LEARNER_EMAIL


def _send(browser: LearnerClient, credential: str, address: str) -> str:
    form = browser.get("/learn/backpack/send")
    token = CSRF.search(form.get_data(as_text=True))
    assert token is not None
    answer = browser.post("/learn/backpack/send", data={
        "csrf_token": token.group(1), "credential": credential, "address": address},
        follow_redirects=True)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_form_lists_the_learners_badges(learner_client: LearnerClient, world: World,
                                            session: Session, ctx: ServiceContext) -> None:
    mine = award_here(session, ctx, LEARNER_EMAIL)
    theirs = award_here(session, ctx, "other@guild.test")
    page = learner_client.get("/learn/backpack/send").get_data(as_text=True)
    assert mine.id in page and theirs.id not in page


def test_refusals_are_said_on_the_form(learner_client: LearnerClient, world: World,
                                       session: Session, ctx: ServiceContext) -> None:
    mine = award_here(session, ctx, LEARNER_EMAIL)
    theirs = award_here(session, ctx, "other@guild.test")
    assert "You have no such badge." in _send(learner_client, theirs.id,
                                              "https://backpack.example")
    assert "Enter a web address" in _send(learner_client, mine.id, "ftp://backpack.example")
    # These tests run offline (ISSUER_VERIFY_OFFLINE): no backpack can be reached.
    assert "cannot reach your backpack" in _send(learner_client, mine.id,
                                                 "https://backpack.example")
    assert session.scalar(select(func.count()).select_from(RemoteHost)) == 0
    assert session.scalar(select(func.count()).select_from(SendRequest)) == 0


def test_a_link_back_that_this_service_did_not_make_is_refused(
        learner_client: LearnerClient) -> None:
    for query in ("", "?state=unknown&code=x", "?state=" + "x" * 300):
        answer = learner_client.get(f"/learn/backpack/send/callback{query}",
                                    follow_redirects=True)
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert "link back from your backpack" in text


@pytest.mark.parametrize(("typed", "url"), [
    ("backpack.example", "https://backpack.example/ims/ob/v3p0/discovery"),
    ("https://backpack.example/", "https://backpack.example/ims/ob/v3p0/discovery"),
    ("https://b.example/ims/ob/v3p0", "https://b.example/ims/ob/v3p0/discovery"),
    ("https://b.example/x/ims/ob/v3p0/discovery", "https://b.example/x/ims/ob/v3p0/discovery"),
])
def test_the_address_a_learner_types_names_a_discovery_document(typed: str, url: str) -> None:
    assert discovery_url(typed) == url


@pytest.mark.parametrize("typed", ["", "ftp://b.example", "https://b.example/?q=1",
                                   "https://user:pw@b.example", "not a url", "x" * 600])
def test_addresses_that_are_not_a_site_are_refused(typed: str) -> None:
    with pytest.raises(SendFailed):
        discovery_url(typed)
