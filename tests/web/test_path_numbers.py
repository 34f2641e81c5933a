"""Unknown addresses and wrong methods: numbers past any row, documents only machines
fetch, the VC API's POST-only addresses.

Numbers in paths name rows: one beyond the database's integers names nothing (404).

Werkzeug's ``int`` converter matched any run of digits, and the number then failed inside
the query ("Python int too large to convert to SQLite INTEGER"), a 500; found by
schemathesis against ``schemas/openapi.yaml``, as were the HTML 404s of the DID documents
and status lists, which that description (and every verifier) expects as problem details.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.web.converters import ROW_ID_MAX
from tests.conftest import World
from tests.web.admin.test_bulk import sign_in

TOO_LARGE = [str(ROW_ID_MAX + 1), "8129248361006624669696", "9" * 5000]


@pytest.mark.parametrize("number", TOO_LARGE, ids=["2^31", "22 digits", "5000 digits"])
@pytest.mark.parametrize("path", [
    "/issuers/guild/status/revocation/{}",
    "/images/{}",
    "/api/v1/bulk/{}",
    "/admin/issuers/guild/bulk/{}",
])
def test_a_number_past_any_row_is_not_found(client: FlaskClient, session: Session,
                                            world: World, path: str, number: str) -> None:
    sign_in(client, session, world.staff_email)
    response = client.get(path.format(number), headers={
        "Authorization": f"Bearer {world.token}", "Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_largest_row_id_still_reaches_the_view(client: FlaskClient, world: World) -> None:
    response = client.get(f"/api/v1/bulk/{ROW_ID_MAX}",
                          headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code == 404
    assert response.get_json()["detail"] == "no such bulk award"


@pytest.mark.parametrize("path", [
    "/issuers/guild/status/revocation/99",
    "/issuers/guild/status/revocation/" + "9" * 30,
    "/issuers/nobody/status/suspension/1",
    "/issuers/nobody/did.json",
])
def test_documents_only_machines_fetch_answer_problems_whatever_is_accepted(
        client: FlaskClient, world: World, path: str) -> None:
    for accept in (None, "text/html", "*/*"):
        response = client.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 404, (path, accept)
        assert response.mimetype == "application/problem+json", (path, accept)


def test_pages_for_people_still_answer_a_page(client: FlaskClient, world: World) -> None:
    response = client.get("/issuers/nobody", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/credentials/issue", "/credentials/verify"])
def test_getting_a_vc_api_address_is_405_naming_post(client: FlaskClient, path: str) -> None:
    # /credentials/<id> sits beside them; a GET must not read as "no such credential".
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]
    assert client.get("/credentials/not-a-credential").status_code == 404
