"""This installation, for ``issuer verify`` run where the service runs.

An operator who has just run ``issuer revoke`` expects the next ``issuer verify`` to say
"revoked", and a badge this service issued to verify with no ``--trust``. Where a service is
set up (``ISSUER_DATABASE_URL``, ``ISSUER_BASE_URL``), ``issuer verify`` therefore uses the
verifier of the service's own verify page (:func:`issuer.services.verification.make_verifier`):
its issuers' DID documents and records, its status lists read from its database, and, unless
offline, other sites' did:web documents and status lists through the guarded fetcher.

Verifying must not change anything: a database that does not exist or is not set up is
simply not used (no SQLite file is created), and no development secret is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from issuer.config import Settings
    from issuer.core.verify import Verifier


def _settings() -> Settings | None:
    from issuer.config import ConfigError, Settings

    try:
        # Only sessions use the secret: verifying must not write a development one.
        return Settings.from_env(dev_secret=False)
    except ConfigError:
        return None


#: A plain SQLite URL (``sqlite:///relative.db``, ``sqlite:////absolute.db``): its file is
#: the path after the third slash. Anything else is parsed by SQLAlchemy.
_PLAIN_SQLITE = re.compile(r"sqlite(?:\+\w+)?:///(?P<database>[^?%#]*)(?:\?[^%#]*)?")


def _sqlite_file_missing(url: str) -> bool:
    plain = _PLAIN_SQLITE.fullmatch(url)
    if plain is not None:
        # Most runs of `issuer verify` have no service here: say so without loading SQLAlchemy.
        database = plain["database"]
        return not database or database == ":memory:" or not Path(database).is_file()
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    return not database or database == ":memory:" or not Path(database).is_file()


@contextmanager
def installation_verifier(trusted: Sequence[Mapping[str, Any]] = (), *,
                          offline: bool = False) -> Iterator[Verifier | None]:
    """The service's verifier with ``trusted`` documents pinned, or None when there is no
    usable database here. ``offline`` fetches nothing, whatever the settings say; the
    session is read-only and closed when the block ends."""
    settings = _settings()
    if settings is None or _sqlite_file_missing(settings.database_url):
        yield None
        return
    from sqlalchemy.exc import SQLAlchemyError

    from issuer.services.context import ServiceContext
    from issuer.services.verification import make_verifier
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
            if offline:
                settings = replace(settings, verify_offline=True)
            ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
            yield make_verifier(session, ctx, trusted)
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()
