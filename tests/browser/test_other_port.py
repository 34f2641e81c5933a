"""`make run PORT=P` in a real browser: the demo badge served on another port than 5000,
without ISSUER_BASE_URL, links, verifies and shows its QR code on that port.

Headless Chromium against `issuer serve --init-demo --port P`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from tests.cli.test_serve_port import _printed, _Running, _serving


@pytest.fixture(scope="module")
def other_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Running]:
    with _serving(tmp_path_factory.mktemp("other-port"), "--init-demo") as running:
        yield running


def test_the_demo_badge_links_and_verifies_on_the_port_served(page: Any,
                                                              other_port: _Running) -> None:
    base = other_port.base
    badge = _printed(other_port.text(), "Demo badge")
    assert badge.startswith(f"{base}/credentials/")
    page.goto(badge)
    # Every address on the page, share links (URL-encoded) included, names this server.
    hrefs = page.eval_on_selector_all("a[href], link[href], img[src]",
                                      "els => els.map(e => e.href || e.src)")
    named = {match for href in hrefs
             for match in re.findall(r"https?://127\.0\.0\.1:\d+", unquote(href))}
    assert named == {base}, named
    qr = page.locator("section.public-qr img")
    qr.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", qr.element_handle())
    page.get_by_role("link", name="Verify now").click()
    page.wait_for_url(f"{badge}/verify")
    assert page.title().startswith("Valid badge")
    page.get_by_role("link", name="See the badge page").click()
    page.wait_for_url(badge)

