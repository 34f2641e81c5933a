"""Baked badges (OB 3.0 §5.3) on real images: PNG chunks and SVG elements, good and bad."""

from __future__ import annotations

import io
import json
import struct
import time
import xml.etree.ElementTree as ET
import zlib

import pytest
from PIL import Image

from issuer.core import baking
from issuer.core.baking import (
    OB_NAMESPACE,
    bake_png,
    bake_svg,
    extract,
    extract_png,
    extract_svg,
    image_format,
)
from issuer.core.errors import InputError

PAYLOAD = json.dumps(
    {"name": "Ünïcødé badge ✓ 徽章", "note": "ends a CDATA section: ]]> and goes on"},
    ensure_ascii=False,
)
JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJkaWQ6a2V5OnoifQ.c2lnbmF0dXJl"
SVG_NS = "http://www.w3.org/2000/svg"


# -- PNG helpers written independently of the code under test ------------------------------


def chunks_of(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        ctype = png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(ctype + body)
        out.append((ctype, body))
        pos += 12 + length
    return out


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def with_chunk_before_idat(png: bytes, extra: bytes) -> bytes:
    index = png.index(b"IDAT") - 4
    return png[:index] + extra + png[index:]


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1:]


def pillow_png(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def gradient(mode: str, size: tuple[int, int] = (23, 17)) -> Image.Image:
    width, height = size
    if mode == "I;16":
        image = Image.new("I;16", size)
        image.putdata([(x * 2731 + y * 977) % 65536 for y in range(height) for x in range(width)])
        return image
    rgba = Image.new("RGBA", size)
    rgba.putdata([
        (x * 11 % 256, y * 15 % 256, (x * y) % 256, (x + y) * 7 % 256)
        for y in range(height) for x in range(width)
    ])
    if mode == "P":
        return rgba.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return rgba.convert(mode)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def interlaced_png(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """An Adam7-interlaced 8-bit RGB PNG (PNG §8.2), written by hand: Pillow cannot."""
    height, width = len(pixels), len(pixels[0])
    raw = bytearray()
    for x0, y0, dx, dy in ADAM7:
        columns, rows = range(x0, width, dx), range(y0, height, dy)
        if not columns or not rows:
            continue  # an empty pass has no scanlines at all
        for y in rows:
            raw += b"\0" + bytes(channel for x in columns for channel in pixels[y][x])
    data = zlib.compress(bytes(raw))
    half = len(data) // 2
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1))
        + chunk(b"IDAT", data[:half])
        + chunk(b"IDAT", data[half:])
        + chunk(b"IEND", b"")
    )


def opened(png: bytes) -> tuple[str, tuple[int, int], bytes, dict[str, str]]:
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.mode, image.size, image.tobytes(), dict(getattr(image, "text", {}))


# -- PNG ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "P", "RGBA", "L", "LA", "1", "I;16"])
def test_bake_png_round_trip_keeps_pixels_for_every_colour_type(mode: str) -> None:
    original = pillow_png(gradient(mode))
    baked = bake_png(original, PAYLOAD)
    assert extract_png(baked) == PAYLOAD
    assert extract(baked) == PAYLOAD
    assert opened(baked)[:3] == opened(original)[:3]
    # Pillow reads the iTXt chunk on its own: the chunk is well formed.
    assert opened(baked)[3]["openbadgecredential"] == PAYLOAD
    types = [t for t, _ in chunks_of(baked)]
    assert types.count(b"iTXt") == 1
    assert types.index(b"iTXt") == types.index(b"IDAT") - 1
    assert types.index(b"iTXt") > types.index(b"IHDR")
    if b"PLTE" in types:
        assert types.index(b"PLTE") < types.index(b"iTXt")
    # Every original chunk is still there, unchanged and in order.
    assert [c for c in chunks_of(baked) if c[0] != b"iTXt"] == chunks_of(original)


def test_sixteen_bit_image_really_is_sixteen_bit() -> None:
    ihdr = chunks_of(pillow_png(gradient("I;16")))[0][1]
    assert ihdr[8] == 16


