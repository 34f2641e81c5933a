"""The verifier reads credentials baked into PNG and SVG images (OB 3.0 §5.3, §9.1)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from issuer.core.baking import bake_png, bake_svg, extract_png
from issuer.core.proofs.vc_jwt import sign_ob_vc_jwt
from issuer.core.verify import Outcome, VerificationReport
from tests.core.helpers import did_key_issuer, signed_badge, unsigned_badge, verifier

SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    '<circle cx="32" cy="32" r="30" fill="gold"/></svg>\n'
)


def png_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (32, 32), (200, 160, 0, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def jwt_badge() -> str:
    key, did, vm = did_key_issuer("P-256")
    return sign_ob_vc_jwt(unsigned_badge(did), key, kid=vm)


def bake(kind: str, payload: str, *, jws: bool) -> bytes:
    if kind == "png":
        return bake_png(png_image(), payload)
    return bake_svg(SVG, payload, jws=jws).encode("utf-8")


def failed(report: VerificationReport) -> list[dict[str, Any]]:
    return [c.to_json() for c in report.failed]


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_baked_json_credential_verifies(kind: str) -> None:
    signed, _ = signed_badge()
    report = verifier().verify(bake(kind, json.dumps(signed, indent=2), jws=False))
    assert report.valid, failed(report)
    parse = report.check("parse")
    assert parse is not None and parse.outcome == Outcome.PASSED
    assert parse.message == (
        "the credential is valid JSON, baked into "
        + ("a PNG image" if kind == "png" else "an SVG image")
    )
    assert report.format == "json"
    assert report.check("proof").outcome == Outcome.PASSED  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_baked_vc_jwt_verifies(kind: str) -> None:
    report = verifier().verify(bake(kind, jwt_badge(), jws=True))
    assert report.valid, failed(report)
    assert report.format == "jwt"
    assert report.checks[0].message.endswith(f"baked into {'a PNG' if kind == 'png' else 'an SVG'}"
                                             " image")


def test_baked_svg_given_as_text_verifies() -> None:
    signed, _ = signed_badge("eddsa-jcs-2022")
    assert verifier().verify(bake_svg(SVG, json.dumps(signed), jws=False)).valid


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_tampered_baked_credential_fails_the_proof(kind: str) -> None:
    signed, _ = signed_badge()
    baked = bake(kind, json.dumps(signed), jws=False)
    if kind == "png":
        credential = json.loads(extract_png(baked) or "")
        credential["credentialSubject"]["achievement"]["name"] = "Grand Master"
        tampered = bake_png(baked, json.dumps(credential))
    else:
        text = baked.decode("utf-8").replace("Peer Scaffolder", "Grand Master")
        tampered = text.encode("utf-8")
    report = verifier().verify(tampered)
    assert not report.valid
    assert report.check("parse").outcome == Outcome.PASSED  # type: ignore[union-attr]
    assert report.check("proof").outcome == Outcome.FAILED  # type: ignore[union-attr]


def test_tampered_baked_jwt_fails_the_proof() -> None:
    token = jwt_badge()
    head, body, sig = token.split(".")
    forged = f"{head}.{body[:-4]}AAAA.{sig}"
    report = verifier().verify(bake_png(png_image(), forged))
    assert report.check("proof").outcome != Outcome.PASSED  # type: ignore[union-attr]
    assert not report.valid


@pytest.mark.parametrize("image", [png_image(), SVG.encode("utf-8"), SVG])
def test_image_without_a_credential_fails_parse(image: bytes | str) -> None:
    report = verifier().verify(image)
    assert not report.valid
    assert report.checks[0].id == "parse"
    assert report.checks[0].outcome == Outcome.FAILED
    assert report.checks[0].message == "this image has no baked credential"


def test_unreadable_baked_credential_says_where_it_came_from() -> None:
    report = verifier().verify(bake_png(png_image(), "{not json"))
    assert report.checks[0].outcome == Outcome.FAILED
    assert report.checks[0].message.startswith(
        "the credential baked into this PNG image cannot be read: not valid JSON"
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (png_image()[:-20], "truncated"),
        (png_image()[:30] + b"\0" + png_image()[31:], "CRC"),
        (b'<!DOCTYPE svg [<!ENTITY a "a">]><svg>&a;</svg>', "DOCTYPE"),
        (b"<svg><unclosed></svg>", "well-formed"),
    ],
)
def test_damaged_images_fail_parse_in_plain_words(data: bytes, words: str) -> None:
    report = verifier().verify(data)
    assert report.checks[0].outcome == Outcome.FAILED
    assert words in report.checks[0].message


def test_plain_inputs_are_read_as_before() -> None:
    signed, _ = signed_badge()
    report = verifier().verify(json.dumps(signed).encode("utf-8"))
    assert report.valid
    assert report.checks[0].message == "the credential is valid JSON"
    token = jwt_badge()
    assert verifier().verify(token.encode("ascii")).checks[0].message == (
        "a compact JWT (OB 3.0 VC-JWT)"
    )
    odd = verifier().verify(b"<html>not a badge</html>")
    assert odd.checks[0].message == "the input is neither a JSON credential nor a compact JWT"
