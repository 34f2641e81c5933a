"""Authorization and CSRF on every admin route: staff act only for their own issuers."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image as PilImage
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.tokens import authenticate
from issuer.storage.models import ApiToken, Issuer
from tests.conftest import World
from tests.web.admin.test_pages import (
    award_to,
    csrf_token,
    page,
    signed_in_as,
    snapshot,
)


@dataclass
class Targets:
    """Ids of things that belong to "guild", for the URLs below."""

    credential: str
    token: int


@pytest.fixture()
def targets(session: Session, ctx: ServiceContext, world: World) -> Targets:
    credential = award_to(session, ctx, "guild", "ada@example.org", "Ada")
    token = session.scalar(select(ApiToken).join(Issuer).where(Issuer.slug == "guild"))
    assert token is not None
    ids = Targets(credential=credential.id, token=token.id)
    session.rollback()
    return ids


def png() -> bytes:
    buffer = io.BytesIO()
    PilImage.new("RGBA", (8, 8)).save(buffer, "PNG")
    return buffer.getvalue()


GUILD = "/admin/issuers/guild"
PAGES = [
    GUILD,
    f"{GUILD}/achievements/new",
    f"{GUILD}/achievements/peer-scaffolder/edit",
    f"{GUILD}/award",
    f"{GUILD}/award?achievement=peer-scaffolder",
    f"{GUILD}/credentials",
    f"{GUILD}/credentials?q=ada&page=1",
    f"{GUILD}/credentials/{{credential}}",
    f"{GUILD}/tokens",
]
ACHIEVEMENT = {"name": "Hijacked", "slug": "hijacked", "description": "Taken over.",
               "criteria_narrative": "None."}
WRITES: list[tuple[str, dict[str, Any]]] = [
    (f"{GUILD}/achievements/new", ACHIEVEMENT),
    (f"{GUILD}/achievements/peer-scaffolder/edit", {**ACHIEVEMENT, "slug": ""}),
    (f"{GUILD}/award", {"achievement": "peer-scaffolder", "recipient": "mallory@example.org",
                        "recipient_name": "Mallory"}),
    (f"{GUILD}/tokens", {"name": "Stolen"}),
    (f"{GUILD}/tokens/{{token}}/revoke", {}),
]


def fill(url: str, targets: Targets) -> str:
    return url.format(credential=targets.credential, token=targets.token)


@pytest.fixture()
def intruder(app: Flask, world: World) -> FlaskClient:
    """A browser signed in as staff of "other", who has no business with "guild"."""
    return signed_in_as(app.test_client(), world.other_staff_email)


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


@pytest.mark.parametrize("url", PAGES)
def test_staff_of_another_issuer_cannot_see_any_page(intruder: FlaskClient, targets: Targets,
                                                     url: str) -> None:
    response = intruder.get(fill(url, targets))
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "not a member of this issuer" in html
    assert "Ada" not in html and "Peer Scaffolder" not in html


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_staff_of_another_issuer_cannot_write_anything(
    intruder: FlaskClient, session: Session, ctx: ServiceContext, world: World,
    targets: Targets, url: str, data: dict[str, Any]
) -> None:
    before = snapshot(session)
    token = csrf_token(page(intruder, "/admin/"))
    body = {**data, "csrf_token": token}
    if "achievements" in url:
        body["image"] = (io.BytesIO(png()), "x.png", "image/png")
    response = intruder.post(fill(url, targets), data=body)
    assert response.status_code == 403
    assert snapshot(session) == before
    assert authenticate(session, ctx, world.token) is not None


@pytest.mark.parametrize("url", PAGES)
def test_the_same_pages_open_for_the_issuers_own_staff(staff: FlaskClient, targets: Targets,
                                                       url: str) -> None:
    # The refusals above are about membership, not about pages that never work.
    assert staff.get(fill(url, targets)).status_code == 200


@pytest.mark.parametrize(("url", "data"), [*WRITES, ("/admin/logout", {})])
def test_a_post_without_csrf_token_is_refused(staff: FlaskClient, session: Session,
                                              targets: Targets, url: str,
                                              data: dict[str, Any]) -> None:
    before = snapshot(session)
    response = staff.post(fill(url, targets), data=data)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert snapshot(session) == before
    forged = staff.post(fill(url, targets), data={**data, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert snapshot(session) == before


def test_a_token_from_another_session_is_refused(app: Flask, staff: FlaskClient,
                                                 session: Session, world: World) -> None:
    stranger = app.test_client()
    foreign = csrf_token(page(stranger, "/admin/login"))
    before = snapshot(session)
    response = staff.post(f"{GUILD}/tokens", data={"name": "x", "csrf_token": foreign})
    assert response.status_code == 400
    assert snapshot(session) == before


def test_the_dashboard_lists_only_ones_own_issuers(intruder: FlaskClient) -> None:
    html = page(intruder, "/admin/")
    assert "Other Guild" in html
    assert "Guild Guild" not in html and f'href="{GUILD}"' not in html
