"""The bulk award runner: batches that each commit, a crash that keeps them, one run only."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.jobs.bulk import run_bulk_job
from issuer.services.achievements import get_achievement
from issuer.services.bulk import PENDING, create_job, parse_csv, rows_to_issue
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.verification import verify
from issuer.storage.models import BulkJob, Credential
from tests.conftest import World


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


def _pending_job(session: Session, ctx: ServiceContext, world: World, data: bytes,
                 issue_valid_rows: bool = False) -> tuple[int, list[Any]]:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    parsed = parse_csv(data, today=ctx.now().date())
    rows = rows_to_issue(parsed, issue_valid_rows)
    job = create_job(session, ctx, issuer, achievement, status=PENDING, total=len(rows),
                     skipped=parsed.errors, actor="test")
    session.commit()
    return job.id, rows
def test_each_batch_commits_on_its_own_and_every_credential_verifies(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    data = ("recipient,name\n" + "".join(f"p{i}@example.org,Person {i}\n" for i in range(7))
            ).encode()
    job_id, rows = _pending_job(session, ctx, world, data)
    batches: list[int] = []
    progress: list[int] = []

    def on_batch(batch: list[Any]) -> None:
        batches.append(len(batch))
        # Each batch is committed before it is reported: another session sees it.
        with runtime(app).sessions() as other:
            job = other.get(BulkJob, job_id)
            assert job is not None
            progress.append(job.done)

    status = run_bulk_job(runtime(app).sessions, ctx, job_id, rows, batch_size=3,
                          on_batch=on_batch)
    assert status == "done"
    assert batches == [3, 3, 1]
    assert progress == [3, 6, 7]
    session.expire_all()
    job = session.get(BulkJob, job_id)
    assert job is not None and job.status == "done" and job.done == 7 and job.failed == 0
    assert job.finished_at is not None
    credentials = session.scalars(select(Credential).where(Credential.bulk_job_id == job_id)
                                  ).all()
    assert sorted(c.recipient_email or "" for c in credentials) == sorted(
        f"p{i}@example.org" for i in range(7))
    for credential in credentials:
        assert verify(session, ctx, credential.document).valid


def test_a_crash_keeps_committed_batches_and_marks_the_job_failed(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    data = ("recipient\n" + "".join(f"p{i}@example.org\n" for i in range(5))).encode()
    job_id, rows = _pending_job(session, ctx, world, data)

    def broken_output(batch: list[Any]) -> None:
        raise BrokenPipeError("the terminal went away")

    status = run_bulk_job(runtime(app).sessions, ctx, job_id, rows, batch_size=2,
                          on_batch=broken_output)
    assert status == "failed"
    session.expire_all()
    job = session.get(BulkJob, job_id)
    assert job is not None and job.status == "failed"
    assert job.message and "stopped" in job.message
    assert job.done == 2 == count(session)
    assert run_bulk_job(runtime(app).sessions, ctx, job_id, rows) == "failed"  # never run twice
    assert count(session) == 2




def test_the_last_batch_finishes_the_job_in_its_own_transaction(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    data = ("recipient\n" + "".join(f"p{i}@example.org\n" for i in range(4))).encode()
    job_id, rows = _pending_job(session, ctx, world, data)
    seen: list[tuple[str, int]] = []

    def on_batch(batch: list[Any]) -> None:
        with runtime(app).sessions() as other:
            job = other.get(BulkJob, job_id)
            assert job is not None
            seen.append((job.status, job.done))

    assert run_bulk_job(runtime(app).sessions, ctx, job_id, rows, batch_size=2,
                        on_batch=on_batch) == "done"
    # No extra step after the last batch: the job is done as soon as its rows are issued.
    assert seen == [("running", 2), ("done", 4)]
