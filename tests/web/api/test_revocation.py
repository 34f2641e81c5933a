"""Revoke, suspend and reinstate through the JSON API; the next verification says so.

Every verification here goes through a fresh request, as a verifier's would: the API
(``POST /credentials/verify``) and the public page (``/credentials/<id>/verify``).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import render_template
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.status_list import status_entry
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, build_credential
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, method_id, signing_key
from issuer.services.revocation import StatusView, credential_status
from issuer.storage.models import Credential, StatusEvent
from tests.conftest import BASE_URL, World
from tests.web.admin.test_pages import snapshot
from tests.web.api.test_openapi import _check, _response_schema
from tests.web.vcapi.test_endpoints import generic_credential, issue, issued, ob_credential

API = "/api/v1/credentials"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def awarded(client: FlaskClient, world: World, email: str = "ada@example.org") -> dict[str, Any]:
    response = client.post("/api/v1/awards", headers=auth(world.token), json={
        "achievement": "peer-scaffolder", "recipient": {"email": email, "name": "Ada"}})
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def change(client: FlaskClient, token: str, cid: str, action: str,
           reason: str | None = None, **kwargs: Any) -> Any:
    body = {"reason": reason} if reason is not None else {}
    return client.post(f"{API}/{cid}/{action}", headers=auth(token), json=body, **kwargs)


def verified(client: FlaskClient, credential: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.post("/credentials/verify",
                                       json={"verifiableCredential": credential}).get_json()
    return body


def status_check(body: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in body["results"] if c["id"] == "status")


def public_verify_page(client: FlaskClient, cid: str) -> str:
    response = client.get(f"/credentials/{cid}/verify")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the lifecycle -------------------------------------------------------------------------


def test_revoke_is_seen_by_the_next_verification_and_cannot_be_undone(
    client: FlaskClient, world: World, session: Session
) -> None:
    award = awarded(client, world)
    cid, credential = award["id"], award["credential"]
    before = verified(client, credential)
    assert before["verified"] is True
    assert status_check(before)["outcome"] == "passed"
    assert "Not valid" not in public_verify_page(client, cid)

    response = change(client, world.token, cid, "revoke", "Evidence was plagiarised")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    _check(body, _response_schema(f"{API}/{{credential_id}}/revoke", "post", "200",
                                  "application/json"))
    assert body["status"] == "revoked" and body["reason"] == "Evidence was plagiarised"
    assert body["history"][0]["actor"].startswith("api-token ")

    after = verified(client, credential)
    assert after["verified"] is False
    assert status_check(after)["outcome"] == "failed"
    assert status_check(after)["message"].startswith("revoked")
    assert client.post("/credentials/verify",
                       json={"verifiableCredential": credential}).status_code == 422
    page = public_verify_page(client, cid)
    assert "Not valid" in page and "revoked" in page

    again = change(client, world.token, cid, "reinstate", "Mistake")
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert "revocation is permanent" in again.get_json()["detail"]
    twice = change(client, world.token, cid, "revoke", "Again")
    assert twice.status_code == 409
    suspended = change(client, world.token, cid, "suspend", "Too late")
    assert suspended.status_code == 409
    assert verified(client, credential)["verified"] is False
    row = session.get(Credential, cid)
    assert row is not None and row.status == "revoked"
    assert row.status_reason == "Evidence was plagiarised"
    events = session.scalars(select(StatusEvent).where(StatusEvent.credential_id == cid)).all()
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("revoke", "active", "revoked")]


def test_suspend_then_reinstate(client: FlaskClient, world: World, session: Session) -> None:
    award = awarded(client, world)
    cid, credential = award["id"], award["credential"]
    response = change(client, world.token, cid, "suspend", "Under review")
    assert response.status_code == 200
    assert response.get_json()["status"] == "suspended"
    body = verified(client, credential)
    assert body["verified"] is False
    assert status_check(body)["message"].startswith("suspended")
    assert "suspended" in public_verify_page(client, cid)
    assert change(client, world.token, cid, "suspend", "Twice").status_code == 409

    # Reinstating needs no body (a reason is optional).
    lifted = client.post(f"{API}/{cid}/reinstate", headers=auth(world.token))
    assert lifted.status_code == 200, lifted.get_data(as_text=True)
    assert lifted.get_json()["status"] == "active"
    body = verified(client, credential)
    assert body["verified"] is True
    assert status_check(body)["outcome"] == "passed"
    assert change(client, world.token, cid, "reinstate").status_code == 409

    # Suspended, then revoked for good.
    assert change(client, world.token, cid, "suspend", "Review again").status_code == 200
    assert change(client, world.token, cid, "revoke", "Confirmed").status_code == 200
    body = verified(client, credential)
    assert status_check(body)["message"].startswith("revoked")
    history = client.get(f"{API}/{cid}/status", headers=auth(world.token))
    assert history.status_code == 200
    result = history.get_json()
    _check(result, _response_schema(f"{API}/{{credential_id}}/status", "get", "200",
                                    "application/json"))
    assert [(e["action"], e["reason"]) for e in result["history"]] == [
        ("suspend", "Under review"), ("reinstate", None), ("suspend", "Review again"),
        ("revoke", "Confirmed")]
    assert result["status"] == "revoked" and result["reason"] == "Confirmed"


def test_a_reason_is_required_to_revoke_or_suspend(client: FlaskClient, world: World,
                                                  session: Session) -> None:
    cid = awarded(client, world)["id"]
    before = snapshot(session)
    for action in ("revoke", "suspend"):
        for body in ({}, {"reason": "   "}):
            response = client.post(f"{API}/{cid}/{action}", headers=auth(world.token),
                                   json=body)
            assert response.status_code == 422, (action, body)
            assert response.get_json()["errors"] == {"reason": "required"}
    too_long = change(client, world.token, cid, "revoke", "x" * 1001)
    assert too_long.status_code == 422
    unknown = client.post(f"{API}/{cid}/revoke", headers=auth(world.token),
                          json={"reason": "x", "notify": True})
    assert unknown.status_code == 422
    not_json = client.post(f"{API}/{cid}/revoke", headers=auth(world.token),
                           data="reason=x", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415
    broken = client.post(f"{API}/{cid}/revoke", headers=auth(world.token),
                         data="{", content_type="application/json")
    assert broken.status_code == 400
    assert snapshot(session) == before


def test_another_issuers_token_cannot_touch_a_credential(client: FlaskClient, world: World,
                                                         session: Session) -> None:
    award = awarded(client, world)
    cid = award["id"]
    before = snapshot(session)
    for action in ("revoke", "suspend", "reinstate"):
        response = change(client, world.other_token, cid, action, "Hostile")
        assert response.status_code == 404, action
        assert response.mimetype == "application/problem+json"
    assert client.get(f"{API}/{cid}/status", headers=auth(world.other_token)).status_code == 404
    assert client.post(f"{API}/{cid}/revoke", json={"reason": "x"}).status_code == 401
    bad = client.post(f"{API}/{cid}/revoke", json={"reason": "x"},
                      headers=auth("obi_not-a-real-token"))
    assert bad.status_code == 401
    assert snapshot(session) == before
    assert verified(client, award["credential"])["verified"] is True


@pytest.mark.parametrize("cid", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_unknown_credentials_are_not_found(client: FlaskClient, world: World,
                                           cid: str) -> None:
    assert change(client, world.token, cid, "revoke", "x").status_code == 404


# --- the VC API and bulk award -------------------------------------------------------------


def test_vc_api_credentials_get_status_entries_and_can_be_revoked(
    client: FlaskClient, world: World
) -> None:
    for credential in (generic_credential(), ob_credential()):
        vc = issued(client, world.token, credential)
        purposes = [e["statusPurpose"] for e in vc["credentialStatus"]]
        assert purposes == ["revocation", "suspension"]
        assert len({e["statusListIndex"] for e in vc["credentialStatus"]}) == 1
        body = verified(client, vc)
        assert body["verified"] is True and "status" in body["checks"], body
        cid = vc["id"].rsplit("/", 1)[1]
        assert change(client, world.token, cid, "revoke", "Withdrawn").status_code == 200
        assert verified(client, vc)["verified"] is False


def test_vc_api_refuses_an_open_badge_that_brings_its_own_status(
    client: FlaskClient, world: World, session: Session
) -> None:
    before = snapshot(session)
    entry = status_entry("https://elsewhere.example/status/1", 3, "revocation")
    response = issue(client, world.token, ob_credential(credentialStatus=entry))
    assert response.status_code == 422
    body = response.get_json()
    assert "leave credentialStatus out" in body["detail"]
    assert body["errors"] == ["credentialStatus: must be absent"]
    assert snapshot(session) == before


def test_bulk_award_gives_every_credential_its_own_entries(
    client: FlaskClient, world: World, session: Session
) -> None:
    started = client.post("/api/v1/bulk?achievement=peer-scaffolder",
                          headers=auth(world.token), content_type="text/csv",
                          data=("recipient\n" + "".join(f"p{i}@example.org\n"
                                                         for i in range(12))).encode())
    assert started.status_code == 202, started.get_data(as_text=True)
    deadline = time.monotonic() + 120
    while True:
        job = client.get(started.headers["Location"], headers=auth(world.token)).get_json()
        if job["job"]["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["job"]["status"] == "done", job
    session.expire_all()
    rows = session.scalars(select(Credential)).all()
    assert len(rows) == 12
    indexes = {json.loads(r.document)["credentialStatus"][0]["statusListIndex"] for r in rows}
    assert len(indexes) == 12
    assert all(r.status_allocation_id is not None for r in rows)


# --- what cannot be checked ----------------------------------------------------------------


def test_a_list_hosted_elsewhere_is_could_not_check_never_not_revoked(
    client: FlaskClient, world: World, session: Session, ctx: ServiceContext
) -> None:
    issuer = get_issuer(session, "guild")
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    entry = status_entry("https://status.elsewhere.example/lists/1", 17, "revocation")
    document = build_credential(ctx, issuer, achievement,
                                AwardRequest(recipient=Recipient.parse("did:example:x")),
                                "0b9f0a3e-4b7e-4a7a-9a56-111111111111", ctx.now(), [entry])
    key_row, key = signing_key(ctx, issuer)
    signed = sign_document(document, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=method_id(ctx, key_row),
                           ctx=SuiteContext(loader=ctx.loader, budget=ctx.budget))
    session.rollback()
    body = verified(client, signed)
    check = status_check(body)
    assert check["outcome"] == "warning"
    assert check["message"].startswith("could not check the status")
    assert "not published by this service" in check["message"]
    assert "not revoked" not in json.dumps(check)
    assert body["verified"] is True  # unknown is a warning, shown as such


def test_a_credential_issued_without_status_cannot_be_revoked(
    client: FlaskClient, world: World, session: Session
) -> None:
    award = awarded(client, world)
    row = session.get(Credential, award["id"])
    assert row is not None
    # As credentials issued before status lists were kept.
    legacy = Credential(id="6a1d2f4c-0c1e-4f9e-8a37-222222222222", issuer_id=row.issuer_id,
                        achievement_name=row.achievement_name, document=row.document,
                        issued_at=row.issued_at)
    session.add(legacy)
    session.commit()
    response = change(client, world.token, legacy.id, "revoke", "x")
    assert response.status_code == 409
    assert "no status entry" in response.get_json()["detail"]
    assert session.scalar(select(func.count()).select_from(StatusEvent)) == 0


# --- what the credential page shows --------------------------------------------------------


def test_credential_status_and_its_partial_template(client: FlaskClient, world: World,
                                                   session: Session,
                                                   ctx: ServiceContext) -> None:
    cid = awarded(client, world)["id"]
    row = session.get(Credential, cid)
    assert row is not None
    view = credential_status(session, ctx, row)
    assert view == StatusView(state="active", reason=None, since=None, managed=True)
    with client.application.test_request_context():
        html = render_template("public/_credential_status.html", status=view)
    assert "Not revoked or suspended" in html

    reason = "Copied <script>alert(1)</script> work"
    assert change(client, world.token, cid, "revoke", reason).status_code == 200
    session.expire_all()
    view = credential_status(session, ctx, row)
    assert view.state == "revoked" and view.reason == reason and view.since is not None
    with client.application.test_request_context():
        html = render_template("public/_credential_status.html", status=view)
    assert "Revoked by the issuer" in html and "cannot be undone" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert view.since_text is not None and view.since_text in html


def test_the_published_list_matches_its_openapi_description(client: FlaskClient,
                                                            world: World) -> None:
    award = awarded(client, world)
    url = award["credential"]["credentialStatus"][0]["statusListCredential"]
    path = url.removeprefix(BASE_URL)
    response = client.get(path)
    assert response.status_code == 200
    _check(response.get_json(force=True), _response_schema(
        "/issuers/{slug}/status/{purpose}/{number}", "get", "200", "application/vc+ld+json"))
    missing = client.get(path.replace("/1", "/9"), headers={"Accept": "application/json"})
    _check(missing.get_json(), "/components/schemas/Problem")