def test_itxt_chunk_layout_is_exactly_what_the_spec_asks() -> None:
    baked = bake_png(pillow_png(gradient("RGB")), PAYLOAD)
    (body,) = [b for t, b in chunks_of(baked) if t == b"iTXt"]
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translation.
    assert body == b"openbadgecredential\0\0\0\0\0" + PAYLOAD.encode("utf-8")


def test_interlaced_png_built_by_hand_is_read_by_pillow_and_survives_baking() -> None:
    width, height = 11, 9
    pixels = [[(x * 23 % 256, y * 29 % 256, (x ^ y) * 13 % 256) for x in range(width)]
              for y in range(height)]
    original = interlaced_png(pixels)
    expected = bytes(c for row in pixels for p in row for c in p)
    assert opened(original)[:3] == ("RGB", (width, height), expected)
    baked = bake_png(original, JWS)
    assert extract_png(baked) == JWS
    assert opened(baked)[:3] == ("RGB", (width, height), expected)
    assert chunks_of(baked)[0][1][12] == 1  # still interlaced
    assert [t for t, _ in chunks_of(baked)] == [b"IHDR", b"iTXt", b"IDAT", b"IDAT", b"IEND"]


def test_rebaking_replaces_the_chunk_wherever_it_was() -> None:
    original = pillow_png(gradient("RGBA"))
    once = bake_png(original, PAYLOAD)
    twice = bake_png(once, JWS)
    assert extract_png(twice) == JWS
    assert [t for t, _ in chunks_of(twice)].count(b"iTXt") == 1
    assert bake_png(once, PAYLOAD) == once
    # A chunk after the image data (allowed by PNG) is replaced too.
    late = original[:-12] + chunk(b"iTXt", b"openbadgecredential\0\0\0\0\0old") + original[-12:]
    assert extract_png(late) == "old"
    rebaked = bake_png(late, "new")
    assert extract_png(rebaked) == "new"
    assert b"old" not in rebaked


def test_other_text_chunks_are_left_alone() -> None:
    image = pillow_png(gradient("RGB"))
    other = chunk(b"iTXt", b"Comment\0\0\0\0\0hello")
    legacy = chunk(b"tEXt", b"openbadgecredential\0{}")
    ob2 = chunk(b"iTXt", b"openbadges\0\0\0\0\0{}")
    source = with_chunk_before_idat(image, other + legacy + ob2)
    # OB 3.0 uses iTXt only: a tEXt chunk, or OB 2.0's keyword, is not a baked credential.
    assert extract_png(source) is None
    baked = bake_png(source, PAYLOAD)
    kept = chunks_of(baked)
    for wanted in (other, legacy, ob2):
        assert (wanted[4:8], wanted[8:-4]) in kept


def test_first_chunk_wins_when_reading() -> None:
    image = pillow_png(gradient("L"))
    two = chunk(b"iTXt", b"openbadgecredential\0\0\0\0\0first") + chunk(
        b"iTXt", b"openbadgecredential\0\0\0\0\0second")
    source = with_chunk_before_idat(image, two)
    assert extract_png(source) == "first"
    assert [t for t, _ in chunks_of(bake_png(source, "x"))].count(b"iTXt") == 1


