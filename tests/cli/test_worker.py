"""``issuer worker`` as an operator runs it: real worker processes on a real database
(SQLite file, or PostgreSQL with ISSUER_TEST_DATABASE_URL), a loopback SMTP server, and
SIGKILL in the middle of a bulk award."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from issuer.services.achievements import get_achievement
from issuer.services.bulk import DONE, PENDING, create_job, parse_csv
from issuer.services.issuers import get_issuer
from issuer.storage.jobs import BulkRun
from issuer.storage.learning import MailMessage
from issuer.storage.models import BulkJob, Credential
from tests.cli_instance import ISSUER_CMD, CliInstance
from tests.services.test_mail import SmtpSink, free_port

pytestmark = pytest.mark.db

#: The rows of the killed bulk award: 2,000 in the full runs (ISSUER_TEST_FULL=1).
ROWS = 2000 if os.environ.get("ISSUER_TEST_FULL") == "1" else 400


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[CliInstance]:
    inst = CliInstance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


@pytest.fixture()
def sink() -> Iterator[SmtpSink]:
    found = SmtpSink(port=free_port())
    controller = Controller(found, hostname="127.0.0.1", port=found.port)
    controller.start()
    try:
        yield found
    finally:
        controller.stop()


def people(count: int) -> bytes:
    lines = ["recipient,name"] + [f"person{n}@example.org,Person {n}" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


def queue_job(inst: CliInstance, source: bytes) -> int:
    """A confirmed bulk award as the web pages and the API leave it: its file kept, queued
    for the workers."""
    with inst.session() as session:
        ctx = inst.context()
        issuer = get_issuer(session, "guild")
        parsed = parse_csv(source)
        job = create_job(session, ctx, issuer, get_achievement(session, issuer,
                                                               "peer-scaffolder"),
                         status=PENDING, total=len(parsed.rows), source=source,
                         filename="people.csv", actor="staff@guild.test")
        session.commit()
        return job.id


def start_worker(inst: CliInstance, sink: SmtpSink, *args: str,
                 **env: str) -> subprocess.Popen[bytes]:
    """A worker whose log goes to a file of its own (``worker-<pid>.log``)."""
    log = inst.tmp / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [ISSUER_CMD, "worker", *args],
            env={**inst.env, "ISSUER_SMTP_HOST": "127.0.0.1",
                 "ISSUER_SMTP_PORT": str(sink.port), "ISSUER_JOB_LEASE_SECONDS": "5", **env},
            stdout=subprocess.DEVNULL, stderr=out)
    process.log_path = log  # type: ignore[attr-defined]
    return process


def stop(process: subprocess.Popen[bytes]) -> str:
    """Stop the worker as a service manager does (SIGTERM); its log."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    path: Path = process.log_path  # type: ignore[attr-defined]
    return path.read_text(encoding="utf-8", errors="replace")


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def job_state(inst: CliInstance, job_id: int) -> tuple[str, int]:
    with inst.session() as session:
        job = session.get(BulkJob, job_id)
        assert job is not None
        return job.status, job.done


