"""Informal learning end to end: a claim, two peer attestations, a review, a verified badge,
and the CPD record it adds up to.

Headless Chromium against `issuer serve --init-demo` (gunicorn, SQLite). Every person has
their own browser (their own cookies) and signs in as they would: the learner and the peers
with the one-time link that development mail leaves on the outbox page (`/dev/outbox`: no
SMTP server is configured), the reviewer with the demo staff account the server printed at
start. Assertions wait for the text (Playwright's `expect`), so a page still loading is never
read.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import violations
from tests.live_server import Server, demo_password

ISSUER_NAME = "Demo Community of Practice"
BADGE = "Peer Scaffolder"
LEARNER = "ada@example.org"
LEARNER_NAME = "Ada Lovelace"
NAMED_PEER = "grace@example.org"
NAMED_PEER_NAME = "Grace Hopper"
ANONYMOUS_PEER = "alan@example.org"
EVIDENCE_URL = "https://community.example.org/t/pair-debugging/314"
EVIDENCE_TEXT = "Ran six pair-debugging sessions for new maintainers of the parser."
EVIDENCE_URL_2 = "https://community.example.org/t/first-bisect/318"
EVIDENCE_TEXT_2 = "Mentored a new maintainer through their first bisect of a failing build."
#: The two evidence items: (title, address, what was done, first day, CPD hours, category).
EVIDENCE = (
    ("Pair-debugging sessions", EVIDENCE_URL, EVIDENCE_TEXT, "2025-03-14", "4.5",
     "Peer teaching"),
    ("Mentoring a new maintainer", EVIDENCE_URL_2, EVIDENCE_TEXT_2, "2025-04-02", "2",
     "Mentoring"),
)
GRACE_WORDS = "Ada walked me through the parser until I could fix bugs on my own."
ALAN_WORDS = "Her worked examples taught me how to bisect a failing build."
REVIEW_COMMENT = "Two peers confirm the mentoring and the forum thread shows it."
LATER_WORK = "https://code.example.org/parser/pull/77"
CONTINGENCY = "Before helping, did they first check what you had tried or already knew?"
FADING = "Did they step back as you got the hang of it?"
TRANSFER = "Can you now do it without help?"
#: How each peer was helped: the functions they tick, their answers, a link to later work.
GRACE_HELP = (["They broke it down into steps I could manage", "They showed me a worked example"],
              {CONTINGENCY: "Yes", FADING: "Yes", TRANSFER: "Yes"}, LATER_WORK)
ALAN_HELP = (["They showed me a worked example"], {CONTINGENCY: "Yes", TRANSFER: "Not sure"},
             None)
#: Every page here answers in well under a second; a missing element fails in 10 s, not 30.
TIMEOUT_MS = 10_000


def _context(browser: Any, **options: Any) -> Any:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _see(page_or_part: Any, *texts: str) -> None:
    """Wait until the page's main part (or the given part) shows every one of ``texts``."""
    part = page_or_part.locator("main") if hasattr(page_or_part, "goto") else page_or_part
    for text in texts:
        expect(part).to_contain_text(text, timeout=TIMEOUT_MS)


def _text(part: Any) -> str:
    """The visible text of a part of a page, white space as one reads it."""
    return " ".join(part.inner_text().split())


def _fact(part: Any, term: str) -> Any:
    """The value (``dd``) of the term ``term`` (``dt``) in a list of facts."""
    return part.locator("dt", has_text=re.compile(f"^{re.escape(term)}$")).locator(
        "xpath=following-sibling::dd[1]")


