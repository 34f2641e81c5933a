"""The staff pages for bulk award: upload → preview → confirm → progress, with CSRF."""

from __future__ import annotations

import io
import re
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from issuer.services.achievements import get_achievement
from issuer.services.bulk import create_job, parse_csv
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.verification import verify
from issuer.storage.models import BulkJob, Credential, User
from tests.conftest import World
from tests.web.admin.test_pages import signed_in_as

CSV = (b"recipient,name,evidence_url,valid_until\n"
       b"ada@example.org,Ada <b>Lovelace</b>,https://forum.example/t/1,2031-01-01\n"
       b"anna@example,Anna,,\n"
       b"did:example:grace,Grace,,\n")


def sign_in(client: FlaskClient, session: Session, email: str) -> None:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    signed_in_as(client, user.email)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def upload(client: FlaskClient, slug: str, data: bytes, *, achievement: str = "peer-scaffolder",
           token: str | None = None) -> Any:
    if token is None:
        token = csrf_from(client.get(f"/admin/issuers/{slug}/bulk").get_data(as_text=True))
    return client.post(f"/admin/issuers/{slug}/bulk", data={
        "csrf_token": token, "achievement": achievement,
        "file": (io.BytesIO(data), "people.csv")}, content_type="multipart/form-data")


def count(session: Session, model: Any = Credential) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def wait_until_finished(client: FlaskClient, path: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        html = client.get(path).get_data(as_text=True)
        if 'http-equiv="refresh"' not in html:
            return html
        assert "<progress" in html
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_the_pages_need_a_signed_in_member(client: FlaskClient, world: World,
                                           session: Session) -> None:
    response = client.get("/admin/issuers/guild/bulk")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    sign_in(client, session, world.other_staff_email)
    assert client.get("/admin/issuers/guild/bulk").status_code == 403
    token = csrf_from(client.get("/admin/issuers/other/bulk").get_data(as_text=True))
    refused = upload(client, "guild", CSV, token=token)
    assert refused.status_code == 403
    assert count(session, BulkJob) == 0


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, world: World,
                                                  session: Session) -> None:
    sign_in(client, session, world.staff_email)
    response = upload(client, "guild", CSV, token="forged")
    assert response.status_code == 400
    assert count(session, BulkJob) == 0


def test_preview_confirm_and_progress(client: FlaskClient, world: World, session: Session,
                                      ctx: ServiceContext) -> None:
    sign_in(client, session, world.staff_email)
    form = client.get("/admin/issuers/guild/bulk")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert '<label for="bulk-file">' in html and 'id="bulk-file"' in html
    assert "Content-Security-Policy" in form.headers
    example = client.get("/admin/issuers/guild/bulk/example.csv")
    assert example.mimetype == "text/csv"
    assert parse_csv(example.get_data(), today=ctx.now().date()).ok

    uploaded = upload(client, "guild", CSV)
    assert uploaded.status_code == 303
    job_path = uploaded.headers["Location"]
    assert re.fullmatch(r"/admin/issuers/guild/bulk/\d+", job_path)
    assert count(session) == 0

    preview = client.get(job_path).get_data(as_text=True)
    assert "<td>3</td><td>&#39;anna@example&#39; is not an email address or a DID</td>" \
        in preview
    assert "Issue the 2 valid rows" in preview
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in preview  # escaped, never markup
    session.expire_all()
    job = session.scalar(select(BulkJob))
    assert job is not None and job.status == "preview" and job.source == CSV

    # Confirming without choosing to skip the bad rows issues nothing.
    token = csrf_from(preview)
    refused = client.post(f"{job_path}/confirm", data={"csrf_token": token})
    assert refused.status_code == 303
    assert "nothing was issued" in client.get(job_path).get_data(as_text=True).lower()
    assert count(session) == 0

    no_token = client.post(f"{job_path}/confirm", data={"issue_valid_rows": "yes"})
    assert no_token.status_code == 400
    assert count(session) == 0

    confirmed = client.post(f"{job_path}/confirm",
                            data={"csrf_token": token, "issue_valid_rows": "yes"})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == job_path
    again = client.post(f"{job_path}/confirm",
                        data={"csrf_token": token, "issue_valid_rows": "yes"})
    assert again.status_code == 303

    done = wait_until_finished(client, job_path)
    assert "Finished" in done
    # Three rows in the file: two issued, one left out, and the counts say so.
    assert '<progress id="bulk-progress" max="3" value="3">' in done
    assert "3 of 3 rows of the file processed" in done
    assert "row 3: &#39;anna@example&#39; is not an email address or a DID" in done
    session.expire_all()
    credentials = session.scalars(select(Credential)).all()
    assert len(credentials) == 2  # the second confirmation issued nothing more
    for credential in credentials:
        assert f"/credentials/{credential.id}" in done
        assert verify(session, ctx, credential.document).valid
    job = session.scalar(select(BulkJob))
    assert job is not None and job.status == "done" and job.source is None