def test_compressed_chunk_is_read_within_a_bound() -> None:
    image = pillow_png(gradient("RGB"))
    packed = chunk(b"iTXt", b"openbadgecredential\0\1\0en\0\0" + zlib.compress(PAYLOAD.encode()))
    assert extract_png(with_chunk_before_idat(image, packed)) == PAYLOAD
    bomb = chunk(b"iTXt", b"openbadgecredential\0\1\0\0\0" + zlib.compress(b" " * 50_000_000, 9))
    started = time.monotonic()
    with pytest.raises(InputError, match="larger than 5 MB"):
        extract_png(with_chunk_before_idat(image, bomb))
    assert time.monotonic() - started < 2
    bad_method = chunk(b"iTXt", b"openbadgecredential\0\1\7\0\0xx")
    with pytest.raises(InputError, match="compression"):
        extract_png(with_chunk_before_idat(image, bad_method))


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda png: b"\x89PNX" + png[4:], "not a PNG"),
        (lambda png: png[:-3], "truncated"),
        (lambda png: png[:40], "truncated"),
        (lambda png: png[:8], "truncated"),
        (lambda png: png + b"junk", "after its IEND"),
        (lambda png: flip(png, 45), "IDAT chunk fails its CRC"),  # in the image data
        (lambda png: flip(png, 20), "IHDR chunk fails its CRC"),  # in the image size
        (lambda png: png[:8] + png[33:], "IHDR"),
        (lambda png: b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", png[16:29]) + chunk(b"IEND", b""),
         "no image data"),
        (lambda png: png[:8] + b"\x00\x00\x00\x0d1HDR" + png[16:], "valid type"),
        (lambda png: png[:8] + b"\xff\xff\xff\xf0" + png[12:], "truncated"),
    ],
)
def test_damaged_png_is_refused_in_plain_words(mutate: object, words: str) -> None:
    damaged = mutate(pillow_png(gradient("RGB")))  # type: ignore[operator]
    for operation in (lambda d: bake_png(d, PAYLOAD), extract_png):
        with pytest.raises(InputError, match=words):
            operation(damaged)


def test_png_size_and_chunk_count_are_bounded() -> None:
    image = pillow_png(gradient("RGB", (64, 64)))
    with pytest.raises(InputError, match="larger than 100 bytes"):
        bake_png(image, PAYLOAD, max_bytes=100)
    with pytest.raises(InputError, match="larger than"):
        extract_png(image, max_bytes=len(image) - 1)
    many = with_chunk_before_idat(image, chunk(b"tEXt", b"a\0b") * 50)
    with pytest.raises(InputError, match="more than 20 chunks"):
        bake_png(many, PAYLOAD, max_chunks=20)
    default_limit = with_chunk_before_idat(image, chunk(b"tEXt", b"a\0b") * baking.MAX_CHUNKS)
    with pytest.raises(InputError, match="chunks"):
        extract_png(default_limit)


def test_png_payload_rules() -> None:
    image = pillow_png(gradient("RGB"))
    for bad in ("", "   ", "a\0b", "\ud800"):
        with pytest.raises(InputError):
            bake_png(image, bad)
    not_utf8 = with_chunk_before_idat(image, chunk(b"iTXt", b"openbadgecredential\0\0\0\0\0\xff"))
    with pytest.raises(InputError, match="UTF-8"):
        extract_png(not_utf8)
    malformed = with_chunk_before_idat(image, chunk(b"iTXt", b"openbadgecredential\0\0\0"))
    with pytest.raises(InputError, match="malformed"):
        extract_png(malformed)


def test_png_without_a_credential_gives_none() -> None:
    assert extract_png(pillow_png(gradient("RGB"))) is None


# -- SVG ------------------------------------------------------------------------------------

PLAIN = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5"/></svg>'
DECLARED = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    "<!-- drawn by hand -->\n"
    '<svg\n   xmlns="http://www.w3.org/2000/svg"\n   xmlns:xlink="http://www.w3.org/1999/xlink"\n'
    '   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"\n'
    '   viewBox="0 0 10 10" data-note="a &gt; b">\n'
    "  <!-- a comment -->\n"
    '  <defs><linearGradient id="g"/></defs>\n'
    '  <use xlink:href="#g" inkscape:label="Layer 1"/>\n'
    "  <text>Ünïcødé ✓</text>\n"
    "</svg>\n"
)
PREFIXED = (
    '<svg:svg xmlns:svg="http://www.w3.org/2000/svg" width="1" height="1">'
    "<svg:circle r=\"1\"/></svg:svg>"
)
SELF_CLOSED = '<svg xmlns="http://www.w3.org/2000/svg"/>'
NO_NAMESPACE = "<svg width='3'><g/></svg>"
SVGS = [PLAIN, DECLARED, PREFIXED, SELF_CLOSED, NO_NAMESPACE]


def credential_elements(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg.encode("utf-8"))
    return root.findall(f".//{{{OB_NAMESPACE}}}credential")


def first_child(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))[0]


