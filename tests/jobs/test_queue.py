"""Queued bulk awards and mail retries on a real database: one worker per job (a lease),
resumption without a row issued twice, cancelling a running job, retries with backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.app import runtime
from issuer.config import Settings
from issuer.jobs.bulk import resume_bulk_job
from issuer.jobs.mail import deliver
from issuer.jobs.worker import Worker
from issuer.services import bulk_runs, mail_retry
from issuer.services.achievements import get_achievement
from issuer.services.bulk import PENDING, cancel_job, create_job, parse_csv
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.mail import send_mail, take_queued
from issuer.storage.jobs import BulkRun, MailRetry
from issuer.storage.learning import MailMessage
from issuer.storage.models import BulkJob, Credential
from tests.conftest import World
from tests.services.test_mail import SmtpSink, free_port, with_smtp


def people(count: int) -> bytes:
    return ("recipient,name\n" + "".join(f"p{i}@example.org,Person {i}\n"
                                         for i in range(count))).encode()


def queued_job(session: Session, ctx: ServiceContext, world: World, count: int,
               notify: bool = False) -> int:
    issuer = get_issuer(session, world.issuer_slug)
    achievement = get_achievement(session, issuer, world.achievement_slug)
    source = people(count)
    job = create_job(session, ctx, issuer, achievement, status=PENDING,
                     total=len(parse_csv(source).rows), source=source, actor="test",
                     notify=notify)
    session.commit()
    return job.id


def later(ctx: ServiceContext, **delta: float) -> ServiceContext:
    moment = ctx.now() + timedelta(**delta)
    return replace(ctx, clock=lambda: moment)


def issued(session: Session, job_id: int) -> list[int]:
    session.expire_all()
    return sorted(session.scalars(select(Credential.bulk_row)
                                  .where(Credential.bulk_job_id == job_id)).all())


def test_one_worker_holds_a_job_until_its_lease_runs_out(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    job_id = queued_job(session, ctx, world, 3)
    sessions = runtime(app).sessions
    with sessions() as s:
        assert bulk_runs.runnable(s, ctx) == [job_id]
        assert bulk_runs.take(s, ctx, job_id, "a") is not None
        s.commit()
    with sessions() as s:
        assert bulk_runs.take(s, ctx, job_id, "b") is None  # "a" holds it
        assert bulk_runs.runnable(s, ctx) == []
    expired = later(ctx, seconds=ctx.settings.job_lease_seconds + 1)
    with sessions() as s:
        plan = bulk_runs.take(s, expired, job_id, "b")
        assert plan is not None and plan.attempt == 2 and len(plan.rows) == 3
        s.commit()
    with sessions() as s, pytest.raises(bulk_runs.LeaseLost):
        bulk_runs.renew(s, ctx, job_id, "a")  # "a" lost it: it must not write its batch


def test_a_resumed_job_issues_only_the_rows_left(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    job_id = queued_job(session, ctx, world, 7)
    sessions = runtime(app).sessions
    checks = iter([False, True])  # the first worker stops after one batch
    first = resume_bulk_job(sessions, ctx, job_id, owner="first", batch_size=3,
                            should_stop=lambda: next(checks))
    assert first is None
    assert issued(session, job_id) == [2, 3, 4]
    run = session.get(BulkRun, job_id)
    assert run is not None and run.lease_owner is None  # handed on at once
    assert resume_bulk_job(sessions, ctx, job_id, owner="second", batch_size=3) == "done"
    assert issued(session, job_id) == list(range(2, 9))
    job = session.get(BulkJob, job_id)
    assert job is not None and (job.status, job.done, job.total) == ("done", 7, 7)
    assert job.source is None
    # Finished: nobody takes it again.
    assert resume_bulk_job(sessions, ctx, job_id, owner="third") is None
    assert issued(session, job_id) == list(range(2, 9))


def test_a_row_cannot_be_stored_twice(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    job_id = queued_job(session, ctx, world, 2)
    resume_bulk_job(runtime(app).sessions, ctx, job_id, owner="w")
    session.expire_all()
    credential = session.scalars(select(Credential).where(Credential.bulk_job_id == job_id)
                                 .order_by(Credential.bulk_row)).first()
    assert credential is not None
    with pytest.raises(IntegrityError):
        session.execute(update(Credential).where(Credential.bulk_job_id == job_id)
                        .values(bulk_row=credential.bulk_row))
        session.flush()
    session.rollback()


def test_a_running_job_can_be_cancelled(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    job_id = queued_job(session, ctx, world, 9)
    sessions = runtime(app).sessions
    calls = 0

    def cancel_after_first_batch() -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:  # a person presses "Cancel" while the job runs
            with sessions() as s:
                job = s.get(BulkJob, job_id)
                assert job is not None and job.status == "running"
                assert cancel_job(s, ctx, job) is False  # stops before its next batch
                s.commit()
        return False

    status = resume_bulk_job(sessions, ctx, job_id, owner="w", batch_size=3,
                             should_stop=cancel_after_first_batch)
    assert status == "cancelled"
    assert issued(session, job_id) == [2, 3, 4]
    job = session.get(BulkJob, job_id)
    assert job is not None and job.status == "cancelled" and job.done == 3
    assert job.message is not None and "3 of 9" in job.message


def test_a_queued_job_not_yet_taken_is_cancelled_at_once(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    job_id = queued_job(session, ctx, world, 3)
    job = session.get(BulkJob, job_id)
    assert job is not None
    assert cancel_job(session, ctx, job) is True
    session.commit()
    assert job.status == "cancelled"
    assert resume_bulk_job(runtime(app).sessions, ctx, job_id, owner="w") is None
    assert issued(session, job_id) == []


def _down(settings: Settings) -> Settings:
    return replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())


def test_failed_mail_is_retried_with_backoff_then_marked_failed(
        app: Flask, session: Session, ctx: ServiceContext, smtp_server: SmtpSink) -> None:
    sessions = runtime(app).sessions
    down = replace(ctx, settings=_down(ctx.settings))
    send_mail(session, down, to="ada@example.org", subject="Your badge", body="b\n",
              kind="test")
    session.commit()
    [message] = take_queued(session)
    report = deliver(sessions, down, [message])
    assert report.failed == 1
    retry = session.get(MailRetry, message.id)
    assert retry is not None and retry.attempts == 1 and retry.retry_at is not None
    first_wait = retry.retry_at - ctx.now()
    assert timedelta(seconds=50) < first_wait <= mail_retry.BACKOFF

    # Before the retry time nothing is tried; after it, the worker tries again.
    for tries in range(2, mail_retry.MAX_ATTEMPTS + 1):
        session.expire_all()
        retry = session.get(MailRetry, message.id)
        assert retry is not None and retry.retry_at is not None
        early = replace(down, clock=lambda at=retry.retry_at: at - timedelta(seconds=1))
        assert Worker(sessions, early).sweep() == 0
        due = replace(down, clock=lambda at=retry.retry_at: at + timedelta(seconds=1))
        assert Worker(sessions, due).sweep() == 1
        session.expire_all()
        retry = session.get(MailRetry, message.id)
        assert retry is not None and retry.attempts == tries
    assert retry.retry_at is None  # given up: failed for good, with the reason
    stored = session.get(MailMessage, message.id)
    assert stored is not None and stored.sent_at is None and stored.error
    assert "ConnectionRefusedError" in stored.error

    # The waits doubled: 1, 2, 4, 8 minutes.
    assert not smtp_server.messages


def test_a_retry_reaches_a_server_that_is_back(
        app: Flask, session: Session, ctx: ServiceContext, smtp_server: SmtpSink) -> None:
    sessions = runtime(app).sessions
    down = replace(ctx, settings=_down(ctx.settings))
    send_mail(session, down, to="ada@example.org", subject="Your badge", body="b\n",
              kind="test")
    session.commit()
    [message] = take_queued(session)
    deliver(sessions, down, [message])
    up = replace(ctx, settings=with_smtp(ctx.settings, smtp_server))
    assert Worker(sessions, later(up, minutes=2)).sweep() == 1
    assert [m["To"] for m in smtp_server.messages] == ["ada@example.org"]
    session.expire_all()
    stored = session.get(MailMessage, message.id)
    assert stored is not None and stored.sent_at is not None


def test_mail_a_dead_worker_was_sending_is_marked_failed_not_sent_again(
        app: Flask, session: Session, ctx: ServiceContext, smtp_server: SmtpSink) -> None:
    up = replace(ctx, settings=with_smtp(ctx.settings, smtp_server))
    send_mail(session, up, to="ada@example.org", subject="Your badge", body="b\n",
              kind="test")
    session.commit()
    [message] = take_queued(session)
    claimed: datetime = ctx.now()
    session.execute(update(MailMessage).where(MailMessage.id == message.id)
                    .values(claimed_at=claimed))
    session.commit()
    sessions = runtime(app).sessions
    assert Worker(sessions, later(up, minutes=5)).sweep() == 0  # may still be sending
    Worker(sessions, later(up, minutes=11)).sweep()
    session.expire_all()
    stored = session.get(MailMessage, message.id)
    assert stored is not None and stored.claimed_at is None and stored.sent_at is None
    assert stored.error == mail_retry.STALE_CLAIM
    assert not smtp_server.messages


def test_the_worker_sweep_runs_a_queued_job_and_mails_everyone(
        app: Flask, session: Session, ctx: ServiceContext, world: World,
        smtp_server: SmtpSink) -> None:
    up = replace(ctx, settings=with_smtp(ctx.settings, smtp_server))
    job_id = queued_job(session, up, world, 4, notify=True)
    assert Worker(runtime(app).sessions, up).sweep() == 1
    assert issued(session, job_id) == [2, 3, 4, 5]
    assert sorted(m["To"] for m in smtp_server.messages) == [
        f"p{i}@example.org" for i in range(4)]
    assert session.scalar(select(func.count()).select_from(MailMessage)
                          .where(MailMessage.sent_at.is_(None))) == 0


def test_the_same_file_uploaded_again_issues_none_of_its_rows_twice(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    sessions = runtime(app).sessions
    first = queued_job(session, ctx, world, 4)
    assert resume_bulk_job(sessions, ctx, first, owner="w") == "done"
    again = queued_job(session, ctx, world, 4)  # the very same file, for the same badge
    assert resume_bulk_job(sessions, ctx, again, owner="w") == "done"
    assert issued(session, again) == []
    job = session.get(BulkJob, again)
    assert job is not None and (job.done, job.failed) == (0, 4)
    assert {e["message"] for e in job.errors} == {
        f"row {n}: already issued from the same file by bulk award {first}"
        for n in range(2, 6)}
    # Another file (one more person) issues only its new row.
    bigger = queued_job(session, ctx, world, 5)
    assert resume_bulk_job(sessions, ctx, bigger, owner="w") == "done"
    assert issued(session, bigger) == [2, 3, 4, 5, 6]  # a different file: its own keys
    assert session.scalar(select(func.count()).select_from(Credential)) == 9


def test_a_file_whose_rows_no_longer_match_fails_the_job_with_a_reason(
        app: Flask, session: Session, ctx: ServiceContext, world: World) -> None:
    job_id = queued_job(session, ctx, world, 3)
    session.execute(update(BulkJob).where(BulkJob.id == job_id).values(total=5))
    session.commit()
    assert resume_bulk_job(runtime(app).sessions, ctx, job_id, owner="w") == "failed"
    session.expire_all()
    job = session.get(BulkJob, job_id)
    assert job is not None and job.status == "failed"
    assert job.message is not None and "3 rows, not the 5 confirmed" in job.message


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("ISSUER_QUEUE_URL", "http://user:hunter2@queue.example/", "'http'"),
    ("ISSUER_QUEUE_NAME", "two words", "ISSUER_QUEUE_NAME"),
    ("ISSUER_JOB_LEASE_SECONDS", "2", "from 5 to 3600"),
    ("ISSUER_STAFF_SESSION_IDLE_MINUTES", "0", "above 0"),
])
def test_queue_settings_are_checked_without_showing_secrets(
        variable: str, value: str, message: str) -> None:
    from issuer.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value, "ISSUER_SECRET_KEY": "k"}, dev_secret=False)
    assert message in refused.value.message
    assert "hunter2" not in refused.value.message


def test_queue_urls_that_are_accepted() -> None:
    for url in ("database", "redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672/%2F"):
        settings = Settings.from_env({"ISSUER_QUEUE_URL": url, "ISSUER_SECRET_KEY": "k"})
        assert settings.queue_url == url
        assert "guest" not in repr(settings) and "6379" not in repr(settings)
