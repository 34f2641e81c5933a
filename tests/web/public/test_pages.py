"""The public side over real HTTP: issuer, achievement and credential URLs, images, QR codes."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from issuer.cli import main as cli_main
from issuer.services.achievements import (
    achievement_builder,
    get_achievement,
    store_image,
    update_achievement,
)
from issuer.services.awards import AwardRequest, EvidenceItem, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import did_document, get_issuer, issuer_did, profile_document
from issuer.storage.models import Credential
from tests.conftest import BASE_URL, World

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
EVIL_NAME = "<script>alert(1)</script>"


def make_png(size: int = 4) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (size, size), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<rect width="10" height="10" fill="red"/></svg>')


def issue(session: Session, ctx: ServiceContext, world: World, *, name: str | None = "Ada Learner",
          email: str = "learner@example.org", image: bytes | None = None) -> Credential:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    if image is not None:
        achievement.image_id = store_image(session, ctx, issuer, image).id
        session.flush()
        session.refresh(achievement)
    row = award(session, ctx, issuer, achievement, AwardRequest(
        recipient=Recipient.parse(email, name),
        evidence=(EvidenceItem(url="https://forum.example/t/1", name="Forum answer",
                               narrative="Explained recursion.\nTwice."),),
    ), actor="test")
    session.commit()
    return row


# --- start page ------------------------------------------------------------------------------


def test_start_page_links_to_verify_and_staff_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/verify"' in page
    assert 'href="/admin/"' in page
    assert "Open Badges 3.0" in page


# --- issuer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/ld+json", "application/json",
                                    "application/ld+json, text/html;q=0.5"])
def test_issuer_url_answers_json_ld_to_machines(client: FlaskClient, session: Session,
                                                ctx: ServiceContext, world: World,
                                                accept: str) -> None:
    response = client.get("/issuers/guild", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert "Accept" in response.vary
    issuer = get_issuer(session, "guild")
    assert response.get_json(force=True) == profile_document(ctx, issuer)


def test_issuer_url_answers_a_page_to_people(client: FlaskClient, session: Session,
                                             ctx: ServiceContext, world: World) -> None:
    for headers in ({"Accept": BROWSER}, {"Accept": "*/*"}, {}):
        response = client.get("/issuers/guild", headers=headers)
        assert response.status_code == 200
        assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Guild Guild</h1>" in page
    assert issuer_did(ctx, get_issuer(session, "guild")) in page
    assert 'href="/issuers/guild/did.json"' in page
    assert 'href="/issuers/guild/achievements/peer-scaffolder"' in page
    as_json = client.get("/issuers/guild?format=json", headers={"Accept": BROWSER})
    assert as_json.mimetype == "application/ld+json"


def test_did_document_is_served_for_did_web(client: FlaskClient, session: Session,
                                            ctx: ServiceContext, world: World) -> None:
    response = client.get("/issuers/guild/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    document = response.get_json(force=True)
    assert document == did_document(ctx, get_issuer(session, "guild"))
    assert document["id"] == "did:web:badges.test:issuers:guild"
    etag = response.headers["ETag"]
    again = client.get("/issuers/guild/did.json", headers={"If-None-Match": etag})
    assert again.status_code == 304


# --- achievement -----------------------------------------------------------------------------


def test_achievement_url_negotiates(client: FlaskClient, session: Session, ctx: ServiceContext,
                                    world: World) -> None:
    issuer = get_issuer(session, "guild")
    achievement = get_achievement(session, issuer, "peer-scaffolder")
    update_achievement(session, ctx, achievement, {
        "criteria_narrative": "Answer <b>two</b> questions.\nWith care.\n\nThen ask a peer.",
    })
    session.commit()
    url = "/issuers/guild/achievements/peer-scaffolder"

    as_json = client.get(url, headers={"Accept": "application/ld+json"})
    assert as_json.mimetype == "application/ld+json"
    document = as_json.get_json(force=True)
    assert document["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    expected = achievement_builder(ctx, achievement).to_json()
    assert {k: v for k, v in document.items() if k != "@context"} == expected
    assert document["id"] == f"{BASE_URL}{url}"

    page = client.get(url, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "<h1>Peer Scaffolder</h1>" in page
    assert "Helped peers learn." in page
    # Markdown is shown as escaped text, line breaks kept, paragraphs split on blank lines.
    assert "Answer &lt;b&gt;two&lt;/b&gt; questions.<br>With care.</p>" in page
    assert "<p>Then ask a peer.</p>" in page
    assert "<b>two</b>" not in page
    assert 'href="/issuers/guild"' in page


# --- credential ------------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/vc+ld+json", "application/vc+ld+json"),
    ("application/vc", "application/vc"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/json"),
    ("application/ld+json;q=0.9, text/html;q=0.1", "application/ld+json"),
])
def test_credential_json_is_the_stored_bytes(client: FlaskClient, session: Session,
                                             ctx: ServiceContext, world: World, accept: str,
                                             media_type: str) -> None:
    row = issue(session, ctx, world)
    response = client.get(f"/credentials/{row.id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.data == row.document.encode("utf-8")
    assert "Accept" in response.vary


def test_credential_format_json_and_download(client: FlaskClient, session: Session,
                                             ctx: ServiceContext, world: World) -> None:
    row = issue(session, ctx, world)
    inline = client.get(f"/credentials/{row.id}?format=json", headers={"Accept": BROWSER})
    assert inline.mimetype == "application/vc+ld+json"
    assert inline.data == row.document.encode("utf-8")
    download = client.get(f"/credentials/{row.id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/vc+ld+json"
    assert download.headers["Content-Disposition"] == \
        f'attachment; filename="badge-{row.id}.json"'
    assert download.data == row.document.encode("utf-8")


def test_credential_page_for_people(client: FlaskClient, session: Session, ctx: ServiceContext,
                                    world: World) -> None:
    row = issue(session, ctx, world, image=make_png())
    response = client.get(f"/credentials/{row.id}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    url = f"{BASE_URL}/credentials/{row.id}"
    image_url = json.loads(row.document)["credentialSubject"]["achievement"]["image"]["id"]
    assert image_url.startswith(f"{BASE_URL}/images/")
    assert "<h1>Peer Scaffolder</h1>" in page
    assert "Awarded to <strong>Ada Learner</strong>" in page
    assert '<a href="/issuers/guild">Guild Guild</a>' in page
    assert '<meta property="og:title" content="Peer Scaffolder">' in page
    assert f'<meta property="og:url" content="{url}">' in page
    assert '<meta property="og:type" content="website">' in page
    assert f'<meta property="og:image" content="{url}/og.png">' in page
    assert 'property="og:description" content="Ada Learner earned Peer Scaffolder' in page
    assert '<meta name="twitter:card"' in page
    assert f'src="{image_url}"' in page
    assert '<a href="https://forum.example/t/1" rel="nofollow noopener">Forum answer</a>' in page
    assert "Explained recursion.<br>Twice." in page
    assert "Two peer attestations." in page
    assert f'href="/credentials/{row.id}/verify"' in page
    assert f'href="/credentials/{row.id}/download"' in page
    assert f'src="/credentials/{row.id}/qr.svg"' in page
    # Neither the stored email nor its salted hash is shown.
    identity = json.loads(row.document)["credentialSubject"]["identifier"][0]["identityHash"]
    assert identity.startswith("sha256$")
    assert identity not in page
    assert "learner@example.org" not in page


def test_credential_page_escapes_the_recipient_name(client: FlaskClient, session: Session,
                                                    ctx: ServiceContext, world: World) -> None:
    row = issue(session, ctx, world, name=EVIL_NAME)
    assert EVIL_NAME in row.document
    page = client.get(f"/credentials/{row.id}").get_data(as_text=True)
    assert EVIL_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_credential_page_shows_what_was_signed_after_the_badge_is_edited(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    row = issue(session, ctx, world)
    achievement = get_achievement(session, get_issuer(session, "guild"), "peer-scaffolder")
    update_achievement(session, ctx, achievement, {"name": "Renamed Badge",
                                                   "description": "A new description."})
    session.commit()
    page = client.get(f"/credentials/{row.id}").get_data(as_text=True)
    assert "<h1>Peer Scaffolder</h1>" in page
    assert "Helped peers learn." in page
    assert "Renamed Badge" not in page
    assert "A new description." not in page


def test_served_credential_verifies_with_the_cli_and_the_served_did_document(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    row = issue(session, ctx, world)
    credential = client.get(f"/credentials/{row.id}",
                            headers={"Accept": "application/vc+ld+json"}).data
    did_doc = client.get("/issuers/guild/did.json").data
    (tmp_path / "badge.json").write_bytes(credential)
    (tmp_path / "did.json").write_bytes(did_doc)
    runner = CliRunner()

    good = runner.invoke(cli_main, ["verify", str(tmp_path / "badge.json"),
                                    "--trust", str(tmp_path / "did.json"), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["valid"] is True

    tampered = json.loads(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Grand Master"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")
    bad = runner.invoke(cli_main, ["verify", str(tmp_path / "tampered.json"),
                                   "--trust", str(tmp_path / "did.json"), "--json"])
    assert bad.exit_code == 1, bad.output
    report = json.loads(bad.output)
    assert report["valid"] is False
    assert any(c["id"] == "proof" and c["outcome"] == "failed" for c in report["checks"])

    # Without the served DID document the CLI has no key it may trust for the issuer.
    untrusted = runner.invoke(cli_main, ["verify", str(tmp_path / "badge.json")])
    assert untrusted.exit_code == 1


# --- QR codes --------------------------------------------------------------------------------
#
# No QR decoder (zbar, OpenCV) is installed, so the PNG is read back by the small decoder
# below: it samples the module grid from the pixels and reads the data codewords as ISO/IEC
# 18004 lays them out (an undamaged image needs no error correction). Only the table of
# block sizes comes from the qrcode package.

ALIGNMENT = {1: [], 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34],
             7: [6, 22, 38], 8: [6, 24, 42], 9: [6, 26, 46], 10: [6, 28, 50]}
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
MASKS = [
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
]


def _modules(png: bytes) -> list[list[bool]]:
    image = PILImage.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    assert width == height
    pixels = image.tobytes()  # mode "L": one byte per pixel, row by row
    dark = [[pixels[y * width + x] < 128 for x in range(width)] for y in range(height)]
    top = next(y for y in range(height) if any(dark[y]))
    left = dark[top].index(True)
    run = next(x for x in range(left, width) if not dark[top][x]) - left
    box = run // 7  # the finder pattern is seven modules wide
    count = (width - 2 * left) // box
    return [[dark[top + i * box + box // 2][left + j * box + box // 2] for j in range(count)]
            for i in range(count)]


def _format_words() -> dict[int, tuple[int, int]]:
    words = {}
    for level in range(4):
        for mask in range(8):
            data = (level << 3) | mask
            remainder = data << 10
            for bit in range(14, 9, -1):
                if remainder & (1 << bit):
                    remainder ^= 0x537 << (bit - 10)
            words[((data << 10) | remainder) ^ 0x5412] = (level, mask)
    return words


#: Where the 15 format bits sit beside the top-left finder pattern, most significant first.
FORMAT_BITS = [(8, c) for c in (0, 1, 2, 3, 4, 5, 7, 8)] + [(r, 8) for r in (7, 5, 4, 3, 2, 1, 0)]


def _reserved(n: int, version: int) -> list[list[bool]]:
    """Finder, separator, format, timing, alignment and version areas hold no data."""
    reserved = [[False] * n for _ in range(n)]

    def block(r0: int, c0: int, rows: int, cols: int) -> None:
        for r in range(r0, r0 + rows):
            for c in range(c0, c0 + cols):
                reserved[r][c] = True

    block(0, 0, 9, 9)
    block(0, n - 8, 9, 8)
    block(n - 8, 0, 8, 9)
    for k in range(n):
        reserved[6][k] = reserved[k][6] = True
    centres = ALIGNMENT[version]
    corners = {(r, c) for r in centres[:1] + centres[-1:] for c in centres[:1] + centres[-1:]
               if (r, c) != (centres[-1], centres[-1])}
    for r in centres:
        for c in centres:
            if (r, c) not in corners:  # those three would overlap the finder patterns
                block(r - 2, c - 2, 5, 5)
    if version >= 7:
        block(0, n - 11, 6, 3)
        block(n - 11, 0, 3, 6)
    return reserved


def _codewords(m: list[list[bool]], reserved: list[list[bool]], mask: int) -> list[int]:
    """Two-module columns, right to left, zig-zagging up and down, skipping the timing column."""
    n = len(m)
    stream: list[int] = []
    upward, col = True, n - 1
    while col > 0:
        if col == 6:
            col -= 1
        for row in (range(n - 1, -1, -1) if upward else range(n)):
            for c in (col, col - 1):
                if not reserved[row][c]:
                    stream.append(int(m[row][c] ^ MASKS[mask](row, c)))
        upward = not upward
        col -= 2
    return [int("".join(map(str, stream[k:k + 8])), 2) for k in range(0, len(stream) - 7, 8)]


def _segments(data: str, version: int) -> str:
    text, cursor = "", 0

    def take(count: int) -> int:
        nonlocal cursor
        cursor += count
        return int(data[cursor - count:cursor], 2)

    while cursor + 4 <= len(data):
        mode = take(4)
        if mode == 0:
            break
        if mode == 0b0100:
            text += bytes(take(8) for _ in range(take(8 if version < 10 else 16))).decode()
        elif mode == 0b0001:
            length = take(10 if version < 10 else 12)
            digits = ""
            while len(digits) + 3 <= length:
                digits += f"{take(10):03d}"
            if length - len(digits) == 2:
                digits += f"{take(7):02d}"
            elif length - len(digits) == 1:
                digits += str(take(4))
            text += digits
        elif mode == 0b0010:
            length = take(9 if version < 10 else 11)
            for _ in range(length // 2):
                pair = take(11)
                text += ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45]
            if length % 2:
                text += ALPHANUMERIC[take(6)]
        else:
            raise AssertionError(f"unexpected QR mode {mode:04b}")
    return text


def decode_qr(png: bytes) -> str:
    from qrcode.base import rs_blocks

    m = _modules(png)
    n = len(m)
    version = (n - 17) // 4
    assert version in ALIGNMENT and n == 17 + 4 * version
    bits = 0
    for i, j in FORMAT_BITS:
        bits = (bits << 1) | m[i][j]
    level, mask = _format_words()[bits]
    codewords = _codewords(m, _reserved(n, version), mask)
    # Data codewords are interleaved across the error-correction blocks.
    blocks = rs_blocks(version, level)
    data_blocks: list[list[int]] = [[] for _ in blocks]
    position = 0
    for k in range(max(b.data_count for b in blocks)):
        for index, b in enumerate(blocks):
            if k < b.data_count:
                data_blocks[index].append(codewords[position])
                position += 1
    return _segments("".join(f"{w:08b}" for blk in data_blocks for w in blk), version)


def test_qr_decoder_reads_codes_it_did_not_make(client: FlaskClient) -> None:
    import qrcode

    for text in ("HELLO WORLD 123", "https://example.org/a?b=c", "0123456789012345678901",
                 "https://example.org/" + "long-path/" * 12):
        buffer = io.BytesIO()
        qrcode.make(text, box_size=5, border=4).save(buffer)
        assert decode_qr(buffer.getvalue()) == text


def test_qr_png_carries_the_verify_url(client: FlaskClient, session: Session,
                                       ctx: ServiceContext, world: World) -> None:
    row = issue(session, ctx, world)
    response = client.get(f"/credentials/{row.id}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers.get("ETag")
    picture = PILImage.open(io.BytesIO(response.data))
    assert picture.format == "PNG"
    assert 150 <= picture.size[0] == picture.size[1] <= 800
    assert decode_qr(response.data) == f"{BASE_URL}/credentials/{row.id}/verify"


def test_qr_svg_is_an_svg_picture(client: FlaskClient, session: Session, ctx: ServiceContext,
                                  world: World) -> None:
    row = issue(session, ctx, world)
    response = client.get(f"/credentials/{row.id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
    assert b"<script" not in response.data


# --- images ----------------------------------------------------------------------------------


def test_images_are_served_with_their_type_and_svg_is_sandboxed(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    issuer = get_issuer(session, "guild")
    png = make_png()
    png_id = store_image(session, ctx, issuer, png).id
    svg_id = store_image(session, ctx, issuer, SVG).id
    session.commit()

    as_png = client.get(f"/images/{png_id}")
    assert as_png.status_code == 200
    assert as_png.mimetype == "image/png"
    assert as_png.data == png
    assert "immutable" in as_png.headers["Cache-Control"]
    assert "Content-Security-Policy" not in as_png.headers
    assert client.get(f"/images/{png_id}",
                      headers={"If-None-Match": as_png.headers["ETag"]}).status_code == 304

    as_svg = client.get(f"/images/{svg_id}")
    assert as_svg.status_code == 200
    assert as_svg.mimetype == "image/svg+xml"
    assert as_svg.data == SVG
    assert as_svg.headers["Content-Security-Policy"] == \
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert as_svg.headers["X-Content-Type-Options"] == "nosniff"


# --- not found -------------------------------------------------------------------------------

UNKNOWN = "0b7f9a52-3c1e-4d4e-9a55-2f6f3c1d9e10"
MALFORMED = "not-a-credential"


@pytest.mark.parametrize("path", [
    f"/credentials/{UNKNOWN}", f"/credentials/{MALFORMED}",
    f"/credentials/{UNKNOWN}/verify", f"/credentials/{MALFORMED}/verify",
    f"/credentials/{UNKNOWN}/download", f"/credentials/{UNKNOWN}/qr.png",
    f"/credentials/{MALFORMED}/qr.svg",
    "/issuers/nobody", "/issuers/Not%20A%20Slug", "/issuers/guild/achievements/nothing",
    "/images/999999",
])
def test_unknown_and_malformed_ids_are_404_pages(client: FlaskClient, world: World,
                                                 path: str) -> None:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "accept"), [
    (f"/credentials/{UNKNOWN}", "application/vc+ld+json"),
    (f"/credentials/{MALFORMED}", "application/ld+json"),
    (f"/credentials/{UNKNOWN}", "application/json"),
    ("/issuers/nobody", "application/ld+json"),
    ("/issuers/nobody/did.json", "application/did+json"),
    ("/issuers/guild/achievements/nothing", "application/json"),
])
def test_unknown_ids_are_problem_json_for_machines(client: FlaskClient, world: World,
                                                   path: str, accept: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert re.search(r"no |nothing", body["detail"])


def test_the_credential_page_shows_revocation(client: FlaskClient, session: Session,
                                              ctx: ServiceContext, world: World) -> None:
    from issuer.services.issuers import get_issuer
    from issuer.services.revocation import revoke

    row = issue(session, ctx, world)
    page = client.get(f"/credentials/{row.id}").get_data(as_text=True)
    assert "Not revoked or suspended" in page
    revoke(session, ctx, get_issuer(session, world.issuer_slug), row.id,
           reason="Awarded by mistake", actor="staff@guild.test")
    session.commit()
    page = client.get(f"/credentials/{row.id}").get_data(as_text=True)
    assert "Revoked by the issuer" in page
    assert "Awarded by mistake" in page
