"""A NUL character in a request's text is refused before it reaches the database: in the
address a 404 (nothing is named so), anywhere else a 400.

PostgreSQL cannot store U+0000 in text: GET /api/v1/credentials?q=%00, /issuers/demo%00
and an award whose name held "\\u0000" answered 500 there. These run on SQLite and, with
ISSUER_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.storage.models import Credential
from issuer.web.nul_guard import _json_nul
from tests.conftest import World
from tests.web.admin.test_pages import submit

NUL_WORDS = "NUL character"


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


@pytest.mark.parametrize("path", [
    "/api/v1/credentials?q=%00",
    "/api/v1/credentials?q=a%00b",
    "/api/v1/credentials?%00=1",
    "/api/v1/credentials?q=a&q=%00",  # a later value of a repeated parameter
    "/issuers/guild?format=%00",
])
def test_a_nul_in_the_query_is_400(client: FlaskClient, world: World, path: str) -> None:
    response = client.get(path, headers={"Authorization": f"Bearer {world.token}",
                                         "Accept": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert NUL_WORDS in response.get_json()["detail"]


@pytest.mark.parametrize("path", [
    "/api/v1/achievements/peer%00",
    "/issuers/guild%00",
    "/issuers/guild/achievements/peer-scaffolder%00",
    "/people/someone%00",
    "/credentials/%00",
])
def test_a_nul_in_the_path_names_nothing(client: FlaskClient, world: World,
                                         path: str) -> None:
    response = client.get(path, headers={"Authorization": f"Bearer {world.token}",
                                         "Accept": "application/json"})
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"


def test_a_nul_in_json_is_400_and_nothing_is_issued(client: FlaskClient, session: Session,
                                                   world: World) -> None:
    before = count(session)
    for name in ("A\u0000B", "\\\u0000"):  # as the escape \u0000, after an escaped backslash
        body = json.dumps({"achievement": "peer-scaffolder",
                           "recipient": {"email": "ada@example.org", "name": name}})
        response = client.post("/api/v1/awards", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {world.token}"})
        assert response.status_code == 400, response.get_json()
        assert NUL_WORDS in response.get_json()["detail"]
    assert count(session) == before


def test_a_backslash_u_0000_that_is_only_text_is_accepted(client: FlaskClient,
                                                         session: Session,
                                                         world: World) -> None:
    body = json.dumps({"achievement": "peer-scaffolder",
                       "recipient": {"email": "ada@example.org", "name": "A\\u0000B"}})
    assert "\\\\u0000" in body  # the escaped backslash, then the letters u0000
    response = client.post("/api/v1/awards", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code == 201, response.get_json()
    row = session.get(Credential, response.get_json()["id"])
    assert row is not None and row.recipient_name == "A\\u0000B"


def test_a_nul_in_a_form_is_a_400_page(client: FlaskClient, world: World) -> None:
    response = submit(client, "/admin/login", {"email": "staff\x00@guild.test",
                                               "password": "x", "next": ""})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert NUL_WORDS in response.get_data(as_text=True)


def test_a_nul_in_a_later_value_of_a_repeated_form_field_is_400(client: FlaskClient,
                                                                world: World) -> None:
    # Some forms are read as lists (the ticked credentials of a bulk revocation).
    response = submit(client, "/admin/login", {"email": ["staff@guild.test", "x\x00"],
                                               "password": "x", "next": ""})
    assert response.status_code == 400
    assert NUL_WORDS in response.get_data(as_text=True)


def test_a_multipart_part_without_a_readable_name_is_not_a_500(client: FlaskClient,
                                                                world: World) -> None:
    # A part whose Content-Disposition cannot be read has no name at all (None).
    body = (b"--b\r\nContent-Disposition: form-data; name=\"\r\"\r\n\r\nx\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--b--\r\n")
    response = client.post(f"/api/v1/bulk?achievement={world.achievement_slug}", data=body,
                           content_type="multipart/form-data; boundary=b",
                           headers={"Authorization": f"Bearer {world.token}"})
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("query", [b"x=\xff", b"\xff=1", b"q=%ff"])
def test_a_query_that_is_not_utf8_is_400_not_500(client: FlaskClient, world: World,
                                                 query: bytes) -> None:
    # Raw bytes as an HTTP client may send them: WSGI hands them over as latin-1 text.
    response = client.get("/api/v1/credentials",
                          environ_overrides={"QUERY_STRING": query.decode("latin-1")},
                          headers={"Authorization": f"Bearer {world.token}",
                                   "Accept": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert "not UTF-8" in response.get_json()["detail"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["\\", "\\\\", "\\u0000", "\\u00000", "u0000", "\x00",
                                 "a", '"', "\\n", "\\u0041"]), max_size=12))
def test_the_scan_for_an_escaped_nul_agrees_with_a_json_parser(pieces: list[str]) -> None:
    """Whatever sits around a \\u0000, the scan says NUL exactly when the JSON text, read by
    a parser, holds a NUL character (a raw NUL byte is checked apart, before the scan)."""
    text = json.dumps({"name": "".join(pieces)})
    data = text.encode()
    holds_nul = "\x00" in json.loads(text)["name"]
    assert (b"\x00" in data or _json_nul(data)) == holds_nul


def test_long_runs_of_backslashes_are_counted_right() -> None:
    """Runs of thousands of backslashes before each \\u0000, as many as a large body holds:
    the parity of the whole run decides, however long it is."""
    body = (b"\\\\" * 2000 + b"\\\\u0000") * 200  # 800,000 bytes, no NUL in it
    assert not _json_nul(body)
    assert _json_nul(body + b"\\u0000")
