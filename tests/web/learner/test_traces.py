"""From community traces to a badge, over real HTTP on the real database: a learner uploads
each kind of archive, sees what was found and the items left out, picks acts of help, asks
the people helped to attest, and the approved credential's evidence carries the permalinks,
genres and hashes, verifies and passes the OB 3.0 schema."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from issuer.config import Settings
from issuer.core.credentials import ACHIEVEMENT_CREDENTIAL_SCHEMA
from issuer.core.schema import SchemaRegistry
from issuer.services.context import ServiceContext
from issuer.services.reviews import approve
from issuer.services.verification import verify
from issuer.storage.learning import AttestationRequest, EvidenceRecord, MailMessage
from issuer.storage.models import Credential
from issuer.storage.traces import TraceImport, TraceItem
from tests import learning_fixtures
from tests.conftest import World
from tests.core.activity import archives
from tests.learning_fixtures import LearnerClient, OpenAchievement, csrf_of, post_form
from tests.services.test_attestations import attest
from tests.web.admin.test_pages import page as staff_page
from tests.web.admin.test_pages import signed_in_as
from tests.web.learner.test_claims import claim_row, start

learner = learning_fixtures.learner
peers = learning_fixtures.peers
open_achievement = learning_fixtures.open_achievement

LINK = re.compile(r"http://badges\.test/attest/([A-Za-z0-9_-]{20,})")
IMPORT = re.compile(r"/traces/([0-9]+)$")


def upload(client: FlaskClient, public_id: str, kind: str, data: bytes, handle: str, *,
           name: str = "archive", site: str = "", json_answer: bool = False) -> TestResponse:
    """Post the upload form as multipart, the way a browser sends it."""
    values: dict[str, object] = {
        "kind": kind, "handle": handle, "site": site,
        "file": FileStorage(io.BytesIO(data), filename=name),
        "csrf_token": csrf_of(client, f"/learn/claims/{public_id}/traces")}
    boundary, body = encode_multipart(values)
    headers = {"Accept": "application/json"} if json_answer else {}
    return client.post(f"/learn/claims/{public_id}/traces", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def imported(client: FlaskClient, public_id: str, kind: str, data: bytes, handle: str,
             **extra: Any) -> int:
    response = upload(client, public_id, kind, data, handle, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)
    found = IMPORT.search(response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def items_of(session: Session, import_id: int) -> list[TraceItem]:
    session.expire_all()
    return list(session.scalars(select(TraceItem).where(TraceItem.import_id == import_id)
                                .order_by(TraceItem.id)))


def pick(client: FlaskClient, public_id: str, import_id: int,
         chosen: dict[int, dict[str, str]], public: bool = True) -> TestResponse:
    data: dict[str, Any] = {"item": [str(i) for i in chosen]}
    for number, fields in chosen.items():
        for key, value in fields.items():
            data[f"{key}-{number}"] = value
    if public:
        data["public"] = "yes"
    return post_form(client, f"/learn/claims/{public_id}/traces/{import_id}/pick", data,
                     token_from=f"/learn/claims/{public_id}/traces/{import_id}")


SE_API = archives.se_api_json()
CASES = [
    # kind, file, handle, site, the learner's acts of help with a permalink (acknowledged)
    ("posts_xml", archives.posts_xml(archives.SE_POSTS), "10", archives.SITE,
     {f"https://{archives.SITE}/a/{n}" for n in (2, 5, 10, 12, 14)}),
    ("api_json", SE_API, "10", "", {f"https://{archives.SITE}/a/101"}),
    ("topic_json", archives.discourse_topic(), "tom", "forum.bakers.example",
     {"https://forum.bakers.example/t/sourdough-starter-smells-of-acetone/42/2",
      "https://forum.bakers.example/t/sourdough-starter-smells-of-acetone/42/5"}),
    ("outbox_json", archives.outbox_json(), "alice@social.example", "",
     {"https://social.example/@alice/2", "https://social.example/@alice/5"}),
]


@pytest.mark.parametrize(("kind", "data", "handle", "site", "helps"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_archive_shows_the_acts_of_help_and_the_items_left_out(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement,
        kind: str, data: bytes, handle: str, site: str, helps: set[str]) -> None:
    public_id = start(learner, open_achievement, "I help people learn to bake.")
    import_id = imported(learner, public_id, kind, data, handle, site=site)
    rows = items_of(session, import_id)
    answers = {i.permalink for i in rows if i.own and i.answers_other}
    assert helps <= answers
    row = session.get(TraceImport, import_id)
    assert row is not None
    assert row.source_sha256 == hashlib.sha256(data).hexdigest()
    page = learner.get(f"/learn/claims/{public_id}/traces/{import_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for link in helps:
        assert link in text
    if row.errors:
        assert "Items left out" in text
        assert str(row.errors[0]["item"]) in text


def test_an_mbox_without_links_asks_for_the_address_of_each_message(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    import_id = imported(learner, public_id, "mbox", archives.mbox_file(),
                         "Helper@Example.net")
    answer = next(i for i in items_of(session, import_id)
                  if i.own and i.post_id == "m2@lists.example")
    assert answer.acknowledged and answer.reply_to_person == "ann@example.org"
    missing = pick(learner, public_id, import_id, {answer.id: {"genre": "Mailing-list reply"}})
    assert missing.status_code == 422
    assert f'id="f-url-{answer.id}"' in missing.get_data(as_text=True)
    given = pick(learner, public_id, import_id, {answer.id: {
        "genre": "Mailing-list reply",
        "url": "https://lists.example/archives/help/2024-June/000002.html"}})
    assert given.status_code == 302
    # The person helped is suggested with the address the archive shows; nothing is sent.
    page = learner.get(f"/learn/claims/{public_id}/traces").get_data(as_text=True)
    assert 'value="ann@example.org"' in page
    assert session.scalar(select(func.count()).select_from(AttestationRequest)) == 0


@pytest.mark.parametrize(("name", "kind", "data", "message"), [
    ("not xml", "posts_xml", b"this is not xml", "could not be read"),
    ("doctype", "posts_xml", archives.BILLION_LAUGHS, "could not be read"),
    ("not json", "outbox_json", b"{broken", "not JSON"),
    ("not a topic", "topic_json", b'{"id": "x"}', "not a Discourse topic"),
    ("not mbox", "mbox", b"hello world\n", "not an mbox"),
    ("empty", "api_json", b"", "Choose the archive"),
])
def test_a_file_that_cannot_be_read_is_a_422_page_never_a_500(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement,
        name: str, kind: str, data: bytes, message: str) -> None:
    public_id = start(learner, open_achievement)
    response = upload(learner, public_id, kind, data, "10")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    problem = upload(learner, public_id, kind, data, "10", json_answer=True)
    assert problem.status_code == 422
    assert problem.content_type.startswith("application/problem+json")
    assert session.scalar(select(func.count()).select_from(TraceImport)) == 0


def test_broken_rows_are_listed_and_the_rest_imported(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    rows = [*archives.SE_POSTS, '  <row Id="40" PostTypeId="2" OwnerUserId="10" />',
            '  <row Id="41" PostTypeId="2" ParentId="1" OwnerUserId="ten" />']
    import_id = imported(learner, public_id, "posts_xml", archives.posts_xml(rows), "10",
                         site=archives.SITE)
    row = session.get(TraceImport, import_id)
    assert row is not None and len(row.errors) == 2
    page = learner.get(f"/learn/claims/{public_id}/traces/{import_id}").get_data(
        as_text=True)
    assert "Items left out (2)" in page and "answer 40 has no ParentId" in page
    assert "<dt>Answers to others</dt><dd>5 " in page


def test_an_upload_over_the_limit_is_refused_with_413(
        settings: Settings, learner: LearnerClient,
        open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    limit = settings.trace_upload_max_bytes
    response = upload(learner, public_id, "mbox", b"From " + b"x" * (limit + 70_000),
                      "a@example.org")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_picked_help_becomes_a_credential_with_permalinks_genres_and_hashes(
        client: FlaskClient, learner: LearnerClient, peers: tuple[LearnerClient, ...],
        session: Session, ctx: ServiceContext, schemas: SchemaRegistry, world: World,
        open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement, "I answer bakers' questions.")
    xml = archives.posts_xml(archives.SE_POSTS)
    import_id = imported(learner, public_id, "posts_xml", xml, "10", site=archives.SITE)
    rows = {i.permalink: i for i in items_of(session, import_id) if i.own}
    accepted = rows[f"https://{archives.SITE}/a/2"]
    other = rows[f"https://{archives.SITE}/a/5"]
    done = pick(learner, public_id, import_id, {
        accepted.id: {"genre": "Forum answer", "audience": "home bakers",
                      "narrative": "Explained proofing times."},
        other.id: {"genre": "Forum answer"}})
    assert done.status_code == 302, done.get_data(as_text=True)
    # A post already picked cannot be picked twice; an unknown genre is refused.
    again = pick(learner, public_id, import_id, {accepted.id: {"genre": "Forum answer"}})
    assert again.status_code == 422
    third = rows[f"https://{archives.SITE}/a/10"]
    wrong = pick(learner, public_id, import_id, {third.id: {"genre": "Blog post"}})
    assert wrong.status_code == 422

    # The people helped are suggested; the learner asks them through the usual request.
    page = learner.get(f"/learn/claims/{public_id}/traces").get_data(as_text=True)
    assert "Ask 20 to attest" in page and "Ask 21 to attest" in page
    tokens = []
    for peer in peers:
        sent = post_form(learner, f"/learn/claims/{public_id}/requests",
                         {"email": peer.email, "note": "You asked about bread."},
                         token_from=f"/learn/claims/{public_id}/traces")
        assert sent.status_code == 302
        shown = learner.get(sent.headers["Location"]).get_data(as_text=True)
        found = LINK.search(shown)
        assert found
        tokens.append(found.group(1))
    assert session.scalar(select(func.count()).select_from(MailMessage)) == 2
    for peer, token in zip(peers, tokens, strict=True):
        assert attest(peer, token).status_code == 302
    assert post_form(learner, f"/learn/claims/{public_id}/submit").status_code == 302
    # The reviewer sees where each post came from.
    staff = signed_in_as(client, world.staff_email)
    review = html.unescape(staff_page(staff, f"/admin/issuers/guild/reviews/{public_id}"))
    assert hashlib.sha256(xml).hexdigest() in review and "Forum answer" in review
    assert "accepted by 20" in review
    approve(session, ctx, claim_row(session, public_id), "staff@guild.test", "Well helped.")
    session.commit()

    credential = session.get(Credential, claim_row(session, public_id).credential_id)
    assert credential is not None
    document = json.loads(credential.document)
    evidence = {e["id"]: e for e in document["evidence"]}
    first = evidence[f"https://{archives.SITE}/a/2"]
    assert first["type"] == ["Evidence"]
    assert first["genre"] == "Forum answer" and first["audience"] == "home bakers"
    assert first["narrative"] == "Explained proofing times."
    assert hashlib.sha256(xml).hexdigest() in first["description"]
    assert accepted.content_sha256 and accepted.content_sha256 in first["description"]
    assert "accepted by 20" in first["description"]
    assert evidence[f"https://{archives.SITE}/a/5"]["genre"] == "Forum answer"
    # The issued credential's status list entry is a VCDM 2.0 array the pinned OB 3.0 schema
    # predates; everything else, evidence included, must pass it as is.
    assert schemas.validate({k: v for k, v in document.items() if k != "credentialStatus"},
                            ACHIEVEMENT_CREDENTIAL_SCHEMA) == []
    report = verify(session, ctx, credential.document)
    assert report.valid, [c.to_json() for c in report.checks]
    schema_check = report.check("schema")
    assert schema_check is not None and schema_check.outcome == "passed"


def test_removing_picked_evidence_frees_the_post(
        learner: LearnerClient, session: Session, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    import_id = imported(learner, public_id, "api_json", SE_API, "10")
    answer = next(i for i in items_of(session, import_id) if i.post_id == "101")
    assert pick(learner, public_id, import_id,
                {answer.id: {"genre": "Forum answer"}}).status_code == 302
    record = session.scalar(select(EvidenceRecord))
    assert record is not None
    removed = post_form(learner, f"/learn/claims/{public_id}/evidence/{record.id}/delete",
                        token_from=f"/learn/claims/{public_id}")
    assert removed.status_code == 302
    assert items_of(session, import_id)[0].evidence_record_id is None


def test_another_learner_sees_no_import(
        learner: LearnerClient, peers: tuple[LearnerClient, ...], session: Session,
        open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    import_id = imported(learner, public_id, "api_json", SE_API, "10")
    other_claim = start(peers[0], open_achievement)
    assert peers[0].get(f"/learn/claims/{public_id}/traces").status_code == 404
    assert peers[0].get(f"/learn/claims/{other_claim}/traces/{import_id}").status_code == 404
    assert claim_row(session, public_id).learner_id == learner.learner_id
