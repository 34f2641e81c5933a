"""Creating and editing achievements from the staff pages, with image uploads."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image as PilImage
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from issuer.services.context import ServiceContext
from issuer.services.verification import verify
from issuer.storage.models import Achievement, Image, Issuer
from tests.conftest import World
from tests.web.admin.test_pages import (
    award_to,
    csrf_token,
    location_path,
    page,
    signed_in_as,
    snapshot,
)

NEW = "/admin/issuers/guild/achievements/new"
EDIT = "/admin/issuers/guild/achievements/peer-scaffolder/edit"


def picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    PilImage.new("RGBA" if fmt == "PNG" else "RGB", (32, 32), (47, 91, 211)).save(buffer, fmt)
    return buffer.getvalue()


def complete(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Mentor of the Month", "slug": "mentor-month",
        "description": "Mentored newcomers for a month.",
        "criteria_narrative": "Four weekly sessions, confirmed by the mentees.",
        "criteria_url": "https://guild.example/criteria/mentor",
        "achievement_type": "Competency", "credits_available": "2.5",
        "tags": "mentoring, teamwork , mentoring",
        "alignment-0-target_name": "Mentoring others",
        "alignment-0-target_url": "https://esco.example/skill/mentoring",
        "alignment-0-target_framework": "ESCO", "alignment-0-target_code": "S1.2",
        "image_caption": "A blue square",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    """Post the form as a browser would: multipart, with the page's CSRF token.

    Files are given as ``(bytes, filename, content type)``. The body is encoded up front
    so that large uploads do not leave the test client's temporary file open.
    """
    fields: dict[str, Any] = {"csrf_token": csrf_token(page(client, url))}
    for name, value in data.items():
        if isinstance(value, tuple):
            content, filename, content_type = value
            value = FileStorage(io.BytesIO(content), filename=filename,
                                content_type=content_type)
        fields[name] = value
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def achievement(session: Session, slug: str, issuer: str = "guild") -> Achievement | None:
    session.expire_all()
    return session.scalar(select(Achievement).join(Issuer).where(
        Issuer.slug == issuer, Achievement.slug == slug))


def image_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Image)) or 0


def test_new_badge_form_offers_every_field(staff: FlaskClient) -> None:
    html = page(staff, NEW)
    for name in ("name", "slug", "description", "criteria_narrative", "criteria_url",
                 "achievement_type", "credits_available", "tags", "image", "image_caption",
                 "alignment-2-target_code"):
        assert f'name="{name}"' in html, name
        assert f'for="f-{name}"' in html, name  # every input has a label
    assert '<option value="MicroCredential">' in html
    assert 'enctype="multipart/form-data"' in html


def test_create_a_badge_with_a_png_image(staff: FlaskClient, session: Session) -> None:
    png = picture("PNG")
    response = post(staff, NEW, complete(image=(png, "badge.png", "image/png")))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert location_path(response) == "/admin/issuers/guild"
    row = achievement(session, "mentor-month")
    assert row is not None
    assert row.name == "Mentor of the Month"
    assert row.achievement_type == "Competency"
    assert row.credits_available == 2.5
    assert row.tags == ["mentoring", "teamwork"]
    assert row.alignments == [{"targetName": "Mentoring others",
                               "targetUrl": "https://esco.example/skill/mentoring",
                               "targetFramework": "ESCO", "targetCode": "S1.2"}]
    assert row.image is not None
    assert row.image.media_type == "image/png" and row.image.data == png
    assert row.image_caption == "A blue square"
    html = page(staff, "/admin/issuers/guild")
    assert "Saved “Mentor of the Month”" in html
    assert "mentor-month" in html


def test_create_a_badge_with_a_plain_svg(staff: FlaskClient, session: Session) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
    data = complete(image=(svg, "badge.svg", "image/svg+xml"))
    assert post(staff, NEW, data).status_code == 302
    row = achievement(session, "mentor-month")
    assert row is not None and row.image is not None
    assert row.image.media_type == "image/svg+xml"


def test_short_name_is_made_from_the_name_when_left_empty(staff: FlaskClient,
                                                          session: Session) -> None:
    assert post(staff, NEW, complete(slug="")).status_code == 302
    assert achievement(session, "mentor-of-the-month") is not None


@pytest.mark.parametrize(("filename", "content_type", "make"), [
    ("badge.gif", "image/gif", lambda: picture("GIF")),
    ("setup.exe", "application/octet-stream", lambda: b"MZ\x90\x00" + b"\x00" * 200),
    ("badge.svg", "image/svg+xml",
     lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("badge.svg", "image/svg+xml",
     lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>'),
    ("badge.png", "image/svg+xml", lambda: picture("PNG")),
    ("empty.png", "image/png", lambda: b""),
])
def test_unsafe_or_wrong_images_are_refused(staff: FlaskClient, session: Session,
                                            filename: str, content_type: str,
                                            make: Any) -> None:
    before = snapshot(session)
    data = complete(image=(make(), filename, content_type))
    response = post(staff, NEW, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-image-error"' in html
    assert 'value="Mentor of the Month"' in html  # what was typed is kept
    assert snapshot(session) == before


def test_an_image_larger_than_allowed_is_refused(staff: FlaskClient, session: Session,
                                                 ctx: ServiceContext) -> None:
    big = picture("PNG") + b"\x00" * ctx.settings.max_image_bytes
    response = post(staff, NEW, complete(image=(big, "big.png", "image/png")))
    assert response.status_code == 422
    assert "larger than" in response.get_data(as_text=True)
    assert achievement(session, "mentor-month") is None
    assert image_count(session) == 0


def test_field_errors_are_shown_next_to_fields_and_keep_the_input(staff: FlaskClient,
                                                                  session: Session) -> None:
    before = snapshot(session)
    response = post(staff, NEW, complete(name="Keeps <my> typing", description=""))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="f-description-error"' in html
    assert "Describe what the badge recognises" in html
    assert 'value="Keeps &lt;my&gt; typing"' in html
    assert 'value="https://guild.example/criteria/mentor"' in html
    assert 'value="mentoring, teamwork , mentoring"' in html
    assert "Four weekly sessions, confirmed by the mentees.</textarea>" in html
    assert '<option value="Competency" selected>' in html
    assert 'value="Mentoring others"' in html
    assert snapshot(session) == before


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"criteria_url": "not a web address"}, "criteria_url",
     "The criteria web address must be an http(s) URL"),
    ({"credits_available": "lots"}, "credits_available", "number"),
    ({"credits_available": "-1"}, "credits_available", "between"),
    ({"slug": "Bad Slug!"}, "slug", "short name"),
    ({"slug": "peer-scaffolder"}, "slug", "already has"),
    ({"achievement_type": "NotAType"}, "achievement_type", "not an OB 3.0 achievement type"),
    ({"criteria_narrative": "", "criteria_url": ""}, "criteria_narrative", "criteria"),
    ({"alignment-1-target_name": "Half a row"}, "alignment-1-target_url", "web address"),
    ({"alignment-0-target_name": ""}, "alignment-0-target_name", "name"),
])
def test_rules_of_the_use_case_come_back_as_field_errors(
    staff: FlaskClient, session: Session, changes: dict[str, str], field: str, words: str
) -> None:
    before = snapshot(session)
    response = post(staff, NEW, complete(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    start = html.index(f'id="f-{field}-error"')
    assert words in html[start:start + 300]
    assert snapshot(session) == before


def test_edit_form_is_prefilled_and_warns_that_issued_badges_keep_their_copy(
    staff: FlaskClient,
) -> None:
    html = page(staff, EDIT)
    assert "Editing never changes badges already issued" in html
    assert 'value="Peer Scaffolder"' in html
    assert "Two peer attestations.</textarea>" in html
    assert 'value="1.5"' in html and 'value="mentoring"' in html
    assert 'name="slug"' not in html  # the short name is part of the badge's id


def test_editing_changes_the_badge_but_not_what_was_issued(
    staff: FlaskClient, session: Session, ctx: ServiceContext
) -> None:
    issued = award_to(session, ctx, "guild", "ada@example.org")
    before = issued.document
    png = picture("PNG")
    data = complete(name="Peer Scaffolder II", slug="renamed",
                    image=(png, "b.png", "image/png"))
    response = post(staff, EDIT, data)
    assert response.status_code == 302
    row = achievement(session, "peer-scaffolder")
    assert row is not None
    assert achievement(session, "renamed") is None
    assert row.name == "Peer Scaffolder II" and row.version == 2
    theirs = achievement(session, "peer-scaffolder", issuer="other")
    assert theirs is not None and theirs.name == "Peer Scaffolder"
    assert row.image is not None and row.image.data == png
    session.refresh(issued)
    assert issued.document == before
    assert json.loads(issued.document)["credentialSubject"]["achievement"]["name"] == \
        "Peer Scaffolder"
    assert verify(session, ctx, issued.document).valid


def test_clearing_optional_fields_on_edit(staff: FlaskClient, session: Session) -> None:
    data = complete(name="Peer Scaffolder", criteria_url="", achievement_type="",
                    credits_available="", tags="", **{"alignment-0-target_name": "",
                                                      "alignment-0-target_url": "",
                                                      "alignment-0-target_framework": "",
                                                      "alignment-0-target_code": ""})
    assert post(staff, EDIT, data).status_code == 302
    row = achievement(session, "peer-scaffolder")
    assert row is not None
    assert row.criteria_url is None and row.achievement_type is None
    assert row.credits_available is None and row.tags == [] and row.alignments == []


def test_a_failed_edit_changes_nothing(staff: FlaskClient, session: Session) -> None:
    before = snapshot(session)
    response = post(staff, EDIT, complete(name="New name", credits_available="lots"))
    assert response.status_code == 422
    assert 'value="New name"' in response.get_data(as_text=True)
    assert snapshot(session) == before


def test_editing_an_unknown_badge_is_not_found(staff: FlaskClient) -> None:
    assert staff.get("/admin/issuers/guild/achievements/nope/edit").status_code == 404


def test_badge_names_are_escaped_on_the_issuer_page(staff: FlaskClient) -> None:
    name = '<img src=x onerror="alert(1)">'
    assert post(staff, NEW, complete(name=name, slug="xss")).status_code == 302
    html = page(staff, "/admin/issuers/guild")
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<img src=x" not in html
