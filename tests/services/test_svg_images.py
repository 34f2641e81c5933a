"""An achievement's SVG image is stored only if it is a drawing (``issuer.core.svg_safety``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.services.achievements import store_image
from issuer.services.context import ServiceContext
from issuer.services.demo import DEMO_BADGE_SVG
from issuer.services.errors import Invalid
from issuer.services.issuers import get_issuer
from issuer.storage.models import Image
from tests.conftest import World
from tests.core.test_svg_safety import ACCEPTED, REFUSED

#: The payloads the deny-list let through.
FOUND_IN_REVIEW = [
    "a javascript: link behind a character reference",
    "a set of xlink:href",
    "@import in a style sheet",
    "an external image",
    "a style sheet instruction",
]


@pytest.mark.parametrize("name", FOUND_IN_REVIEW)
def test_an_unsafe_svg_is_not_stored(session: Session, ctx: ServiceContext, world: World,
                                     name: str) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    before = session.scalar(select(func.count()).select_from(Image))
    with pytest.raises(Invalid) as refused:
        store_image(session, ctx, issuer, REFUSED[name], "image/svg+xml")
    assert refused.value.fields == {"image": "unsafe or invalid SVG"}
    assert session.scalar(select(func.count()).select_from(Image)) == before


@pytest.mark.parametrize("data", [DEMO_BADGE_SVG.encode(), ACCEPTED["a gradient used by "
                                                                   "fragment"]])
def test_a_drawing_is_stored_as_it_came(session: Session, ctx: ServiceContext, world: World,
                                        data: bytes) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    image = store_image(session, ctx, issuer, data, "image/svg+xml")
    assert image.media_type == "image/svg+xml" and image.data == data
