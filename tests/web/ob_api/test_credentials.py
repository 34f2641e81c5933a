"""getCredentials, upsertCredential and the profile operations of the Open Badges 3.0 API
(OB 3.0 §6.2, §6.4 paging, §10 credential equality), each answer checked against the
1EdTech OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.revocation import revoke
from issuer.storage.ob_api import UpsertedCredential
from tests.conftest import World
from tests.web.ob_api.badges import Elsewhere, award_here
from tests.web.ob_api.conftest import API, LEARNER_EMAIL, PATH, Consumer
from tests.web.ob_api.openapi import check

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def _links(header: str | None) -> dict[str, str]:
    return {rel: url.removeprefix(API) for url, rel in LINK.findall(header or "")}


def _get(consumer: Consumer, query: str = "") -> tuple[Any, dict[str, str], int]:
    response = consumer.api.get(f"{PATH}/credentials{query}", headers=consumer.bearer())
    body = check(response, "get", "/credentials")
    assert response.status_code == 200
    return body, _links(response.headers.get("Link")), int(response.headers["X-Total-Count"])


def _upsert(consumer: Consumer, credential: dict[str, Any] | str, **kwargs: Any) -> Any:
    if isinstance(credential, str):
        response = consumer.api.post(f"{PATH}/credentials", data=credential,
                                     content_type="text/plain", headers=consumer.bearer())
    else:
        response = consumer.api.post(f"{PATH}/credentials", data=json.dumps(credential),
                                     content_type="application/json",
                                     headers=consumer.bearer(), **kwargs)
    check(response, "post", "/credentials")
    return response


def test_no_credentials_is_one_empty_page(consumer: Consumer) -> None:
    consumer.connect()
    body, links, total = _get(consumer, "?limit=2")
    assert body == {"credential": [], "compactJwsString": []} and total == 0
    assert links == {"first": "/credentials?limit=2&offset=0",
                     "last": "/credentials?limit=2&offset=0"}


def test_paging_over_one_and_three_pages(consumer: Consumer, world: World, session: Session,
                                         ctx: ServiceContext) -> None:
    ids = [award_here(session, ctx, LEARNER_EMAIL).id for _ in range(5)]
    award_here(session, ctx, "someone.else@guild.test")
    consumer.connect()
    body, links, total = _get(consumer)
    assert total == 5 and len(body["credential"]) == 5 and "Link" not in links
    assert {c["id"].rsplit("/", 1)[-1] for c in body["credential"]} == set(ids)

    body, links, total = _get(consumer, "?limit=10")
    assert total == 5 and len(body["credential"]) == 5
    assert links == {"first": "/credentials?limit=10&offset=0",
                     "last": "/credentials?limit=10&offset=0"}

    seen: list[str] = []
    body, links, _ = _get(consumer, "?limit=2")
    assert links == {"next": "/credentials?limit=2&offset=2",
                     "first": "/credentials?limit=2&offset=0",
                     "last": "/credentials?limit=2&offset=4"}
    seen += [c["id"] for c in body["credential"]]
    body, links, _ = _get(consumer, "?" + links["next"].split("?", 1)[1])
    assert links == {"next": "/credentials?limit=2&offset=4",
                     "first": "/credentials?limit=2&offset=0",
                     "last": "/credentials?limit=2&offset=4",
                     "prev": "/credentials?limit=2&offset=0"}
    seen += [c["id"] for c in body["credential"]]
    body, links, _ = _get(consumer, "?" + links["next"].split("?", 1)[1])
    assert links == {"first": "/credentials?limit=2&offset=0",
                     "last": "/credentials?limit=2&offset=4",
                     "prev": "/credentials?limit=2&offset=2"}
    seen += [c["id"] for c in body["credential"]]
    assert len(seen) == len(set(seen)) == 5


def test_since_and_bad_query_parameters(consumer: Consumer, world: World, session: Session,
                                        ctx: ServiceContext) -> None:
    award_here(session, ctx, LEARNER_EMAIL)
    consumer.connect()
    assert _get(consumer, "?since=2000-01-01T00:00:00Z")[2] == 1
    assert _get(consumer, "?since=2999-01-01T00:00:00Z")[2] == 0
    for query in ("?limit=0", "?limit=-1", "?limit=x", "?offset=-1", "?since=yesterday",
                  "?limit=99999999999"):
        response = consumer.api.get(f"{PATH}/credentials{query}", headers=consumer.bearer())
        assert response.status_code == 400, query
        body = check(response, "get", "/credentials")
        assert body["imsx_codeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "invalid_query_parameter"


def test_revoked_badges_are_not_listed(consumer: Consumer, world: World, session: Session,
                                       ctx: ServiceContext) -> None:
    kept, gone = award_here(session, ctx, LEARNER_EMAIL), award_here(session, ctx, LEARNER_EMAIL)
    revoke(session, ctx, get_issuer(session, "guild"), gone.id, reason="error", actor="staff")
    session.commit()
    consumer.connect()
    body, _, total = _get(consumer)
    assert total == 1 and body["credential"][0]["id"].endswith(kept.id)


def test_upsert_creates_then_replaces_and_reads_back_equal(consumer: Consumer,
                                                           session: Session) -> None:
    consumer.connect()
    elsewhere = Elsewhere()
    first = elsewhere.signed(LEARNER_EMAIL, "https://elsewhere.example/badges/1")
    created = _upsert(consumer, first)
    assert created.status_code == 201 and created.get_json() == first
    again = elsewhere.signed(LEARNER_EMAIL, "https://elsewhere.example/badges/%31",
                             valid_from="2026-02-01T00:00:00Z", name="Peer Scaffolder II")
    replaced = _upsert(consumer, again)
    assert replaced.status_code == 200 and replaced.get_json() == again
    body, _, total = _get(consumer)
    assert total == 1 and body["credential"] == [again]
    row = session.scalar(select(UpsertedCredential))
    assert row is not None and row.verified and row.replaced_count == 1
    assert row.achievement_name == "Peer Scaffolder II"


def test_upsert_of_a_vc_jwt_is_listed_as_a_compact_jws(consumer: Consumer) -> None:
    consumer.connect()
    token = Elsewhere().jwt(LEARNER_EMAIL, "urn:uuid:0b6c2a8e-5f39-4d8e-9a51-7b6a4f0c1d22")
    created = _upsert(consumer, token)
    assert created.status_code == 201 and created.get_data(as_text=True) == token
    assert _upsert(consumer, token).status_code == 200
    body, _, total = _get(consumer)
    assert total == 1 and body["compactJwsString"] == [token] and body["credential"] == []


def test_a_badge_awarded_here_is_not_stored_twice(consumer: Consumer, world: World,
                                                  session: Session,
                                                  ctx: ServiceContext) -> None:
    row = award_here(session, ctx, LEARNER_EMAIL)
    consumer.connect()
    response = _upsert(consumer, json.loads(row.document))
    assert response.status_code == 200
    assert _get(consumer)[2] == 1
    assert session.scalar(select(func.count()).select_from(UpsertedCredential)) == 0


def test_upsert_refusals(consumer: Consumer, session: Session) -> None:
    consumer.connect()
    elsewhere = Elsewhere()
    tampered = elsewhere.signed(LEARNER_EMAIL, "https://elsewhere.example/badges/2")
    tampered["name"] = "Grand Master"
    theirs = elsewhere.signed("someone.else@guild.test", "https://elsewhere.example/badges/3")
    cases: list[tuple[Any, str, int]] = [
        (json.dumps(tampered), "application/json", 400),
        (json.dumps(theirs), "application/json", 403),
        ("{not json", "application/json", 400),
        ("[]", "application/json", 400),
        ("not a jws", "text/plain", 400),
        ("a.b.c", "text/plain", 400),
        ("<x/>", "application/xml", 415),
    ]
    for data, content_type, status in cases:
        response = consumer.api.post(f"{PATH}/credentials", data=data,
                                     content_type=content_type, headers=consumer.bearer())
        assert response.status_code == status, (data[:40], response.get_data(as_text=True))
        body = check(response, "post", "/credentials")
        assert body["imsx_codeMajor"] == "failure"
    assert session.scalar(select(func.count()).select_from(UpsertedCredential)) == 0


def test_profile_get_and_put(consumer: Consumer) -> None:
    consumer.connect()
    profile = check(consumer.api.get(f"{PATH}/profile", headers=consumer.bearer()),
                    "get", "/profile")
    assert profile["name"] == "Ada Learner" and profile["type"] == ["Profile"]
    changed = {**profile, "name": "Ada Lovelace", "description": "Mathematician",
               "email": "other@example.org", "id": "https://evil.example/me"}
    response = consumer.api.put(f"{PATH}/profile", json=changed, headers=consumer.bearer())
    updated = check(response, "put", "/profile")
    assert response.status_code == 200
    assert updated["name"] == "Ada Lovelace" and updated["description"] == "Mathematician"
    assert updated["email"] == LEARNER_EMAIL and updated["id"] == profile["id"]
    assert consumer.api.get(f"{PATH}/profile", headers=consumer.bearer()).get_json() == updated


@pytest.mark.parametrize(("data", "content_type", "status"), [
    ('{"name": 5}', "application/json", 400),
    ("[]", "application/json", 400),
    ("{", "application/json", 400),
    ("name=x", "application/x-www-form-urlencoded", 415),
])
def test_profile_put_refusals(consumer: Consumer, data: str, content_type: str,
                              status: int) -> None:
    consumer.connect()
    response = consumer.api.put(f"{PATH}/profile", data=data, content_type=content_type,
                                headers=consumer.bearer())
    assert response.status_code == status
    check(response, "put", "/profile")


def test_routing_errors_are_status_infos_too(consumer: Consumer) -> None:
    response = consumer.api.delete(f"{PATH}/credentials")
    assert response.status_code == 405
    body = check(response, "get", "/credentials")
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"] == "not_allowed"
