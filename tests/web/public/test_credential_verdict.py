"""The badge page's at-a-glance verdict: a real verification of the stored badge at view
time, kept for a short while per worker, over the Flask test client on the real database."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from issuer.core.verify import VerificationReport
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.revocation import change_status
from issuer.services.verification import verify
from issuer.storage.models import Credential
from issuer.web.public.verdict import Verdict, VerdictCache, credential_verdict
from tests.conftest import World

BROWSER = "text/html,application/xhtml+xml"


def _award(session: Session, ctx: ServiceContext) -> Credential:
    issuer = get_issuer(session, "guild")
    row = award(session, ctx, issuer, get_achievement(session, issuer, "peer-scaffolder"),
                AwardRequest(recipient=Recipient.parse("ada@guild.test", "Ada Learner")),
                actor="staff@guild.test")
    session.commit()
    return row


def _banner(client: FlaskClient, row: Credential) -> str:
    response = client.get(f"/credentials/{row.id}", headers={"Accept": BROWSER})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    start = page.index('id="badge-verdict"')
    return " ".join(html.unescape(page[start:page.index("</div>", start)]).split())


def test_a_good_badge_says_verified_with_a_link_to_the_full_check(
        client: FlaskClient, session: Session, ctx: ServiceContext, world: World) -> None:
    row = _award(session, ctx)
    banner = _banner(client, row)
    assert "✓</span> Verified" in banner
    assert "not revoked or suspended" in banner
    assert f'href="/credentials/{row.id}/verify"' in banner
    assert "Could not be verified" not in banner


def test_a_badge_without_status_entries_is_not_called_unrevoked(
        client: FlaskClient, session: Session, world: World) -> None:
    """Nobody can learn of the revocation of a credential issued without status entries
    (here a VC 1.1 credential through the VC API): it verifies, and the banner says only
    what was checked."""
    response = client.post("/credentials/issue", headers={
        "Authorization": f"Bearer {world.token}"}, json={"credential": {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:old"}}})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "credentialStatus" not in response.get_json()["verifiableCredential"]
    row = session.get(Credential, response.headers["Location"].rpartition("/")[2])
    assert row is not None
    banner = _banner(client, row)
    assert "✓</span> Verified" in banner and "unchanged since and within its dates." in banner
    assert "revoked" not in banner


@pytest.mark.parametrize(("action", "words"), [("revoke", "Revoked"),
                                                ("suspend", "Suspended")])
def test_a_status_change_shows_on_the_next_view(
        client: FlaskClient, session: Session, ctx: ServiceContext, world: World,
        action: str, words: str) -> None:
    row = _award(session, ctx)
    assert "Verified" in _banner(client, row)  # now remembered by this worker
    change_status(session, ctx, row.issuer, row.id, action, reason="Checked again",
                  actor="staff@guild.test")
    session.commit()
    banner = _banner(client, row)
    assert f"</span> {words}" in banner and "Verified" not in banner
    assert "do not rely on it" in banner


def test_an_altered_badge_could_not_be_verified(
        client: FlaskClient, session: Session, ctx: ServiceContext, world: World) -> None:
    row = _award(session, ctx)
    assert "Verified" in _banner(client, row)
    document = json.loads(row.document)
    document["name"] = "Grand Master of Everything"
    row.document = json.dumps(document)
    session.commit()
    banner = _banner(client, row)
    assert "✗</span> Could not be verified:" in banner
    assert "The signature does not match" in banner
    assert "Verified" not in banner.replace("Could not be verified", "")


def test_a_verdict_is_kept_for_a_short_while_and_then_checked_again() -> None:
    moments = iter([0.0, 30.0, 61.0, 61.5])
    cache = VerdictCache(ttl=60.0, clock=lambda: next(moments))
    made: list[str] = []

    def compute(label: str) -> Callable[[], Verdict]:
        def run() -> Verdict:
            made.append(label)
            return Verdict("verified", label, None, None)  # type: ignore[arg-type]
        return run

    assert cache.get("a", compute("first")).headline == "first"
    assert cache.get("a", compute("second")).headline == "first"  # 30 s later: kept
    assert cache.get("a", compute("third")).headline == "third"  # 61 s: checked again
    assert cache.get("b", compute("other")).headline == "other"  # another key
    assert made == ["first", "third", "other"]


def test_the_cache_keeps_at_most_its_size() -> None:
    cache = VerdictCache(size=2, clock=lambda: 0.0)
    made: list[str] = []

    def compute(label: str) -> Callable[[], Verdict]:
        def run() -> Verdict:
            made.append(label)
            return Verdict("verified", label, None, None)  # type: ignore[arg-type]
        return run

    for key in ("a", "b", "c", "a"):
        cache.get(key, compute(key))
    assert made == ["a", "b", "c", "a"]  # "a" was the oldest, so it went


def test_views_within_the_time_verify_once(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    row = _award(session, ctx)
    runs: list[str] = []

    def check(text: str) -> VerificationReport:
        runs.append(text)
        return verify(session, ctx, text)

    with app.test_request_context("/"):
        first = credential_verdict(ctx, row, check)
        again = credential_verdict(ctx, row, check)
    assert first.valid and again is first and len(runs) == 1