def test_a_worker_killed_mid_run_is_taken_over_and_nothing_is_issued_twice(
        instance: CliInstance, sink: SmtpSink) -> None:
    job_id = queue_job(instance, people(ROWS))
    first = start_worker(instance, sink, "--poll", "0.2")
    try:
        wait_for(lambda: job_state(instance, job_id)[1] >= ROWS // 4, 600, "the first batches")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    status, done = job_state(instance, job_id)
    assert status == "running" and ROWS // 4 <= done < ROWS, (status, done)
    assert not sink.messages  # mail goes once every row is issued

    second = start_worker(instance, sink, "--poll", "0.2")
    try:
        wait_for(lambda: job_state(instance, job_id)[0] == DONE, 900, "the job to finish")
        wait_for(lambda: len(sink.messages) >= ROWS, 300, "the badge mail")
        time.sleep(1)  # anything sent twice would arrive now
    finally:
        log = stop(second)

    with instance.session() as session:
        credentials = session.scalars(select(Credential)
                                      .where(Credential.bulk_job_id == job_id)).all()
        run = session.get(BulkRun, job_id)
        job = session.get(BulkJob, job_id)
        sent = session.scalar(select(func.count()).select_from(MailMessage)
                              .where(MailMessage.sent_at.is_not(None)))
        assert job is not None and run is not None
        assert (job.done, job.failed, job.total) == (ROWS, 0, ROWS)
        assert run.attempts == 2 and run.lease_owner is None
    assert len(credentials) == ROWS
    assert sorted(c.bulk_row for c in credentials) == list(range(2, ROWS + 2))
    assert len({c.recipient_email for c in credentials}) == ROWS
    assert len({c.status_allocation_id for c in credentials} - {None}) == ROWS
    recipients = sorted(m["To"] for m in sink.messages)
    assert recipients == sorted(f"person{n}@example.org" for n in range(ROWS)), log
    assert sent == ROWS


def test_sigterm_hands_the_job_on_at_once(instance: CliInstance, sink: SmtpSink) -> None:
    job_id = queue_job(instance, people(150))
    first = start_worker(instance, sink, "--poll", "0.2", ISSUER_JOB_LEASE_SECONDS="3600")
    try:
        wait_for(lambda: job_state(instance, job_id)[1] >= 50, 240, "the first batch")
    finally:
        stop(first)
    with instance.session() as session:
        run = session.get(BulkRun, job_id)
        assert run is not None and run.lease_owner is None  # given up, not left to run out
    # An hour's lease would keep a killed worker's job; a stopped one's goes on at once.
    second = start_worker(instance, sink, "--poll", "0.2", ISSUER_JOB_LEASE_SECONDS="3600")
    try:
        wait_for(lambda: job_state(instance, job_id)[0] == DONE, 240, "the job to finish")
    finally:
        stop(second)
    with instance.session() as session:
        count = session.scalar(select(func.count()).select_from(Credential)
                               .where(Credential.bulk_job_id == job_id))
    assert count == 150


REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _redis_cleanup(name: str) -> Callable[[], None]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        pytest.skip(f"no Redis server at {REDIS_URL}: {exc}")

    def cleanup() -> None:
        for key in client.scan_iter(match=f"{name}*"):
            client.delete(key)
        client.close()

    return cleanup


def _rabbitmq_cleanup(name: str) -> Callable[[], None]:
    import pika
    import pika.exceptions

    try:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    except pika.exceptions.AMQPConnectionError as exc:
        pytest.skip(f"no RabbitMQ server at 127.0.0.1:5672: {exc!r}")

    def cleanup() -> None:
        channel = connection.channel()
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            channel.queue_delete(queue=queue)
        connection.close()

    return cleanup


@pytest.mark.parametrize("url", [REDIS_URL, AMQP_URL], ids=["redis", "rabbitmq"])
def test_a_broker_wakes_the_worker_at_once(instance: CliInstance, sink: SmtpSink,
                                           url: str) -> None:
    """The worker looks in the database only every two minutes here: the job can only
    start sooner because the broker told it."""
    from dataclasses import replace

    from issuer.jobs.queue import broker, wake_bulk

    name = f"issuer-test-{time.monotonic_ns()}"
    cleanup = (_redis_cleanup if url.startswith("redis") else _rabbitmq_cleanup)(name)
    settings = replace(instance.settings, queue_url=url, queue_name=name)
    worker = None
    try:
        worker = start_worker(instance, sink, "--poll", "120", ISSUER_QUEUE_URL=url,
                              ISSUER_QUEUE_NAME=name)
        time.sleep(3)  # its first look at the (empty) database is over
        job_id = queue_job(instance, people(20))
        assert wake_bulk(settings, job_id)
        wait_for(lambda: job_state(instance, job_id)[0] == DONE, 90, "the job to finish")
        wait_for(lambda: len(sink.messages) >= 20, 60, "the badge mail")
    finally:
        log = stop(worker) if worker is not None else ""
        broker(settings).close()
        cleanup()
    assert "broker" in log
