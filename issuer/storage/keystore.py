"""Where issuers' private keys are kept (see keys/README.md).

:class:`KeyStore` keeps them as PEM files in ``ISSUER_KEYS_DIR`` (mode 0600), for a site on
one machine; :class:`DatabaseKeyStore` keeps them in the database sealed with a
key-encryption key (:mod:`issuer.storage.key_material`), for a site on several nodes. Both
answer ``create`` and ``load`` alike, so the use cases never know which one they have, and
both keep the keys they have read in this process.
"""

from __future__ import annotations

import re
import secrets
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event, insert, select
from sqlalchemy.orm import Mapper, Session

from issuer.core.errors import EXIT_UNREADABLE, KeyFormatError
from issuer.core.keys import PrivateKey, load_private_key, save_private_key
from issuer.storage.key_material import KeyMaterial, Sealed, kek_id, open_sealed, seal
from issuer.storage.models import SigningKey

__all__ = ["DatabaseKeyStore", "KeyStore", "KeyStoreError", "Moved", "SigningKeys",
           "WrongKeyEncryptionKey", "move_to_database"]

_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class KeyStoreError(KeyFormatError):
    """A stored key that cannot be used: the operator's to fix, not the client's."""

    http_status = 500
    exit_code = EXIT_UNREADABLE


class WrongKeyEncryptionKey(KeyStoreError):
    """The key was sealed with another key-encryption key than the one configured."""


class SigningKeys(Protocol):
    """What the use cases ask of a key store."""

    def create(self, issuer_slug: str, fragment: str,
               key_type: str = "Ed25519") -> tuple[PrivateKey, str]: ...

    def load(self, name: str) -> PrivateKey: ...


def _new_name(issuer_slug: str, fragment: str, suffix: str) -> str:
    if not (_SAFE.match(issuer_slug) and _SAFE.match(fragment)):
        raise KeyFormatError("issuer slugs and key names may use a-z, 0-9 and '-' only")
    # A random part: a transaction that rolls back leaves its key behind (a file), and the
    # next attempt must not collide with it.
    return f"{issuer_slug}/{fragment}-{secrets.token_hex(4)}{suffix}"


class _Cache:
    def __init__(self) -> None:
        self._keys: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> PrivateKey | None:
        with self._lock:
            return self._keys.get(name)

    def put(self, name: str, key: PrivateKey) -> PrivateKey:
        with self._lock:
            self._keys[name] = key
        return key


class KeyStore:
    """Creates and loads issuer keys as files; private keys never leave this object but to
    sign."""

    def __init__(self, directory: Path, passphrase: bytes | None = None) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._cache = _Cache()

    def __repr__(self) -> str:
        return f"<KeyStore {self.directory}>"

    def create(self, issuer_slug: str, fragment: str, key_type: str = "Ed25519") -> tuple[
        PrivateKey, str
    ]:
        """Generate a key for ``issuer_slug`` and return it with its file name."""
        name = _new_name(issuer_slug, fragment, ".pem")
        key = PrivateKey.generate(key_type)
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        save_private_key(path, key, self._passphrase)
        return self._cache.put(name, key), name

    def load(self, name: str) -> PrivateKey:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        path = (self.directory / name).resolve()
        if not path.is_relative_to(self.directory.resolve()):
            raise KeyFormatError("a key file must be inside the key store")
        return self._cache.put(name, load_private_key(path, self._passphrase))


#: The database key stores of this process, for the flush hook below.
_STORES: weakref.WeakSet[DatabaseKeyStore] = weakref.WeakSet()


