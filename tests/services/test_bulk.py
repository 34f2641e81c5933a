"""Bulk award: checking the CSV, and the JSON API around the job that issues it (the runner
itself: ``tests/jobs/test_bulk.py``)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.services.bulk import MAX_ROWS, parse_csv, rows_to_issue
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.verification import verify
from issuer.storage.models import BulkJob, Credential
from tests.conftest import BASE_URL, World

TODAY = date(2026, 1, 15)
HEADER = "recipient,name,evidence_url,evidence_name,evidence_narrative,narrative,valid_until\n"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(session: Session, model: Any = Credential) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- parsing -------------------------------------------------------------------------------


def test_a_good_file_gives_rows_numbered_as_a_spreadsheet_shows_them() -> None:
    data = (HEADER
            + 'Ada@Example.org,Ada Lovelace,https://forum.example/t/1,"Answer, with comma",'
              '"Two\nlines",Mentored.,2030-06-30\n'
            + "\n"
            + "did:example:123,,,,,,\n").encode()
    parsed = parse_csv(data, today=TODAY)
    assert parsed.ok, parsed.messages
    first, second = parsed.rows
    assert first.row == 2 and first.recipient == "ada@example.org"
    assert first.evidence_name == "Answer, with comma"
    assert first.evidence_narrative == "Two\nlines"
    assert first.valid_until == date(2030, 6, 30)
    assert second.row == 4 and second.recipient == "did:example:123" and second.name is None
    request = first.award_request()
    assert request.recipient.email == "ada@example.org"
    assert request.valid_until is not None and request.valid_until.isoformat() == \
        "2030-06-30T23:59:59+00:00"


def test_bom_semicolons_tabs_and_friendly_headers_are_understood() -> None:
    semicolons = "\ufeffRecipient;Name;Evidence URL\r\nada@example.org;Ada;https://e.example/1\r\n"
    parsed = parse_csv(semicolons.encode("utf-8"), today=TODAY)
    assert parsed.ok, parsed.messages
    assert parsed.rows[0].name == "Ada" and parsed.rows[0].evidence_url == "https://e.example/1"
    tabs = parse_csv(b"recipient\tname\nada@example.org\tAda Lovelace\n", today=TODAY)
    assert tabs.ok and tabs.rows[0].name == "Ada Lovelace"
    single = parse_csv(b"recipient\nada@example.org\n", today=TODAY)
    assert single.ok and single.rows[0].recipient == "ada@example.org"


def test_row_problems_are_reported_in_plain_words() -> None:
    data = (HEADER
            + "ada@example.org,Ada,,,,,\n"            # row 2: fine
            + ",No Recipient,,,,,\n"                  # row 3
            + "anna@example,Anna,,,,,\n"              # row 4
            + "bob@example.org,Bob,ftp://x.example,,,,\n"  # row 5
            + "cy@example.org,Cy,,,,,31/12/2030\n"    # row 6
            + "di@example.org,Di,,,,,2020-01-01\n"    # row 7
            + "ADA@example.org,Ada again,,,,,\n"      # row 8
            + "ed@example.org,Ed,,,,,,extra\n"        # row 9
            + "fay@example.org,Fay,,,,,2030-02-30\n"  # row 10
            ).encode()
    parsed = parse_csv(data, today=TODAY)
    assert not parsed.ok and not parsed.problems
    assert [r.recipient for r in parsed.rows] == ["ada@example.org"]
    texts = [e.text for e in parsed.errors]
    assert texts[0] == "row 3: the recipient is missing (an email address or a DID)"
    assert texts[1] == "row 4: 'anna@example' is not an email address or a DID"
    assert texts[2].startswith("row 5: the evidence URL 'ftp://x.example' is not a web address")
    assert texts[3].startswith("row 6: the expiry date '31/12/2030' is not a date written as "
                               "YYYY-MM-DD")
    assert texts[4] == "row 7: the expiry date 2020-01-01 has already passed"
    assert texts[5].startswith("row 8: ada@example.org is already on row 2")
    assert texts[6].startswith("row 9: it has 8 cells but the first row names 7 columns")
    assert texts[7].startswith("row 10: the expiry date '2030-02-30' is not a date")
    with pytest.raises(Invalid, match="8 rows of the file have problems"):
        rows_to_issue(parsed, issue_valid_rows=False)
    assert [r.row for r in rows_to_issue(parsed, issue_valid_rows=True)] == [2]


@pytest.mark.parametrize("data, words", [
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (HEADER.encode(), "a header row but no recipients"),
    (b"ada@example.org,Ada\nbob@example.org,Bob\n", "it looks like a recipient instead"),
    (b"email,name\nada@example.org,Ada\n", "the column 'recipient' is missing"),
    (b"recipient,name,favourite_colour\nada@example.org,Ada,green\n",
     "unknown column(s) 'favourite_colour'"),
    (b"recipient,name,name\nada@example.org,Ada,Ada\n", "'name' appears more than once"),
    ("recipient,name\nzoë@example.org,Zoë\n".encode("latin-1"), "not UTF-8"),
    (b"recipient\x00,name\n", "binary data"),
])
def test_file_problems_stop_everything(data: bytes, words: str) -> None:
    parsed = parse_csv(data, today=TODAY)
    assert any(words in p for p in parsed.problems), parsed.problems
    assert not parsed.usable
    with pytest.raises(Invalid):
        rows_to_issue(parsed, issue_valid_rows=True)


def test_size_and_row_limits() -> None:
    rows = "".join(f"p{i}@example.org\n" for i in range(MAX_ROWS + 1))
    too_many = parse_csv(("recipient\n" + rows).encode(), today=TODAY)
    assert too_many.problems == ["the file has more than 10,000 rows; split it into smaller "
                                 "files"]
    assert not too_many.rows
    exactly = parse_csv(("recipient\n" + rows.split("\n", 1)[1]).encode(), today=TODAY)
    assert exactly.ok and len(exactly.rows) == MAX_ROWS
    big = parse_csv(b"recipient\n" + b"a@example.org\n" * 100, max_bytes=100)
    assert big.problems and "larger than" in big.problems[0]


# --- the JSON API --------------------------------------------------------------------------


def wait_for(client: FlaskClient, token: str, url: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(url, headers=auth(token)).get_json()
        if body["job"]["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def post_csv(client: FlaskClient, token: str, data: bytes, query: str) -> Any:
    return client.post(f"/api/v1/bulk?{query}", data=data, content_type="text/csv",
                       headers=auth(token))


MIXED = (HEADER
         + "ada@example.org,Ada,https://forum.example/t/1,Answer,,,\n"
         + "anna@example,Anna,,,,,\n"
         + "did:example:grace,Grace,,,,,2031-01-01\n").encode()


def test_an_invalid_file_without_the_flag_issues_nothing(
        client: FlaskClient, world: World, session: Session) -> None:
    response = post_csv(client, world.token, MIXED, "achievement=peer-scaffolder")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert "row 3: 'anna@example' is not an email address or a DID" in body["errors"]
    assert body["rows"][0]["row"] == 3
    assert count(session) == 0 and count(session, BulkJob) == 0


def test_with_the_flag_only_the_valid_rows_are_issued_and_verify(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    response = post_csv(client, world.token, MIXED,
                        "achievement=peer-scaffolder&issue_valid_rows=true")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["job"]["total"] == 2 and body["job"]["skipped"] == 1
    assert body["url"] == f"{BASE_URL}/api/v1/bulk/{body['job']['id']}"
    assert response.headers["Location"] == body["url"]
    final = wait_for(client, world.token, body["url"].removeprefix(BASE_URL))
    job = final["job"]
    assert (job["status"], job["done"], job["failed"]) == ("done", 2, 0)
    assert {c["recipient"] for c in job["credentials"]} == {"ada@example.org",
                                                           "did:example:grace"}
    assert [e["row"] for e in job["errors"]] == [3]
    for item in job["credentials"]:
        stored = client.get(f"/api/v1/credentials/{item['id']}", headers=auth(world.token))
        assert verify(session, ctx, stored.get_data(as_text=True)).valid
    assert count(session) == 2


def test_bulk_jobs_belong_to_their_issuer(client: FlaskClient, world: World) -> None:
    response = post_csv(client, world.token, b"recipient\nada@example.org\n",
                        "achievement=peer-scaffolder")
    assert response.status_code == 202
    path = response.get_json()["url"].removeprefix(BASE_URL)
    wait_for(client, world.token, path)
    hidden = client.get(path, headers=auth(world.other_token))
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    assert client.get(path).status_code == 401


def test_a_multipart_upload_is_accepted(client: FlaskClient, world: World) -> None:
    import io

    response = client.post("/api/v1/bulk?achievement=peer-scaffolder",
                           data={"file": (io.BytesIO(b"recipient\nada@example.org\n"),
                                          "people.csv")},
                           content_type="multipart/form-data", headers=auth(world.token))
    assert response.status_code == 202, response.get_json()
    wait_for(client, world.token, response.get_json()["url"].removeprefix(BASE_URL))


@pytest.mark.parametrize("query, content_type, status", [
    ("achievement=no-such-badge", "text/csv", 404),
    ("", "text/csv", 422),
    ("achievement=peer-scaffolder", "application/json", 415),
    ("achievement=peer-scaffolder&issue_valid_rows=perhaps", "text/csv", 400),
])
def test_bulk_request_errors(client: FlaskClient, world: World, session: Session, query: str,
                             content_type: str, status: int) -> None:
    response = client.post(f"/api/v1/bulk?{query}", data=b"recipient\nada@example.org\n",
                           content_type=content_type, headers=auth(world.token))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert count(session, BulkJob) == 0


def test_an_oversize_csv_is_413(client: FlaskClient, world: World, app: Flask,
                               session: Session) -> None:
    rows = b"a@example.org\n" * (app.config["MAX_CONTENT_LENGTH"] // 14 + 1)
    response = post_csv(client, world.token, b"recipient\n" + rows,
                        "achievement=peer-scaffolder")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert count(session, BulkJob) == 0


def test_a_file_problem_is_422_even_with_the_flag(client: FlaskClient, world: World,
                                                 session: Session) -> None:
    response = post_csv(client, world.token, b"recipient,colour\nada@example.org,red\n",
                        "achievement=peer-scaffolder&issue_valid_rows=true")
    assert response.status_code == 422
    assert "unknown column(s) 'colour'" in response.get_json()["detail"]
    assert count(session, BulkJob) == 0
