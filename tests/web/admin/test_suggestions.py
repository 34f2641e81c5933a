"""A community manager measures a community's export against a badge's thresholds, suggests
the people who meet them, and a reviewer approves a suggested claim whose credential says
which records were counted and how — over the Flask test client with CSRF on, on the real
database (SQLite, and PostgreSQL with ISSUER_TEST_DATABASE_URL)."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from issuer.config import Settings
from issuer.services.context import ServiceContext
from issuer.services.verification import verify
from issuer.storage.learning import Claim, EvidenceRecord
from issuer.storage.models import Credential
from issuer.storage.traces import TraceImport
from tests.conftest import World
from tests.web.admin.test_pages import csrf_token, page, signed_in_as, submit

GUILD = "/admin/issuers/guild"
POLICY = f"{GUILD}/achievements/peer-scaffolder/policy"
THRESHOLDS = f"{GUILD}/achievements/peer-scaffolder/measures"
SUGGEST = f"{GUILD}/suggestions"
DAY0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
HELPER = "helper@lists.example"


def _mail(n: int, sender: str, day: float, body: str, *, reply_to: int | None = None,
          lists: str = "help.rust.example", message_id: bool = True) -> str:
    when = DAY0 + timedelta(days=day)
    lines = [f"From {sender} {when:%a %b %d %H:%M:%S %Y}",
             f"From: {sender.split('@')[0].title()} <{sender}>", "To: list@example.org",
             f"Date: {when:%a, %d %b %Y %H:%M:%S} +0000", f"List-Id: <{lists}>",
             "Subject: a question", "Content-Type: text/plain; charset=utf-8"]
    if message_id:
        lines.append(f"Message-ID: <{n}@lists.example>")
    if reply_to is not None:
        lines += [f"In-Reply-To: <{reply_to}@lists.example>",
                  f"References: <{reply_to}@lists.example>"]
    return "\n".join(lines) + "\n\n" + body + "\n\n"


def community_mbox() -> bytes:
    """Two lists. helper@ answers four people (three thank them, across both lists); ann@
    and bob@ thank each other; fan@ thanks spammer@ twenty times in a week; one message has
    no Message-ID."""
    mails: list[str] = []
    asks = [("ann@lists.example", "help.rust.example"), ("cho@lists.example",
            "help.rust.example"), ("dev@lists.example", "help.go.example"),
            ("eli@lists.example", "help.go.example")]
    for k, (asker, where) in enumerate(asks):
        q, a, t = 10 + 3 * k, 11 + 3 * k, 12 + 3 * k
        mails.append(_mail(q, asker, 10 * k, "How do I borrow this twice?", lists=where))
        mails.append(_mail(a, HELPER, 10 * k + 0.1, "Clone it, or use a reference.",
                           reply_to=q, lists=where))
        if k < 3:  # eli@ never replies
            mails.append(_mail(t, asker, 10 * k + 0.2, "> Clone it\nThanks, that worked!",
                               reply_to=a, lists=where))
    mails += [_mail(40, "ann@lists.example", 1, "Why?"),
              _mail(41, "bob@lists.example", 1.1, "Because.", reply_to=40),
              _mail(42, "ann@lists.example", 1.2, "Thank you!", reply_to=41),
              _mail(43, "bob@lists.example", 2, "And this?"),
              _mail(44, "ann@lists.example", 2.1, "Like so.", reply_to=43),
              _mail(45, "bob@lists.example", 2.2, "thanks", reply_to=44)]
    for n in range(20):
        mails += [_mail(100 + n, "fan@lists.example", n * 0.3, f"Q{n}?"),
                  _mail(200 + n, "spammer@lists.example", n * 0.3 + 0.01, "A.",
                        reply_to=100 + n),
                  _mail(300 + n, "fan@lists.example", n * 0.3 + 0.02, "thx",
                        reply_to=200 + n)]
    mails.append(_mail(999, "nobody@lists.example", 3, "No id.", message_id=False))
    return "".join(mails).encode("utf-8")


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def _upload(staff: FlaskClient, data: bytes, kind: str = "mbox",
            name: str = "rust-help.mbox") -> TestResponse:
    """Post the upload form as multipart, the way a browser sends it (encoded here, so the
    test client does not spool a large body to a file of its own)."""
    token = csrf_token(page(staff, SUGGEST))
    boundary, body = encode_multipart({
        "csrf_token": token, "achievement": "peer-scaffolder", "kind": kind, "site": "",
        "file": FileStorage(io.BytesIO(data), filename=name)})
    return staff.post(SUGGEST, data=body,
                      content_type=f"multipart/form-data; boundary={boundary}")


def _rows(text: str) -> dict[str, str]:
    """Handle → row number of the people who meet the thresholds."""
    return {handle: number for number, handle in re.findall(
        r'name="pick" value="(\d+)">\s*<label[^>]*><strong>([^<]+)</strong>', text)}


def test_thresholds_are_set_on_the_policy_page_and_refused_out_of_range(
        staff: FlaskClient) -> None:
    text = page(staff, POLICY)
    assert "Measured help required" in text and 'action="' + THRESHOLDS in text
    saved = submit(staff, POLICY, {"min_people": "5", "min_communities": "2"},
                   action=THRESHOLDS)
    assert saved.status_code == 303
    text = page(staff, POLICY)
    assert 'name="min_people" value="5"' in text and 'name="min_communities" value="2"' in text
    refused = submit(staff, POLICY, {"min_people": "-1", "min_rate": "150",
                                     "min_acknowledgements": "1.3"}, action=THRESHOLDS)
    assert refused.status_code == 422
    body = html.unescape(refused.get_data(as_text=True))
    assert "from 0 to 1000" in body and "from 0 to 100" in body and "in halves" in body
    assert 'name="min_people" value="5"' in page(staff, POLICY)


def test_a_broken_export_is_refused_in_words(staff: FlaskClient) -> None:
    broken = _upload(staff, b'{"post_stream": 3', kind="topic_json", name="topic.json")
    assert broken.status_code == 422
    assert "could not be read as Discourse" in html.unescape(broken.get_data(as_text=True))
    assert _upload(staff, b"", kind="mbox").status_code == 422
    unknown = _upload(staff, b"x", kind="user_archive_csv")
    assert unknown.status_code == 422


def test_the_manager_suggests_who_meets_the_policy_and_a_reviewer_approves(
        staff: FlaskClient, session: Session, ctx: ServiceContext) -> None:
    assert submit(staff, POLICY, {"min_people": "3", "min_communities": "2"},
                  action=THRESHOLDS).status_code == 303
    data = community_mbox()
    uploaded = _upload(staff, data)
    assert uploaded.status_code == 303, uploaded.get_data(as_text=True)
    results = uploaded.headers["Location"]
    text = html.unescape(page(staff, results))
    assert hashlib.sha256(data).hexdigest() in text
    assert "Items left out</dt><dd>1" in text  # the message without a Message-ID
    meeting = _rows(text)
    assert list(meeting) == [HELPER]
    # The gamers are listed with what they lack: the pair counts half, the fan once.
    others = text.split("Others who answered", 1)[1]
    assert "spammer@lists.example" in others and "too few different people" in others
    assert "ann@lists.example" in others and "bob@lists.example" in others
    assert f'value="{HELPER}"' in text  # the address the archive gives

    token = csrf_token(page(staff, results))
    nobody = staff.post(results, data={"csrf_token": token})
    assert nobody.status_code == 422
    assert "Tick at least one person" in nobody.get_data(as_text=True)
    # A number that is not a meeting row is one row error; nothing else fails.
    token = csrf_token(page(staff, results))
    done = staff.post(results, data={"csrf_token": token, "pick": [meeting[HELPER], "2", "77"],
                                     f"email-{meeting[HELPER]}": HELPER})
    assert done.status_code == 200, done.get_data(as_text=True)
    body = html.unescape(done.get_data(as_text=True))
    assert "1 claim opened for review" in body
    assert "Row 77 (?): there is no such person in this export" in body
    assert "Row 2 (" in body and "does not meet the badge's policy" in body

    claim = session.scalars(select(Claim)).one()
    assert (claim.status, claim.learner.email) == ("submitted", HELPER)
    imported = session.scalars(select(TraceImport)).one()
    assert (imported.claim_id, imported.handle) == (claim.id, HELPER)
    # Suggesting the same person again is refused: they have a claim already.
    token = csrf_token(page(staff, results))
    again = staff.post(results, data={"csrf_token": token, "pick": meeting[HELPER]})
    assert again.status_code == 422
    assert "already has a claim" in html.unescape(again.get_data(as_text=True))

    # The reviewer sees the measures on the claim page, and on the learner's page.
    claim_page = f"{GUILD}/reviews/{claim.public_id}"
    shown = html.unescape(page(staff, claim_page))
    assert "Measured help" in shown
    assert re.search(r"Different people who acknowledged the help</dt><dd>3<", shown)
    assert "Meets this badge's thresholds" in shown
    learner_page = f"{GUILD}/learners/{claim.learner_id}/measures"
    assert "Measured help of" in page(staff, learner_page)
    assert staff.get(f"{GUILD}/learners/999999/measures").status_code == 404

    # Thresholds raised: approval is refused in plain words; lowered again: approved.
    assert submit(staff, POLICY, {"min_people": "4", "min_communities": "2"},
                  action=THRESHOLDS).status_code == 303
    token = csrf_token(page(staff, claim_page))
    blocked = staff.post(claim_page, data={"csrf_token": token, "decision": "approve",
                                           "comment": "Helped many."})
    assert blocked.status_code == 409
    assert ("help acknowledged by 3 people (different people); at least 4 needed"
            in html.unescape(blocked.get_data(as_text=True)))
    assert submit(staff, POLICY, {"min_people": "3", "min_communities": "2"},
                  action=THRESHOLDS).status_code == 303
    token = csrf_token(page(staff, claim_page))
    approved = staff.post(claim_page, data={"csrf_token": token, "decision": "approve",
                                            "comment": "Helped many."})
    assert approved.status_code == 302, approved.get_data(as_text=True)

    session.expire_all()
    claim = session.get(Claim, claim.id)
    assert claim is not None and claim.credential_id is not None
    row = session.get(Credential, claim.credential_id)
    assert row is not None
    document = json.loads(row.document)
    report = verify(session, ctx, row.document)
    assert report.valid, [c.to_json() for c in report.checks]
    evidence = document["evidence"]
    digest = hashlib.sha256(data).hexdigest()
    item = next(e for e in evidence if e.get("id") == f"urn:sha256:{digest}")
    assert "counted" in item["narrative"] and digest in item["narrative"]
    assert "30 days" in item["narrative"] and "count half" in item["narrative"]
    # Records are the helper's own messages; the people helped are never named.
    assert "ann@lists.example" not in item["narrative"]
    assert session.scalars(select(EvidenceRecord)).one().public


def test_other_issuers_staff_see_nothing(client: FlaskClient, world: World,
                                         staff: FlaskClient) -> None:
    other = signed_in_as(client.application.test_client(), world.other_staff_email)
    assert other.get(SUGGEST).status_code == 403
    assert other.get(THRESHOLDS).status_code == 403


def test_an_export_over_the_limit_is_refused_with_413(staff: FlaskClient,
                                                      settings: Settings) -> None:
    limit = settings.trace_upload_max_bytes
    response = _upload(staff, b"From " + b"x" * (limit + 70_000))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