def _heading(page: Any, name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(name, timeout=TIMEOUT_MS)


def _nav(page: Any, name: str) -> None:
    """Follow a link of the site's top navigation."""
    page.get_by_role("navigation").first.get_by_role("link", name=name, exact=True).click()


def _outbox_link(page: Any, server: Server, to: str, subject: str, path: str) -> str:
    """The link to ``path…`` in the newest mail to ``to`` about ``subject``, from the outbox."""
    if not page.url.endswith("/dev/outbox"):
        page.goto(f"{server.base}/dev/outbox")
    _heading(page, "Outbox")
    message = page.locator(".outbox-message").filter(
        has=page.locator("dd", has_text=re.compile(f"^{re.escape(to)}$"))).filter(
        has=page.get_by_role("heading", name=subject, exact=True)).first
    links = message.locator(".outbox-body a").filter(
        has_text=re.compile(f"^{re.escape(server.base + path)}"))
    expect(links).to_have_count(1, timeout=TIMEOUT_MS)
    return str(links.get_attribute("href"))


def _sign_in_learner(page: Any, server: Server, email: str) -> None:
    """On the learner sign-in form: ask for a link, open it from the outbox, confirm."""
    _heading(page, "Sign in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    _heading(page, "Check your email")
    _see(page, f"We sent a sign-in link to {email}.")
    # No mail server in development: the page points to the outbox, where the mail waits.
    page.get_by_role("link", name="outbox").click()
    page.goto(_outbox_link(page, server, email, "Your sign-in link", "/learn/sign-in/"))
    page.get_by_role("button", name=f"Sign in as {email}").click()
    _see(page, f"Signed in as {email}.")


def _sign_in_staff(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/admin/")
    assert "/admin/login" in page.url
    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password").fill(demo_password(server))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.base}/admin/")


def _require_two_attestations_and_a_reviewer(page: Any) -> None:
    """Set the claim policy through the admin pages, as an issuer would (the demo starts
    with one like it; saving it again must keep it), asking for help at level L2 or above."""
    page.get_by_role("link", name=ISSUER_NAME).click()
    page.get_by_role("link", name=f"Edit {BADGE}").click()
    page.get_by_role("link", name=re.compile("^How learners earn this badge")).click()
    _heading(page, f"How learners earn “{BADGE}” by claiming it")
    page.get_by_label("Learners can claim this badge").check()
    page.get_by_label("Peer attestations required").fill("2")
    page.get_by_label("The learner helped them learn (scaffolding)").check()
    page.get_by_label("A reviewer decides, once the attestations are in").check()
    page.get_by_label("L2 Responsive help").check()
    page.get_by_label("CPD category").fill("Mentoring")
    page.get_by_role("button", name="Save", exact=True).click()
    _see(page, f"Saved how “{BADGE}” is earned through claims.")
    expect(page.get_by_label("Peer attestations required")).to_have_value("2")
    expect(page.get_by_label("A reviewer decides, once the attestations are in")).to_be_checked()
    expect(page.get_by_label("L2 Responsive help")).to_be_checked()


def _attest(browser: Any, server: Server, email: str, words: str, name: str | None,
            helped: tuple[list[str], dict[str, str], str | None]) -> None:
    """A peer opens the learner's request from their mail, signs in and attests, saying how
    they were helped."""
    context = _context(browser, bypass_csp=True)  # for axe-core
    try:
        page = context.new_page()
        link = _outbox_link(page, server, email,
                            f"{LEARNER_NAME} asks you to confirm their learning", "/attest/")
        page.goto(link)
        # Not signed in yet: the attestation page sends the peer to sign in, then back.
        assert "/learn/sign-in" in page.url
        _sign_in_learner(page, server, email)
        page.wait_for_url(link)
        _heading(page, f"{LEARNER_NAME} claims “{BADGE}”")
        # The evidence the learner made public.
        _see(page, EVIDENCE_URL, EVIDENCE_TEXT, EVIDENCE_URL_2, EVIDENCE_TEXT_2)
        page.get_by_label(f"“{LEARNER_NAME} helped me learn {BADGE}”").check()
        functions, answers, later = helped
        for label in functions:
            page.get_by_label(label, exact=True).check()
        for question, answer in answers.items():
            page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
        if later:
            page.get_by_label("A link to something you have since done without help").fill(later)
        page.get_by_label("In your own words").fill(words)
        if name is not None:
            page.get_by_label("Show my name in the badge").check()
            page.get_by_label("Your name as it should appear").fill(name)
        found = violations(page)  # the filled-in form, as the peer sends it
        assert not found, "\n".join(found)
        page.get_by_role("button", name="Send my attestation").click()
        _see(page, "Thank you: your attestation is recorded.",
             "An attestation cannot be changed or given twice.")
        expect(page.get_by_role("button", name="Send my attestation")).to_have_count(0)
    finally:
        context.close()


def _queue_row(page: Any) -> Any:
    _heading(page, "Claims to review")
    row = page.locator("table.review-queue tbody tr").filter(has_text=LEARNER_NAME)
    expect(row).to_have_count(1)
    return row


@pytest.mark.slow
def test_claim_attest_review_show_and_verify(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    reviewer_context = _context(browser)
    learner_context = _context(browser)
    visitor_context = _context(browser, accept_downloads=True)
    try:
        reviewer = reviewer_context.new_page()
        learner = learner_context.new_page()
        visitor = visitor_context.new_page()

        # Staff set how the demo badge is earned: two peers, then a reviewer.
        _sign_in_staff(reviewer, server)
        _require_two_attestations_and_a_reviewer(reviewer)

        # The learner signs in and chooses the name peers and the badge show.
        learner.goto(f"{server.base}/learn/")
        assert "/learn/sign-in" in learner.url
        _sign_in_learner(learner, server, LEARNER)
        _heading(learner, "Hello")
        _nav(learner, "My badges")
        learner.get_by_label("Name on your profile").fill(LEARNER_NAME)
        learner.get_by_role("button", name="Save the name").click()
        _see(learner, "Your name on the profile is saved.")

        # The claim, with public evidence: a link, what was done, the hours it took.
        _nav(learner, "My claims")
        _heading(learner, f"Hello, {LEARNER_NAME}")
        learner.get_by_role("region", name="Claim a badge").get_by_role(
            "link", name=BADGE, exact=True).click()
        _heading(learner, f"Claim “{BADGE}”")
        _see(learner, "Ask at least 2 different people you helped to confirm it.",
             f"A reviewer at {ISSUER_NAME} approves it")
        learner.get_by_label("Why you claim this badge").fill(
            "I mentored new maintainers through their first parser fixes.")
        learner.get_by_role("button", name="Start my claim").click()
        _see(learner, "Your claim is started.", "Status: Draft")
        claim_url = learner.url
        # Two activities of different kinds, a few weeks apart.
        for title, url, text, day, hours, category in EVIDENCE:
            learner.get_by_label("Title").fill(title)
            learner.get_by_label("Web address").fill(url)
            learner.get_by_label("Description").fill(text)
            learner.get_by_label("First day of the activity").fill(day)
            learner.get_by_label("CPD hours").fill(hours)
            learner.get_by_label("CPD category").fill(category)
            learner.get_by_label("Make this evidence public").check()
            learner.get_by_role("button", name="Add evidence").click()
            _see(learner, "The evidence is added.")
        evidence = learner.locator(".claims-evidence-row")
        expect(evidence).to_have_count(2)
        _see(evidence.nth(0), EVIDENCE_URL, EVIDENCE_TEXT, "2025-03-14", "4.5 (Peer teaching)",
             "Public: peers and anyone who sees your badge can read it.")
        _see(evidence.nth(1), EVIDENCE_URL_2, EVIDENCE_TEXT_2, "2025-04-02", "2 (Mentoring)")
        learner.get_by_role("button", name="Send for review").click()
        _see(learner, "Your claim is sent to the reviewers.", "Status: Waiting for review")

        # The learner asks two peers, by email.
        for email in (NAMED_PEER, ANONYMOUS_PEER):
            learner.goto(claim_url)
            learner.get_by_label("Their email address").fill(email)
            learner.get_by_label("A note to them").fill("You joined my sessions last spring.")
            learner.get_by_role("button", name="Make a link").click()
            _heading(learner, "Your link for peers")
            _see(learner, f"We are emailing this link to {email}.")
            expect(learner.get_by_label("Copy this link and send it to the people you helped")
                   ).to_have_value(re.compile(f"^{re.escape(server.base)}/attest/"))

        # The claim waits in the review queue; without the attestations it cannot be approved.
        reviewer.goto(f"{server.base}/admin/")
        reviewer.get_by_role("link", name=ISSUER_NAME).click()
        reviewer.get_by_role("link", name="Claims to review").click()
        row = _queue_row(reviewer)
        _see(row, "Waiting for review", "0/2")
        row.get_by_role("link", name=re.compile("^Review")).click()
        _heading(reviewer, f"“{BADGE}” claimed by {LEARNER_NAME}")
        approve = reviewer.get_by_role("button", name="Approve and issue the badge")
        expect(approve).to_be_disabled()
        _see(reviewer, "It needs 2 peer attestations before it can be approved; "
                       "0 have arrived so far.")

        # Two different peers attest: one by name, one without being named.
        _attest(browser, server, NAMED_PEER, GRACE_WORDS, NAMED_PEER_NAME, GRACE_HELP)
        _attest(browser, server, ANONYMOUS_PEER, ALAN_WORDS, None, ALAN_HELP)

        learner.goto(claim_url)
        _see(learner, "Peer attestations: 2 of 2 needed.", GRACE_WORDS, ALAN_WORDS,
             f"— {NAMED_PEER_NAME},", "— a peer who chose not to be named,")

        # The reviewer approves, with a comment, from the queue.
        reviewer.get_by_role("link", name="Claims to review").click()
        row = _queue_row(reviewer)
        _see(row, "Waiting for review", "2/2")
        row.get_by_role("link", name=re.compile("^Review")).click()
        _heading(reviewer, f"“{BADGE}” claimed by {LEARNER_NAME}")
        _see(reviewer, EVIDENCE_URL, EVIDENCE_TEXT, EVIDENCE_URL_2, GRACE_WORDS, ALAN_WORDS,
             NAMED_PEER_NAME, "A peer (pseudonymous id ")
        expect(_fact(reviewer, "CPD hours claimed")).to_have_text("6.5")
        _check_review_answers(reviewer)
        expect(approve).to_be_enabled()
        reviewer.get_by_label("Comment for the learner").fill(REVIEW_COMMENT)
        approve.click()
        _see(reviewer, "Approved. The badge ", REVIEW_COMMENT)
        expect(_fact(reviewer, "Status")).to_have_text("Approved")
        issued = re.search(r"Approved\. The badge (\S+) was issued\.", _text(reviewer.locator(
            "main")))
        assert issued, _text(reviewer.locator("main"))
        credential_url = issued.group(1)
        assert re.fullmatch(rf"{re.escape(server.base)}/credentials/[0-9a-f-]{{36}}",
                            credential_url), credential_url
        _see(reviewer, f"Badge issued: {credential_url}")
        expect(approve).to_have_count(0)  # decided: no more decision buttons

        # The learner is told by mail, and sees the decision.
        mailed = _outbox_link(learner, server, LEARNER,
                              f"Your claim for \"{BADGE}\" was approved", "/learn/claims/")
        assert mailed == claim_url
        learner.goto(claim_url)
        _see(learner, "Status: Approved")
        _nav(learner, "My claims")
        claims = learner.get_by_role("region", name="My claims")
        _see(claims, BADGE, "Approved", "2 of 2 needed")

        # Badges are private by default: the learner shows this one on the profile.
        _nav(learner, "My badges")
        _see(learner, "Your profile is private")
        card = learner.locator(".profile-badge").filter(
            has=learner.get_by_role("heading", name=BADGE, exact=True))
        expect(card).to_have_count(1)
        _see(card, f"Issued by {ISSUER_NAME}", "Valid",
             "CPD: 4.5 hours (Peer teaching), 2 hours (Mentoring)",
             "Private: only you see it here.")
        card.get_by_role("button", name=re.compile("^Show on my profile")).click()
        _see(learner, "The badge is now on your public profile.",
             f"it shows 1 badge under the name {LEARNER_NAME}")
        _see(card, "Shown on your profile.")
        profile_url = learner.locator("a.profile-url").get_attribute("href")
        assert profile_url and profile_url.startswith(f"{server.base}/people/")

        # Anybody with the profile's address sees the badge (a browser nobody signed in to).
        visitor.goto(profile_url)
        _heading(visitor, LEARNER_NAME)
        shown = visitor.locator(".profile-badge")
        expect(shown).to_have_count(1)
        _see(shown, BADGE, f"Issued by {ISSUER_NAME}")
        assert LEARNER not in visitor.content()  # never the email address
        shown.get_by_role("link", name=re.compile("^View the badge")).click()
        visitor.wait_for_url(credential_url)
        _heading(visitor, BADGE)
        # Checked when the page was made: verified at a glance, the full check a link away.
        banner = visitor.locator("#badge-verdict")
        expect(banner.locator(".verdict")).to_have_text(re.compile(r"^\W*Verified\s*$"))
        expect(banner.get_by_role("link", name="See the full check")).to_have_attribute(
            "href", re.compile(r"/verify$"))
        items = visitor.locator(".public-evidence > li")
        expect(items).to_have_count(2)
        _see(items.nth(0), "Activity on 2025-03-14; 4.5 CPD hours; category: Peer teaching")
        _see(items.nth(1), "Activity on 2025-04-02; 2 CPD hours; category: Mentoring")
        assert [items.nth(i).get_by_role("link").first.get_attribute("href")
                for i in range(2)] == [EVIDENCE_URL, EVIDENCE_URL_2]
        _check_scaffolding(visitor)
        with visitor.expect_download() as download_info:
            visitor.get_by_role("link", name="Download JSON").click()
        saved = tmp_path / "peer-scaffolder.json"
        download_info.value.save_as(saved)
        _check_document(json.loads(saved.read_text(encoding="utf-8")), credential_url)

        # The verify page, by address and by upload: valid, and both endorsements verified.
        visitor.goto(f"{server.base}/verify")
        visitor.get_by_label("Badge address").fill(credential_url)
        visitor.get_by_role("button", name="Check this badge").click()
        _check_report(visitor, "the credential at that address")
        visitor.goto(f"{server.base}/verify")
        visitor.get_by_label("Badge file", exact=True).set_input_files(str(saved))
        visitor.get_by_role("button", name="Check this badge").click()
        _check_report(visitor, f"the file {saved.name}")

        # The CPD record: hours by activity date and category, on the page and in the CSV.
        _check_transcript(learner, server, tmp_path)
    finally:
        visitor_context.close()
        learner_context.close()
        reviewer_context.close()


def _check_document(credential: dict[str, Any], credential_url: str) -> None:
    """The downloaded credential carries the claim: evidence, hours, both attestations."""
    assert credential["id"] == credential_url
    subject = credential["credentialSubject"]
    assert subject["achievement"]["name"] == BADGE
    # CPD hours are a RawScore result, not academic credits (OB 3.0 §B.1.3 creditsEarned).
    assert "creditsEarned" not in subject
    results = {r["resultDescription"].rpartition("#")[2]: r for r in subject["result"]}
    assert results["cpd-hours"]["value"] == "6.5"
    assert (subject["activityStartDate"], subject["activityEndDate"]) == (
        "2025-03-14T00:00:00Z", "2025-04-02T00:00:00Z")
    assert results["scaffolding-level"]["achievedLevel"].endswith("#scaffolding-level-3")
    assert results["transfer-attestations"]["value"] == "1"
    evidence = credential["evidence"]
    assert [item.get("id") for item in evidence] == [EVIDENCE_URL, EVIDENCE_URL_2]
    assert evidence[0]["narrative"] == EVIDENCE_TEXT
    endorsements = credential["endorsement"]
    assert len(endorsements) == 2
    assert all("EndorsementCredential" in e["type"] for e in endorsements)
    assert all(e["credentialSubject"]["id"] == credential_url for e in endorsements)
    comments = [e["credentialSubject"]["endorsementComment"] for e in endorsements]
    named = [c for c in comments if c.startswith(f"{NAMED_PEER_NAME} attests:")]
    anonymous = [c for c in comments if c.startswith("A peer (pseudonymous id ")]
    assert len(named) == 1 and GRACE_WORDS in named[0], comments
    assert len(anonymous) == 1 and ALAN_WORDS in anonymous[0], comments
    assert ANONYMOUS_PEER not in json.dumps(credential)  # the anonymous peer stays so


def _check_report(page: Any, source: str) -> None:
    """The verification report: valid, signature passed, the two endorsements verified."""
    report = page.locator(".public-report")
    _see(page, f"Checked: {source}.")
    expect(page.locator(".verdict")).to_have_text(re.compile(r"^\W*Valid\s*$"))
    _see(report.locator(".public-facts"), BADGE, ISSUER_NAME, LEARNER_NAME)
    checks = report.locator(".public-check")
    signature = checks.filter(has=page.locator("strong", has_text=re.compile("^Signature")))
    expect(signature.first).to_contain_text("Passed")
    endorsements = checks.filter(has=page.locator("strong", has_text=re.compile(
        "^Endorsements$")))
    expect(endorsements).to_have_count(1)
    _see(endorsements, "Passed", "2 endorsements verified")
    endorsements.get_by_text("Technical details").click()
    details = endorsements.locator("details li")
    expect(details).to_have_text([f"{ISSUER_NAME}: verified"] * 2)
    _check_scaffolding(page)


def _check_scaffolding(page: Any) -> None:
    """The level the attestations reached, and how each peer was helped, in plain words."""
    section = page.locator("section.public-endorsements")
    _see(section, "Scaffolding level: L3 Help to independence",
         "2 peers attested; 1 can now do it unaided")
    grace = section.locator("li.public-attestation").filter(has_text=NAMED_PEER_NAME)
    _see(grace, "Broke it down into manageable steps", "Showed a worked example",
         "Checked first what they had tried", "They can now do it unaided",
         "Scaffolding level of this statement: L3")
    expect(grace.get_by_role("link", name="Later work they did unaided")).to_have_attribute(
        "href", LATER_WORK)
    alan = section.locator("li.public-attestation").filter(has_text=ALAN_WORDS)
    _see(alan, "Showed a worked example", "Scaffolding level of this statement: L2")


def _check_review_answers(page: Any) -> None:
    """The reviewer reads how each peer was helped and the level each answer reaches."""
    _see(page, "At least one attestation must reach scaffolding level L2 Responsive help.",
         "Highest scaffolding level so far: L3 Help to independence; the policy requires "
         "L2 Responsive help.")
    listing = page.locator("ul.review-attestations > li")
    grace = listing.filter(has_text=NAMED_PEER_NAME)
    expect(_fact(grace, "Scaffolding level")).to_have_text("L3 Help to independence")
    expect(_fact(grace, "How they were helped")).to_have_text(
        "broke it down into manageable steps; showed a worked example")
    expect(_fact(grace, CONTINGENCY)).to_have_text("Yes")
    expect(_fact(grace, "Later work done unaided")).to_have_text(LATER_WORK)
    alan = listing.filter(has_text=ALAN_WORDS)
    expect(_fact(alan, "Scaffolding level")).to_have_text("L2 Responsive help")
    expect(_fact(alan, "How they were helped")).to_have_text("showed a worked example")
    expect(_fact(alan, TRANSFER)).to_have_text("Not sure, or not answered")


def _table(part: Any) -> list[list[str]]:
    """The body rows of a table, each cell's text."""
    return [[" ".join(cell.split()) for cell in row.locator("th, td").all_inner_texts()]
            for row in part.locator("tbody tr").all()]


def _check_transcript(page: Any, server: Server, tmp_path: Path) -> None:
    """Each activity counts on its own first day, in its own category."""
    page.goto(f"{server.base}/learn/transcript")
    _heading(page, "CPD transcript")
    _see(page, "6.5 hours")
    month = page.get_by_role("region", name="Hours per month")
    expect(month.locator("tbody tr")).to_have_count(2)
    assert _table(month) == [["2025-03", "Peer teaching", "4.5"],
                             ["2025-04", "Mentoring", "2"]]
    category = page.get_by_role("region", name="Hours per category")
    assert sorted(_table(category)) == [["Mentoring", "2"], ["Peer teaching", "4.5"]]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV (spreadsheet)").click()
    saved = tmp_path / "cpd.csv"
    download_info.value.save_as(saved)
    with saved.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["start date"], r["method"], r["hours"], r["evidence"]) for r in rows] == [
        ("2025-03-14", "Peer teaching", "4.5", EVIDENCE_URL),
        ("2025-04-02", "Mentoring", "2", EVIDENCE_URL_2)]
