"""A newcomer's first hour in a real browser: the home page sends each kind of visitor on,
the API documentation renders from this site alone, and a new API token copies in a click.

Headless Chromium against `issuer serve --init-demo`, as after `make run`.
"""

from __future__ import annotations

from typing import Any

from tests.browser.test_award_and_verify import _sign_in
from tests.live_server import Server


def _watch(page: Any, server: Server) -> tuple[list[str], list[str]]:
    """Requests to anywhere but the server (refused, as offline) and console errors."""
    elsewhere: list[str] = []
    errors: list[str] = []

    def route(request: Any) -> None:
        if request.request.url.startswith(server.base):
            request.continue_()
        else:
            elsewhere.append(request.request.url)
            request.abort()

    page.route("**/*", route)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return elsewhere, errors


def test_the_home_page_sends_learners_staff_and_employers_on(page: Any,
                                                             server: Server) -> None:
    page.goto(f"{server.base}/")
    page.get_by_role("link", name="Claim a badge or see your badges").click()
    page.wait_for_url(f"{server.base}/learn/sign-in**")
    page.goto(f"{server.base}/")
    page.get_by_role("link", name="Staff sign-in").last.click()
    page.wait_for_url(f"{server.base}/admin/login**")
    # A learner who landed on the staff sign-in finds the way to their own pages.
    page.get_by_role("link", name="claim a badge or see your badges").click()
    page.wait_for_url(f"{server.base}/learn/sign-in**")
    page.goto(f"{server.base}/")
    page.get_by_role("link", name="Verify a badge").last.click()
    page.wait_for_url(f"{server.base}/verify")


def test_the_api_docs_render_the_awards_operation_offline(page: Any, server: Server) -> None:
    elsewhere, errors = _watch(page, server)
    page.goto(f"{server.base}/api/docs")
    operation = page.locator("#operations-JSON_API-awardAchievement")
    operation.wait_for(timeout=20_000)
    assert "/api/v1/awards" in operation.inner_text()
    assert "Award an achievement to one person" in operation.inner_text()
    operation.locator(".opblock-summary").first.click()
    page.get_by_role("button", name="Try it out").first.wait_for()
    assert "achievement" in operation.inner_text()  # the request body's example
    assert page.get_by_role("button", name="Authorize").count() == 1
    assert elsewhere == [], f"the docs page reached out to {elsewhere}"
    assert [e for e in errors if "Content Security Policy" in e] == [], errors
    assert errors == [], errors


def test_a_new_token_is_copied_with_one_click_and_the_docs_are_one_link_away(
        browser: Any, server: Server) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        _sign_in(page, server)
        page.goto(f"{server.base}/admin/issuers/demo/tokens")
        page.get_by_label("What is it for?").fill("Course site")
        page.get_by_role("button", name="Create token").click()
        token = page.locator("#new-token").input_value()
        assert token.startswith("obi_")
        page.get_by_role("button", name="Copy").click()
        page.get_by_text("Copied.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == token
        # The table tells each token's status in words, apart from the revoke control.
        row = page.locator("tbody tr").filter(has_text="Course site")
        assert row.locator("td.token-status").inner_text().strip() == "Active"
        page.get_by_role("link", name="API documentation").first.click()
        page.wait_for_url(f"{server.base}/api/docs")
        page.locator("#operations-JSON_API-awardAchievement").wait_for(timeout=20_000)
    finally:
        context.close()
