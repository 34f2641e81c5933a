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
    # One "Authorize" button for the page (named exactly: summaries such as
    # "/ims/ob/v3p0/oauth/authorize" or "pre-authorized code" contain the word). Its dialog
    # lists every scheme of the description, the API token first.
    authorize = page.get_by_role("button", name="Authorize", exact=True)
    assert authorize.count() == 1
    dialog = page.locator(".dialog-ux .modal-ux")
    authorize.click()
    dialog.wait_for()
    schemes = dialog.locator(".auth-container h4").all_inner_texts()
    assert schemes[0].split()[0] == "bearerAuth", schemes
    dialog.get_by_role("button", name="Close").first.click()
    dialog.wait_for(state="detached")
    # The operation's own lock offers the operation's own security only: the API token,
    # not the wallets' or other applications' schemes.
    operation.locator(".authorization__btn").click()
    dialog.wait_for()
    assert [h.split()[0] for h in dialog.locator(".auth-container h4").all_inner_texts()] \
        == ["bearerAuth"]
    dialog.get_by_role("button", name="Close").first.click()
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


def test_a_bulk_award_counts_what_was_left_out_keeps_file_order_and_downloads_results(
        page: Any, server: Server, tmp_path: Any) -> None:
    # Four rows: two can be issued, two have problems and are left out.
    csv = tmp_path / "cohort.csv"
    csv.write_text("recipient,name\n"
                   "zoe@example.org,Zoe Zimmer\n"
                   "not an address,Broken Row\n"
                   "adam@example.org,Adam Abel\n"
                   ",Nobody\n", encoding="utf-8")
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/issuers/demo/bulk")
    page.locator("#bulk-achievement").select_option("peer-scaffolder")
    page.locator("#bulk-file").set_input_files(str(csv))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Check before issuing").wait_for()
    page.get_by_role("button", name="Issue the 2 valid rows").click()
    page.get_by_role("heading", name="Finished").wait_for(timeout=30_000)

    assert page.get_by_text("4 of 4 rows of the file processed").is_visible()
    tally = page.locator("ul.tally").first.inner_text()
    assert "2 issued" in tally and "0 could not be issued" in tally
    assert "2 left out (problems in the file)" in tally
    left_out = page.locator("section", has=page.get_by_role(
        "heading", name="Left out: problems in the file")).inner_text()
    assert "row 3" in left_out.lower() and "row 5" in left_out.lower(), left_out
    # Issued badges are listed in the order of the file, not the reverse.
    rows = page.locator("table tbody tr").all_inner_texts()
    assert [r.split("\t")[0].split()[0] for r in rows] == ["Zoe", "Adam"], rows

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the results (CSV)").click()
    lines = info.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,recipient,name,outcome,credential link,email,problem"
    assert [line.split(",")[1] for line in lines[1:]] == [
        "zoe@example.org", "not an address", "adam@example.org", ""], lines
    issued = [line for line in lines[1:] if f"{server.base}/credentials/" in line]
    assert len(issued) == 2, lines
