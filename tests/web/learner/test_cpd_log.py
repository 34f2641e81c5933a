"""Evidence items as CPD log entries: each counts with its own category, dates and hours.

Two items of different categories and months in one claim must show as two activities on the
transcript, its CSV and the badges page, not as the claim's sum under the badge's category on
the day the badge was issued.
"""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.services.reviews import approve
from issuer.storage.learning import Attestation
from tests import learning_fixtures
from tests.learning_fixtures import LearnerClient, OpenAchievement, make_learner, post_form
from tests.web.learner.test_claims import add, claim_row, start

learner = learning_fixtures.learner
open_achievement = learning_fixtures.open_achievement

PEER_TEACHING = {
    "title": "Taught recursion to the newcomers", "url": "https://forum.example/t/42",
    "activity_date": "2025-03-14", "activity_end_date": "2025-03-15", "cpd_hours": "2",
    "participatory_hours": "1.5", "cpd_category": "Peer teaching",
    "reflection": "What happened: two sessions. So what: examples beat definitions. "
                  "Now what: start with an example.",
    "practice_change": "I now open every session with a worked example.",
    "framework_reference": "Code 22.3",
}
MENTORING = {
    "title": "Mentored a new colleague", "narrative": "Weekly meetings.",
    "activity_date": "2025-04-02", "cpd_hours": "3.5", "cpd_category": "Mentoring",
}


def _approved(session: Session, ctx: ServiceContext, client: LearnerClient,
              target: OpenAchievement) -> None:
    public_id = start(client, target)
    for item in (PEER_TEACHING, MENTORING):
        response = add(client, public_id, **item)
        assert response.status_code == 302, response.get_data(as_text=True)
    assert post_form(client, f"/learn/claims/{public_id}/submit").status_code == 302
    claim = claim_row(session, public_id)
    for n in range(2):
        peer = make_learner(session, ctx, f"peer{n}@cpd.test", f"Peer {n}")
        session.add(Attestation(claim_id=claim.id, peer_id=peer.id, kind="helped-me-learn",
                                comment="Patient explanations.", show_name=False,
                                created_at=ctx.now()))
    session.flush()
    approve(session, ctx, claim, "staff@guild.test", "Well evidenced.")
    session.commit()


def _rows(html: str, heading: str) -> list[list[str]]:
    table = html.split(heading, 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in
             re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_the_category_is_not_filled_in_with_the_badge_category(
        learner: LearnerClient, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    page = learner.get(f"/learn/claims/{public_id}").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="f-cpd_category"[^>]*>', page)
    assert field and 'value=""' in field.group(0)
    assert "The badge suggests “Mentoring”." in page


def test_each_item_counts_with_its_own_category_and_dates(
        session: Session, ctx: ServiceContext, learner: LearnerClient,
        open_achievement: OpenAchievement) -> None:
    _approved(session, ctx, learner, open_achievement)

    page = learner.get("/learn/transcript").get_data(as_text=True)
    assert _rows(page, "Hours per month") == [["2025-03", "Peer teaching", "2"],
                                              ["2025-04", "Mentoring", "3.5"]]
    assert _rows(page, "Hours per category") == [["Mentoring", "3.5"], ["Peer teaching", "2"]]
    assert "5.5 hours</strong>" in page and "of which 1.5 participatory" in page
    sheet = re.search(r'<link rel="stylesheet" href="([^"]+)" media="print">', page)
    assert sheet
    with learner.get(sheet.group(1)) as css:  # a file response: closed, or it leaks
        assert "@media print" in css.get_data(as_text=True)

    march = learner.get("/learn/transcript", query_string={"from": "2025-03-01",
                                                           "to": "2025-03-31"})
    assert _rows(march.get_data(as_text=True), "Hours per category") == [["Peer teaching", "2"]]

    text = learner.get("/learn/transcript.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["start date"], r["end date"], r["method"], r["hours"],
             r["participatory hours"]) for r in rows] == [
        ("2025-03-14", "2025-03-15", "Peer teaching", "2", "1.5"),
        ("2025-04-02", "2025-04-02", "Mentoring", "3.5", ""),
    ]
    first = rows[0]
    assert first["topic"] == PEER_TEACHING["title"]
    assert first["relevance to practice"] == PEER_TEACHING["practice_change"]
    assert first["framework reference"] == "Code 22.3"
    assert first["evidence"] == PEER_TEACHING["url"]
    assert first["credential URL"] == rows[1]["credential URL"]

    badges = learner.get("/learn/badges").get_data(as_text=True)
    assert "CPD: 2 hours (Peer teaching), 3.5 hours (Mentoring)" in badges
    assert "5.5 hours" not in badges


def test_the_clr_encloses_the_badge_once(
        session: Session, ctx: ServiceContext, learner: LearnerClient,
        open_achievement: OpenAchievement) -> None:
    _approved(session, ctx, learner, open_achievement)
    clr = learner.get("/learn/transcript.json").get_json()
    assert len(clr["credentialSubject"]["verifiableCredential"]) == 1
    assert "5.5 in total (Mentoring: 3.5, Peer teaching: 2)" in clr["description"]
    assert "from 1 badge." in clr["description"]


def test_cpd_log_rules_are_checked(
        learner: LearnerClient, open_achievement: OpenAchievement) -> None:
    public_id = start(learner, open_achievement)
    reversed_dates = add(learner, public_id, narrative="x", activity_date="2025-03-15",
                         activity_end_date="2025-03-14")
    assert reversed_dates.status_code == 422
    assert "the last day cannot come before the first" in reversed_dates.get_data(as_text=True)
    too_many = add(learner, public_id, narrative="x", cpd_hours="1", participatory_hours="2")
    assert too_many.status_code == 422
    assert "at most the CPD hours" in too_many.get_data(as_text=True)
    long_reference = add(learner, public_id, narrative="x", framework_reference="x" * 301)
    assert long_reference.status_code == 422