@pytest.mark.parametrize("source", SVGS)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_bake_svg_round_trips_json_and_jws(source: str, as_bytes: bool) -> None:
    given: str | bytes = source.encode("utf-8") if as_bytes else source
    for payload, jws in ((PAYLOAD, False), (JWS, True), ("line\r\nbreaks\rand\ttabs", False)):
        baked = bake_svg(given, payload, jws=jws)
        assert extract_svg(baked) == payload
        assert extract_svg(baked.encode("utf-8")) == payload
        assert extract(baked.encode("utf-8")) == payload
        # An independent parser agrees: one element, the first child of the root.
        (element,) = credential_elements(baked)
        assert first_child(baked).tag == f"{{{OB_NAMESPACE}}}credential"
        if jws:
            assert element.get("verify") == payload
            assert not (element.text or "")
        else:
            assert "verify" not in element.attrib
            assert element.text == payload


def test_svg_embeds_json_in_cdata_and_jws_in_verify() -> None:
    baked = bake_svg(PLAIN, '{"a": 1}', jws=False)
    assert baked == (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
        'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        '<openbadges:credential><![CDATA[{"a": 1}]]></openbadges:credential>'
        '<rect width="5"/></svg>'
    )
    baked_jws = bake_svg(PLAIN, JWS, jws=True)
    assert f'<openbadges:credential verify="{JWS}"/><rect' in baked_jws


def test_svg_cdata_terminator_is_split() -> None:
    baked = bake_svg(PLAIN, PAYLOAD, jws=False)
    assert "]]]]><![CDATA[>" in baked
    assert credential_elements(baked)[0].text == PAYLOAD


def test_svg_rest_of_file_is_kept_byte_for_byte() -> None:
    baked = bake_svg(DECLARED, PAYLOAD, jws=False)
    start_tag_end = DECLARED.index('b">') + len('b"')
    element = baked[baked.index("<openbadges:credential>"):baked.index("</openbadges:credential>")
                    + len("</openbadges:credential>")]
    expected = (
        DECLARED[:start_tag_end] + f' xmlns:openbadges="{OB_NAMESPACE}">' + element
        + DECLARED[start_tag_end + 1:]
    )
    assert baked == expected


def test_svg_rebaking_replaces_and_is_idempotent() -> None:
    once = bake_svg(DECLARED, PAYLOAD, jws=False)
    assert bake_svg(once, PAYLOAD, jws=False) == once
    switched = bake_svg(once, JWS, jws=True)
    assert len(credential_elements(switched)) == 1
    assert extract_svg(switched) == JWS
    assert switched.count("xmlns:openbadges=") == 1
    assert bake_svg(switched, PAYLOAD, jws=False) == once


def test_svg_with_misplaced_and_repeated_elements_ends_with_exactly_one() -> None:
    source = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="https://purl.imsglobal.org/ob/v3p0">'
        '<g><ob:credential verify="first"/></g>'
        "<ob:credential><![CDATA[second]]><ob:credential>nested</ob:credential></ob:credential>"
        "</svg>"
    )
    assert extract_svg(source) == "first"  # by namespace, whatever the prefix
    baked = bake_svg(source, PAYLOAD, jws=False)
    assert len(credential_elements(baked)) == 1
    assert first_child(baked).tag == f"{{{OB_NAMESPACE}}}credential"
    assert "first" not in baked and "second" not in baked and "nested" not in baked
    assert '<g></g>' in baked


def test_svg_reading_other_spellings() -> None:
    text_form = (
        '<svg xmlns="http://www.w3.org/2000/svg">\n  <credential xmlns="' + OB_NAMESPACE
        + '">\n<![CDATA[{"x": 1}]]>\n  </credential></svg>'
    )
    assert (extract_svg(text_form) or "").strip() == '{"x": 1}'
    latin1 = ('<?xml version="1.0" encoding="ISO-8859-1"?><svg xmlns="http://www.w3.org/2000/svg"'
              ' xmlns:openbadges="' + OB_NAMESPACE + '"><openbadges:credential verify="\xe9"/>'
              "</svg>").encode("latin-1")
    assert extract_svg(latin1) == "é"
    with pytest.raises(InputError, match="UTF-8"):
        bake_svg(latin1, PAYLOAD, jws=False)
    utf16 = bake_svg(PLAIN, PAYLOAD, jws=False).encode("utf-16")
    assert extract_svg(utf16) == PAYLOAD
    assert extract_svg(bake_svg(PLAIN, JWS, jws=True).encode("utf-16")) == JWS
    with pytest.raises(InputError, match="UTF-8"):
        bake_svg(utf16, PAYLOAD, jws=False)
    bom = b"\xef\xbb\xbf" + bake_svg(PLAIN, PAYLOAD, jws=False).encode("utf-8")
    assert image_format(bom) == "svg"
    assert extract(bom) == PAYLOAD
    assert not bake_svg(bom, JWS, jws=True).startswith("\ufeff")


