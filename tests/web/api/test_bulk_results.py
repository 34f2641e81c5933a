"""A bulk award's results through the JSON API: credentials in the file's order, and every
row of the file with its outcome as CSV, for the job's own issuer only."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import World
from tests.services.test_bulk import auth, post_csv, wait_for

#: Names in reverse alphabetical order, so an order by recipient cannot pass for file order;
#: rows 3 and 5 have problems and are left out.
FILE = (b"recipient,name\n"
        b"zoe@example.org,Zoe\n"
        b"not-an-address,Nobody\n"
        b"yann@example.org,=HYPERLINK(\"http://evil.example\")\n"
        b"zoe@example.org,Zoe again\n"
        b"did:example:xavier,Xavier\n")


def _finished(client: FlaskClient, token: str) -> dict[str, Any]:
    started = post_csv(client, token, FILE, "achievement=peer-scaffolder&issue_valid_rows=true")
    assert started.status_code == 202, started.get_json()
    return wait_for(client, token, started.get_json()["url"])


def test_the_job_lists_its_credentials_in_the_order_of_the_file(client: FlaskClient,
                                                                 world: World) -> None:
    job = _finished(client, world.token)["job"]
    assert (job["total"], job["done"], job["failed"], job["skipped"]) == (3, 3, 0, 2)
    assert [(c["row"], c["recipient"]) for c in job["credentials"]] == [
        (2, "zoe@example.org"), (4, "yann@example.org"), (6, "did:example:xavier")]


def test_the_results_file_has_every_row_with_its_outcome(client: FlaskClient,
                                                         world: World) -> None:
    body = _finished(client, world.token)
    job_id = body["job"]["id"]
    answer = client.get(f"/api/v1/bulk/{job_id}/results.csv", headers=auth(world.token))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Disposition"] == \
        f'attachment; filename="bulk-award-{job_id}-results.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["row"], r["outcome"]) for r in rows] == [
        ("2", "issued"), ("3", "left out"), ("4", "issued"), ("5", "left out"),
        ("6", "issued")]
    links = {c["recipient"]: c["url"] for c in body["job"]["credentials"]}
    assert rows[0]["credential link"] == links["zoe@example.org"]
    assert rows[0]["email"] == "In the outbox"  # no mail server in the tests
    assert rows[4]["email"] == "No email (DID)"
    assert "not an email address or a DID" in rows[1]["problem"]
    assert not rows[1]["problem"].startswith("row ")
    assert "already on row 2" in rows[3]["problem"]
    assert rows[2]["name"].startswith("'=")  # a formula stays text in a spreadsheet


def test_the_results_belong_to_the_jobs_issuer(client: FlaskClient, world: World) -> None:
    job_id = _finished(client, world.token)["job"]["id"]
    assert client.get(f"/api/v1/bulk/{job_id}/results.csv").status_code == 401
    other = client.get(f"/api/v1/bulk/{job_id}/results.csv", headers=auth(world.other_token))
    assert other.status_code == 404 and other.mimetype == "application/problem+json"
