"""The JSON API under /api/v1 over real HTTP (Flask test client) on a real database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.app import runtime
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, issuer_did
from issuer.services.tokens import list_tokens, revoke_token
from issuer.services.verification import verify
from issuer.storage.learning import MailMessage
from issuer.storage.models import ApiToken, Credential
from tests.conftest import BASE_URL, World

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(client: FlaskClient, path: str, token: str, body: Any) -> Any:
    return client.post(path, json=body, headers=auth(token))


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer obi_not-a-real-token", "Basic dXNlcjpwdw==",
                                    "Bearer", "obi_token-without-scheme"])
def test_a_missing_or_bad_token_is_401_with_www_authenticate(
        client: FlaskClient, world: World, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/issuer", headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(client: FlaskClient, world: World, session: Session,
                                    ctx: ServiceContext) -> None:
    assert client.get("/api/v1/issuer", headers=auth(world.token)).status_code == 200
    issuer = get_issuer(session, world.issuer_slug)
    for token in list_tokens(session, issuer):
        revoke_token(session, ctx, issuer, token.id)
    session.commit()
    response = client.get("/api/v1/issuer", headers=auth(world.token))
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_use_is_recorded_only_when_the_request_succeeds(
        client: FlaskClient, world: World, session: Session) -> None:
    def last_used() -> Any:
        session.expire_all()
        issuer = get_issuer(session, world.issuer_slug)
        return session.scalar(select(ApiToken.last_used_at)
                              .where(ApiToken.issuer_id == issuer.id))

    assert last_used() is None
    failed = post(client, "/api/v1/awards", world.token, {"achievement": "nope",
                                                          "recipient": {"did": "did:example:1"}})
    assert failed.status_code == 404
    assert last_used() is None
    assert client.get("/api/v1/issuer", headers=auth(world.token)).status_code == 200
    assert last_used() is not None


def test_token_use_is_recorded_to_the_minute_not_on_every_request(
        app: Flask, client: FlaskClient, world: World, session: Session) -> None:
    # One row written per request would make every request with the token queue on it.
    moment = [datetime(2026, 5, 4, 9, 0, tzinfo=UTC)]
    rt = runtime(app)
    rt.services = replace(rt.services, clock=lambda: moment[0])

    def last_used() -> Any:
        session.expire_all()
        issuer = get_issuer(session, world.issuer_slug)
        return session.scalar(select(ApiToken.last_used_at)
                              .where(ApiToken.issuer_id == issuer.id))

    def use() -> None:
        assert client.get("/api/v1/issuer", headers=auth(world.token)).status_code == 200

    use()
    assert last_used() == moment[0]
    first = moment[0]
    moment[0] = first + timedelta(seconds=59)
    use()
    assert last_used() == first
    moment[0] = first + timedelta(minutes=1)
    use()
    assert last_used() == first + timedelta(minutes=1)


def test_the_issuer_is_the_tokens_own(client: FlaskClient, world: World,
                                      ctx: ServiceContext) -> None:
    body = client.get("/api/v1/issuer", headers=auth(world.token)).get_json()
    assert body["slug"] == world.issuer_slug
    assert body["did"] == issuer_did(ctx, world.issuer_slug)
    assert body["profileUrl"] == f"{BASE_URL}/issuers/{world.issuer_slug}"
    other = client.get("/api/v1/issuer", headers=auth(world.other_token)).get_json()
    assert other["slug"] == world.other_slug


# --- achievements --------------------------------------------------------------------------


NEW_ACHIEVEMENT = {
    "name": "Community Moderator",
    "description": "Kept discussions kind and on topic for a season.",
    "criteria": {"narrative": "Moderated the forum for three months."},
    "achievementType": "Competency",
    "creditsAvailable": 2,
    "tags": ["moderation"],
    "alignments": [{"targetName": "Facilitation", "targetUrl": "https://example.org/fac"}],
}


def test_achievements_can_be_created_listed_read_and_patched(client: FlaskClient,
                                                             world: World) -> None:
    created = post(client, "/api/v1/achievements", world.token, NEW_ACHIEVEMENT)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["slug"] == "community-moderator"
    assert created.headers["Location"] == f"{BASE_URL}/api/v1/achievements/community-moderator"
    assert body["id"] == f"{BASE_URL}/issuers/guild/achievements/community-moderator"
    assert body["criteria"] == {"narrative": "Moderated the forum for three months."}
    assert body["version"] == 1

    listed = client.get("/api/v1/achievements", headers=auth(world.token)).get_json()
    assert {a["slug"] for a in listed["achievements"]} == {"community-moderator",
                                                          "peer-scaffolder"}
    patched = client.patch("/api/v1/achievements/community-moderator",
                           json={"name": "Moderator", "tags": None,
                                 "criteria": {"id": "https://example.org/criteria"}},
                           headers=auth(world.token))
    assert patched.status_code == 200, patched.get_json()
    after = client.get("/api/v1/achievements/community-moderator",
                       headers=auth(world.token)).get_json()
    assert after["name"] == "Moderator"
    assert "tags" not in after or after["tags"] == []
    assert after["criteria"] == {"id": "https://example.org/criteria",
                                 "narrative": "Moderated the forum for three months."}
    assert after["version"] == 2
    assert after["description"] == NEW_ACHIEVEMENT["description"]


def test_a_second_achievement_with_the_same_short_name_is_409(client: FlaskClient,
                                                              world: World) -> None:
    body = {**NEW_ACHIEVEMENT, "slug": "peer-scaffolder"}
    assert_problem(post(client, "/api/v1/achievements", world.token, body), 409)


def test_achievement_schema_and_rule_violations_are_422(client: FlaskClient,
                                                        world: World) -> None:
    missing = assert_problem(post(client, "/api/v1/achievements", world.token,
                                  {"name": "No description"}), 422)
    assert any("description" in e for e in missing["errors"])
    assert any("criteria" in e for e in missing["errors"])
    unknown = assert_problem(post(client, "/api/v1/achievements", world.token,
                                  {**NEW_ACHIEVEMENT, "colour": "red"}), 422)
    assert any("colour" in e for e in unknown["errors"])
    bad_type = assert_problem(post(client, "/api/v1/achievements", world.token,
                                   {**NEW_ACHIEVEMENT, "achievementType": "Trophy"}), 422)
    assert "Trophy" in bad_type["detail"]
    slug_change = client.patch("/api/v1/achievements/peer-scaffolder", json={"slug": "x"},
                               headers=auth(world.token))
    assert_problem(slug_change, 422)


def test_another_issuers_achievement_is_not_found(client: FlaskClient, world: World,
                                                  session: Session, ctx: ServiceContext) -> None:
    from issuer.services.achievements import create_achievement

    other = get_issuer(session, world.other_slug)
    create_achievement(session, ctx, other, {
        "name": "Only Other", "slug": "only-other", "description": "x",
        "criteria_narrative": "y"})
    session.commit()
    assert client.get("/api/v1/achievements/only-other",
                      headers=auth(world.other_token)).status_code == 200
    assert_problem(client.get("/api/v1/achievements/only-other", headers=auth(world.token)),
                   404)
    assert_problem(client.patch("/api/v1/achievements/only-other", json={"name": "Mine"},
                                headers=auth(world.token)), 404)
    assert_problem(client.put("/api/v1/achievements/only-other/image", data=PNG,
                              content_type="image/png", headers=auth(world.token)), 404)


def test_an_image_can_be_uploaded_as_the_raw_body(client: FlaskClient, world: World) -> None:
    response = client.put("/api/v1/achievements/peer-scaffolder/image", data=PNG,
                          content_type="image/png", headers=auth(world.token))
    assert response.status_code == 200, response.get_json()
    image = response.get_json()["image"]
    assert image["id"].startswith(f"{BASE_URL}/images/")
    awarded = post(client, "/api/v1/awards", world.token, {
        "achievement": "peer-scaffolder", "recipient": {"did": "did:example:img"}})
    assert awarded.get_json()["credential"]["credentialSubject"]["achievement"]["image"][
        "id"] == image["id"]


def test_an_image_of_the_wrong_type_is_refused(client: FlaskClient, world: World) -> None:
    assert_problem(client.put("/api/v1/achievements/peer-scaffolder/image", data=b"GIF89a",
                              content_type="image/gif", headers=auth(world.token)), 415)
    assert_problem(client.put("/api/v1/achievements/peer-scaffolder/image",
                              data=b"not a png", content_type="image/png",
                              headers=auth(world.token)), 422)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert_problem(client.put("/api/v1/achievements/peer-scaffolder/image", data=svg,
                              content_type="image/svg+xml", headers=auth(world.token)), 422)


# --- awards --------------------------------------------------------------------------------


def test_award_one_returns_the_signed_credential_that_verifies(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    response = post(client, "/api/v1/awards", world.token, {
        "achievement": "peer-scaffolder",
        "recipient": {"email": "Ada@Example.org", "name": "Ada Lovelace"},
        "evidence": [{"url": "https://forum.example/t/1", "name": "Answer",
                      "narrative": "Explained retrieval practice."}],
        "narrative": "Mentored three newcomers.",
        "validUntil": "2099-12-31",
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["url"] == f"{BASE_URL}/credentials/{body['id']}"
    assert response.headers["Location"] == body["url"]
    credential = body["credential"]
    assert credential["id"] == body["url"]
    assert credential["issuer"]["id"] == issuer_did(ctx, world.issuer_slug)
    assert credential["validUntil"] == "2099-12-31T23:59:59Z"
    assert credential["evidence"][0]["id"] == "https://forum.example/t/1"
    assert credential["evidence"][0]["narrative"] == "Explained retrieval practice."
    assert credential["credentialSubject"]["narrative"] == "Mentored three newcomers."
    assert "ada@example.org" not in json.dumps(credential)
    row = session.get(Credential, body["id"])
    assert row is not None and json.loads(row.document) == credential
    assert row.recipient_email == "ada@example.org"
    assert verify(session, ctx, row.document).valid


def test_an_award_reads_two_rows_and_writes_two(
        client: FlaskClient, world: World, app: Flask, session: Session) -> None:
    """The token (with its issuer and keys) and the achievement are read, the credential and
    mail written: one statement each, the writes by one flush. The mail names its
    credential, so the credential must be written first (a foreign key). The status index
    comes from the block of indexes this worker took for an earlier award
    (services.status_lists.IndexBlocks): no statement; taking that block cost two."""
    body = {"achievement": "peer-scaffolder", "recipient": {"email": "first@example.org"}}
    assert post(client, "/api/v1/awards", world.token, body).status_code == 201  # opens lists
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        table = words[words.index("FROM") + 1] if words[0] == "SELECT" else words[2]
        statements.append(f"{words[0]} {table}")

    def award(email: str) -> TestResponse:
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            body = {"achievement": "peer-scaffolder", "recipient": {"email": email}}
            response = post(client, "/api/v1/awards", world.token, body)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert response.status_code == 201, response.get_json()
        return response

    engine = runtime(app).engine
    award("block@example.org")
    assert statements == ["SELECT api_tokens", "SELECT achievements",
                          "SELECT status_lists", "INSERT status_allocations",
                          "INSERT credentials", "INSERT mail_messages"]
    response = award("ada@example.org")
    assert statements == ["SELECT api_tokens", "SELECT achievements",
                          "INSERT credentials", "INSERT mail_messages"]
    session.expire_all()
    mail = session.scalars(select(MailMessage).where(
        MailMessage.credential_id == response.get_json()["id"])).one()
    assert mail.to_address == "ada@example.org"


def test_award_by_achievement_url(client: FlaskClient, world: World) -> None:
    url = f"{BASE_URL}/issuers/guild/achievements/peer-scaffolder"
    response = post(client, "/api/v1/awards", world.token,
                    {"achievement": url, "recipient": {"did": "did:example:123"}})
    assert response.status_code == 201
    other_url = f"{BASE_URL}/issuers/other/achievements/peer-scaffolder"
    assert_problem(post(client, "/api/v1/awards", world.token,
                        {"achievement": other_url, "recipient": {"did": "did:example:123"}}),
                   404)


@pytest.mark.parametrize("body, status", [
    ({"recipient": {"email": "a@example.org"}}, 422),
    ({"achievement": "peer-scaffolder", "recipient": {}}, 422),
    ({"achievement": "peer-scaffolder",
      "recipient": {"email": "a@example.org", "did": "did:example:1"}}, 422),
    ({"achievement": "peer-scaffolder", "recipient": {"email": "a@example"}}, 422),
    ({"achievement": "peer-scaffolder", "recipient": {"email": "a@example.org"},
      "validUntil": "2001-01-01T00:00:00Z"}, 422),
    ({"achievement": "peer-scaffolder", "recipient": {"email": "a@example.org"},
      "validUntil": "tomorrow"}, 422),
    ({"achievement": "peer-scaffolder", "recipient": {"email": "a@example.org"},
      "evidence": [{}]}, 422),
    ({"achievement": "peer-scaffolder", "recipient": {"email": "a@example.org"},
      "evidence": [{"url": "javascript:alert(1)"}]}, 422),
    ({"achievement": "no-such-badge", "recipient": {"email": "a@example.org"}}, 404),
    (["not", "an", "object"], 422),
])
def test_a_failed_award_writes_nothing(client: FlaskClient, world: World, session: Session,
                                       body: Any, status: int) -> None:
    before = count(session)
    assert_problem(post(client, "/api/v1/awards", world.token, body), status)
    assert count(session) == before


def test_request_hygiene_415_400_413(client: FlaskClient, world: World, app: Flask,
                                     session: Session) -> None:
    good = json.dumps({"achievement": "peer-scaffolder", "recipient": {"did": "did:ex:1"}})
    form = client.post("/api/v1/awards", data={"achievement": "peer-scaffolder"},
                       headers=auth(world.token))
    assert_problem(form, 415)
    text = client.post("/api/v1/awards", data=good, content_type="text/plain",
                       headers=auth(world.token))
    assert_problem(text, 415)
    broken = client.post("/api/v1/awards", data=good[:-3], content_type="application/json",
                         headers=auth(world.token))
    assert "not valid JSON" in assert_problem(broken, 400)["detail"]
    twice = client.post("/api/v1/awards", data='{"achievement":"a","achievement":"b"}',
                        content_type="application/json", headers=auth(world.token))
    assert_problem(twice, 400)
    limit = app.config["MAX_CONTENT_LENGTH"]
    huge = json.dumps({"achievement": "peer-scaffolder", "recipient": {"did": "did:ex:1"},
                       "narrative": "x" * limit})
    too_big = client.post("/api/v1/awards", data=huge, content_type="application/json",
                          headers=auth(world.token))
    assert_problem(too_big, 413)
    assert count(session) == 0


# --- credentials ---------------------------------------------------------------------------


def _award_many(client: FlaskClient, token: str, n: int, prefix: str = "did:example:") -> \
        list[str]:
    ids = []
    for i in range(n):
        response = post(client, "/api/v1/awards", token, {
            "achievement": "peer-scaffolder", "recipient": {"did": f"{prefix}{i}"}})
        assert response.status_code == 201
        ids.append(response.get_json()["id"])
    return ids


def test_credentials_are_paged_with_total_and_links(client: FlaskClient, world: World) -> None:
    ids = _award_many(client, world.token, 5)
    _award_many(client, world.other_token, 2)
    first = client.get("/api/v1/credentials?limit=2", headers=auth(world.token))
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "5"
    body = first.get_json()
    assert body["total"] == 5 and len(body["credentials"]) == 2
    links = first.headers["Link"]
    assert 'rel="first"' in links and 'rel="last"' in links and 'rel="next"' in links
    assert 'rel="prev"' not in links
    assert f"<{BASE_URL}/api/v1/credentials?limit=2&offset=4>; rel=\"last\"" in links
    seen = []
    offset = 0
    while True:
        page = client.get(f"/api/v1/credentials?limit=2&offset={offset}",
                          headers=auth(world.token))
        seen += [c["id"] for c in page.get_json()["credentials"]]
        if 'rel="next"' not in page.headers["Link"]:
            assert 'rel="prev"' in page.headers["Link"]
            break
        offset += 2
    assert sorted(seen) == sorted(ids)
    searched = client.get("/api/v1/credentials?q=example:3", headers=auth(world.token))
    assert [c["recipient"]["did"] for c in searched.get_json()["credentials"]] == \
        ["did:example:3"]
    assert searched.headers["X-Total-Count"] == "1"


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "offset=-1", "limit=100000",
                                   "offset=1000000001", "offset=" + "9" * 5000,
                                   "q=" + "x" * 201])
def test_bad_paging_parameters_are_400(client: FlaskClient, world: World, query: str) -> None:
    response = client.get(f"/api/v1/credentials?{query}", headers=auth(world.token))
    assert_problem(response, 400)
    name = query.split("=")[0]
    detail = response.get_json()["detail"]
    assert f"'{name}'" in detail and len(detail) < 120, detail


def test_the_documented_limits_themselves_are_accepted(client: FlaskClient,
                                                       world: World) -> None:
    for query in ("q=" + "x" * 200, "offset=1000000000", "limit=200"):
        response = client.get(f"/api/v1/credentials?{query}", headers=auth(world.token))
        assert response.status_code == 200, (query, response.get_json())


def test_a_credential_is_served_as_stored_only_to_its_issuer(
        client: FlaskClient, world: World, session: Session) -> None:
    [credential_id] = _award_many(client, world.token, 1)
    response = client.get(f"/api/v1/credentials/{credential_id}", headers=auth(world.token))
    assert response.status_code == 200
    row = session.get(Credential, credential_id)
    assert row is not None
    assert response.get_data(as_text=True) == row.document
    assert_problem(client.get(f"/api/v1/credentials/{credential_id}",
                              headers=auth(world.other_token)), 404)
    assert_problem(client.get("/api/v1/credentials/not-a-uuid", headers=auth(world.token)),
                   404)
    other_list = client.get("/api/v1/credentials", headers=auth(world.other_token))
    assert other_list.headers["X-Total-Count"] == "0"


def test_a_method_an_address_does_not_take_is_405_and_says_which_it_does(
        client: FlaskClient, world: World) -> None:
    # RFC 9110 §15.5.6: a 405 MUST carry Allow, for machines and for pages alike.
    response = client.delete("/api/v1/achievements", headers=auth(world.token))
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
    page = client.get("/admin/logout")
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert "POST" in page.headers["Allow"]