SVG11_DOCTYPE = ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                 '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">')


def test_svg_without_credential_gives_none() -> None:
    for source in SVGS:
        assert extract_svg(source) is None


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
         '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>', "DOCTYPE"),
        ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
         '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [<!ENTITY a "a">]>'
         '<svg xmlns="http://www.w3.org/2000/svg"/>', "DOCTYPE"),
        ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.0//EN" '
         '"http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd">'
         '<svg xmlns="http://www.w3.org/2000/svg"/>', "DOCTYPE"),
        ('<!DOCTYPE svg SYSTEM "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
         '<svg xmlns="http://www.w3.org/2000/svg"/>', "DOCTYPE"),
        ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "file:///etc/passwd">'
         '<svg xmlns="http://www.w3.org/2000/svg"/>', "DOCTYPE"),
        (SVG11_DOCTYPE + '<svg xmlns="http://www.w3.org/2000/svg"><text>&nbsp;</text></svg>',
         "entities"),
        ('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "DOCTYPE"),
        ("<svg><text>&undefined;</text></svg>", "not well-formed"),
        ('<html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>', "not an SVG"),
        ('<svg xmlns="urn:not-svg"/>', "not an SVG"),
        ("<svg><g></svg>", "not well-formed"),
    ],
)
def test_unsafe_or_foreign_xml_is_refused(source: str, words: str) -> None:
    for operation in (extract_svg, lambda s: bake_svg(s, PAYLOAD, jws=False)):
        with pytest.raises(InputError, match=words):
            operation(source)


def test_svg_with_the_standard_svg11_doctype_is_read_and_baked() -> None:
    source = ('<?xml version="1.0" encoding="UTF-8"?>\n' + SVG11_DOCTYPE
              + '\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    baked = bake_svg(source, PAYLOAD, jws=False)
    assert SVG11_DOCTYPE in baked
    assert image_format(baked.encode("utf-8")) == "svg"
    assert extract_svg(baked) == PAYLOAD
    assert extract(baked.encode("utf-8")) == PAYLOAD


def test_svg_bake_refusals() -> None:
    clash = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="urn:other"/>'
    with pytest.raises(InputError, match="prefix 'openbadges'"):
        bake_svg(clash, PAYLOAD, jws=False)
    with pytest.raises(InputError, match="compact JWS"):
        bake_svg(PLAIN, PAYLOAD, jws=True)
    with pytest.raises(InputError, match="XML"):
        bake_svg(PLAIN, '{"a": "\x01"}', jws=False)
    with pytest.raises(InputError, match="larger than"):
        extract_svg(PLAIN, max_bytes=10)
    already = f'<svg xmlns="{SVG_NS}" xmlns:openbadges="{OB_NAMESPACE}"/>'
    assert bake_svg(already, JWS, jws=True).count("xmlns:openbadges") == 1


def test_extract_dispatches_on_content_not_name() -> None:
    png = bake_png(pillow_png(gradient("RGB")), PAYLOAD)
    assert image_format(png) == "png"
    assert image_format(PLAIN) == "svg"
    assert image_format(b'{"a": 1}') is None
    assert image_format(b"<html/>") is None
    with pytest.raises(InputError, match="neither a PNG nor an SVG"):
        extract(b"GIF89a....")
    with pytest.raises(InputError, match="neither a PNG nor an SVG"):
        extract(b"\xff\xd8\xff\xe0 a JPEG")
