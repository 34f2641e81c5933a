"""The "badge awarded" mail: staff page, JSON API and bulk award, over real SMTP on loopback.

Every award to an email address sends the recipient the credential's link once the award has
committed; a DID recipient gets none; a mail that cannot be sent never undoes the award.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.config import Settings
from issuer.jobs.mail import MAX_CONNECT_FAILURES
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.revocation import revoke
from issuer.services.verification import verify
from issuer.storage.learning import MailMessage
from issuer.storage.models import Credential
from tests.conftest import BASE_URL, World
from tests.services.test_bulk import HEADER, auth, wait_for
from tests.services.test_mail import SmtpSink, body_of, free_port, smtp_server, with_smtp
from tests.web.admin.test_awards import award_form
from tests.web.admin.test_bulk import csrf_from, upload, wait_until_finished
from tests.web.admin.test_pages import location_path, page, signed_in_as, submit

__all__ = ["smtp_server"]  # a fixture, used by name

AWARD = "/admin/issuers/guild/award"


@pytest.fixture()
def settings(settings: Settings, smtp_server: SmtpSink) -> Settings:
    """The app of this module sends its mail to the loopback SMTP server."""
    return with_smtp(settings, smtp_server)


@pytest.fixture()
def staff(client: FlaskClient, world: World) -> FlaskClient:
    return signed_in_as(client, world.staff_email)


def credential_of(session: Session, email: str) -> Credential:
    session.expire_all()
    row = session.scalar(select(Credential).where(Credential.recipient_email == email))
    assert row is not None
    return row


def award_mails(session: Session) -> list[MailMessage]:
    session.expire_all()
    return list(session.scalars(select(MailMessage).where(MailMessage.kind == "badge_awarded")
                                .order_by(MailMessage.id)))


def link_in(message: Any) -> str:
    match = re.search(r"http://badges\.test/credentials/[0-9a-f-]+", body_of(message))
    assert match, body_of(message)
    return match.group(0)


# --- the staff page -------------------------------------------------------------------------


def test_an_award_emails_the_recipient_the_link_of_their_credential(
        staff: FlaskClient, session: Session, ctx: ServiceContext,
        smtp_server: SmtpSink) -> None:
    response = submit(staff, AWARD, award_form())
    assert response.status_code == 302
    row = credential_of(session, "ada@example.org")
    (message,) = smtp_server.to("ada@example.org")
    assert message["Subject"] == 'You earned the badge "Peer Scaffolder"'
    assert "Guild Guild awarded you the badge" in body_of(message)
    link = link_in(message)
    assert link == f"{BASE_URL}/credentials/{row.id}"
    # The link opens the credential itself, and it verifies.
    fetched = staff.get(link.removeprefix(BASE_URL), headers={"Accept": "application/ld+json"})
    assert fetched.get_data(as_text=True) == row.document
    assert verify(session, ctx, row.document).valid

    html = page(staff, location_path(response))
    assert "The badge link was emailed to ada@example.org." in html
    assert "The recipient has the link" in html
    assert "Email the link again" in html
    (stored,) = award_mails(session)
    assert stored.credential_id == row.id and stored.sent_at is not None


def test_unticking_email_sends_nothing_until_staff_ask_for_it(
        staff: FlaskClient, session: Session, smtp_server: SmtpSink) -> None:
    response = submit(staff, AWARD, award_form(email_recipient="no"))
    assert response.status_code == 302
    assert smtp_server.messages == [] and award_mails(session) == []
    path = location_path(response)
    html = page(staff, path)
    assert "No email was sent to ada@example.org. Send them the link yourself." in html

    sent = staff.post(path, data={"csrf_token": csrf_from(html)})
    assert sent.status_code == 302 and location_path(sent) == path
    (message,) = smtp_server.to("ada@example.org")
    assert link_in(message).endswith(path.rsplit("/", 1)[1])
    assert "The badge link was emailed to ada@example.org." in page(staff, path)

    # "Again" sends a second message; a post without its CSRF token sends nothing.
    assert staff.post(path).status_code == 400
    staff.post(path, data={"csrf_token": csrf_from(page(staff, path))})
    assert len(smtp_server.to("ada@example.org")) == 2


def test_a_did_recipient_gets_no_mail_and_the_page_says_so(
        staff: FlaskClient, session: Session, smtp_server: SmtpSink) -> None:
    response = submit(staff, AWARD, award_form(recipient="did:example:grace"))
    assert response.status_code == 302
    html = page(staff, location_path(response))
    assert "identified by a DID, so no email is sent" in html
    assert "Email the link" not in html
    assert smtp_server.messages == [] and award_mails(session) == []


def test_a_refused_award_sends_no_mail(staff: FlaskClient, session: Session,
                                       smtp_server: SmtpSink) -> None:
    response = submit(staff, AWARD, award_form(valid_until="2001-01-01"))
    assert response.status_code == 422
    assert smtp_server.messages == [] and award_mails(session) == []
    assert session.scalar(select(func.count()).select_from(Credential)) == 0


def test_a_revoked_badge_is_not_emailed(staff: FlaskClient, session: Session,
                                        ctx: ServiceContext, smtp_server: SmtpSink) -> None:
    response = submit(staff, AWARD, award_form(email_recipient="no"))
    path = location_path(response)
    token = csrf_from(page(staff, path))
    row = credential_of(session, "ada@example.org")
    revoke(session, ctx, get_issuer(session, "guild"), row.id, reason="awarded by mistake",
           actor="test")
    session.commit()
    html = page(staff, path)
    assert "Email the link" not in html
    refused = staff.post(path, data={"csrf_token": token})
    assert refused.status_code == 302
    assert "not active, so its link is not emailed" in page(staff, path)
    assert smtp_server.messages == [] and award_mails(session) == []


def test_when_the_mail_server_is_down_the_badge_is_issued_and_the_page_says_so(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext,
        settings: Settings) -> None:
    from issuer.app import create_app, runtime

    down = create_app(replace(settings, smtp_port=free_port()), TESTING=True)
    browser = signed_in_as(down.test_client(), world.staff_email)
    response = submit(browser, AWARD, award_form())
    assert response.status_code == 302
    row = credential_of(session, "ada@example.org")
    assert verify(session, ctx, row.document).valid
    html = page(browser, location_path(response))
    assert "could not be sent. The badge is issued" in html
    assert "Email the link again" in html
    (stored,) = award_mails(session)
    assert stored.sent_at is None and stored.error
    runtime(down).engine.dispose()


# --- the JSON API ---------------------------------------------------------------------------


def api_award(client: FlaskClient, world: World, **body: Any) -> Any:
    return client.post("/api/v1/awards", headers=auth(world.token),
                       json={"achievement": world.achievement_slug,
                             "recipient": {"email": "ada@example.org"}, **body})


def test_the_api_emails_by_default_and_says_how_it_went(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    response = api_award(client, world)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["email"]["status"] == "sent" and body["email"]["to"] == "ada@example.org"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["email"]["sentAt"])
    (message,) = smtp_server.to("ada@example.org")
    assert link_in(message) == body["url"]


def test_the_api_can_be_told_not_to_email(client: FlaskClient, world: World, session: Session,
                                         smtp_server: SmtpSink) -> None:
    body = api_award(client, world, notify=False).get_json()
    assert body["email"]["status"] == "none"
    assert "Send them the link yourself" in body["email"]["message"]
    did = client.post("/api/v1/awards", headers=auth(world.token), json={
        "achievement": world.achievement_slug, "recipient": {"did": "did:example:grace"}})
    assert did.status_code == 201, did.get_json()
    assert did.get_json()["email"]["status"] == "no_address"
    assert smtp_server.messages == [] and award_mails(session) == []


def test_a_notify_that_is_not_a_boolean_is_refused_and_nothing_is_issued(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    response = api_award(client, world, notify="yes")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "notify" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Credential)) == 0
    assert smtp_server.messages == [] and award_mails(session) == []


def test_without_a_mail_server_the_api_says_the_mail_is_held(
        world: World, settings: Settings, session: Session) -> None:
    from issuer.app import create_app, runtime

    held = create_app(replace(settings, smtp_host=None), TESTING=True)
    body = api_award(held.test_client(), world).get_json()
    assert body["email"]["status"] == "held"
    assert "no mail server is configured" in body["email"]["message"]
    (stored,) = award_mails(session)
    assert stored.sent_at is None and stored.error is None
    runtime(held).engine.dispose()


def test_what_the_api_says_of_the_mail_is_what_the_credential_records(
        world: World, settings: Settings, session: Session, ctx: ServiceContext,
        smtp_server: SmtpSink) -> None:
    # The answer is made from the delivery just done, not read back: both must agree.
    from issuer.app import create_app, runtime
    from issuer.services.award_mail import award_mail

    working = create_app(settings, TESTING=True)
    down = create_app(replace(settings, smtp_port=free_port()), TESTING=True)
    sent = api_award(working.test_client(), world).get_json()
    failed = api_award(down.test_client(), world).get_json()
    assert sent["email"]["status"] == "sent" and failed["email"]["status"] == "failed"
    assert "could not be sent. The badge is issued" in failed["email"]["message"]
    for answer in (sent, failed):
        row = session.get(Credential, answer["id"])
        assert row is not None
        assert award_mail(session, ctx, row).to_json() == answer["email"]
    for app in (working, down):
        runtime(app).engine.dispose()


# --- bulk award -----------------------------------------------------------------------------


PEOPLE = (HEADER + "".join(f"p{i}@example.org,Person {i},,,,,\n" for i in range(5))
          + "did:example:grace,Grace,,,,,\n").encode()


def bulk(client: FlaskClient, world: World, query: str = "") -> dict[str, Any]:
    started = client.post(f"/api/v1/bulk?achievement={world.achievement_slug}{query}",
                          data=PEOPLE, content_type="text/csv", headers=auth(world.token))
    assert started.status_code == 202, started.get_json()
    url = started.headers["Location"]
    job: dict[str, Any] = wait_for(client, world.token, url)["job"]
    # The job is done once every badge is issued; the mail goes out after that.
    deadline = time.monotonic() + 60
    while job["email"]["queued"]:
        assert time.monotonic() < deadline, job["email"]
        time.sleep(0.1)
        job = client.get(url, headers=auth(world.token)).get_json()["job"]
    return job


def test_a_bulk_award_emails_every_email_recipient_their_own_link(
        client: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    body = bulk(client, world)
    assert body["done"] == 6
    assert body["email"] == {"sent": 5, "failed": 0, "held": 0, "queued": 0, "none": 0,
                             "no_address": 1}
    by_recipient = {c["recipient"]: c for c in body["credentials"]}
    assert by_recipient["did:example:grace"]["email"] == "no_address"
    for i in range(5):
        address = f"p{i}@example.org"
        (message,) = smtp_server.to(address)
        assert by_recipient[address]["email"] == "sent"
        assert link_in(message) == by_recipient[address]["url"]
    assert len(smtp_server.messages) == 5


def test_a_bulk_award_can_be_told_not_to_email(client: FlaskClient, world: World,
                                               session: Session, smtp_server: SmtpSink) -> None:
    body = bulk(client, world, "&notify=false")
    assert body["done"] == 6
    assert body["email"]["none"] == 5 and body["email"]["sent"] == 0
    assert smtp_server.messages == [] and award_mails(session) == []
    bad = client.post(f"/api/v1/bulk?achievement={world.achievement_slug}&notify=perhaps",
                      data=PEOPLE, content_type="text/csv", headers=auth(world.token))
    assert bad.status_code in (400, 422) and "notify" in bad.get_data(as_text=True)


def test_a_bulk_award_with_the_mail_server_down_issues_everything_and_gives_up_quickly(
        world: World, settings: Settings, session: Session, ctx: ServiceContext) -> None:
    from issuer.app import create_app, runtime

    # One connection, so which messages are tried is certain: the first three, then none.
    down = create_app(replace(settings, smtp_port=free_port(), smtp_connections=1),
                      TESTING=True)
    try:
        started = time.monotonic()
        body = bulk(down.test_client(), world)
        assert time.monotonic() - started < 60  # not a timeout per message
        assert body["status"] == "done" and body["done"] == 6
        assert body["email"]["failed"] == 5 and body["email"]["sent"] == 0
        for credential in session.scalars(select(Credential)):
            assert verify(session, ctx, credential.document).valid
        errors = [m.error or "" for m in award_mails(session)]
        assert len(errors) == 5 and all(errors)
        given_up = [e for e in errors if "not tried: the SMTP server could not be reached" in e]
        assert len(given_up) == 5 - MAX_CONNECT_FAILURES
    finally:
        runtime(down).engine.dispose()


def test_the_bulk_pages_show_the_emails_and_can_skip_them(
        staff: FlaskClient, world: World, session: Session, smtp_server: SmtpSink) -> None:
    job_path = upload(staff, "guild", PEOPLE).headers["Location"]
    preview = page(staff, job_path)
    assert "Email each recipient their badge link" in preview
    staff.post(f"{job_path}/confirm", data={"csrf_token": csrf_from(preview)})
    done = wait_until_finished(staff, job_path)
    assert "<strong>5</strong> emailed their link" in done
    assert "identified by a DID: no email" in done
    assert done.count("<td class=\"mail-sent\">Sent</td>") == 5
    assert len(smtp_server.messages) == 5

    # Another file: the same file uploaded again issues nothing twice.
    second = upload(staff, "guild", PEOPLE.replace(b"\n", b"\r\n")).headers["Location"]
    staff.post(f"{second}/confirm", data={"csrf_token": csrf_from(page(staff, second)),
                                          "email_recipient": "no"})
    quiet = wait_until_finished(staff, second)
    assert quiet.count("Not emailed") == 5
    assert len(smtp_server.messages) == 5


def test_a_bulk_award_is_done_before_its_mail_goes_out(
        app: Any, world: World, session: Session, ctx: ServiceContext,
        smtp_server: SmtpSink) -> None:
    from issuer.app import runtime
    from issuer.jobs.bulk import run_bulk_job
    from issuer.services.achievements import get_achievement
    from issuer.services.bulk import PENDING, create_job, parse_csv, rows_to_issue
    from issuer.storage.models import BulkJob

    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    rows = rows_to_issue(parse_csv(PEOPLE, today=ctx.now().date()), False)
    job_id = create_job(session, ctx, issuer, achievement, status=PENDING, total=len(rows),
                        actor="test").id
    session.commit()
    seen: list[tuple[int, str, int, int]] = []

    def on_mailing(count: int) -> None:
        with runtime(app).sessions() as other:
            job = other.get(BulkJob, job_id)
            assert job is not None
            sent = other.scalar(select(func.count()).select_from(MailMessage)
                                .where(MailMessage.sent_at.is_not(None)))
            seen.append((count, job.status, job.done, int(sent or 0)))
        assert smtp_server.messages == []

    assert run_bulk_job(runtime(app).sessions, ctx, job_id, rows, batch_size=2,
                        on_mailing=on_mailing) == "done"
    assert seen == [(5, "done", 6, 0)]  # every badge issued, no mail sent yet
    assert len(smtp_server.messages) == 5  # and all of it sent when the runner returns