def test_a_running_job_page_refreshes_itself_without_script(
        client: FlaskClient, world: World, session: Session, ctx: ServiceContext) -> None:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    job = create_job(session, ctx, issuer, achievement, status="running", total=40)
    job.done, job.failed = 12, 1
    session.commit()
    sign_in(client, session, world.staff_email)
    response = client.get(f"/admin/issuers/guild/bulk/{job.id}")
    html = response.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="bulk-progress" max="40" value="13">' in html
    assert "13 of 40 rows of the file processed" in html
    assert "27</strong> still to issue" in html
    assert "<script" not in html and "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    job.status = "done"
    session.commit()
    finished = client.get(f"/admin/issuers/guild/bulk/{job.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in finished


def test_cancel_issues_nothing(client: FlaskClient, world: World, session: Session) -> None:
    sign_in(client, session, world.staff_email)
    job_path = upload(client, "guild", CSV).headers["Location"]
    token = csrf_from(client.get(job_path).get_data(as_text=True))
    cancelled = client.post(f"{job_path}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    assert client.post(f"{job_path}/confirm",
                       data={"csrf_token": token, "issue_valid_rows": "yes"}).status_code == 303
    session.expire_all()
    job = session.scalar(select(BulkJob))
    assert job is not None and job.status == "cancelled" and job.source is None
    assert count(session) == 0


def test_an_unusable_file_is_explained_on_the_form(client: FlaskClient, world: World,
                                                   session: Session) -> None:
    sign_in(client, session, world.staff_email)
    response = upload(client, "guild", b"email,colour\nada@example.org,red\n")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "the column &#39;recipient&#39; is missing" in html
    assert "unknown column(s) &#39;email&#39;, &#39;colour&#39;" in html
    missing = upload(client, "guild", CSV, achievement="")
    assert "Choose the badge to award." in missing.get_data(as_text=True)
    assert count(session, BulkJob) == 0


def test_an_oversize_upload_gets_a_friendly_page(client: FlaskClient, world: World,
                                                 session: Session) -> None:
    sign_in(client, session, world.staff_email)
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    token = csrf_from(client.get("/admin/issuers/guild/bulk").get_data(as_text=True))
    data = b"recipient\n" + b"a@example.org\n" * (limit // 14 + 1)
    # Encoded here, in memory: the test client would spool so large a form to a temp file.
    boundary, body = encode_multipart({"csrf_token": token, "achievement": "peer-scaffolder",
                                       "file": FileStorage(io.BytesIO(data), "big.csv")})
    response = client.post("/admin/issuers/guild/bulk", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "larger than this service accepts" in response.get_data(as_text=True)
    assert count(session, BulkJob) == 0


def test_another_issuers_job_is_not_found(client: FlaskClient, world: World,
                                          session: Session) -> None:
    sign_in(client, session, world.staff_email)
    job_path = upload(client, "guild", CSV).headers["Location"]
    job_id = job_path.rsplit("/", 1)[1]
    with client.session_transaction() as sess:
        sess.clear()
    sign_in(client, session, world.other_staff_email)
    token = csrf_from(client.get("/admin/issuers/other/bulk").get_data(as_text=True))
    assert client.get(f"/admin/issuers/other/bulk/{job_id}").status_code == 404
    assert client.post(f"/admin/issuers/other/bulk/{job_id}/confirm",
                       data={"csrf_token": token, "issue_valid_rows": "yes"}).status_code == 404
    assert client.get(job_path).status_code == 403
    assert count(session) == 0


def test_the_finished_page_adds_up_lists_in_file_order_and_offers_the_results(
        client: FlaskClient, world: World, session: Session) -> None:
    sign_in(client, session, world.staff_email)
    # Four rows, two of them with problems; recipients in reverse alphabetical order.
    data = (b"recipient,name\n"
            b"zed@example.org,Zed\n"
            b"nobody,No One\n"
            b"amy@example.org,Amy\n"
            b"zed@example.org,Zed Again\n")
    job_path = upload(client, "guild", data).headers["Location"]
    token = csrf_from(client.get(job_path).get_data(as_text=True))
    client.post(f"{job_path}/confirm", data={"csrf_token": token, "issue_valid_rows": "yes"})
    done = wait_until_finished(client, job_path)
    assert "4 of 4 rows of the file processed" in done
    tally = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", done.split('class="tally"')[1]
                                      .split("</ul>")[0]))
    assert "2 issued" in tally and "0 could not be issued" in tally
    assert "2 left out (problems in the file)" in tally
    assert "Left out: problems in the file" in done
    assert "row 3: &#39;nobody&#39; is not an email address or a DID" in done
    assert "row 5:" in done and "already on row 2" in done
    issued = done.split("<h2>Issued badges</h2>")[1]
    assert issued.index("zed@example.org") < issued.index("amy@example.org")

    results = f"{job_path}/results.csv"
    assert results in done
    answer = client.get(results)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Cache-Control"] == "no-store"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == "row,recipient,name,outcome,credential link,email,problem"
    assert [line.split(",")[:4] for line in lines[1:]] == [
        ["2", "zed@example.org", "Zed", "issued"], ["3", "nobody", "", "left out"],
        ["4", "amy@example.org", "Amy", "issued"], ["5", "zed@example.org", "", "left out"]]
    assert ",http://badges.test/credentials/" in lines[1] and ",In the outbox," in lines[1]

    # Authorization as for the job's page: signed in, and staff of the job's issuer.
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(results).status_code == 302
    sign_in(client, session, world.other_staff_email)
    assert client.get(results).status_code == 403
    job_id = job_path.rsplit("/", 1)[1]
    assert client.get(f"/admin/issuers/other/bulk/{job_id}/results.csv").status_code == 404
