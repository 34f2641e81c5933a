"""The half of the composition root that needs no web framework: settings → engine, key
store, contexts and schemas, for the web app and for the command line alike.

``create_app`` keeps one :class:`Runtime` in ``app.extensions["issuer"]``; a command that
only works on the database (``issuer issuers create``, ``issuer revoke`` …) builds one with
:func:`build_runtime` and does not pay for importing Flask and registering every page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from issuer.config import KEK_HINT, ConfigError, Settings
from issuer.services.context import ServiceContext
from issuer.storage.db import make_engine, session_factory
from issuer.storage.keystore import DatabaseKeyStore, KeyStore, SigningKeys


@dataclass
class Runtime:
    """Per-application resources: one engine (and its pool), sessions, the service context."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    services: ServiceContext


def key_store(settings: Settings, engine: Engine) -> SigningKeys:
    """The key store ``ISSUER_KEY_STORE`` names: files in ``keys_dir``, or the database's
    sealed rows, opened with ``ISSUER_KEY_ENCRYPTION_KEY``."""
    if settings.key_store == "database":
        kek = settings.kek
        if kek is None:
            raise ConfigError("ISSUER_KEY_STORE=database needs ISSUER_KEY_ENCRYPTION_KEY: "
                              + KEK_HINT)
        return DatabaseKeyStore(engine, kek)
    return KeyStore(settings.keys_dir, settings.passphrase)


def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(settings.database_url)
    keystore = key_store(settings, engine)
    return Runtime(settings=settings, engine=engine, sessions=session_factory(engine),
                   services=ServiceContext(settings=settings, keystore=keystore))
