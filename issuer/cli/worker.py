"""``issuer worker``: run background work (bulk awards, mail retries) apart from the web
processes, until SIGTERM or SIGINT.

Exit codes follow :mod:`issuer.cli.errors`: 0 stopped, 2 a setting or a database that
cannot be used.
"""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType

import click

from issuer.cli.common import service_runtime, service_settings


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at once when a broker wakes the worker (ISSUER_QUEUE_URL).")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.1, 300),
              help="Seconds between looks in the database for work nobody holds.")
@click.option("--with-parent", type=int, default=None, hidden=True,
              help="Stop when the process with this id is gone (`issuer serve` starts the "
                   "embedded worker so).")
def worker(threads: int, poll: float, with_parent: int | None) -> None:
    """Run background work (bulk awards, mail retries) until stopped."""
    from issuer.jobs.logs import log_as_json
    from issuer.jobs.worker import Worker

    if not logging.getLogger().handlers:  # a program embedding the command keeps its own
        log_as_json()
    settings = service_settings()
    with service_runtime(settings) as rt:
        loop = Worker(rt.sessions, rt.services, poll_seconds=poll, threads=threads)

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            loop.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

        def alive() -> bool:
            return with_parent is None or os.getppid() == with_parent

        loop.run(alive=alive)
