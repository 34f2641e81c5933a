"""``POST /api/v1/bulk/{id}/cancel`` with workers running the jobs (``ISSUER_QUEUE_URL``
set to ``database``: the web only stores the job)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.app import create_app, runtime
from issuer.config import Settings
from issuer.jobs.worker import Worker
from issuer.services import bulk_runs
from issuer.storage.jobs import BulkRun
from issuer.storage.models import Credential
from tests.conftest import World

CSV = "recipient,name\nada@example.org,Ada\nalan@example.org,Alan\n"


@pytest.fixture()
def queued(settings: Settings, app: Flask) -> Iterator[Flask]:
    """The site as web nodes serve it when workers run the jobs (same database as ``app``,
    which cleans it up)."""
    web = create_app(replace(settings, queue_url="database"), TESTING=True)
    yield web
    runtime(web).engine.dispose()


def start(client: FlaskClient, world: World) -> int:
    answer = client.post("/api/v1/bulk?achievement=peer-scaffolder&notify=false",
                         headers={"Authorization": f"Bearer {world.token}",
                                  "Content-Type": "text/csv"}, data=CSV)
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["job"]["status"] == "pending"
    return int(answer.get_json()["job"]["id"])


def cancel(client: FlaskClient, world: World, job_id: int) -> tuple[int, dict[str, object]]:
    answer = client.post(f"/api/v1/bulk/{job_id}/cancel",
                         headers={"Authorization": f"Bearer {world.token}"})
    return answer.status_code, answer.get_json()


def test_a_job_no_worker_took_is_cancelled_at_once(
        queued: Flask, world: World, session: Session) -> None:
    client = queued.test_client()
    job_id = start(client, world)
    status, body = cancel(client, world, job_id)
    assert status == 200 and body["job"]["status"] == "cancelled"  # type: ignore[index]
    status, body = cancel(client, world, job_id)
    assert status == 409 and body["status"] == 409
    rt = runtime(queued)
    assert Worker(rt.sessions, rt.services).sweep() == 0
    assert session.scalar(select(func.count()).select_from(Credential)) == 0


def test_a_running_job_stops_before_its_next_batch(
        queued: Flask, world: World, session: Session) -> None:
    client = queued.test_client()
    job_id = start(client, world)
    rt = runtime(queued)
    with rt.sessions() as worker_session:  # a worker has taken it
        assert bulk_runs.take(worker_session, rt.services, job_id, "busy") is not None
        worker_session.commit()
    status, body = cancel(client, world, job_id)
    assert status == 202 and body["job"]["status"] == "running"  # type: ignore[index]
    run = session.get(BulkRun, job_id)
    assert run is not None and run.cancel_requested_at is not None
    # That worker died; whoever takes the job next ends it instead of issuing.
    later = rt.services.now() + timedelta(seconds=rt.services.settings.job_lease_seconds + 1)
    moved = replace(rt.services, clock=lambda: later)
    Worker(rt.sessions, moved).sweep()
    answer = client.get(f"/api/v1/bulk/{job_id}",
                        headers={"Authorization": f"Bearer {world.token}"})
    assert answer.get_json()["job"]["status"] == "cancelled"
    assert session.scalar(select(func.count()).select_from(Credential)) == 0
