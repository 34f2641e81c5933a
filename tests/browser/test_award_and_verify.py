"""A staff member awards a badge in the admin UI; an employer verifies it by upload.

Headless Chromium against `issuer serve --init-demo` (gunicorn, SQLite), as a newcomer
would meet it after `make run`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.live_server import Server, demo_password


def _sign_in(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/admin/")
    assert "/admin/login" in page.url
    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password").fill(demo_password(server))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.base}/admin/")


def test_award_in_admin_then_open_then_verify_by_upload(
    page: Any, server: Server, tmp_path: Path
) -> None:
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/issuers/demo/award")
    page.get_by_label("Badge", exact=True).select_option(label="Peer Scaffolder")
    page.get_by_label("Recipient's email address or DID").fill("grace@example.org")
    page.get_by_label("Recipient's name").fill("Grace Hopper")
    page.locator("#f-evidence-0-url").fill("https://forum.example.org/t/compilers/7")
    page.locator("#f-evidence-0-name").fill("Thread on compilers")
    page.get_by_role("button", name="Award badge").click()
    link = page.locator("#credential-link").input_value()
    assert link.startswith(f"{server.base}/credentials/")

    # The recipient's page, as a person sees it.
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Peer Scaffolder"
    assert "Grace Hopper" in page.content()
    qr = page.locator("img[src$='/qr.svg'], img[src$='/qr.png']")
    assert qr.count() >= 1
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download JSON").click()
    saved = tmp_path / "badge.json"
    download_info.value.save_as(saved)
    credential = json.loads(saved.read_text())
    assert credential["id"] == link

    # An employer uploads the file on the verify page.
    page.goto(f"{server.base}/verify")
    page.get_by_label("Badge file", exact=True).set_input_files(str(saved))
    page.get_by_role("button", name="Check this badge").click()
    verdict = page.locator(".verdict")
    assert "Valid" in verdict.inner_text()
    assert "Signature" in page.content()

    # A tampered copy is refused, and the failing check is named.
    credential["credentialSubject"]["achievement"]["name"] = "Chief Scientist"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(credential))
    page.goto(f"{server.base}/verify")
    page.get_by_label("Badge file", exact=True).set_input_files(str(forged))
    page.get_by_role("button", name="Check this badge").click()
    assert "Not valid" in page.locator(".verdict").inner_text()


def test_scanning_the_qr_code_opens_a_live_check_on_a_phone(
    browser: Any, server: Server
) -> None:
    from tests.live_server import printed

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        badge = printed(server, "Demo badge")
        page.goto(f"{badge}/verify")
        assert "Valid" in page.locator(".verdict").inner_text()
        # Nothing wider than the phone's screen: the page is usable without zooming.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        context.close()
