"""Every kind of page passes axe-core and fits a 390 px phone, in headless Chromium.

Against `issuer serve --init-demo`: the public pages (badge, verify form and result, issuer,
achievement, framework), the learner's pages and the staff pages. No violation of impact
serious or critical anywhere, and none of moderate on the public badge and verify pages
(axe-core's own grading). At 390 px the badge page, the verify result and the staff review
queue are photographed and are no wider than the screen. Keyboard users get a skip link
first and a visible focus ring.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.accessibility import overflow, violations
from tests.browser.test_learning_flow import _sign_in_learner, _sign_in_staff
from tests.live_server import Server, printed

TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
ISSUER = "demo"
BADGE = "peer-scaffolder"


def _context(browser: Any, **options: Any) -> Any:
    context = browser.new_context(bypass_csp=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _check(page: Any, url: str | None, at_least: str = "serious") -> list[str]:
    if url is not None:
        page.goto(url)
    page.wait_for_load_state("load")
    return [f"{page.url}: {v}" for v in violations(page, at_least)]


def _verify_result(page: Any, server: Server) -> None:
    page.goto(printed(server, "Demo badge"))
    page.get_by_role("link", name="Verify now").click()
    expect(page.locator(".verdict").first).to_contain_text("Valid")


def test_public_learner_and_staff_pages_pass_axe(browser: Any, server: Server) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        base = server.base
        found: list[str] = []
        # Public pages an employer opens: not even a moderate violation.
        for url in (printed(server, "Demo badge"), f"{base}/verify"):
            found += _check(page, url, "moderate")
        _verify_result(page, server)
        found += _check(page, None, "moderate")
        for url in (f"{base}/", f"{base}/issuers/{ISSUER}",
                    f"{base}/issuers/{ISSUER}/achievements/{BADGE}",
                    f"{base}/frameworks/scaffolding", f"{base}/learn/sign-in"):
            found += _check(page, url)

        page.goto(f"{base}/learn/sign-in")
        _sign_in_learner(page, server, "learner@example.org")
        for url in (f"{base}/learn/", f"{base}/learn/badges", f"{base}/learn/transcript"):
            found += _check(page, url)
        page.goto(f"{base}/learn/")
        claims = page.evaluate(
            "() => [...document.querySelectorAll('a')].map(a => a.href)"
            ".filter(h => /\\/learn\\/claims\\/[0-9a-f-]{36}$/.test(h))")
        assert claims, "the demo learner's approved claim is listed"
        found += _check(page, claims[0])  # a claim with its evidence and attestations
        page.goto(f"{base}/learn/")
        page.get_by_role("link", name="Peer Scaffolder", exact=True).first.click()
        found += _check(page, None)  # starting a claim

        _sign_in_staff(page, server)
        for path in ("/admin/", f"/admin/issuers/{ISSUER}", f"/admin/issuers/{ISSUER}/tokens",
                     f"/admin/issuers/{ISSUER}/reviews", f"/admin/issuers/{ISSUER}/credentials",
                     f"/admin/issuers/{ISSUER}/keys", f"/admin/issuers/{ISSUER}/award",
                     f"/admin/issuers/{ISSUER}/achievements/{BADGE}/policy",
                     f"/admin/issuers/{ISSUER}/achievements/{BADGE}/edit",
                     f"/admin/issuers/{ISSUER}/endorsements", f"/admin/issuers/{ISSUER}/bulk"):
            found += _check(page, f"{base}{path}")
        page.goto(f"{base}/admin/issuers/{ISSUER}/reviews?status=approved")
        page.locator("table.review-queue tbody a").first.click()
        found += _check(page, None)  # one claim, as the reviewer reads it
        assert not found, "\n".join(found)
        # axe-core did run: an image without a text alternative is caught (critical).
        page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
        assert any(" image-alt:" in v for v in violations(page, "critical"))
    finally:
        context.close()


def test_the_main_pages_fit_a_phone(browser: Any, server: Server, tmp_path: Path) -> None:
    context = _context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(printed(server, "Demo badge"))
        page.screenshot(path=str(tmp_path / "badge-390.png"), full_page=True)
        assert overflow(page) <= 0, "the badge page scrolls sideways"
        _verify_result(page, server)
        page.screenshot(path=str(tmp_path / "verify-390.png"), full_page=True)
        assert overflow(page) <= 0, "the verify result scrolls sideways"
        _sign_in_staff(page, server)
        for path in (f"/admin/issuers/{ISSUER}/reviews?status=approved",
                     f"/admin/issuers/{ISSUER}", f"/admin/issuers/{ISSUER}/tokens",
                     f"/admin/issuers/{ISSUER}/credentials"):
            page.goto(f"{server.base}{path}")
            name = re.sub(r"\W+", "-", path.strip("/"))
            page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
            assert overflow(page) <= 0, f"{path} scrolls sideways at 390 px"
        # A table row is a card: its cells are one under the other, all within the screen.
        row = page.locator(".table-wrap tbody tr").first
        box = row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        for shot in tmp_path.glob("*-390.png"):
            assert shot.stat().st_size > 1000, shot
    finally:
        context.close()


def test_keyboard_users_can_skip_to_the_content_and_see_the_focus(
        browser: Any, server: Server) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        for url in (printed(server, "Demo badge"), f"{server.base}/verify",
                    f"{server.base}/learn/sign-in", f"{server.base}/admin/login"):
            page.goto(url)
            page.keyboard.press("Tab")
            skip = page.get_by_role("link", name="Skip to main content")
            expect(skip).to_be_focused()
            expect(skip).to_be_in_viewport()
            outline = page.evaluate(
                "() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline not in ("none", ""), f"{url}: no visible focus ({outline})"
            page.keyboard.press("Enter")
            # The jump to #main is a navigation of its own, which press() does not wait for.
            expect(page).to_have_url(re.compile(r"#main$"))
            expect(page.locator("#main")).to_be_focused()
    finally:
        context.close()
