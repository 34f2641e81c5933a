"""The CPD transcript: sums per quarter, year and category, the chart, the CSV and the CLR.

The learner's badges are real credentials (awarded through the award use case) with
LearnerBadge rows written directly, so each test chooses the hours, categories and dates.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.credentials import CLR_V2, OB_V3, VC_V2, hashed_email, identity_hash
from issuer.core.datetimes import parse_datetime
from issuer.core.proofs.data_integrity import SuiteContext, sign_document
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.services.achievements import create_achievement, get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid
from issuer.services.issuers import create_issuer, get_issuer, method_id, signing_key
from issuer.services.transcripts import (
    UNCATEGORISED,
    Period,
    safe_cell,
    sign_clr,
    transcript,
)
from issuer.services.verification import verify
from issuer.storage.learning import AuditEvent, Learner, LearnerBadge
from issuer.storage.models import Credential, Issuer
from tests import learning_fixtures
from tests.conftest import BASE_URL, World
from tests.learning_fixtures import LEARNER_EMAIL, LEARNER_NAME, LearnerClient

learner = learning_fixtures.learner

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))
SVG = "{http://www.w3.org/2000/svg}"

#: (earned on, issuer, category, hours) of the learner's badges.
ROWS = [
    (date(2024, 1, 15), "guild", "Mentoring", 2.5),
    (date(2024, 3, 31), "guild", "Mentoring", 1.25),
    (date(2024, 4, 1), "other", "Research", 4.0),
    (date(2024, 11, 30), "guild", None, 1.0),
    (date(2025, 2, 1), "guild", "Mentoring", 3.0),
]
YEAR_2024 = {"from": "2024-01-01", "to": "2024-12-31"}


@dataclass
class Cpd:
    learner: LearnerClient
    credentials: list[Credential]

    def in_2024(self) -> list[Credential]:
        return [c for c, row in zip(self.credentials, ROWS, strict=True) if row[0].year == 2024]


def _give(session: Session, ctx: ServiceContext, learner_id: int, slug: str, earned: date,
          category: str | None, hours: float | None,
          achievement: str = "peer-scaffolder") -> Credential:
    issuer = get_issuer(session, slug)
    credential = award(session, ctx, issuer, get_achievement(session, issuer, achievement),
                       AwardRequest(recipient=Recipient.parse(LEARNER_EMAIL, LEARNER_NAME)),
                       actor="staff")
    session.add(LearnerBadge(learner_id=learner_id, credential_id=credential.id,
                             cpd_hours=hours, cpd_category=category, earned_on=earned))
    session.commit()
    return credential


@pytest.fixture()
def cpd(session: Session, ctx: ServiceContext, world: World, learner: LearnerClient) -> Cpd:
    credentials = [_give(session, ctx, learner.learner_id, slug, earned, category, hours)
                   for earned, slug, category, hours in ROWS]
    return Cpd(learner, credentials)


def _learner_row(session: Session, cpd: Cpd) -> Learner:
    row = session.get(Learner, cpd.learner.learner_id)
    assert row is not None
    return row


def _rows(html: str, caption: str) -> list[list[str]]:
    """The body rows of the table after ``caption`` (a caption or a heading), as cell texts."""
    table = html.split(caption, 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in
             re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


# --- sums ----------------------------------------------------------------------------------


def test_hours_add_up_per_quarter_year_and_category(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    result = transcript(session, ctx, _learner_row(session, cpd),
                        Period(date(2024, 1, 1), date(2024, 12, 31)))
    assert [e.day for e in result.entries] == [r[0] for r in ROWS if r[0].year == 2024]
    assert result.by_quarter() == [("2024 Q1", 3.75), ("2024 Q2", 4.0), ("2024 Q3", 0.0),
                                   ("2024 Q4", 1.0)]
    assert result.by_category() == [("Mentoring", 3.75), ("Research", 4.0),
                                    (UNCATEGORISED, 1.0)]
    assert result.by_year() == [("2024", 8.75)]
    assert result.total == 8.75
    assert result.cell("2024 Q1", "Mentoring") == 3.75
    assert result.cell("2024 Q1", "Research") == 0.0

    everything = transcript(session, ctx, _learner_row(session, cpd), Period())
    assert everything.by_year() == [("2024", 8.75), ("2025", 3.0)]
    assert everything.quarters == ["2024 Q1", "2024 Q2", "2024 Q3", "2024 Q4", "2025 Q1"]
    assert everything.total == sum(r[3] for r in ROWS)


def test_the_page_shows_the_same_numbers(cpd: Cpd) -> None:
    response = cpd.learner.get("/learn/transcript", query_string=YEAR_2024)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>8.75 hours</strong> from 1 January 2024 to 31 December 2024" in html
    assert _rows(html, "Hours per quarter and category") == [
        ["2024 Q1", "3.75", "0", "0", "3.75"],
        ["2024 Q2", "0", "4", "0", "4"],
        ["2024 Q3", "0", "0", "0", "0"],
        ["2024 Q4", "0", "0", "1", "1"],
    ]
    assert _rows(html, "Hours per year") == [["2024", "8.75"]]
    assert _rows(html, "Hours per category") == [["Mentoring", "3.75"], ["Research", "4"],
                                                 ["Uncategorised", "1"]]
    assert "style=" not in html and "<script" not in html
    assert '/learn/transcript/chart.svg?from=2024-01-01&amp;to=2024-12-31' in html


def test_both_ends_of_the_period_are_included(cpd: Cpd) -> None:
    html = cpd.learner.get("/learn/transcript?from=2024-03-31&to=2024-04-01").get_data(
        as_text=True)
    assert "<strong>5.25 hours</strong>" in html
    assert _rows(html, "Hours per year") == [["2024", "5.25"]]


@pytest.mark.parametrize("query, words", [
    ("from=2024-13-01", "the from date must be a date such as 2024-01-31"),
    ("to=yesterday", "the to date must be a date such as 2024-01-31"),
    ("from=2024-06-01&to=2024-01-01", "the period ends before it starts"),
])
def test_bad_dates_are_explained(cpd: Cpd, query: str, words: str) -> None:
    page = cpd.learner.get(f"/learn/transcript?{query}")
    assert page.status_code == 422
    assert words in page.get_data(as_text=True)
    assert 'aria-invalid="true"' in page.get_data(as_text=True)
    for url in ("/learn/transcript.csv", "/learn/transcript.json",
                "/learn/transcript/chart.svg"):
        assert cpd.learner.get(f"{url}?{query}").status_code == 422, url


def test_revoked_badges_are_not_counted(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    from issuer.services.revocation import change_status

    revoked = cpd.credentials[2]  # Research, 4 hours, by "other"
    change_status(session, ctx, get_issuer(session, "other"), revoked.id, "revoke",
                  reason="Evidence was not genuine", actor="staff")
    session.commit()
    html = cpd.learner.get("/learn/transcript", query_string=YEAR_2024).get_data(as_text=True)
    assert "<strong>4.75 hours</strong>" in html
    assert "Not counted" in html and "revoked by its issuer" in html
    csv_text = cpd.learner.get("/learn/transcript.csv", query_string=YEAR_2024).get_data(
        as_text=True)
    assert revoked.id not in csv_text
    clr = cpd.learner.get("/learn/transcript.json", query_string=YEAR_2024).get_json()
    enclosed = [c["id"] for c in clr["credentialSubject"]["verifiableCredential"]]
    assert f"{BASE_URL}/credentials/{revoked.id}" not in enclosed
    assert len(enclosed) == 3


def test_badges_awarded_to_the_address_count_without_visiting_the_badges_page(
        session: Session, ctx: ServiceContext, world: World, learner: LearnerClient) -> None:
    issuer = get_issuer(session, "guild")
    credential = award(session, ctx, issuer, get_achievement(session, issuer, "peer-scaffolder"),
                       AwardRequest(recipient=Recipient.parse(LEARNER_EMAIL),
                                    credits_earned=6.5), actor="staff")
    session.commit()
    html = learner.get("/learn/transcript").get_data(as_text=True)
    assert "<strong>6.5 hours</strong> to date" in html
    assert f"/credentials/{credential.id}" in html


# --- the chart -----------------------------------------------------------------------------


def test_the_chart_is_valid_svg_with_the_same_numbers(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    _give(session, ctx, cpd.learner.learner_id, "guild", date(2024, 5, 5),
          'R&D <"lab">', 0.5)
    response = cpd.learner.get("/learn/transcript/chart.svg", query_string=YEAR_2024)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    root = ET.fromstring(response.data)  # raises if it is not well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "CPD hours per quarter"  # type: ignore[union-attr]
    assert all(node.get("style") is None for node in root.iter())
    bars = sorted(t.text or "" for rect in root.iter(f"{SVG}rect")
                  for t in rect.findall(f"{SVG}title"))
    assert bars == sorted([
        "2024 Q1, Mentoring: 3.75 hours",
        "2024 Q2, Research: 4 hours",
        '2024 Q2, R&D <"lab">: 0.5 hours',
        "2024 Q4, Uncategorised: 1 hour",
    ])
    legend = [t.text for t in root.iter(f"{SVG}text")]
    assert 'R&D <"lab">' in legend
    for quarter in ("2024 Q1", "2024 Q2", "2024 Q3", "2024 Q4"):
        assert quarter in legend
    # Stacked: the two bars of 2024 Q2 sit on top of each other, with heights in proportion.
    q2 = [r for r in root.iter(f"{SVG}rect")
          if any((t.text or "").startswith("2024 Q2") for t in r.findall(f"{SVG}title"))]
    assert len({r.get("x") for r in q2}) == 1
    heights = sorted(float(r.get("height", "0")) for r in q2)
    assert heights[1] == pytest.approx(heights[0] * 8, rel=0.02)


def test_an_empty_period_gives_an_empty_chart(cpd: Cpd) -> None:
    response = cpd.learner.get("/learn/transcript/chart.svg?from=2030-01-01")
    root = ET.fromstring(response.data)
    assert "No CPD hours in this period" in [t.text for t in root.iter(f"{SVG}text")]
    assert not [r for r in root.iter(f"{SVG}rect") if r.findall(f"{SVG}title")]


# --- CSV -----------------------------------------------------------------------------------


def test_the_csv_lists_the_counted_badges(cpd: Cpd) -> None:
    response = cpd.learner.get("/learn/transcript.csv", query_string=YEAR_2024)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="cpd-transcript-2024-01-01-2024-12-31.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["start date", "end date", "method", "topic", "relevance to practice",
                       "hours", "participatory hours", "framework reference", "evidence",
                       "achievement", "issuer", "credential URL"]
    # A badge awarded without a claim is one activity on the day it was earned.
    expected = [
        [earned.isoformat(), earned.isoformat(), category or "Uncategorised", "Peer Scaffolder",
         "", f"{hours:g}", "", "", "", "Peer Scaffolder", f"{slug.title()} Guild",
         f"{BASE_URL}/credentials/{c.id}"]
        for (earned, slug, category, hours), c in zip(ROWS, cpd.credentials, strict=True)
        if earned.year == 2024
    ]
    assert rows[1:] == expected


def test_csv_cells_cannot_become_formulas(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    evil = create_issuer(session, ctx, slug="evil", name="+SUM(1,2)")
    create_achievement(session, ctx, evil, {
        "name": '=HYPERLINK("http://attacker.example","Click")', "slug": "formula",
        "description": "A badge with a formula for a name.",
        "criteria_narrative": "None."})
    session.commit()
    _give(session, ctx, cpd.learner.learner_id, "evil", date(2024, 6, 1), "@cmd|'/c calc'!A0",
          2.0, achievement="formula")
    _give(session, ctx, cpd.learner.learner_id, "guild", date(2024, 6, 2), "-2+3", 1.0)
    text = cpd.learner.get("/learn/transcript.csv", query_string=YEAR_2024).get_data(
        as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    formula = next(r for r in rows if "HYPERLINK" in r[9])
    assert formula[9] == formula[3] == '\'=HYPERLINK("http://attacker.example","Click")'
    assert formula[10] == "'+SUM(1,2)"
    assert formula[2] == "'@cmd|'/c calc'!A0"
    minus = next(r for r in rows if r[0] == "2024-06-02")
    assert minus[2] == "'-2+3"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    assert safe_cell("\tx") == "'\tx" and safe_cell("plain") == "plain"


# --- the signed CLR ------------------------------------------------------------------------


def _clr(cpd: Cpd, **query: str) -> dict[str, Any]:
    response = cpd.learner.get("/learn/transcript.json", query_string=query or YEAR_2024)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/vc+ld+json"
    assert response.headers["Cache-Control"] == "private, no-store"
    return json.loads(response.get_data(as_text=True))


def test_the_clr_has_the_structure_clr_2_requires(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    clr = _clr(cpd)
    assert clr["@context"] == [VC_V2, CLR_V2, OB_V3]
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", clr["id"])
    assert clr["name"] == f"CPD transcript of {LEARNER_NAME}"
    assert "8.75 in total" in clr["description"]
    assert clr["issuer"]["id"] == "did:web:badges.test:issuers:records"
    assert clr["issuer"]["name"] == "Learning records"
    assert abs(parse_datetime(clr["validFrom"]) - ctx.now()) < timedelta(minutes=5)

    subject = clr["credentialSubject"]
    assert subject["type"] == ["ClrSubject"]
    assert "id" not in subject  # the learner has no DID
    email_id, name_id = subject["identifier"]
    assert email_id["identityType"] == "emailAddress" and email_id["hashed"] is True
    assert email_id["identityHash"] == identity_hash(LEARNER_EMAIL, email_id["salt"])
    assert name_id == {"type": "IdentityObject", "identityHash": LEARNER_NAME,
                       "identityType": "name", "hashed": False}
    assert LEARNER_EMAIL not in json.dumps(clr)

    # Each credential of the period, exactly as stored, with its own proof.
    stored = [json.loads(c.document) for c in cpd.in_2024()]
    assert subject["verifiableCredential"] == stored
    assert all(c["proof"] for c in subject["verifiableCredential"])
    # The achievements, each with its id (no blank nodes for canonicalization to sort out).
    achievement_ids = {c["credentialSubject"]["achievement"]["id"] for c in stored}
    assert {a["id"] for a in subject["achievement"]} == achievement_ids
    assert len(subject["achievement"]) == 2  # guild's and other's peer-scaffolder

    proof = clr["proof"][0] if isinstance(clr["proof"], list) else clr["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == "did:web:badges.test:issuers:records#key-1"

    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "transcript.issued")).all()
    assert [(e.actor, e.detail["credentials"], e.detail["id"]) for e in events] == [
        (f"learner:{cpd.learner.learner_id}", 4, clr["id"])]


def test_the_record_lists_each_achievement_as_it_was_issued(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    issuer = get_issuer(session, "guild")
    described = f"{BASE_URL}/issuers/guild/achievements/peer-scaffolder#peers"
    credential = award(
        session, ctx, issuer, get_achievement(session, issuer, "peer-scaffolder"),
        AwardRequest(recipient=Recipient.parse(LEARNER_EMAIL),
                     result=[{"resultDescription": described, "value": "3"}],
                     result_descriptions=[{"id": described, "name": "Distinct peers",
                                           "resultType": "Result", "valueMin": "2"}]),
        actor="staff")
    session.add(LearnerBadge(learner_id=cpd.learner.learner_id, credential_id=credential.id,
                             cpd_hours=1.0, earned_on=date(2023, 12, 31)))
    session.commit()
    clr = _clr(cpd, **{"from": "2023-01-01", "to": "2024-12-31"})
    listed = {a["id"]: a for a in clr["credentialSubject"]["achievement"]}
    first_guild = json.loads(credential.document)["credentialSubject"]["achievement"]
    first_other = json.loads(cpd.credentials[2].document)["credentialSubject"]["achievement"]
    assert first_guild["resultDescription"][0]["valueMin"] == "2"
    assert listed == {first_guild["id"]: first_guild, first_other["id"]: first_other}
    assert verify(session, ctx, clr).valid


def test_the_clr_verifies_with_every_enclosed_credential(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    clr = _clr(cpd)
    report = verify(session, ctx, clr)
    checks = {c.id: c for c in report.checks}
    assert report.valid, [c.to_json() for c in report.failed]
    assert checks["type"].message == "a CLR 2.0 learner record"
    assert checks["proof"].outcome == "passed"
    assert checks["credentials"].outcome == "passed"
    assert checks["credentials"].message == "all 4 enclosed credentials are valid"

    # Changing an enclosed credential breaks the record's signature and the credential's own.
    tampered = copy.deepcopy(clr)
    tampered["credentialSubject"]["verifiableCredential"][1]["credentialSubject"][
        "achievement"]["name"] = "Chief Scaffolder"
    report = verify(session, ctx, tampered)
    checks = {c.id: c for c in report.checks}
    assert not report.valid
    assert checks["proof"].outcome == "failed"
    assert checks["credentials"].outcome == "failed"
    assert checks["credentials"].message == "1 of 4 enclosed credentials are not valid"
    assert any(d.startswith("credential 2: proof") for d in checks["credentials"].details)


def test_a_record_signed_around_a_forged_credential_fails(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    """The record's own proof passes, so only the check of what it encloses catches this."""
    forged = json.loads(cpd.credentials[0].document)
    forged["credentialSubject"]["creditsEarned"] = 400
    signed = sign_clr(session, ctx, name="CPD transcript", description="Forged hours.",
                      identifiers=[hashed_email(LEARNER_EMAIL)], credentials=[forged])
    session.commit()
    report = verify(session, ctx, signed)
    checks = {c.id: c for c in report.checks}
    assert checks["proof"].outcome == "passed"
    assert checks["credentials"].outcome == "failed"
    assert not report.valid


