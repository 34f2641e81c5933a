"""Issuer private keys kept in the database, sealed with a key-encryption key (KEK).

Every node of a site reads the same rows, and a copy of the database (a backup, a replica, a
stolen dump) holds no usable key without the KEK, which only the environment of the nodes
has. Each key is sealed with AES-256-GCM (NIST SP 800-38D) under a fresh 96-bit nonce; the
associated data binds the ciphertext to its row's name (which starts with the issuer's short
name), so a row copied over another one does not open. Schema changes go through
migrations.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from issuer.storage.models import Base, UTCDateTime

__all__ = ["KeyMaterial", "Sealed", "kek_id", "open_sealed", "seal"]

#: SP 800-38D §8.2: a 96-bit nonce, random per sealing (a KEK seals few keys, far from the
#: 2^32 messages past which random nonces may repeat).
_NONCE_BYTES = 12
#: Bumped if the sealing ever changes, so an old row cannot be read as a new one.
_AAD_LABEL = b"issuer-key-material/v1\x00"
_KEK_ID_LABEL = b"issuer key-encryption key id"


class KeyMaterial(Base):
    """One sealed private key; ``name`` is what ``SigningKey.key_file`` names it by."""

    __tablename__ = "key_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    #: Which KEK sealed it (:func:`kek_id`): a wrong KEK is told apart from an altered row,
    #: and a KEK rotation knows what is left to re-encrypt.
    kek_id: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Sealed:
    kek_id: str
    nonce: bytes
    ciphertext: bytes


def kek_id(kek: bytes) -> str:
    """A short public name of ``kek``: an HMAC under the KEK itself, from which nothing about
    the KEK can be learnt (RFC 2104 §6), so it may be stored beside what it sealed."""
    return hmac.new(kek, _KEK_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _aad(name: str) -> bytes:
    return _AAD_LABEL + name.encode("utf-8")


def seal(kek: bytes, name: str, plaintext: bytes) -> Sealed:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return Sealed(kek_id(kek), nonce, AESGCM(kek).encrypt(nonce, plaintext, _aad(name)))


def open_sealed(kek: bytes, name: str, sealed: Sealed) -> bytes | None:
    """The plaintext, or None when the tag does not match (wrong KEK, altered or moved row)."""
    try:
        return AESGCM(kek).decrypt(sealed.nonce, sealed.ciphertext, _aad(name))
    except InvalidTag:
        return None
