"""What the commands share: reading their input, the key passphrase, the service they work
on, and the one unit of work in which a command writes to that service's database.

Nothing here imports SQLAlchemy, the storage, the web app or the settings (which load the
bundled JSON-LD contexts and schemas) at module level: ``issuer`` must start without them.
"""

from __future__ import annotations

import gc
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from issuer.cli.errors import Unreadable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from issuer.config import Settings
    from issuer.runtime import Runtime

#: The longest actor name an audit record keeps.
_ACTOR_MAX = 320


#: Whether this process is the ``issuer`` program (:func:`issuer.cli.run`), which ends with
#: its command, rather than a program that calls the commands in its own process.
PROGRAM = {"running": False}


@contextmanager
def collector_paused() -> Iterator[None]:
    """The block runs with the cyclic garbage collector paused, then it runs as before.

    For the imports of a short command (``issuer sign``, ``issuer verify``): loading the core
    creates tens of thousands of objects that live as long as the process (modules,
    classes, compiled patterns, the JSON Schema meta-schemas), none of them garbage, and the
    collector would walk them again and again while they are made. In the ``issuer``
    program they are then frozen (``gc.freeze``): otherwise the first collection after the
    block would walk them all at once. Only the imports are covered, so a command that then
    verifies a folder of thousands of files collects its own garbage as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if PROGRAM["running"]:
            gc.freeze()
        if was_enabled:
            gc.enable()


def passphrase(env_name: str | None) -> bytes | None:
    """The passphrase of a key file: from the variable the user named (``--passphrase-env``),
    else the ``key_passphrase`` setting (``ISSUER_KEY_PASSPHRASE``); None when it is empty."""
    if not env_name:
        from issuer.config import Settings

        return Settings.from_env(only=("key_passphrase",)).passphrase
    value = os.environ.get(env_name)
    return value.encode("utf-8") if value else None


def read_input_bytes(path: str) -> bytes:
    """The bytes of ``path``, or of standard input for ``-``; exit 2 when unreadable."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None


def decode_text(data: bytes, path: str) -> str:
    """``data`` as UTF-8 text (a byte order mark is dropped); exit 2 when it is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(f"{path} is not UTF-8 text") from None


def read_text(path: str) -> str:
    """The UTF-8 text of ``path`` (``-``: standard input); exit 2 when unreadable."""
    return decode_text(read_input_bytes(path), path)


def actor() -> str:
    """Who made a change from the terminal, for the audit trail: ``cli (login name)``."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        who = "unknown user"
    return f"cli ({who})"[:_ACTOR_MAX]


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database layer (SQLAlchemy or its driver)."""
    # Only a command that loaded SQLAlchemy can have failed in it; looking it up rather than
    # importing it keeps `sign` and `verify` from paying for the import.
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


def database_problem(exc: BaseException) -> str:
    """What an operator needs from a database error: its first line, not a traceback.

    The driver's message names the host, port and database, never the password.
    """
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]
    return (f"the database cannot be used: {first}. Is it reachable, and set up? "
            "Run: issuer init")


def service_settings() -> Settings:
    """The service's ``ISSUER_*`` settings.

    A wrong one raises ConfigError, which ends the command in one line with exit 2.
    """
    from issuer.config import Settings

    return Settings.from_env()


@contextmanager
def service_runtime(settings: Settings | None = None) -> Iterator[Runtime]:
    """The database, keys and service context, without the web app a command never serves.

    The pool's connections are closed when the block ends rather than at exit, since a
    command may run in-process (tests, ``CliRunner``).
    """
    from issuer.runtime import build_runtime

    rt = build_runtime(settings or service_settings())
    try:
        yield rt
    finally:
        rt.engine.dispose()


def migrate(rt: Runtime) -> None:
    """Create or upgrade the database schema through the migrations."""
    from issuer.storage.db import upgrade

    upgrade(rt.engine)


@contextmanager
def unit_of_work(rt: Runtime) -> Iterator[Session]:
    """The one transaction of a command that writes: all of its changes, or none.

    The block's changes are committed when it ends and rolled back when it raises. Use
    cases flush and never commit, so this is where every command's changes are written.
    """
    session = rt.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
