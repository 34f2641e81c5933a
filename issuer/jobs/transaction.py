"""The one place background work commits: each step of a runner is a unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def unit_of_work(sessions: Callable[[], Session]) -> Iterator[Session]:
    """A session of its own for one step: committed when the block ends, rolled back when it
    raises, closed either way.

    A step is what must be stored at once for the runner to go on: a batch of credentials
    with the job's counters, a claim on messages before they are sent. Short steps keep
    locks short, and a crash keeps every step that finished.
    """
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
