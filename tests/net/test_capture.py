"""Capturing a cited page into a WARC, against a real HTTP server on loopback that the test
settings allow (as an operator would allow a private host); and the guarded fetcher's
refusals for a private address or a redirect to loopback, checked before any connection."""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from issuer.config import Settings
from issuer.services.context import ServiceContext
from issuer.services.reviews import credential_evidence
from issuer.storage.traces import TraceCapture
from tests import learning_fixtures
from tests.conftest import BASE_URL, TEST_PASSWORD_HASHING, World
from tests.learning_fixtures import LearnerClient, OpenAchievement, post_form
from tests.net.servers import Reply, Server, serving
from tests.web.admin.test_pages import page, signed_in_as
from tests.web.learner.test_claims import add, claim_row, start

learner = learning_fixtures.learner
open_achievement = learning_fixtures.open_achievement

BODY = (b"<!doctype html><html><body><h1>Why does my bread collapse?</h1>"
        b"<p>Answer: shorten the proof.</p></body></html>")


@pytest.fixture()
def page_server() -> Iterator[Server]:
    with serving(None) as server:
        yield server


@pytest.fixture()
def other_server() -> Iterator[Server]:
    with serving(None) as server:
        yield server


@pytest.fixture()
def settings(database_url: str, keys_dir: Path, page_server: Server) -> Settings:
    """The test settings, online, with only the page server's address allowed."""
    return Settings(database_url=database_url, base_url=BASE_URL, keys_dir=keys_dir,
                    secret_key="test-secret-key-not-for-production",
                    password_hashing=TEST_PASSWORD_HASHING, verify_offline=False,
                    verify_allow_hosts=(f"127.0.0.1:{page_server.port}",)).validated()


def cited(client: LearnerClient, target: OpenAchievement, url: str) -> tuple[str, int]:
    """A claim with one public evidence item citing ``url``; its id and the item's id."""
    public_id = start(client, target, "I answer bakers' questions.")
    assert add(client, public_id, title="My answer", url=url, public="yes").status_code == 302
    page_text = client.get(f"/learn/claims/{public_id}/traces").get_data(as_text=True)
    marker = f"/learn/claims/{public_id}/evidence/"
    start_at = page_text.index(marker) + len(marker)
    return public_id, int(page_text[start_at:].split("/", 1)[0])


def capture(client: LearnerClient, public_id: str, evidence_id: int, **kwargs: Any) -> Any:
    return post_form(client, f"/learn/claims/{public_id}/evidence/{evidence_id}/capture",
                     token_from=f"/learn/claims/{public_id}/traces", **kwargs)


