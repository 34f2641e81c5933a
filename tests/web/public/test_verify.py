"""The verify pages people use: the employer's form at /verify and the page a QR code opens."""

from __future__ import annotations

import html
import io
import json
import re
import socket
from typing import Any

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import update
from sqlalchemy.orm import Session

from issuer.core.proofs.data_integrity import SuiteContext, sign_document, without_proof
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.core.verify import CHECK_TITLES
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, method_id, signing_key
from issuer.services.verification import verify
from issuer.storage.models import Credential
from tests.conftest import BASE_URL, World

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def issue(session: Session, ctx: ServiceContext, world: World,
          name: str = "Grace Hopper") -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("grace@example.org", name)))
    session.commit()
    return row


def tampered(document: str) -> str:
    data = json.loads(document)
    data["credentialSubject"]["achievement"]["name"] = "Chief Scientist"
    return json.dumps(data)


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/verify").get_data(as_text=True)
    match = CSRF.search(page)
    assert match, "the verify form must carry a CSRF token"
    return match.group(1)


def submit(client: FlaskClient, **fields: Any) -> Any:
    data = {"csrf_token": csrf_token(client), "credential": "", "url": "", **fields}
    return client.post("/verify", data=data, content_type="multipart/form-data")


def check_titles_of(session: Session, ctx: ServiceContext, document: str) -> list[str]:
    return [CHECK_TITLES[c.id] for c in verify(session, ctx, document).checks]


def test_the_form_has_the_three_ways_in(client: FlaskClient) -> None:
    page = client.get("/verify").get_data(as_text=True)
    assert '<textarea id="credential" name="credential"' in page
    assert '<label for="credential">' in page
    assert 'type="file" id="file" name="file"' in page
    assert ".json,.jwt,.jws,.txt" in page
    assert 'type="url" id="url" name="url"' in page
    assert 'enctype="multipart/form-data"' in page


