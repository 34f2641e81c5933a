"""What an employer reads of the peer attestations a badge carries, over real HTTP.

The demo badge carries two peer attestations (one named, one pseudonymous) as signed
EndorsementCredentials; the public page and every verify result show each with the peer, the
date, their words and the kind of help, and a mark from checking that endorsement alone.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.services.attestation_endorsements import read_comment
from issuer.services.attestation_reading import read_endorsements
from issuer.services.context import ServiceContext
from issuer.services.demo import DEMO_PEERS, ensure_demo
from issuer.storage.models import Credential

BROWSER = "text/html,application/xhtml+xml"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EVIL = "<script>alert('peer')</script>"


@pytest.fixture()
def demo_badge(session: Session, ctx: ServiceContext, tmp_path: Path) -> Credential:
    info = ensure_demo(session, ctx, tmp_path / "instance")
    session.commit()
    return info.credential


def _section(page: str) -> str:
    start = page.index('id="attestations-heading"')
    return page[start:page.index("</section>", start)]


def _paste(client: FlaskClient, text: str) -> str:
    token = CSRF.search(client.get("/verify").get_data(as_text=True))
    assert token
    response = client.post("/verify", data={"csrf_token": token.group(1), "credential": text})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_public_page_shows_each_attestation_verified(
        client: FlaskClient, demo_badge: Credential) -> None:
    page = client.get(f"/credentials/{demo_badge.id}", headers={"Accept": BROWSER})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    section = html.unescape(_section(text))
    named, unnamed = DEMO_PEERS
    assert "What peers say" in section
    assert named[1] in section and named[2] in section
    assert unnamed[2] in section and "A peer who chose not to be named" in section
    assert unnamed[0] not in text  # the pseudonymous peer stays unnamed
    assert section.count("Helped a peer learn (peer scaffolding)") == 2
    assert section.count("✓</span> Verified") == 2 and "Not verified" not in section
    assert "pseudonymous" in section.lower()


def test_every_verify_result_shows_the_attestations(
        client: FlaskClient, demo_badge: Credential) -> None:
    checked = client.get(f"/credentials/{demo_badge.id}/verify").get_data(as_text=True)
    pasted = _paste(client, demo_badge.document)
    for page in (checked, pasted):
        section = html.unescape(_section(page))
        assert DEMO_PEERS[0][1] in section and DEMO_PEERS[0][2] in section
        assert section.count("✓</span> Verified") == 2


def test_a_forged_attestation_is_marked_and_escaped_while_the_other_stays_verified(
        client: FlaskClient, demo_badge: Credential) -> None:
    document = json.loads(demo_badge.document)
    forged = copy.deepcopy(document)
    subject = forged["endorsement"][0]["credentialSubject"]
    subject["endorsementComment"] = subject["endorsementComment"].replace(
        DEMO_PEERS[0][2], EVIL)
    page = _paste(client, json.dumps(forged))
    assert "<script>alert" not in page
    section = _section(page)
    assert html.escape(EVIL, quote=False) in section or "&lt;script&gt;" in section
    assert section.count("✗</span> Not verified") == 1
    assert section.count("✓</span> Verified") == 1
    assert "do not rely on it" in section


def test_reading_takes_a_comment_apart_as_it_was_written(
        session: Session, ctx: ServiceContext, demo_badge: Credential) -> None:
    readings = read_endorsements(session, ctx, json.loads(demo_badge.document))
    assert [(r.peer, r.who, r.words, r.verified) for r in readings] == [
        (True, DEMO_PEERS[0][1], DEMO_PEERS[0][2], True),
        (True, None, DEMO_PEERS[1][2], True)]
    assert readings[1].pseudonym and readings[1].pseudonym.startswith("urn:uuid:")
    assert all(r.signed_on is not None and r.signed_by for r in readings)
    # A comment another issuer wrote is shown whole, not taken apart.
    assert read_comment("Great work by the whole team.") is None
    odd = read_comment("Bo attests: Al's contribution is genuine. “Yes. “really”.”")
    assert odd is not None and odd.kind == "genuine-contribution"
    assert odd.words == "Yes. “really”."


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_a_revoked_or_suspended_badge_is_not_offered_for_sharing(
        client: FlaskClient, session: Session, ctx: ServiceContext, demo_badge: Credential,
        action: str) -> None:
    from issuer.services.revocation import change_status
    from tests.web.admin.test_pages import signed_in_as

    url = f"/credentials/{demo_badge.id}"
    active = client.get(url, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "Share this badge" in active and "Add to LinkedIn profile" in active
    change_status(session, ctx, demo_badge.issuer, demo_badge.id, action,
                  reason="Checked again", actor="staff@example.org")
    session.commit()
    page = client.get(url, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "Share this badge" not in page and "linkedin.com" not in page
    assert "not offered for sharing" in page
    # The staff page no longer calls it ready.
    from issuer.services.users import create_user, grant
    from tests.conftest import PASSWORD

    staff = create_user(session, ctx, email="status@example.org", name="S", password=PASSWORD)
    grant(session, staff, demo_badge.issuer)
    session.commit()
    admin = signed_in_as(client.application.test_client(), "status@example.org")
    staff_page = admin.get(
        f"/admin/issuers/{demo_badge.issuer.slug}/credentials/{demo_badge.id}"
    ).get_data(as_text=True)
    assert "signed and ready" not in staff_page
    assert f"The badge is {action}d" in staff_page or f"The badge is {action}ed" in staff_page
