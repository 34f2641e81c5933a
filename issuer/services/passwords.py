"""Hashing staff passwords: scrypt (RFC 7914) in werkzeug's stored format.

A stored hash is ``scrypt:N:r:p$salt$hex`` and names its own parameters, so any hash verifies
whatever the hasher's; the hasher's parameters (``Settings.password_hashing``) decide how new
passwords are hashed and how long a refusal for an unknown account takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from werkzeug.security import check_password_hash, generate_password_hash

from issuer.config import PASSWORD_HASHING, scrypt_parameters

#: OWASP ASVS 4.0 V2.4.2 asks for a salt of at least 32 bits; 16 characters of [A-Za-z0-9]
#: (werkzeug's default, pinned here with the format) give 95.
SALT_LENGTH = 16


@dataclass(frozen=True)
class PasswordHasher:
    """Hashes new passwords with ``method`` and checks stored hashes of any method."""

    method: str = PASSWORD_HASHING

    def __post_init__(self) -> None:
        scrypt_parameters(self.method)  # a ConfigError names the setting

    def hash(self, password: str) -> str:
        return generate_password_hash(password, method=self.method, salt_length=SALT_LENGTH)

    def verify(self, stored: str, password: str) -> bool:
        return check_password_hash(stored, password)

    @cached_property
    def _unknown_account(self) -> str:
        # Made on the first refusal, not at start-up: most processes never need it.
        return self.hash("not a real password")

    def refuse(self, password: str) -> None:
        """Take as long as :meth:`verify` would, for an account that does not exist: a failed
        sign-in must not tell whether the email is known, by its answer or by its time (OWASP
        Authentication Cheat Sheet, "Authentication and Error Messages")."""
        self.verify(self._unknown_account, password)
