"""Whether this node can serve: the checks behind ``GET /readyz``.

Each check answers in words an operator can act on and never includes a secret (no
database URL, no key file path, no passphrase): the answer is public, for load balancers.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from issuer.services.context import ServiceContext
from issuer.storage.db import alembic_config
from issuer.storage.keystore import WrongKeyEncryptionKey
from issuer.storage.models import SigningKey

__all__ = ["OK", "database", "schema", "signing_keys"]

OK = "ok"
#: Keys loaded per check at most: enough to catch a missing key folder or a wrong
#: passphrase without reading every issuer's key on every probe.
KEYS_CHECKED = 20


def database(session: Session) -> str:
    session.execute(text("SELECT 1"))
    return OK


def schema(engine: Engine) -> str:
    """The database's migration is the newest this code knows (``issuer init`` upgrades)."""
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return OK
    if not current:
        return "the database has no schema yet: run issuer init"
    return (f"the database schema is at {', '.join(sorted(current))}, not "
            f"{', '.join(sorted(heads))}: run issuer init")


def signing_keys(session: Session, ctx: ServiceContext) -> str:
    """The private halves of the active signing keys can be read (key folder mounted, the
    passphrase right, the database store's key-encryption key the one that sealed them).

    The reason given is a kind, not the error's text: that names keys and files."""
    keys = session.scalars(select(SigningKey).where(SigningKey.active.is_(True))
                           .order_by(SigningKey.id).limit(KEYS_CHECKED)).all()
    broken = wrong_kek = 0
    for key in keys:
        try:
            ctx.keystore.load(key.key_file)
        except WrongKeyEncryptionKey:
            broken += 1
            wrong_kek += 1
        except Exception:  # noqa: BLE001 - any reason is "cannot be loaded"; it is counted
            broken += 1
    if broken:
        because = (": they were sealed with another key-encryption key than "
                   "ISSUER_KEY_ENCRYPTION_KEY" if wrong_kek == broken else "")
        return f"{broken} of {len(keys)} active signing keys cannot be loaded{because}"
    return OK