def test_a_capture_is_a_warc_that_reads_back_with_the_same_sha256(
        app: Flask, client: FlaskClient, learner: LearnerClient, session: Session,
        ctx: ServiceContext, world: World, open_achievement: OpenAchievement,
        page_server: Server) -> None:
    page_server.routes["/a/2"] = Reply(status=301, headers={"Location": "/q/1#2"})
    page_server.routes["/q/1"] = Reply(BODY, headers={"Content-Type": "text/html"})
    url = f"http://127.0.0.1:{page_server.port}/a/2"
    public_id, evidence_id = cited(learner, open_achievement, url)

    done = capture(learner, public_id, evidence_id)
    assert done.status_code == 302, done.get_data(as_text=True)
    row = session.scalar(select(TraceCapture))
    assert row is not None
    assert row.payload_sha256 == hashlib.sha256(BODY).hexdigest()
    assert row.final_url.endswith("/q/1") and row.http_status == 200

    download = learner.get(f"/learn/claims/{public_id}/captures/{row.id}.warc.gz")
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "private, no-store"
    data = download.get_data()
    assert hashlib.sha256(data).hexdigest() == row.warc_sha256
    # A record's content is read before the iterator moves on; warcio checks both digests.
    read = [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(io.BytesIO(data), check_digests="raise")]
    assert [kind for kind, *_ in read] == ["warcinfo", "response"]
    _, headers, http_headers, payload = read[1]
    assert headers.get_header("WARC-Target-URI") == row.final_url
    assert hashlib.sha256(payload).hexdigest() == row.payload_sha256
    digest = base64.b32encode(hashlib.sha256(BODY).digest()).decode()
    assert headers.get_header("WARC-Payload-Digest") == f"sha256:{digest}"
    assert http_headers.get_statuscode() == "200"
    # A page changed after capture no longer matches the digests the record carries.
    changed = gzip.decompress(data).replace(b"shorten the proof", b"lengthen the proof")
    with pytest.raises(ArchiveLoadFailed, match="digest failed"):
        for record in ArchiveIterator(io.BytesIO(changed), check_digests="raise"):
            record.content_stream().read()

    # Reviewers of the issuer see the capture's hash and time and may download it; nobody
    # else may, and the learner's public pages never link it.
    # The credential would carry the capture's time and hash, never the page.
    session.expire_all()
    (item,), _ = credential_evidence(claim_row(session, public_id))
    assert item.url == url
    assert item.description is not None and row.payload_sha256 in item.description
    assert "bread" not in item.description

    assert post_form(learner, f"/learn/claims/{public_id}/submit",
                     token_from=f"/learn/claims/{public_id}").status_code == 302
    staff = signed_in_as(client, world.staff_email)
    review = html.unescape(page(staff, f"/admin/issuers/guild/reviews/{public_id}"))
    assert row.payload_sha256 in review
    assert f"/learn/claims/{public_id}/captures/{row.id}.warc.gz" in review
    assert staff.get(f"/learn/claims/{public_id}/captures/{row.id}.warc.gz").status_code == 200
    stranger = app.test_client()
    assert stranger.get(f"/learn/claims/{public_id}/captures/{row.id}.warc.gz"
                        ).status_code == 302  # to sign in
    someone = learning_fixtures.make_learner(session, ctx, "other@guild.test")
    session.commit()
    other = learning_fixtures.signed_in_client(app, someone)
    assert other.get(f"/learn/claims/{public_id}/captures/{row.id}.warc.gz"
                     ).status_code == 404


@pytest.mark.parametrize("target", [
    "https://10.0.0.7/t/1",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00::1]/t/1",
])
def test_a_private_address_is_refused_before_any_connection(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement,
        loopback_only: list[Any], target: str) -> None:
    public_id, evidence_id = cited(learner, open_achievement, target)
    before = len(loopback_only)
    refused = capture(learner, public_id, evidence_id)
    assert refused.status_code == 422
    assert "was not fetched" in html.unescape(refused.get_data(as_text=True))
    assert len(loopback_only) == before
    assert session.scalar(select(func.count()).select_from(TraceCapture)) == 0


@pytest.mark.parametrize("location", ["https://127.0.0.1:{port}/x", "https://localhost:{port}/x",
                                      "http://127.0.0.1:{port}/x"])
def test_a_redirect_to_loopback_is_refused(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement,
        page_server: Server, other_server: Server, location: str) -> None:
    other_server.routes["/x"] = Reply(b"secret")
    page_server.routes["/start"] = Reply(
        status=302, headers={"Location": location.format(port=other_server.port)})
    public_id, evidence_id = cited(learner, open_achievement,
                                   f"http://127.0.0.1:{page_server.port}/start")
    refused = capture(learner, public_id, evidence_id, headers={"Accept": "application/json"})
    assert refused.status_code == 422
    assert "was not fetched" in refused.get_json()["detail"]
    assert other_server.connections == 0
    assert session.scalar(select(func.count()).select_from(TraceCapture)) == 0


def test_a_page_that_is_not_there_or_too_large_is_not_captured(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement,
        page_server: Server, settings: Settings) -> None:
    page_server.routes["/big"] = Reply(b"x" * (settings.verify_max_bytes + 1))
    for path, said in (("/gone", "HTTP 404"), ("/big", "larger than")):
        public_id, evidence_id = cited(learner, open_achievement,
                                       f"http://127.0.0.1:{page_server.port}{path}")
        refused = capture(learner, public_id, evidence_id)
        assert refused.status_code == 422
        assert said in html.unescape(refused.get_data(as_text=True))
        post_form(learner, f"/learn/claims/{public_id}/withdraw",
                  token_from=f"/learn/claims/{public_id}")
    assert session.scalar(select(func.count()).select_from(TraceCapture)) == 0
