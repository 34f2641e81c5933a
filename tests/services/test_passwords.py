"""Staff passwords: scrypt with production's parameters as they always were, a hasher that
the service context builds from the settings when first used, and cheap hashes in tests."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer import config
from issuer.config import Settings
from issuer.services.context import ServiceContext
from issuer.services.passwords import PasswordHasher
from issuer.services.users import authenticate
from issuer.storage.keystore import KeyStore
from issuer.storage.models import User
from tests.conftest import PASSWORD, TEST_PASSWORD_HASHING, World

#: Stored by this service before the hasher was a setting (werkzeug's default method then).
EARLIER_HASH = (
    "scrypt:32768:8:1$PXxDRQfEMz6rrnkv$2c45eec2e35733704887807603b9a4eb7c6f06589bc61ed9bfd171ef"
    "d814f77ef622f3952d6a1a5c7fa80e5b7e0eb804a5e66392427002b426051c9f3e6d3f11")


@pytest.fixture()
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int]]:
    """(N, r, p) of every scrypt run, each still run for real."""
    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def counted(password: bytes, **options: Any) -> bytes:
        calls.append((options["n"], options["r"], options["p"]))
        return real(password, **options)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


def test_production_hashes_with_the_same_scrypt_parameters_and_format_as_before(
        tmp_path: Path) -> None:
    assert config.PASSWORD_HASHING == "scrypt:32768:8:1"
    settings = Settings.from_env({"ISSUER_SECRET_KEY": "k", "ISSUER_INSTANCE_DIR": str(tmp_path)})
    ctx = ServiceContext(settings=settings, keystore=KeyStore(tmp_path))
    assert ctx.passwords == PasswordHasher() == PasswordHasher("scrypt:32768:8:1")
    stored = ctx.passwords.hash(PASSWORD)
    match = re.fullmatch(r"scrypt:32768:8:1\$([A-Za-z0-9]{16})\$([0-9a-f]{128})", stored)
    assert match, stored
    salt, digest = match.groups()
    # RFC 7914 scrypt of the password and the salt's characters, 64 bytes in hex.
    assert hashlib.scrypt(PASSWORD.encode(), salt=salt.encode(), n=32768, r=8, p=1,
                          maxmem=64 * 1024 * 1024).hex() == digest
    assert ctx.passwords.verify(stored, PASSWORD)
    assert not ctx.passwords.verify(stored, PASSWORD + " ")


@pytest.mark.parametrize("method", [config.PASSWORD_HASHING, TEST_PASSWORD_HASHING])
def test_hashes_stored_earlier_still_verify_whatever_the_parameters(method: str) -> None:
    hasher = PasswordHasher(method)
    assert hasher.verify(EARLIER_HASH, PASSWORD)
    assert not hasher.verify(EARLIER_HASH, PASSWORD.upper())


def test_the_hasher_is_made_when_first_used_and_hashes_nothing_until_then(
        tmp_path: Path) -> None:
    code = (
        "import hashlib, sys\n"
        "calls = []\n"
        "real = hashlib.scrypt\n"
        "hashlib.scrypt = lambda *a, **k: calls.append(k) or real(*a, **k)\n"
        "from pathlib import Path\n"
        "import issuer.app, issuer.services.users, issuer.services.demo\n"
        "from issuer.config import Settings\n"
        "from issuer.services.context import ServiceContext\n"
        "from issuer.storage.keystore import KeyStore\n"
        f"ctx = ServiceContext(settings=Settings(), keystore=KeyStore(Path({str(tmp_path)!r})))\n"
        "made = 'passwords' in vars(ctx)\n"
        "ctx.passwords\n"
        "print(len(calls), made, 'passwords' in vars(ctx))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["0", "False", "True"]


def test_an_unknown_email_costs_one_hash_of_the_configured_parameters(
        scrypt_calls: list[tuple[int, int, int]]) -> None:
    """So a refusal takes as long whether or not the account exists."""
    hasher = PasswordHasher()
    hasher.refuse("a guess")
    assert scrypt_calls == [(32768, 8, 1)] * 2  # the stand-in hash is made once, then checked
    hasher.refuse("another guess")
    assert scrypt_calls == [(32768, 8, 1)] * 3


def test_the_test_fixtures_hash_with_tiny_parameters(
        session: Session, ctx: ServiceContext, world: World,
        scrypt_calls: list[tuple[int, int, int]]) -> None:
    assert ctx.settings.password_hashing == TEST_PASSWORD_HASHING == "scrypt:128:1:1"
    stored = session.scalars(select(User.password_hash)).all()
    assert len(stored) == 2 and all(value.startswith("scrypt:128:1:1$") for value in stored)
    assert authenticate(session, ctx, world.staff_email, PASSWORD) is not None
    assert authenticate(session, ctx, world.staff_email, "wrong password") is None
    assert authenticate(session, ctx, "nobody@guild.test", PASSWORD) is None
    # One hash each, and the unknown email's stand-in made on the way: all as cheap.
    assert scrypt_calls == [(128, 1, 1)] * 4
