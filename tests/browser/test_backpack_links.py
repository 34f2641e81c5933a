"""The learner reaches their backpack from every learner page, and sends a badge there from
the badge itself; the backpack page passes axe-core and fits a 390 px phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.accessibility import overflow, violations
from tests.browser.test_learning_flow import _sign_in_learner
from tests.live_server import Server

TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}


def test_the_backpack_is_one_link_away(browser: Any, server: Server) -> None:
    context = browser.new_context(bypass_csp=True, viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{server.base}/learn/sign-in")
        _sign_in_learner(page, server, "learner@example.org")
        page.goto(f"{server.base}/learn/badges")
        assert overflow(page) <= 0, "/learn/badges scrolls sideways at 390 px"
        page.get_by_role("link", name="My backpack", exact=True).click()
        expect(page.get_by_role("heading", name="My backpack")).to_be_visible()
        assert overflow(page) <= 0, "/learn/backpack scrolls sideways at 390 px"
        assert violations(page) == []

        page.goto(f"{server.base}/learn/badges")
        send = page.get_by_role("link", name=re.compile("^Send to my backpack")).first
        href = send.get_attribute("href")
        assert href is not None and "/learn/backpack/send?credential=" in href
        chosen = href.rsplit("=", 1)[1]
        send.click()
        expect(page.get_by_role("heading", name="Send a badge to your backpack")).to_be_visible()
        expect(page.get_by_label("Badge")).to_have_value(chosen)
    finally:
        context.close()
