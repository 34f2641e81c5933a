"""The key store settings: the file store by default, the database store only with a
key-encryption key that is 32 bytes of base64url, and that key never shown."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from issuer.config import ConfigError, Settings, kek_from
from issuer.runtime import key_store
from issuer.storage.keystore import DatabaseKeyStore, KeyStore

KEK_TEXT = secrets.token_urlsafe(32)


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"ISSUER_INSTANCE_DIR": str(tmp_path), "ISSUER_SECRET_KEY": "k",
            **{f"ISSUER_{name.upper()}": value for name, value in values.items()}}


def test_the_file_store_stays_the_default(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.key_store == "files" and settings.kek is None
    engine = create_engine("sqlite://")
    assert isinstance(key_store(settings, engine), KeyStore)


def test_the_database_store_takes_a_base64url_kek(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, key_store="database",
                                     key_encryption_key=KEK_TEXT))
    assert settings.kek == base64.urlsafe_b64decode(KEK_TEXT + "=")
    assert KEK_TEXT not in repr(settings)
    store = key_store(settings, create_engine("sqlite://"))
    assert isinstance(store, DatabaseKeyStore)
    assert repr(store) == "<DatabaseKeyStore>"
    # Padded base64url is the same key.
    padded = Settings.from_env(env(tmp_path, key_store="database",
                                   key_encryption_key=KEK_TEXT + "="))
    assert padded.kek == settings.kek


@pytest.mark.parametrize("kek", [None, "", "c2hvcnQ", "not base64 at all, not at all!!!!!!!!!!!!!!",
                                 # 31 and 33 bytes: fixed, so every test worker collects
                                 # the same test ids.
                                 "A" * 42, "A" * 44])
def test_the_database_store_refuses_to_start_without_a_32_byte_kek(
        tmp_path: Path, kek: str | None) -> None:
    values = {"key_store": "database"}
    if kek is not None:
        values["key_encryption_key"] = kek
    with pytest.raises(ConfigError, match="ISSUER_KEY_ENCRYPTION_KEY") as err:
        Settings.from_env(env(tmp_path, **values))
    assert "32 random bytes in base64url" in err.value.message
    if kek:
        assert kek not in err.value.message


def test_an_unknown_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ISSUER_KEY_STORE must be files or database"):
        Settings.from_env(env(tmp_path, key_store="vault"))


def test_a_bad_kek_is_refused_even_with_the_file_store(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ISSUER_KEY_ENCRYPTION_KEY must be"):
        Settings.from_env(env(tmp_path, key_encryption_key="short"))


def test_the_previous_kek_comes_from_the_named_variable() -> None:
    assert kek_from("OLD_KEK", {"OLD_KEK": KEK_TEXT}) == base64.urlsafe_b64decode(
        KEK_TEXT + "=")
    with pytest.raises(ConfigError, match="OLD_KEK is not set"):
        kek_from("OLD_KEK", {})
    with pytest.raises(ConfigError, match="OLD_KEK must be") as err:
        kek_from("OLD_KEK", {"OLD_KEK": "tooshort"})
    assert "tooshort" not in err.value.message