class DatabaseKeyStore:
    """Creates and loads issuer keys as sealed rows of ``key_material``.

    A new key's row is written in the same transaction as the ``signing_keys`` row that
    names it (when that row is inserted, see :func:`_write_sealed`): both are kept, or
    neither. Reading uses a connection of its own, so it works outside any unit of work
    (a key once read is kept in this process).
    """

    def __init__(self, engine: Engine, kek: bytes) -> None:
        self.engine = engine
        self._kek = kek
        self._cache = _Cache()
        self._pending: dict[str, Sealed] = {}
        self._lock = threading.Lock()
        _STORES.add(self)

    def __repr__(self) -> str:
        return "<DatabaseKeyStore>"

    def create(self, issuer_slug: str, fragment: str, key_type: str = "Ed25519") -> tuple[
        PrivateKey, str
    ]:
        """Generate a key for ``issuer_slug``; it is stored once its ``SigningKey`` row is."""
        name = _new_name(issuer_slug, fragment, "")
        key = PrivateKey.generate(key_type)
        with self._lock:
            self._pending[name] = self.seal(name, key)
        return self._cache.put(name, key), name

    def load(self, name: str) -> PrivateKey:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        with self.engine.connect() as connection:
            row = connection.execute(
                select(KeyMaterial.kek_id, KeyMaterial.nonce, KeyMaterial.ciphertext)
                .where(KeyMaterial.name == name)).one_or_none()
        if row is None:
            raise KeyStoreError(f"the key {name!r} is not in the database key store; move key "
                                "files there with: issuer keys export-to-database")
        return self._cache.put(name, self.open(name, Sealed(*row)))

    # --- sealing ----------------------------------------------------------------------

    def seal(self, name: str, key: PrivateKey) -> Sealed:
        return seal(self._kek, name, key.to_pem())

    def open(self, name: str, sealed: Sealed) -> PrivateKey:
        """The key in ``sealed``; :class:`KeyStoreError` in words that name no secret."""
        return _open(self._kek, name, sealed)

    def row(self, name: str, key: PrivateKey) -> dict[str, Any]:
        """The values of a ``key_material`` row holding ``key`` under ``name``."""
        return _values(name, self.seal(name, key))

    def _claim(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            sealed = self._pending.pop(name, None)
        return None if sealed is None else _values(name, sealed)

    # --- a new key-encryption key -------------------------------------------------------

    def rewrap(self, session: Session, old_kek: bytes) -> tuple[int, int]:
        """Seal every key sealed with ``old_kek`` with this store's KEK instead, in the
        caller's transaction. Returns (re-sealed, already sealed with this KEK).

        Nothing is changed when a row opens with neither KEK (:class:`KeyStoreError`).
        """
        old_id = kek_id(old_kek)
        done = already = 0
        for material in session.scalars(select(KeyMaterial).order_by(KeyMaterial.id)):
            if material.kek_id == kek_id(self._kek):
                self.open(material.name, _sealed(material))  # an altered row is refused
                already += 1
                continue
            if material.kek_id != old_id:
                raise WrongKeyEncryptionKey(
                    f"the key {material.name!r} was sealed with neither the old nor the new "
                    "key-encryption key; nothing was changed")
            fresh = self.seal(material.name, _open(old_kek, material.name, _sealed(material)))
            material.kek_id, material.nonce, material.ciphertext = (
                fresh.kek_id, fresh.nonce, fresh.ciphertext)
            done += 1
        session.flush()
        return done, already


def _sealed(material: KeyMaterial) -> Sealed:
    return Sealed(material.kek_id, material.nonce, material.ciphertext)


def _values(name: str, sealed: Sealed) -> dict[str, Any]:
    return {"name": name, "kek_id": sealed.kek_id, "nonce": sealed.nonce,
            "ciphertext": sealed.ciphertext, "created_at": datetime.now(UTC)}


def _open(kek: bytes, name: str, sealed: Sealed) -> PrivateKey:
    if sealed.kek_id != kek_id(kek):
        raise WrongKeyEncryptionKey(
            f"the key {name!r} was sealed with another key-encryption key than the one "
            "configured (ISSUER_KEY_ENCRYPTION_KEY); after changing it, run: issuer keys "
            "rewrap")
    plaintext = open_sealed(kek, name, sealed)
    if plaintext is None:
        raise KeyStoreError(f"the stored key {name!r} does not open: its row was altered or "
                            "copied from another key")
    return PrivateKey.from_pem(plaintext)


@event.listens_for(SigningKey, "after_insert")
def _write_sealed(_mapper: Mapper[Any], connection: Connection, target: SigningKey) -> None:
    """Store a new key's sealed row on the connection that inserts its ``SigningKey`` row:
    the two share one transaction (SQLAlchemy allows SQL on this connection in mapper
    flush events), and a second connection could not write to SQLite meanwhile."""
    for store in list(_STORES):
        row = store._claim(target.key_file)
        if row is not None:
            connection.execute(insert(KeyMaterial), [row])
            return


@dataclass(frozen=True)
class Moved:
    """What :func:`move_to_database` did, by key name."""

    moved: tuple[str, ...]
    already: tuple[str, ...]
    missing: tuple[str, ...]


def move_to_database(session: Session, files: KeyStore, database: DatabaseKeyStore,
                     names: Iterable[tuple[str, bool]] | None = None) -> Moved:
    """Copy every issuer key file into the database store, in the caller's transaction.

    A key already there is left as it is (running this again changes nothing). The file of
    a retired key that is gone is reported, not fatal: it can sign nothing any more. The
    file of an active key that cannot be read is (:class:`KeyStoreError`).
    """
    if names is None:
        names = session.execute(select(SigningKey.key_file, SigningKey.active)
                                .order_by(SigningKey.id)).all()
    stored = set(session.scalars(select(KeyMaterial.name)))
    moved: list[str] = []
    already: list[str] = []
    missing: list[str] = []
    for name, active in names:
        if name in stored:
            already.append(name)
            continue
        try:
            key = files.load(name)
        except KeyFormatError as exc:
            if active or (files.directory / name).exists():
                raise KeyStoreError(f"the key file {name!r} cannot be read: {exc.message}; "
                                    "nothing was moved") from None
            missing.append(name)
            continue
        session.add(KeyMaterial(**database.row(name, key)))
        stored.add(name)
        moved.append(name)
    session.flush()
    return Moved(tuple(moved), tuple(already), tuple(missing))
