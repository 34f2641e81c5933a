"""Issuer private keys as PEM files in ``ISSUER_KEYS_DIR`` (mode 0600, see keys/README.md)."""

from __future__ import annotations

import re
import secrets
import threading
from pathlib import Path

from issuer.core.errors import KeyFormatError
from issuer.core.keys import PrivateKey, load_private_key, save_private_key

_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class KeyStore:
    """Creates and loads issuer keys; private keys never leave this object but to sign."""

    def __init__(self, directory: Path, passphrase: bytes | None = None) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._cache: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<KeyStore {self.directory}>"

    def create(self, issuer_slug: str, fragment: str, key_type: str = "Ed25519") -> tuple[
        PrivateKey, str
    ]:
        """Generate a key for ``issuer_slug`` and return it with its file name."""
        if not (_SAFE.match(issuer_slug) and _SAFE.match(fragment)):
            raise KeyFormatError("issuer slugs and key names may use a-z, 0-9 and '-' only")
        key = PrivateKey.generate(key_type)
        # A random suffix: a transaction that rolls back leaves its file behind, and the
        # next attempt must not collide with it.
        name = f"{issuer_slug}/{fragment}-{secrets.token_hex(4)}.pem"
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        save_private_key(path, key, self._passphrase)
        with self._lock:
            self._cache[name] = key
        return key, name

    def load(self, name: str) -> PrivateKey:
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached
        path = (self.directory / name).resolve()
        if not path.is_relative_to(self.directory.resolve()):
            raise KeyFormatError("a key file must be inside the key store")
        key = load_private_key(path, self._passphrase)
        with self._lock:
            self._cache[name] = key
        return key
