"""The job queue: Dramatiq over Redis or RabbitMQ wakes a worker the moment a job is
queued; the database says what there is to do.

Why so: a job's progress must survive a worker killed mid-run, so it lives with the rows
it produces (:mod:`issuer.services.bulk_runs`: a lease per job, one credential per row),
and a message on the broker only says "job 42 is waiting". Lose the message (a broker
restarted, a worker killed after taking it) and nothing is lost: every worker also looks
in the database every few seconds for jobs nobody holds. Dramatiq is the engine because it
speaks both brokers this service is deployed with, Redis and RabbitMQ, with the same
actors, runs them on a pool of threads in the ``issuer worker`` process, and acknowledges
a message only once its actor has run (Dramatiq, "Brokers" and "Worker" guides).

``ISSUER_QUEUE_URL`` chooses: ``redis://…`` or ``amqp://…`` a broker; ``database`` no
broker, the workers find jobs by looking; unset, the web process runs a job as soon as it
is confirmed and ``issuer serve`` starts one worker beside it for what a crash left.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from issuer.config import Settings
from issuer.services.bulk import CsvRow
from issuer.services.context import ServiceContext

if TYPE_CHECKING:
    from dramatiq import Broker
    from sqlalchemy.orm import Session

log = logging.getLogger("issuer.queue")

#: The actor a bulk award's message is for.
BULK_ACTOR = "issuer.bulk_award"
#: Long enough for the largest bulk award; Dramatiq's default (10 minutes) would kill it.
BULK_TIME_LIMIT_MS = 24 * 3600 * 1000

_brokers: dict[tuple[int, str, str], Broker] = {}
_lock = threading.Lock()


def uses_broker(settings: Settings) -> bool:
    return bool(settings.queue_url) and settings.queue_url != "database"


def broker(settings: Settings) -> Broker:
    """This process's broker for the settings' queue URL (one per process: connections do
    not survive gunicorn's fork)."""
    url = settings.queue_url or ""
    key = (os.getpid(), url, settings.queue_name)
    with _lock:
        found = _brokers.get(key)
        if found is None:
            found = _brokers[key] = _make_broker(url, settings.queue_name)
        return found


def _make_broker(url: str, name: str) -> Broker:
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        # The queue name is also the prefix of every key, so sites (and test runs) sharing
        # one Redis never see each other's messages.
        return RedisBroker(url=url, namespace=name, socket_connect_timeout=5)
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    return RabbitmqBroker(url=url, confirm_delivery=True)


def declare(settings: Settings, run_bulk: Callable[[int], object]) -> Broker:
    """The broker with this service's actors, for a worker to consume from."""
    import dramatiq

    found = broker(settings)
    if BULK_ACTOR not in found.actors:
        # No Dramatiq retries: a job that failed is marked so in the database, and one
        # whose worker died is taken up again by the database sweep.
        dramatiq.actor(run_bulk, actor_name=BULK_ACTOR, queue_name=settings.queue_name,
                       broker=found, max_retries=0, time_limit=BULK_TIME_LIMIT_MS)
    return found


def wake_bulk(settings: Settings, job_id: int) -> bool:
    """Tell a worker that ``job_id`` is waiting; False (logged) if the broker could not be
    reached: the workers' sweep finds the job anyway, a few seconds later."""
    from dramatiq import Message

    try:
        found = broker(settings)
        found.enqueue(Message(queue_name=settings.queue_name, actor_name=BULK_ACTOR,
                              args=(job_id,), kwargs={}, options={}))
    except Exception:  # the job is stored; only the wake-up is lost
        log.exception("bulk award %s: the queue could not be told; a worker will find it "
                      "in the database", job_id)
        return False
    return True


def ready(settings: Settings) -> str:
    """"ok" if the broker answers (or none is used), else why not, for ``/readyz``."""
    if not uses_broker(settings):
        return "ok"
    try:
        found = broker(settings)
        client = getattr(found, "client", None)
        if client is not None:
            client.ping()
        elif not found.connection.is_open:  # type: ignore[attr-defined]
            return "the queue's broker connection is closed"
    except Exception as exc:  # noqa: BLE001 - the answer is the error's kind, logged here
        log.warning("the queue's broker cannot be reached: %s", type(exc).__name__)
        return f"the queue's broker cannot be reached ({type(exc).__name__})"
    return "ok"


def queue_bulk_job(sessions: Callable[[], Session], ctx: ServiceContext, job_id: int,
                   rows: Sequence[CsvRow], *, actor: str | None = None,
                   notify: bool = True) -> object:
    """The web's way to start a confirmed job when workers run the jobs: the job and its
    options are stored with it (``rows``, ``actor`` and ``notify`` too), so this only wakes
    a worker."""
    if uses_broker(ctx.settings):
        return wake_bulk(ctx.settings, job_id)
    return False


__all__ = ["BULK_ACTOR", "broker", "declare", "queue_bulk_job", "ready", "uses_broker",
           "wake_bulk"]
