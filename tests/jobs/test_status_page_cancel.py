"""The staff page of a running bulk award has a Cancel button that stops it (workers run
the jobs: ``ISSUER_QUEUE_URL=database``, the web only stores them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.jobs.worker import Worker
from issuer.services import bulk_runs
from issuer.storage.jobs import BulkRun
from issuer.storage.models import BulkJob, Credential
from tests.conftest import World
from tests.jobs.test_api_cancel import queued, start  # noqa: F401 - a fixture
from tests.web.admin.test_pages import csrf_token, location_path, signed_in_as

CANCEL = "Cancel: issue no more badges"


def test_a_running_job_is_cancelled_from_its_page(
        queued: Flask, world: World, session: Session) -> None:  # noqa: F811
    api = queued.test_client()
    job_id = start(api, world)
    rt = runtime(queued)
    with rt.sessions() as worker_session:  # a worker has taken it and is issuing
        assert bulk_runs.take(worker_session, rt.services, job_id, "busy") is not None
        worker_session.commit()
    staff = signed_in_as(queued.test_client(), world.staff_email)
    url = f"/admin/issuers/{world.issuer_slug}/bulk/{job_id}"

    html = staff.get(url).get_data(as_text=True)
    assert "Issuing badges" in html and CANCEL in html
    answer = staff.post(f"{url}/cancel", data={"csrf_token": csrf_token(html)})
    assert answer.status_code == 303 and location_path(answer) == url
    html = staff.get(url).get_data(as_text=True)
    assert "Cancel requested" in html and CANCEL not in html  # asked once is enough
    run = session.get(BulkRun, job_id)
    assert run is not None and run.cancel_requested_at is not None

    # That worker died; whoever takes the job next ends it instead of issuing.
    later = rt.services.now() + timedelta(seconds=rt.services.settings.job_lease_seconds + 1)
    Worker(rt.sessions, replace(rt.services, clock=lambda: later)).sweep()
    html = staff.get(url).get_data(as_text=True)
    assert "<h1>Cancelled</h1>" in html and CANCEL not in html
    assert session.scalar(select(BulkJob.status).where(BulkJob.id == job_id)) == "cancelled"
    assert session.scalar(select(func.count()).select_from(Credential)) == 0


def test_the_button_needs_the_csrf_token(queued: Flask, world: World,  # noqa: F811
                                         session: Session) -> None:
    api = queued.test_client()
    job_id = start(api, world)
    staff = signed_in_as(queued.test_client(), world.staff_email)
    answer = staff.post(f"/admin/issuers/{world.issuer_slug}/bulk/{job_id}/cancel")
    assert answer.status_code == 400
    run = session.get(BulkRun, job_id)
    assert run is not None and run.cancel_requested_at is None