def test_a_record_without_credentials_fails_verification(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    clr = _clr(cpd)
    bare = {k: v for k, v in clr.items() if k != "proof"}
    bare["credentialSubject"] = {"type": ["ClrSubject"],
                                 "identifier": clr["credentialSubject"]["identifier"]}
    records = get_issuer(session, "records")
    key_row, key = signing_key(ctx, records)
    signed = sign_document(bare, SIGNING_SUITES["eddsa-rdfc-2022"], key,
                           verification_method=method_id(ctx, key_row),
                           ctx=SuiteContext(loader=ctx.loader), created=ctx.now())
    report = verify(session, ctx, signed)
    checks = {c.id: c for c in report.checks}
    assert checks["proof"].outcome == "passed"
    assert checks["credentials"].outcome == "failed"
    assert "CLR 2.0 requires at least one AchievementCredential" in checks["credentials"].message


def test_an_empty_period_gives_no_clr(session: Session, cpd: Cpd) -> None:
    response = cpd.learner.get("/learn/transcript.json?from=2030-01-01")
    assert response.status_code == 422
    assert "no badges to put in a transcript" in response.get_data(as_text=True)
    assert session.scalar(select(Issuer).where(Issuer.slug == "records")) is None
    assert session.scalars(select(AuditEvent).where(
        AuditEvent.action == "transcript.issued")).all() == []


def test_the_records_issuer_is_made_once_and_its_name_is_reserved(
        session: Session, ctx: ServiceContext, client: FlaskClient, cpd: Cpd) -> None:
    _clr(cpd)
    _clr(cpd, **{"from": "2025-01-01"})
    assert len(session.scalars(select(Issuer).where(Issuer.slug == "records")).all()) == 1
    assert client.get("/issuers/records/did.json").status_code == 200
    for slug in ("records", " Records "):
        with pytest.raises(Invalid, match="reserved"):
            create_issuer(session, ctx, slug=slug, name="Someone's records")
    session.rollback()


def test_the_clr_verifies_with_the_issuer_command(
        tmp_path: Path, client: FlaskClient, cpd: Cpd) -> None:
    clr = _clr(cpd)
    path = tmp_path / "transcript.json"
    path.write_text(json.dumps(clr), encoding="utf-8")
    trust = {}
    for slug in ("records", "guild", "other"):
        document = client.get(f"/issuers/{slug}/did.json")
        assert document.status_code == 200
        trust[slug] = tmp_path / f"{slug}.did.json"
        trust[slug].write_bytes(document.data)

    def run(*slugs: str) -> tuple[int, dict[str, Any]]:
        args = [ISSUER_CMD, "verify", str(path), "--json"]
        for slug in slugs:
            args += ["--trust", str(trust[slug])]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
        return done.returncode, json.loads(done.stdout)

    code, report = run("records", "guild", "other")
    checks = {c["id"]: c for c in report["checks"]}
    assert code == 0 and report["valid"] is True, report
    assert checks["credentials"]["outcome"] == "passed"
    # Without the key of one badge issuer, its badge cannot be checked: the record fails.
    code, report = run("records", "guild")
    checks = {c["id"]: c for c in report["checks"]}
    assert code == 1
    assert checks["proof"]["outcome"] == "passed"
    assert checks["credentials"]["outcome"] == "failed"
    assert any("credential 3" in d for d in checks["credentials"]["details"])


def test_signing_stays_fast_with_many_badges(
        session: Session, ctx: ServiceContext, cpd: Cpd) -> None:
    """USERS.md §G4: with ids on nested objects, canonicalizing a record stays cheap."""
    for n in range(16):
        _give(session, ctx, cpd.learner.learner_id, "guild", date(2023, 1 + n % 12, 1),
              "Mentoring", 1.0)
    started = datetime.now()
    clr = _clr(cpd, **{"to": "2025-12-31"})
    assert len(clr["credentialSubject"]["verifiableCredential"]) == 21
    assert verify(session, ctx, clr).valid
    assert datetime.now() - started < timedelta(seconds=20)
