"""`/images/<id>`: uploaded badge images are open to other sites, and an SVG runs nothing."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from issuer.services.achievements import store_image
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from tests.conftest import World

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<rect width="10" height="10" fill="red"/></svg>')


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4), (30, 30, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def directives(csp: str) -> dict[str, list[str]]:
    """CSP3 §2.2.1: directives split on ";", a name then its space-separated values."""
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        tokens = part.split()
        if tokens:
            parsed.setdefault(tokens[0].lower(), tokens[1:])
    return parsed


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_an_image_may_be_used_by_other_sites_but_not_sniffed(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World, kind: str
) -> None:
    data = SVG if kind == "svg" else png()
    image_id = store_image(session, ctx, get_issuer(session, "guild"), data).id
    session.commit()
    response = client.get(f"/images/{image_id}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_svg_image_is_sandboxed_with_no_script_permission(
    client: FlaskClient, session: Session, ctx: ServiceContext, world: World
) -> None:
    image_id = store_image(session, ctx, get_issuer(session, "guild"), SVG).id
    session.commit()
    response = client.get(f"/images/{image_id}")
    assert response.mimetype == "image/svg+xml"
    policy = directives(response.headers["Content-Security-Policy"])
    # A bare sandbox (HTML §7.1.5 sandboxing flags) sets every flag: no allow-scripts.
    assert policy["sandbox"] == []
    # Scripts fall back to default-src when script-src is absent: neither may allow any.
    assert policy["default-src"] == ["'none'"]
    assert policy.get("script-src", ["'none'"]) == ["'none'"]
    assert "script-src-elem" not in policy and "script-src-attr" not in policy
