"""Baked badge downloads (OB 3.0 §5.3) over real HTTP: bake → extract → verify, on real images.

Every baked file is read back with the core reader, checked by the service's verifier, by
the verify page (an upload through the test client) and by the installed ``issuer verify``
with the DID document the service publishes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from issuer.core.baking import extract
from issuer.services.achievements import (
    create_achievement,
    get_achievement,
    store_image,
    update_achievement,
)
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.baking import BAKE_LIMIT, default_badge_svg
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer, issuer_did
from issuer.services.verification import verify
from issuer.storage.models import Credential, Image
from tests.conftest import World
from tests.core.test_baking import chunks_of, interlaced_png
from tests.web.public.test_verify import submit

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))
SVG_NS = "{http://www.w3.org/2000/svg}"
EVIL_NAME = "<script>alert(\"x\")</script> & 'Quotes' ]]> Badge"


def pillow_png(image: PILImage.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def palette_png() -> bytes:
    rgb = PILImage.new("RGB", (40, 30))
    rgb.putdata([((x * 37) % 256, (y * 53) % 256, 90) for y in range(30) for x in range(40)])
    return pillow_png(rgb.convert("P", palette=PILImage.Palette.ADAPTIVE, colors=12))


def alpha_png() -> bytes:
    rgba = PILImage.new("RGBA", (32, 32))
    rgba.putdata([(200, x * 8, y * 8, (x + y) * 4) for y in range(32) for x in range(32)])
    return pillow_png(rgba)


def interlaced() -> bytes:
    return interlaced_png([[(x * 20, y * 20, (x ^ y) * 10) for x in range(11)]
                           for y in range(9)])


SVG_PLAIN = ('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
             '<circle cx="32" cy="32" r="30" fill="#c33"/></svg>\n')
SVG_DECLARED = ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- badge art -->\n'
                '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
                ' width="64" height="64"><rect width="64" height="64" fill="#3c3"/>'
                '<text x="4" y="40">Zoë</text></svg>\n')

PNG_IMAGES = {"palette": palette_png, "alpha": alpha_png, "interlaced": interlaced}
SVG_IMAGES = {"plain": SVG_PLAIN, "declared": SVG_DECLARED}


def issue(session: Session, ctx: ServiceContext, world: World, *, image: bytes | None = None,
          achievement_name: str | None = None, recipient: str | None = "Ada Learner"
          ) -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    if achievement_name is None:
        achievement = get_achievement(session, issuer, world.achievement_slug)
    else:
        achievement = create_achievement(session, ctx, issuer, {
            "name": achievement_name, "slug": "special", "description": "Did a thing.",
            "criteria_narrative": "Doing the thing.",
        })
    if image is not None:
        achievement.image_id = store_image(session, ctx, issuer, image).id
        session.flush()
        session.refresh(achievement)
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("ada@example.org", recipient)))
    session.commit()
    return row


def download(client: FlaskClient, row: Credential, fmt: str) -> bytes:
    response = client.get(f"/credentials/{row.id}/badge.{fmt}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == ("image/png" if fmt == "png" else "image/svg+xml")
    return response.data


def pixels(png: bytes) -> tuple[str, tuple[int, int], bytes, list[int] | None]:
    with PILImage.open(io.BytesIO(png)) as image:
        image.load()
        return image.mode, image.size, image.tobytes(), image.getpalette()


def assert_verifies(session: Session, ctx: ServiceContext, row: Credential, baked: bytes) -> None:
    assert extract(baked) == row.document  # byte for byte what was signed and stored
    report = verify(session, ctx, baked)
    assert report.valid, [(c.id, c.message) for c in report.failed]
    assert report.credential["id"] == f"{ctx.base}/credentials/{row.id}"


# --- PNG ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PNG_IMAGES))
def test_png_download_is_the_issued_image_with_the_credential(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, kind: str
) -> None:
    original = PNG_IMAGES[kind]()
    row = issue(session, ctx, world, image=original)
    response = client.get(f"/credentials/{row.id}/badge.png")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="peer-scaffolder.png"'
    baked = response.data
    assert_verifies(session, ctx, row, baked)
    # The picture is the achievement's own, unchanged: same pixels, same palette, and every
    # chunk but the added iTXt kept as it was (an interlaced image stays interlaced).
    assert pixels(baked) == pixels(original)
    added = [c for c in chunks_of(baked) if c not in chunks_of(original)]
    assert [c[0] for c in added] == [b"iTXt"]
    assert chunks_of(baked)[0] == chunks_of(original)[0]


def test_interlaced_test_image_really_is_interlaced() -> None:
    assert chunks_of(interlaced())[0][1][12] == 1  # IHDR interlace method: Adam7


# --- SVG ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SVG_IMAGES))
def test_svg_download_is_the_issued_image_with_the_credential(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, kind: str
) -> None:
    original = SVG_IMAGES[kind]
    row = issue(session, ctx, world, image=original.encode("utf-8"))
    response = client.get(f"/credentials/{row.id}/badge.svg")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="peer-scaffolder.svg"'
    assert "sandbox" in response.headers["Content-Security-Policy"]
    baked = response.data
    assert_verifies(session, ctx, row, baked)
    text = baked.decode("utf-8")
    # Only the credential element and its namespace were added; the drawing is untouched.
    body = original.split("<svg", 1)[1].split(">", 1)[1]
    assert text.endswith(body)
    assert text.startswith(original.split("<svg", 1)[0] + "<svg")
    assert text.count("<openbadges:credential>") == 1


# --- which image -------------------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "fmt"), [(None, "png"), (None, "svg"),
                                             ("svg", "png"), ("png", "svg")])
def test_a_default_badge_is_drawn_when_no_image_of_that_format_exists(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
    stored: str | None, fmt: str
) -> None:
    image = {"png": alpha_png(), "svg": SVG_PLAIN.encode(), None: None}[stored]
    row = issue(session, ctx, world, image=image)
    baked = download(client, row, fmt)
    assert_verifies(session, ctx, row, baked)
    if fmt == "png":
        mode, size, _, _ = pixels(baked)
        assert (mode, size) == ("RGBA", (512, 512))
        with PILImage.open(io.BytesIO(baked)) as picture:
            assert picture.getpixel((0, 0))[3] == 0  # round badge: transparent corners
            assert picture.getpixel((256, 40))[3] == 255
    else:
        root = ET.fromstring(baked)
        assert root.find(f"{SVG_NS}title").text == "Peer Scaffolder"
        assert "#c33" not in baked.decode()


def test_the_baked_image_is_the_one_issued_even_after_the_achievement_changes(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    first = palette_png()
    row = issue(session, ctx, world, image=first)
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    achievement.image_id = store_image(session, ctx, issuer, alpha_png()).id
    update_achievement(session, ctx, achievement, {"name": "Renamed Badge"})
    session.commit()
    assert pixels(download(client, row, "png")) == pixels(first)
    # The drawn SVG still carries the name that was signed, and the file is named after it.
    response = client.get(f"/credentials/{row.id}/badge.svg")
    assert "Peer Scaffolder" in response.get_data(as_text=True)
    assert "Renamed" not in response.get_data(as_text=True)
    assert 'filename="peer-scaffolder.svg"' in response.headers["Content-Disposition"]
    # A credential issued now gets the new image.
    later = award(session, ctx, issuer, achievement,
                  AwardRequest(recipient=Recipient.parse("bo@example.org")))
    session.commit()
    assert pixels(download(client, later, "png")) == pixels(alpha_png())


def test_names_with_markup_are_escaped_in_the_drawn_svg(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, achievement_name=EVIL_NAME)
    response = client.get(f"/credentials/{row.id}/badge.svg")
    baked = response.data
    assert_verifies(session, ctx, row, baked)
    root = ET.fromstring(baked)
    assert root.find(f"{SVG_NS}title").text == EVIL_NAME
    assert root.get("aria-label") == EVIL_NAME
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    shown = "".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))
    assert shown.replace(" ", "") == EVIL_NAME.replace(" ", "")
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="script-alert-x-script-quotes-badge.svg"'


def test_drawn_svg_survives_control_characters_and_very_long_names() -> None:
    svg = default_badge_svg("Tab\tand\x01bell\x07 " + "word " * 200)
    root = ET.fromstring(svg)  # well-formed despite characters XML forbids
    title = root.find(f"{SVG_NS}title").text or ""
    assert "\x01" not in title and "\x07" not in title
    assert title.endswith("…") and len(title) <= 120
    assert len(list(root.iter(f"{SVG_NS}tspan"))) <= 4


# --- caching -----------------------------------------------------------------------------------


def test_downloads_are_private_and_revalidated_by_etag(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world, image=alpha_png())
    other = issue(session, ctx, world, image=alpha_png())
    tags = {}
    for fmt in ("png", "svg"):
        first = client.get(f"/credentials/{row.id}/badge.{fmt}")
        assert first.headers["Cache-Control"] == "private, no-cache"
        etag = first.headers["ETag"]
        again = client.get(f"/credentials/{row.id}/badge.{fmt}")
        assert again.headers["ETag"] == etag and again.data == first.data
        cached = client.get(f"/credentials/{row.id}/badge.{fmt}",
                            headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert cached.data == b""
        assert cached.headers["ETag"] == etag
        assert cached.headers["Cache-Control"] == "private, no-cache"
        stale = client.get(f"/credentials/{row.id}/badge.{fmt}",
                           headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200
        tags[fmt] = etag
        assert client.get(f"/credentials/{other.id}/badge.{fmt}").headers["ETag"] != etag
    assert tags["png"] != tags["svg"]


# --- refusals ----------------------------------------------------------------------------------


def _raw_image(session: Session, world: World, data: bytes, media_type: str) -> Image:
    """An image row as an older version (with a higher upload limit) may have stored it."""
    issuer = get_issuer(session, world.issuer_slug)
    row = Image(issuer_id=issuer.id, media_type=media_type, data=data,
                sha256=hashlib.sha256(data).hexdigest())
    session.add(row)
    session.flush()
    achievement = get_achievement(session, issuer, world.achievement_slug)
    achievement.image_id = row.id
    session.commit()
    return row


def _award(session: Session, ctx: ServiceContext, world: World) -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    session.refresh(achievement)
    row = award(session, ctx, issuer, achievement,
                AwardRequest(recipient=Recipient.parse("ada@example.org")))
    session.commit()
    return row


def test_an_image_over_the_bake_limit_is_refused_in_plain_words(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    small = alpha_png()
    # A valid PNG padded with a private ancillary chunk to just over the limit.
    padding = BAKE_LIMIT - len(small) + 1
    chunk = (padding.to_bytes(4, "big") + b"prVt" + b"\0" * padding + b"\0\0\0\0")
    big = small[:33] + chunk + small[33:]
    assert len(big) > BAKE_LIMIT
    _raw_image(session, world, big, "image/png")
    row = _award(session, ctx, world)
    machine = client.get(f"/credentials/{row.id}/badge.png",
                         headers={"Accept": "application/json"})
    assert machine.status_code == 422
    assert machine.mimetype == "application/problem+json"
    assert "too large to bake" in machine.json["detail"]
    assert f"{BAKE_LIMIT:,} bytes" in machine.json["detail"]
    person = client.get(f"/credentials/{row.id}/badge.png")
    assert person.status_code == 422
    assert person.mimetype == "text/html"
    assert "too large to bake" in person.get_data(as_text=True)
    # The other format does not need that image and still works.
    assert_verifies(session, ctx, row, download(client, row, "svg"))


def test_a_damaged_stored_image_gets_a_clear_error_not_a_500(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    _raw_image(session, world, alpha_png()[:-20], "image/png")
    row = _award(session, ctx, world)
    response = client.get(f"/credentials/{row.id}/badge.png",
                          headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert "cannot be baked into the badge image" in response.json["detail"]
    assert "truncated" in response.json["detail"]


@pytest.mark.parametrize("path", [
    "/credentials/00000000-0000-4000-8000-000000000000/badge.png",
    "/credentials/not-a-uuid/badge.svg",
    "/credentials/{id}/badge.gif",
    "/credentials/{id}/badge.PNG",
])
def test_unknown_credentials_and_formats_are_404(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, path: str
) -> None:
    row = issue(session, ctx, world)
    assert client.get(path.format(id=row.id)).status_code == 404


# --- other verifiers ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_downloads_verify_on_the_verify_page(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, fmt: str
) -> None:
    image = alpha_png() if fmt == "png" else SVG_DECLARED.encode()
    row = issue(session, ctx, world, image=image)
    baked = download(client, row, fmt)
    response = submit(client, file=(io.BytesIO(baked), f"peer-scaffolder.{fmt}"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "✓</span> Valid" in page
    assert "Not valid" not in page
    assert f"baked into a{'n' if fmt == 'svg' else ''} {fmt.upper()} image" in page
    assert "Ada Learner" in page


@pytest.mark.parametrize(("fmt", "image"), [("png", "palette"), ("png", None),
                                            ("svg", "declared"), ("svg", None)])
def test_downloads_verify_with_the_issuer_verify_command(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, tmp_path: Path,
    fmt: str, image: str | None
) -> None:
    data = None
    if image is not None:
        data = PNG_IMAGES[image]() if fmt == "png" else SVG_IMAGES[image].encode()
    row = issue(session, ctx, world, image=data)
    baked = tmp_path / f"badge.{fmt}"
    baked.write_bytes(download(client, row, fmt))
    did = tmp_path / "did.json"
    did.write_bytes(client.get("/issuers/guild/did.json").data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUER_")}
    result = subprocess.run([ISSUER_CMD, "verify", str(baked), "--trust", str(did), "--json"],
                            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["issuer"] == issuer_did(ctx, "guild")
    parse = next(c for c in report["checks"] if c["id"] == "parse")
    assert f"baked into a{'n' if fmt == 'svg' else ''} {fmt.upper()} image" in parse["message"]
    # Without the service's DID document the key cannot be trusted: proof that it was used.
    untrusted = subprocess.run([ISSUER_CMD, "verify", str(baked)], capture_output=True,
                               text=True, timeout=120, env=env, check=False)
    assert untrusted.returncode == 1
