"""Claims with evidence, through the learner's pages, on the real database."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from issuer.services.evidence_files import MAX_EVIDENCE_BYTES, safe_name, sniff
from issuer.storage.learning import AchievementPolicy, AuditEvent, Claim, EvidenceRecord
from tests import learning_fixtures
from tests.conftest import PASSWORD, World
from tests.learning_fixtures import LearnerClient, OpenAchievement, csrf_of, post_form

# The shared fixtures, used by name.
learner = learning_fixtures.learner
peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)


def start(client: LearnerClient, target: OpenAchievement, statement: str = "") -> str:
    """Start a claim through the pages; returns its public id."""
    response = post_form(client, "/learn/claims/new", {
        "issuer": target.issuer_slug, "achievement": target.achievement_slug,
        "statement": statement})
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.search(r"/learn/claims/([0-9a-f-]{36})$", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def add(client: FlaskClient, public_id: str, **fields: object) -> TestResponse:
    """Post the evidence form as multipart, the way a browser sends it."""
    values: dict[str, object] = {
        "url": "", "title": "", "narrative": "", "activity_date": "", "cpd_hours": "",
        "cpd_category": "", **fields,
        "csrf_token": csrf_of(client, f"/learn/claims/{public_id}")}
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # it never closes.
    boundary, body = encode_multipart(values)
    return client.post(f"/learn/claims/{public_id}/evidence", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/octet-stream")


def claim_row(session: Session, public_id: str) -> Claim:
    session.expire_all()
    row = session.scalar(select(Claim).where(Claim.public_id == public_id))
    assert row is not None
    return row


def evidence_count(session: Session, public_id: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(EvidenceRecord).join(Claim)
                           .where(Claim.public_id == public_id)) or 0


def actions(session: Session, public_id: str) -> list[str]:
    claim = claim_row(session, public_id)
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.claim_id == claim.id)
                                .order_by(AuditEvent.id)))


def test_home_lists_open_achievements_and_links_to_badges(
        learner: LearnerClient, open_achievement: OpenAchievement) -> None:
    page = learner.get("/learn/").get_data(as_text=True)
    assert "Peer Scaffolder" in page
    assert (f"/learn/claims/new?issuer={open_achievement.issuer_slug}&amp;"
            f"achievement={open_achievement.achievement_slug}") in page
    assert 'href="/learn/badges"' in page
    assert "You have no claims yet" in page


def test_home_needs_a_signed_in_learner(client: FlaskClient) -> None:
    response = client.get("/learn/")
    assert response.status_code == 302
    assert "/learn/sign-in" in response.headers["Location"]


def test_claim_lifecycle_with_audit_trail(learner: LearnerClient, session: Session,
                                          open_achievement: OpenAchievement) -> None:
    page = learner.get(f"/learn/claims/new?issuer={open_achievement.issuer_slug}"
                       f"&achievement={open_achievement.achievement_slug}")
    assert page.status_code == 200
    assert "at least 2 different people" in page.get_data(as_text=True)
    public_id = start(learner, open_achievement, "I answered questions every week.")
    assert claim_row(session, public_id).status == "draft"

    # Submitting without evidence is refused with a clear message.
    refused = post_form(learner, f"/learn/claims/{public_id}/submit")
    assert refused.status_code == 422
    assert "at least one piece of evidence" in refused.get_data(as_text=True)
    assert claim_row(session, public_id).status == "draft"

    response = add(learner, public_id, url="https://forum.example/t/42", title="Forum answers",
                   narrative="Answered **30** questions.", activity_date="2024-05-01",
                   cpd_hours="2.5", cpd_category="Mentoring", public="yes")
    assert response.status_code == 302
    item = session.scalar(select(EvidenceRecord))
    assert item is not None
    assert (item.url, item.title, item.narrative) == (
        "https://forum.example/t/42", "Forum answers", "Answered **30** questions.")
    assert (item.activity_date.isoformat(), item.cpd_hours, item.cpd_category, item.public) == (
        "2024-05-01", 2.5, "Mentoring", True)

    second = add(learner, public_id, narrative="Mentored two colleagues.")
    assert second.status_code == 302
    private = session.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id)).all()[-1]
    assert private.public is False, "evidence is private unless the learner says otherwise"
    removed = post_form(learner, f"/learn/claims/{public_id}/evidence/{private.id}/delete")
    assert removed.status_code == 302
    assert evidence_count(session, public_id) == 1

    statement = post_form(learner, f"/learn/claims/{public_id}/statement",
                          {"statement": "Weekly answers for a year."})
    assert statement.status_code == 302
    assert claim_row(session, public_id).statement == "Weekly answers for a year."

    submitted = post_form(learner, f"/learn/claims/{public_id}/submit")
    assert submitted.status_code == 302
    row = claim_row(session, public_id)
    assert row.status == "submitted" and row.submitted_at is not None
    # While reviewers look at it, the evidence is frozen.
    frozen = add(learner, public_id, narrative="Late addition")
    assert frozen.status_code == 409
    assert evidence_count(session, public_id) == 1
    home = learner.get("/learn/").get_data(as_text=True)
    assert "Waiting for review" in home and "0 of 2 needed" in home

    withdrawn = post_form(learner, f"/learn/claims/{public_id}/withdraw")
    assert withdrawn.status_code == 302
    assert claim_row(session, public_id).status == "withdrawn"
    assert actions(session, public_id) == [
        "claim.started", "evidence.added", "evidence.added", "evidence.removed",
        "claim.statement_changed", "claim.submitted", "claim.withdrawn"]
    actors = set(session.scalars(select(AuditEvent.actor)
                                 .where(AuditEvent.claim_id == row.id)))
    assert actors == {"learner:learner@guild.test"}
    # A withdrawn claim no longer blocks a new one.
    assert start(learner, open_achievement) != public_id


def test_a_second_open_claim_for_the_same_badge_leads_to_the_first(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    again = learner.get(f"/learn/claims/new?issuer={open_achievement.issuer_slug}"
                        f"&achievement={open_achievement.achievement_slug}")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/learn/claims/{public_id}")
    assert session.scalar(select(func.count()).select_from(Claim)) == 1


def test_a_closed_achievement_takes_no_claims(learner: LearnerClient, session: Session,
                                              open_achievement: OpenAchievement) -> None:
    policy = session.get(AchievementPolicy, open_achievement.achievement_id)
    assert policy is not None
    policy.open_to_claims = False
    session.commit()
    start_section = learner.get("/learn/").get_data(as_text=True).split("Claim a badge")[1]
    assert "Guild Guild" not in start_section and "Other Guild" in start_section
    response = post_form(learner, "/learn/claims/new", {
        "issuer": open_achievement.issuer_slug, "achievement": open_achievement.achievement_slug})
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Claim)) == 0


def test_an_achievement_without_policy_is_open(learner: LearnerClient, world: World) -> None:
    page = learner.get("/learn/").get_data(as_text=True)
    assert "Guild Guild" in page and "Other Guild" in page
    assert start(learner, OpenAchievement(0, world.other_slug, 0, world.achievement_slug, ""))


def test_unknown_achievement_is_404(learner: LearnerClient, world: World) -> None:
    assert learner.get("/learn/claims/new?issuer=guild&achievement=nope").status_code == 404


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"url": "javascript:alert(1)"}, "url", "http:// or https://"),
    ({"url": "ftp://files.example/x"}, "url", "http:// or https://"),
    ({"narrative": "x", "activity_date": "2999-01-01"}, "activity_date", "future"),
    ({"narrative": "x", "activity_date": "yesterday"}, "activity_date", "2025-03-31"),
    ({"narrative": "x", "cpd_hours": "0"}, "cpd_hours", "more than 0"),
    ({"narrative": "x", "cpd_hours": "1000.1"}, "cpd_hours", "at most 1000"),
    ({"narrative": "x", "cpd_hours": "1.25"}, "cpd_hours", "one decimal"),
    ({"narrative": "x", "cpd_hours": "NaN"}, "cpd_hours", "more than 0"),
    ({"narrative": "x", "cpd_category": "c" * 101}, "cpd_category", "100 characters"),
    ({"title": "only a title"}, "url", "web address, a description or a file"),
])
def test_bad_evidence_is_refused_and_nothing_stored(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement,
        fields: dict[str, str], field: str, message: str) -> None:
    public_id = start(learner, open_achievement)
    response = add(learner, public_id, **fields)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert f'id="f-{field}-error"' in body
    assert evidence_count(session, public_id) == 0
    assert actions(session, public_id) == ["claim.started"]


def test_edge_values_are_accepted(learner: LearnerClient, session: Session,
                                  open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    assert add(learner, public_id, narrative="x", cpd_hours="1000").status_code == 302
    assert add(learner, public_id, narrative="y", cpd_hours="0.1").status_code == 302
    hours = sorted(session.scalars(select(EvidenceRecord.cpd_hours)))
    assert hours == [0.1, 1000.0]


def test_a_pdf_is_stored_with_its_digest_and_only_its_owner_downloads_it(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    response = add(learner, public_id, title="Certificate",
                   file=_file(PDF, "../../etc/my report\u202e.pdf"))
    assert response.status_code == 302, response.get_data(as_text=True)
    item = session.scalar(select(EvidenceRecord))
    assert item is not None
    assert item.media_type == "application/pdf"
    assert item.sha256 == hashlib.sha256(PDF).hexdigest()
    assert item.file_name == "my report_.pdf"
    download = learner.get(f"/learn/claims/{public_id}/evidence/{item.id}/file")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in download.headers["Cache-Control"]
    assert "sandbox" in download.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("data", "name"), [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(100), "setup.exe"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(100), "report.pdf"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "report.pdf"),
    (b"<html><body onload=alert(1)>", "notes.txt"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "picture.png"),
    (b"plain words", "report.pdf"),
    (PNG, "photo.jpg"),
    (b"\xff\xfe\x00t\x00e\x00x\x00t", "notes.txt"),
])
def test_wrong_file_types_are_refused(learner: LearnerClient, session: Session,
                                      open_achievement: OpenAchievement, data: bytes,
                                      name: str) -> None:
    public_id = start(learner, open_achievement)
    response = add(learner, public_id, title="Upload", file=_file(data, name))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "PDF, PNG, JPEG or plain text" in body
    assert evidence_count(session, public_id) == 0


@pytest.mark.parametrize(("data", "name", "media_type"), [
    (PNG, "photo.png", "image/png"),
    (b"\xff\xd8\xff\xe0" + bytes(64), "photo.jpeg", "image/jpeg"),
    ("Notes on mentoring — week 1\n".encode(), "notes.md", "text/plain"),
    (PDF, "no-extension", "application/pdf"),
])
def test_allowed_file_types(learner: LearnerClient, session: Session,
                            open_achievement: OpenAchievement, data: bytes, name: str,
                            media_type: str) -> None:
    public_id = start(learner, open_achievement)
    assert add(learner, public_id, file=_file(data, name)).status_code == 302
    item = session.scalar(select(EvidenceRecord))
    assert item is not None and item.media_type == media_type
    assert item.file_name is not None and "." in item.file_name


def test_a_file_over_the_limit_is_refused_clearly(learner: LearnerClient, session: Session,
                                                  open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    # Just over the limit: the request is read, the file refused with the limit named.
    just_over = PDF + bytes(MAX_EVIDENCE_BYTES + 1 - len(PDF))
    response = add(learner, public_id, file=_file(just_over, "big.pdf"))
    assert response.status_code == 422
    assert "at most 5 MB" in response.get_data(as_text=True)
    # Far over: the request itself is refused before it is read.
    far_over = PDF + bytes(3 * MAX_EVIDENCE_BYTES)
    response = add(learner, public_id, file=_file(far_over, "huge.pdf"))
    assert response.status_code == 413
    assert "at most 5 MB" in response.get_data(as_text=True)
    assert evidence_count(session, public_id) == 0
    # A file of exactly the limit is fine (above the site-wide request limit of 2 MB).
    exact = PDF + bytes(MAX_EVIDENCE_BYTES - len(PDF))
    assert add(learner, public_id, file=_file(exact, "exact.pdf")).status_code == 302
    assert evidence_count(session, public_id) == 1


def test_private_evidence_stays_with_the_learner_and_the_reviewers(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], client: FlaskClient,
        session: Session, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    add(learner, public_id, title="Secret diary", narrative="Very private words",
        file=_file(PDF, "diary.pdf"))
    add(learner, public_id, title="Open answers", url="https://forum.example/a", public="yes")
    item = session.scalar(select(EvidenceRecord).where(EvidenceRecord.title == "Secret diary"))
    assert item is not None and item.public is False
    file_url = f"/learn/claims/{public_id}/evidence/{item.id}/file"

    # The learner's link for peers: the peer sees the public item, and only a note of the other.
    response = post_form(learner, f"/learn/claims/{public_id}/requests", {"email": ""})
    assert response.status_code == 302
    shown = learner.get(response.headers["Location"])
    token = re.search(r"/attest/([A-Za-z0-9_-]+)", shown.get_data(as_text=True))
    assert token
    peer_page = peers[0].get(f"/attest/{token.group(1)}").get_data(as_text=True)
    assert "Open answers" in peer_page and "https://forum.example/a" in peer_page
    assert "Secret diary" not in peer_page and "Very private words" not in peer_page
    assert "diary.pdf" not in peer_page
    assert "1 private evidence item, seen by the reviewers" in peer_page

    # The file: not for peers, not for strangers, not for another issuer's staff.
    assert peers[0].get(file_url).status_code == 404
    anonymous = client.get(file_url)
    assert anonymous.status_code == 302 and "/learn/sign-in" in anonymous.headers["Location"]
    other_staff = _staff(client.application.test_client(), "staff@other.test")
    assert other_staff.get(file_url).status_code == 404
    reviewer = _staff(client.application.test_client(), "staff@guild.test")
    download = reviewer.get(file_url)
    assert download.status_code == 200 and download.data == PDF


def _staff(client: FlaskClient, email: str) -> FlaskClient:
    login = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert token
    response = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": token.group(1)})
    assert response.status_code == 302
    return client


def test_another_learners_claim_does_not_exist_for_them(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    add(learner, public_id, narrative="Mine", file=_file(PDF, "mine.pdf"))
    item = session.scalar(select(EvidenceRecord))
    assert item is not None
    intruder = peers[0]
    base = f"/learn/claims/{public_id}"
    assert intruder.get(base).status_code == 404
    for url, data in [
        (f"{base}/statement", {"statement": "hijacked"}),
        (f"{base}/evidence", {"narrative": "planted"}),
        (f"{base}/evidence/{item.id}/delete", {}),
        (f"{base}/submit", {}),
        (f"{base}/withdraw", {}),
        (f"{base}/requests", {"email": ""}),
    ]:
        assert post_form(intruder, url, data).status_code == 404, url
    row = claim_row(session, public_id)
    assert (row.status, row.statement) == ("draft", None)
    assert evidence_count(session, public_id) == 1
    assert actions(session, public_id) == ["claim.started", "evidence.added"]
    assert "Mine" not in intruder.get("/learn/").get_data(as_text=True)


def test_user_text_is_escaped(learner: LearnerClient, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement, "<script>alert('s')</script>")
    add(learner, public_id, title="<b>t</b>", narrative="<img src=x onerror=alert(1)>")
    page = learner.get(f"/learn/claims/{public_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>t</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_file_checks_in_isolation() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(b"\x00binary") is None
    assert sniff(b"  <svg onload=alert(1)>") is None
    assert safe_name("C:\\Users\\me\\cv.pdf", "application/pdf") == "cv.pdf"
    assert safe_name("...", "text/plain") == "evidence.txt"
    assert safe_name("a" * 300 + ".pdf", "application/pdf").endswith(".pdf")
    assert len(safe_name("a" * 300 + ".pdf", "application/pdf")) <= 120
