"""An employer opens the demo badge in a real browser and reads who vouched for it.

Headless Chromium against `issuer serve --init-demo`: the demo badge carries two peer
attestations (one named, one pseudonymous) as signed endorsements; the public page and the
live check show each with its verified mark, and the phone layout does not overflow.
"""

from __future__ import annotations

from typing import Any

from issuer.services.demo import DEMO_PEERS
from tests.live_server import Server, printed

TIMEOUT_MS = 15_000


def test_the_public_page_shows_each_peer_attestation_verified(
        page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    badge = printed(server, "Demo badge")
    page.goto(badge)
    section = page.locator("section.public-endorsements")
    expect(section.get_by_role("heading", name="What peers say")).to_be_visible(
        timeout=TIMEOUT_MS)
    items = section.locator("li.public-attestation")
    expect(items).to_have_count(2)
    named, unnamed = DEMO_PEERS
    first, second = items.nth(0), items.nth(1)
    expect(first).to_contain_text(str(named[1]))
    expect(first).to_contain_text(named[2])
    expect(first).to_contain_text("Helped a peer learn (peer scaffolding)")
    expect(first).to_contain_text("Verified")
    expect(second).to_contain_text("A peer who chose not to be named")
    expect(second).to_contain_text(unnamed[2])
    expect(second).to_contain_text("Verified")
    assert unnamed[0] not in page.content()
    # The technical part is folded away until asked for.
    expect(second.locator("details code")).to_be_hidden()
    second.locator("details summary").click()
    expect(second.locator("details code")).to_be_visible()

    # The live check shows the same statements, each with its own mark.
    page.get_by_role("link", name="Verify now").click()
    expect(page.locator(".verdict").first).to_contain_text("Valid", timeout=TIMEOUT_MS)
    checked = page.locator("section.public-endorsements li.public-attestation")
    expect(checked).to_have_count(2)
    expect(checked.nth(0)).to_contain_text(str(named[1]))
    expect(checked.filter(has_text="Not verified")).to_have_count(0)


def test_the_attestations_fit_a_phone(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.goto(printed(server, "Demo badge"))
        assert page.locator("li.public-attestation").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
