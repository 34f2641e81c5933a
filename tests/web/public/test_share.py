"""Sharing from the credential page: LinkedIn, share links, copy link, link-preview picture."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from issuer.services.achievements import create_achievement, get_achievement, store_image
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import create_issuer, get_issuer
from issuer.storage.models import Credential
from issuer.web.public.share import linkedin_add_url
from tests.conftest import BASE_URL, World

EVIL = "<script>alert(\"x\")</script> & 'Co' ?a=b#c"
ACCENT = (47, 91, 211)


def png(size: int = 64, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (size, size), colour).save(buffer, "PNG")
    return buffer.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<rect width="10" height="10" fill="red"/></svg>')


def issue(session: Session, ctx: ServiceContext, world: World, *, name: str | None = "Ada Learner",
          image: bytes | None = None, valid_days: int | None = None,
          issuer_slug: str | None = None) -> Credential:
    issuer = get_issuer(session, issuer_slug or world.issuer_slug)
    if issuer_slug is None:
        achievement = get_achievement(session, issuer, world.achievement_slug)
    else:
        achievement = issuer.achievements[0]
    if image is not None:
        achievement.image_id = store_image(session, ctx, issuer, image).id
        session.flush()
        session.refresh(achievement)
    until = ctx.now() + timedelta(days=valid_days) if valid_days else None
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("ada@example.org", name),
                             valid_until=until))
    session.commit()
    return row


def page_of(client: FlaskClient, row: Credential) -> str:
    response = client.get(f"/credentials/{row.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def link(page: str, text: str) -> re.Match[str]:
    """The <a> whose text starts with ``text``: its href (unescaped) and attributes."""
    match = re.search(r'<a ([^>]*)href="([^"]*)"([^>]*)>' + re.escape(text), page)
    assert match, f"no link {text!r}"
    return match


def href(page: str, text: str) -> str:
    return html.unescape(link(page, text).group(2))


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


# --- LinkedIn add to profile -------------------------------------------------------------------


def test_add_to_linkedin_fills_the_certification_form(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, valid_days=400)
    page = page_of(client, row)
    match = link(page, "Add to LinkedIn profile")
    assert 'target="_blank"' in match.group(0) and 'rel="noopener"' in match.group(0)
    url = href(page, "Add to LinkedIn profile")
    assert url.startswith("https://www.linkedin.com/profile/add?")
    issued, expires = row.issued_at, row.valid_until
    assert expires is not None
    assert query(url) == [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", "Peer Scaffolder"),
        ("organizationName", "Guild Guild"),
        ("issueYear", str(issued.year)), ("issueMonth", str(issued.month)),
        ("expirationYear", str(expires.year)), ("expirationMonth", str(expires.month)),
        ("certUrl", f"{BASE_URL}/credentials/{row.id}"),
        ("certId", row.id),
    ]


def test_add_to_linkedin_without_expiry_and_with_awkward_names(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    issuer = create_issuer(session, ctx, slug="evil", name=EVIL)
    create_achievement(session, ctx, issuer, {
        "name": EVIL, "description": "d", "criteria_narrative": "c", "slug": "evil-badge"})
    session.commit()
    row = issue(session, ctx, world, name=EVIL, issuer_slug="evil")
    page = page_of(client, row)
    assert "<script>alert" not in page
    params = dict(query(href(page, "Add to LinkedIn profile")))
    assert params["name"] == EVIL
    assert params["organizationName"] == EVIL
    assert "expirationYear" not in params and "expirationMonth" not in params
    assert "organizationId" not in params
    for text in ("Post on X", "Send by email"):
        assert EVIL in " ".join(v for _, v in query(href(page, text)))


def test_linkedin_organization_id_is_sent_only_when_known() -> None:
    common = {"name": "B", "organization_name": "O", "cert_url": "https://x/c/1", "cert_id": "1"}
    assert "organizationId" not in linkedin_add_url(**common)
    params = query(linkedin_add_url(**common, organization_id="12345"))
    assert ("organizationId", "12345") in params
    # Spaces travel as %20, which every target (and mailto) reads as a space.
    assert "name=A%20B" in linkedin_add_url(**{**common, "name": "A B"})


# --- share links -------------------------------------------------------------------------------


def test_share_links_carry_the_credential_address(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    page = page_of(client, row)
    url = f"{BASE_URL}/credentials/{row.id}"

    linkedin = href(page, "Post on LinkedIn")
    assert linkedin.startswith("https://www.linkedin.com/sharing/share-offsite/?")
    assert query(linkedin) == [("url", url)]

    x = href(page, "Post on X")
    assert x.startswith("https://twitter.com/intent/tweet?")
    assert dict(query(x)) == {"text": "Ada Learner earned Peer Scaffolder, issued by Guild Guild.",
                              "url": url}

    facebook = href(page, "Share on Facebook")
    assert facebook.startswith("https://www.facebook.com/sharer/sharer.php?")
    assert query(facebook) == [("u", url)]

    email = href(page, "Send by email")
    assert email.startswith("mailto:?")
    fields = dict(query(email))
    assert fields["subject"] == "Open Badge: Peer Scaffolder"
    assert url in fields["body"] and "Ada Learner earned Peer Scaffolder" in fields["body"]
    assert "+" not in email  # RFC 6068: a "+" would stay a plus sign in the mail

    for text in ("Post on LinkedIn", "Post on X", "Share on Facebook"):
        attributes = link(page, text).group(0)
        assert 'target="_blank"' in attributes and 'rel="noopener"' in attributes


def test_share_text_without_a_recipient_name(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, name=None)
    text = dict(query(href(page_of(client, row), "Post on X")))["text"]
    assert text == "Open Badge: Peer Scaffolder, issued by Guild Guild."


def test_copy_link_works_without_script_and_no_third_party_code_is_loaded(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, image=png())
    response = client.get(f"/credentials/{row.id}")
    page = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    url = f"{BASE_URL}/credentials/{row.id}"
    assert '<label for="share-url">Link to this badge</label>' in page
    assert f'<input id="share-url" type="text" value="{url}" readonly>' in page
    # The copy button appears only when the script finds a clipboard it may use.
    assert re.search(r'<button type="button" class="secondary" data-copy="share-url" hidden>',
                     page)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts == [' src="/static/public-share.js" defer']
    with client.get("/static/public-share.js") as script:
        assert script.status_code == 200
        assert "navigator.clipboard" in script.get_data(as_text=True)
    # Nothing on the page is loaded from another site: only links point elsewhere.
    for attribute in re.findall(r'(?:src|srcset|data)="([^"]*)"', page):
        assert attribute.startswith(("/", f"{BASE_URL}/")), attribute
    for stylesheet in re.findall(r'<link rel="stylesheet" href="([^"]*)"', page):
        assert stylesheet.startswith("/static/")


def test_baked_downloads_sit_next_to_the_json_download(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    page = page_of(client, row)
    actions = page.split('<div class="public-actions">', 1)[1].split("</div>", 1)[0]
    assert f'href="/credentials/{row.id}/download" download>Download JSON</a>' in actions
    for fmt in ("png", "svg"):
        target = f"/credentials/{row.id}/badge.{fmt}"
        assert f'href="{target}" download>Badge image ({fmt.upper()})</a>' in actions
        assert client.get(target).status_code == 200


# --- Open Graph ---------------------------------------------------------------------------------


def test_open_graph_tags_point_to_the_preview_picture(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, image=png())
    page = page_of(client, row)
    og = f"{BASE_URL}/credentials/{row.id}/og.png"
    assert f'<meta property="og:image" content="{og}">' in page
    assert '<meta property="og:image:width" content="1200">' in page
    assert '<meta property="og:image:height" content="630">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'<meta name="twitter:image" content="{og}">' in page
    assert page.count('property="og:image"') == 1


def _preview(client: FlaskClient, row: Credential) -> PILImage.Image:
    response = client.get(f"/credentials/{row.id}/og.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    picture = PILImage.open(io.BytesIO(response.data))
    picture.load()
    return picture


def test_preview_picture_shows_the_png_badge_and_text(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, image=png(colour=(200, 30, 30)))
    picture = _preview(client, row).convert("RGB")
    assert picture.size == (1200, 630)
    assert picture.getpixel((290, 308)) == (200, 30, 30)  # the badge, left, centred
    right = picture.crop((560, 0, 1200, 600))
    assert (29, 36, 51) in {colour for _, colour in right.getcolors(1_000_000)}  # text ink


@pytest.mark.parametrize("image", [SVG, None, b"\x89PNG\r\n\x1a\n damaged"])
def test_preview_picture_draws_the_default_badge_otherwise(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
    image: bytes | None
) -> None:
    row = issue(session, ctx, world, image=image)
    picture = _preview(client, row).convert("RGB")
    assert picture.size == (1200, 630)
    assert picture.getpixel((290, 88 + 15)) == ACCENT  # the default badge's outer ring


def test_preview_does_not_decode_huge_images(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    # 6000×6000 one-bit pixels compress to a few KB but would take 36 M pixels to decode.
    buffer = io.BytesIO()
    PILImage.new("1", (6000, 6000), 1).save(buffer, "PNG")
    row = issue(session, ctx, world, image=buffer.getvalue())
    picture = _preview(client, row).convert("RGB")
    assert picture.getpixel((290, 88 + 15)) == ACCENT


def test_preview_picture_differs_by_recipient_and_is_cached(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    ada = issue(session, ctx, world, name="Ada Learner")
    bo = issue(session, ctx, world, name="Bo Student")
    first = client.get(f"/credentials/{ada.id}/og.png")
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    etag = first.headers["ETag"]
    assert client.get(f"/credentials/{ada.id}/og.png").data == first.data
    other = client.get(f"/credentials/{bo.id}/og.png")
    assert other.data != first.data and other.headers["ETag"] != etag
    cached = client.get(f"/credentials/{ada.id}/og.png", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["Cache-Control"] == "public, max-age=86400"


def test_preview_of_an_unknown_credential_is_404(client: FlaskClient, world: World) -> None:
    assert client.get("/credentials/00000000-0000-4000-8000-000000000000/og.png"
                      ).status_code == 404
    assert client.get("/credentials/nope/og.png").status_code == 404