def test_pasted_valid_credential_is_valid_with_every_check_listed(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    response = submit(client, credential=row.document)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "✓</span> Valid" in page
    assert "Not valid" not in page
    for title in check_titles_of(session, ctx, row.document):
        assert f"<strong>{html.escape(title)}</strong>" in page
    assert "Grace Hopper" in page
    assert '<a href="/issuers/guild">Guild Guild</a>' in page
    # What was pasted stays in the box, escaped.
    assert f">{escape(row.document)}</textarea>" in page


def test_pasted_tampered_credential_is_not_valid_and_names_the_failure(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    response = submit(client, credential=tampered(row.document))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not valid" in page
    assert "✓</span> Valid" not in page
    reasons = page.split('class="public-reasons"', 1)[1].split("</section>", 1)[0]
    # Plain words first; the verifier's own message is folded away as technical detail.
    lead = reasons.split("<details", 1)[0]
    assert "The signature does not match" in lead and "eddsa" not in lead
    assert "Technical details (signature)" in reasons
    assert "not confirmed, because the check failed" in page


def test_status_is_never_reported_as_not_revoked_unless_it_was_checked(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    page = submit(client, credential=row.document).get_data(as_text=True)
    status = page.split("<strong>Revocation and suspension</strong>", 1)
    # This service's own status lists are read when the badge is checked.
    assert "Passed" in status[0].rsplit("<li", 1)[1]
    assert "checked against the issuer&#39;s status list just now" in status[1]
    # A status list elsewhere is not fetched: "could not check", never "not revoked".
    document = json.loads(row.document)
    document["credentialStatus"] = [{
        **entry, "statusListCredential": "https://status.elsewhere.example/1",
        "id": f"https://status.elsewhere.example/1#{entry['statusListIndex']}",
    } for entry in document["credentialStatus"]]
    issuer = get_issuer(session, world.issuer_slug)
    key_row, key = signing_key(ctx, issuer)
    resigned = sign_document(without_proof(document), SIGNING_SUITES["eddsa-rdfc-2022"], key,
                             verification_method=method_id(ctx, key_row),
                             ctx=SuiteContext(loader=ctx.loader, budget=ctx.budget))
    session.rollback()
    page = submit(client, credential=json.dumps(resigned)).get_data(as_text=True)
    status = page.split("<strong>Revocation and suspension</strong>", 1)
    assert "Could not check" in status[0].rsplit("<li", 1)[1]
    assert "not revoked" not in page.lower()


def test_a_pasted_jwt_is_checked(client: FlaskClient, session: Session, ctx: ServiceContext,
                                 world: World) -> None:
    row = issue(session, ctx, world)
    issuer = get_issuer(session, world.issuer_slug)
    key_row, key = signing_key(ctx, issuer)
    token = sign_ob_vc_jwt(without_proof(json.loads(row.document)), key,
                           kid=method_id(ctx, key_row))
    page = submit(client, credential=token).get_data(as_text=True)
    assert "✓</span> Valid" in page
    assert "a compact JWT" in page


def test_an_uploaded_file_is_checked(client: FlaskClient, session: Session,
                                     ctx: ServiceContext, world: World) -> None:
    row = issue(session, ctx, world)
    good = submit(client, file=(io.BytesIO(row.document.encode()), "badge.json"))
    assert good.status_code == 200
    page = good.get_data(as_text=True)
    assert "✓</span> Valid" in page
    assert "Checked: the file badge.json." in page
    bad = submit(client, file=(io.BytesIO(tampered(row.document).encode()), "badge.txt"))
    assert "Not valid" in bad.get_data(as_text=True)


def test_files_that_cannot_be_checked_get_a_clear_message(
    client: FlaskClient, world: World
) -> None:
    response = submit(client, file=(io.BytesIO(b"MZ...."), "badge.exe"))
    assert response.status_code == 415
    assert response.mimetype == "text/html"
    assert "Choose a .json, .jwt, .jws or .txt file" in response.get_data(as_text=True)


def test_the_form_says_badge_images_can_be_checked(client: FlaskClient, world: World) -> None:
    page = client.get("/verify").get_data(as_text=True)
    assert "cannot be checked yet" not in page
    assert "badge image (PNG or SVG)" in page


@pytest.mark.parametrize(("filename", "content", "message"), [
    ("badge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "the PNG is damaged"),
    ("badge.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "no baked credential"),
])
def test_images_without_a_credential_are_reported_as_not_valid(
    client: FlaskClient, world: World, filename: str, content: bytes, message: str
) -> None:
    response = submit(client, file=(io.BytesIO(content), filename))
    page = response.get_data(as_text=True)
    assert "✗</span> Not a badge" in page
    assert message in page
    assert "Not checked" not in page


@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_a_baked_badge_image_is_checked(client: FlaskClient, session: Session,
                                        ctx: ServiceContext, world: World,
                                        image_format: str) -> None:
    from PIL import Image as PILImage

    from issuer.core.baking import bake_png, bake_svg

    row = issue(session, ctx, world)
    if image_format == "png":
        buffer = io.BytesIO()
        PILImage.new("RGBA", (64, 64), (200, 30, 30, 255)).save(buffer, "PNG")
        baked: bytes = bake_png(buffer.getvalue(), row.document)
    else:
        svg = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>'
        baked = bake_svg(svg, row.document, jws=False).encode()
    response = submit(client, file=(io.BytesIO(baked), f"badge.{image_format}"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "✓</span> Valid" in page
    assert "baked into a" in page and f"{image_format.upper()} image" in page


@pytest.mark.parametrize("suffix", ["", "/", "/verify", "?utm_source=cv"])
def test_the_address_of_a_hosted_credential_is_looked_up(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, suffix: str
) -> None:
    row = issue(session, ctx, world)
    response = submit(client, url=f"{BASE_URL}/credentials/{row.id}{suffix}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "✓</span> Valid" in page
    assert "Checked: the credential at that address." in page


def test_a_foreign_address_is_refused_without_any_network_request(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    row = issue(session, ctx, world)
    attempts: list[Any] = []

    def no_network(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("the verify page must not open network connections")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    for url in (f"https://badges.example.com/credentials/{row.id}",
                f"https://badges.test/credentials/{row.id}",  # another scheme is another site
                "http://169.254.169.254/latest/meta-data/", "not a url"):
        response = submit(client, url=url)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "Only credentials hosted by this service" in page
        assert "paste it or upload the file" in page
        assert html.escape(url) in page  # the field keeps what was typed
    assert attempts == []


def test_an_unknown_hosted_address_says_so(client: FlaskClient, world: World) -> None:
    response = submit(client, url=f"{BASE_URL}/credentials/0b7f9a52-3c1e-4d4e-9a55-2f6f3c1d9e10")
    assert response.status_code == 404
    assert "There is no credential at that address" in response.get_data(as_text=True)


def test_an_empty_submission_shows_the_form_with_a_message(client: FlaskClient,
                                                          world: World) -> None:
    response = submit(client, credential="   \n  ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing to check yet" in page
    assert '<textarea id="credential"' in page


def test_unreadable_input_is_a_report_not_an_error(client: FlaskClient, world: World) -> None:
    response = submit(client, credential="{not json")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "✗</span> Not a badge" in page and "This is not a badge that can be read" in page
    technical = page.split("<details", 1)[1].split("</details>", 1)[0]
    assert "not valid JSON" in technical
    # Nothing was a credential, so there is no list of checks that were not made.
    assert "Not checked" not in page and "What was checked" not in page


def test_a_post_without_the_csrf_token_is_refused_kindly(client: FlaskClient,
                                                         session: Session, ctx: ServiceContext,
                                                         world: World) -> None:
    row = issue(session, ctx, world)
    response = client.post("/verify", data={"credential": row.document},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "The form expired or did not come from this site" in page
    assert "Traceback" not in page


def test_an_oversized_upload_gets_the_413_page(client: FlaskClient, world: World) -> None:
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    # The body is built here because the test client would spool a large upload to a
    # temporary file that it never closes when the server refuses to read it.
    boundary = "----badge-boundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
        f"{csrf_token(client)}\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f"name=\"file\"; filename=\"huge.json\"\r\nContent-Type: application/json\r\n\r\n"
    ).encode() + b"{" + b" " * (limit + 1024) + b"}" + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/verify", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "larger than this service accepts" in response.get_data(as_text=True)


# --- the page the QR code opens ----------------------------------------------------------------


def test_the_qr_page_verifies_live_from_the_stored_document(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    url = f"/credentials/{row.id}/verify"

    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    page = first.get_data(as_text=True)
    assert "✓</span> Valid" in page
    assert "Grace Hopper" in page
    assert 'name="viewport"' in page
    for title in check_titles_of(session, ctx, row.document):
        assert f"<strong>{html.escape(title)}</strong>" in page

    # Someone with database access edits the stored credential: the next scan must say so.
    session.execute(update(Credential).where(Credential.id == row.id)
                    .values(document=tampered(row.document)))
    session.commit()
    second = client.get(url)
    assert second.status_code == 200
    page = second.get_data(as_text=True)
    assert "Not valid" in page
    assert "✓</span> Valid" not in page
    assert "The signature does not match" in page


def test_the_qr_page_shows_an_expired_badge_as_not_valid(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    # A badge that was valid when scanned yesterday is judged by today's clock.
    document = json.loads(row.document)
    assert "validUntil" not in document
    session.execute(update(Credential).where(Credential.id == row.id).values(
        document=json.dumps({**document, "validUntil": "2001-01-01T00:00:00Z"})))
    session.commit()
    page = client.get(f"/credentials/{row.id}/verify").get_data(as_text=True)
    assert "Not valid" in page
    assert "The badge is outside its validity dates" in page
    assert "expired on 2001-01-01T00:00:00Z" in page
