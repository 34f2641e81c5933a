"""A learner logs two activities of different kinds on one claim, in a real browser.

Headless Chromium against `issuer serve --init-demo`: the category field starts empty (the
badge's category is only suggested), each item keeps its own category, dates and
participatory hours, and the printed transcript leaves out the period form.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.test_learning_flow import (
    BADGE,
    TIMEOUT_MS,
    _context,
    _heading,
    _nav,
    _see,
    _sign_in_learner,
)
from tests.live_server import Server

LEARNER = "mary@example.org"


def _add(page: Any, title: str, first: str, last: str, hours: str, participatory: str,
         category: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill(f"{title}, with notes.")
    page.get_by_label("First day of the activity").fill(first)
    if last:
        page.get_by_label("Last day").fill(last)
    page.get_by_label("CPD hours").fill(hours)
    if participatory:
        page.get_by_label("Of which participatory").fill(participatory)
    expect(page.get_by_label("CPD category")).to_have_value("")
    page.get_by_label("CPD category").fill(category)
    page.get_by_label("Reflection").fill("What happened, so what, now what.")
    page.get_by_role("button", name="Add evidence").click()
    _see(page, "The evidence is added.")


def test_each_activity_keeps_its_own_category_and_dates(browser: Any, server: Server) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(f"{server.base}/learn/")
        _sign_in_learner(page, server, LEARNER)
        _nav(page, "My badges")
        page.get_by_label("Name on your profile").fill("Mary Somerville")
        page.get_by_role("button", name="Save the name").click()
        _see(page, "Your name on the profile is saved.")
        _nav(page, "My claims")
        page.get_by_role("region", name="Claim a badge").get_by_role(
            "link", name=BADGE, exact=True).click()
        page.get_by_label("Why you claim this badge").fill("I taught and mentored.")
        page.get_by_role("button", name="Start my claim").click()
        _see(page, "Your claim is started.", "The badge suggests “Mentoring”.")

        _add(page, "Taught recursion", "2025-03-14", "2025-03-15", "2", "1.5",
             "Peer teaching")
        _add(page, "Mentored a colleague", "2025-04-02", "", "3.5", "", "Mentoring")
        rows = page.locator(".claims-evidence-row")
        expect(rows).to_have_count(2)
        _see(rows.nth(0), "2025-03-14 to 2025-03-15", "2 (Peer teaching), of which 1.5 "
             "participatory", "What happened, so what, now what.")
        _see(rows.nth(1), "2025-04-02", "3.5 (Mentoring)")

        # The printed transcript is the log itself, without the form to choose a period.
        page.goto(f"{server.base}/learn/transcript")
        _heading(page, "CPD transcript")
        expect(page.locator("form.profile-period")).to_be_visible(timeout=TIMEOUT_MS)
        page.emulate_media(media="print")
        expect(page.locator("form.profile-period")).to_be_hidden(timeout=TIMEOUT_MS)
        expect(page.locator("header.site")).to_be_hidden(timeout=TIMEOUT_MS)
    finally:
        context.close()
