"""Status lists of this installation, for ``issuer verify`` run where the service runs.

An operator who has just run ``issuer revoke`` expects the next ``issuer verify`` to say
"revoked". The service's own lists are read from its database, as its verify page reads them
(:class:`issuer.services.status_lists.LocalStatusChecker`); lists hosted elsewhere still need
a pinned copy (``--status-list``) and are otherwise "could not check", never "not revoked".

Verifying must not change anything: a database that does not exist or is not set up is
simply not used (no SQLite file is created), and no development secret is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from issuer.core.verify import STATUS_NOT_AVAILABLE, Outcome, StatusResult

StatusChecker = Callable[[Mapping[str, Any], Mapping[str, Any]], StatusResult]


def _settings() -> Any | None:
    from issuer.config import ConfigError, Settings

    try:
        # Only sessions use the secret: verifying must not write a development one.
        return Settings.from_env(dev_secret=False)
    except ConfigError:
        return None


def _sqlite_file_missing(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    return not database or database == ":memory:" or not Path(database).is_file()


@contextmanager
def local_status_checker() -> Iterator[Any | None]:
    """The checker for this installation's lists, or None when there is no usable database.

    The checker answers for lists under this installation's ``ISSUER_BASE_URL`` only
    (``hosts(url)``); the session is read-only and closed when the block ends.
    """
    settings = _settings()
    if settings is None or _sqlite_file_missing(settings.database_url):
        yield None
        return
    from sqlalchemy.exc import SQLAlchemyError

    from issuer.services.context import ServiceContext
    from issuer.services.status_lists import LocalStatusChecker
    from issuer.storage.db import is_initialised, make_engine, session_factory
    from issuer.storage.keystore import KeyStore

    engine = make_engine(settings.database_url)
    try:
        try:
            ready = is_initialised(engine)
        except SQLAlchemyError:
            ready = False
        if not ready:
            yield None
            return
        session = session_factory(engine)()
        try:
            ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
            yield LocalStatusChecker(session, ctx)
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()


def combined(local: Any | None, pinned: StatusChecker | None,
             pinned_ids: frozenset[str] = frozenset()) -> StatusChecker | None:
    """One checker: a pinned copy of a list wins, then this installation's own lists.

    A list that is neither pinned nor hosted here is "could not check", as it is with no
    database at all, so what a verification says of other sites' credentials does not depend
    on whether a service happens to be set up where it runs.
    """
    if local is None:
        return pinned

    def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> StatusResult:
        url = entry.get("statusListCredential")
        if isinstance(url, str) and url not in pinned_ids and local.hosts(url):
            return local(entry, credential)  # type: ignore[no-any-return]
        if pinned is not None:
            return pinned(entry, credential)
        return StatusResult(Outcome.WARNING, STATUS_NOT_AVAILABLE)

    return check
