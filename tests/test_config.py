"""Settings: every one a field of ``Settings``, read and checked once, then passed on."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from issuer import config
from issuer.config import CORE_SETTINGS, PASSPHRASE_ENV, ConfigError, Settings
from issuer.core.bundled import SCHEMAS_DIR
from issuer.core.canon import DEFAULT_BUDGET
from issuer.core.errors import ContextError
from issuer.core.keys import load_private_key
from issuer.runtime import build_runtime
from issuer.services.context import ServiceContext
from issuer.storage.keystore import KeyStore


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    """A whole service's environment, with a secret so that nothing is written."""
    return {"ISSUER_SECRET_KEY": "k", "ISSUER_INSTANCE_DIR": str(tmp_path), **values}


def test_every_setting_is_read_from_its_variable(tmp_path: Path) -> None:
    settings = Settings.from_env(_env(
        tmp_path, ISSUER_SCHEMAS_DIR=str(tmp_path / "schemas"), ISSUER_CANON_MAX_SECONDS="2.5",
        ISSUER_KEY_PASSPHRASE="open sesame", ISSUER_PASSWORD_HASHING="scrypt:65536:8:1"))
    assert settings.schemas_dir == tmp_path / "schemas"
    assert settings.canon_max_seconds == 2.5
    assert settings.key_passphrase == "open sesame" and settings.passphrase == b"open sesame"
    assert "open sesame" not in repr(settings)
    assert settings.password_hashing == "scrypt:65536:8:1"
    assert Settings.from_env({PASSPHRASE_ENV: "x"}, only=["key_passphrase"]).passphrase == b"x"


def test_the_defaults_are_the_bundled_files_and_the_core_limits(tmp_path: Path) -> None:
    settings = Settings.from_env(_env(tmp_path, ISSUER_KEY_PASSPHRASE=""))
    assert settings.schemas_dir == SCHEMAS_DIR
    assert settings.canon_max_seconds == DEFAULT_BUDGET.max_seconds == 1.0
    assert settings.key_passphrase is None and settings.passphrase is None
    assert settings.password_hashing == config.PASSWORD_HASHING


@pytest.mark.parametrize(("value", "words"), [
    ("soon", "ISSUER_CANON_MAX_SECONDS must be a positive number: could not convert"),
    ("0", "ISSUER_CANON_MAX_SECONDS must be a positive number: every WorkBudget limit"),
    ("-1", "ISSUER_CANON_MAX_SECONDS must be a positive number"),
])
def test_a_time_limit_that_is_not_a_positive_number_is_refused(
        tmp_path: Path, value: str, words: str) -> None:
    env = _env(tmp_path, ISSUER_CANON_MAX_SECONDS=value)
    for only in (None, CORE_SETTINGS):
        with pytest.raises(ConfigError, match=words):
            Settings.from_env(env, only=only)
    if value != "soon":  # settings made in code are checked the same way
        with pytest.raises(ConfigError, match=words):
            Settings(canon_max_seconds=float(value), secret_key="k").validated()


@pytest.mark.parametrize(("value", "words"), [
    ("pbkdf2:sha256:600000", "must be scrypt:N:r:p"),
    ("scrypt", "must be scrypt:N:r:p"),
    ("scrypt:1000:8:1", "N a power of 2"),
    ("scrypt:131072:1:1", "N a power of 2"),
    ("scrypt:32768:0:1", "r and p must be at least 1"),
    ("scrypt:64:1:1", "N is too small"),
    ("scrypt:1048576:16:1", "more than 2 GiB"),
])
def test_password_hashing_that_scrypt_cannot_do_is_refused(
        tmp_path: Path, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=f"ISSUER_PASSWORD_HASHING.*{words}"):
        Settings.from_env(_env(tmp_path, ISSUER_PASSWORD_HASHING=value))


def test_core_commands_read_only_the_core_settings(tmp_path: Path) -> None:
    """``issuer sign`` and ``verify`` work where no service is set up, whatever its settings."""
    env = {"ISSUER_SCHEMAS_DIR": str(tmp_path / "schemas"), "ISSUER_SMTP_PORT": "not a port",
           "ISSUER_BASE_URL": "ftp://nowhere", "ISSUER_INSTANCE_DIR": str(tmp_path / "inst")}
    settings = Settings.from_env(env, only=CORE_SETTINGS)
    assert settings.schemas_dir == tmp_path / "schemas"
    assert (settings.smtp_port, settings.base_url) == (25, "http://127.0.0.1:5000")
    assert settings.secret_key == "" and not (tmp_path / "inst").exists()
    with pytest.raises(ConfigError, match="ISSUER_SMTP_PORT must be a whole number"):
        Settings.from_env(env)


def test_a_command_that_only_reads_writes_no_secret(tmp_path: Path) -> None:
    settings = Settings.from_env({"ISSUER_INSTANCE_DIR": str(tmp_path)}, dev_secret=False)
    assert settings.secret_key == "" and list(tmp_path.iterdir()) == []
    made = Settings.from_env({"ISSUER_INSTANCE_DIR": str(tmp_path)})
    assert made.secret_key and (tmp_path / "secret_key").read_text() == made.secret_key


def test_the_core_objects_are_built_from_the_settings_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the environment says is not read again once settings are passed in.
    monkeypatch.setenv("ISSUER_CANON_MAX_SECONDS", "9")
    monkeypatch.setenv("ISSUER_SCHEMAS_DIR", str(tmp_path / "elsewhere"))
    settings = Settings(canon_max_seconds=2.5)
    assert config.work_budget(settings).max_seconds == 2.5
    assert config.context_loader(settings) is config.context_loader(Settings())
    ctx = ServiceContext(settings=settings, keystore=KeyStore(tmp_path))
    assert ctx.budget.max_seconds == 2.5
    assert ctx.loader is config.context_loader(settings)
    assert ctx.schemas is config.schema_registry(settings)
    with pytest.raises(ContextError, match="cannot read the context index"):
        config.context_loader(Settings(schemas_dir=tmp_path / "missing"))


def test_without_settings_the_core_settings_come_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUER_CANON_MAX_SECONDS", "3")
    assert config.work_budget().max_seconds == 3.0
    monkeypatch.setenv("ISSUER_SCHEMAS_DIR", str(tmp_path / "missing"))
    with pytest.raises(ContextError, match="cannot read the context index"):
        config.context_loader()
    monkeypatch.delenv("ISSUER_SCHEMAS_DIR")
    monkeypatch.delenv("ISSUER_CANON_MAX_SECONDS")
    assert config.work_budget() == DEFAULT_BUDGET


def test_the_key_store_takes_the_passphrase_of_the_settings(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'issuer.db'}",
                        keys_dir=tmp_path / "keys", secret_key="k",
                        key_passphrase="open sesame").validated()
    rt = build_runtime(settings)
    try:
        _, name = rt.services.keystore.create("guild", "key-1")
    finally:
        rt.engine.dispose()
    path = settings.keys_dir / name
    assert b"ENCRYPTED" in path.read_bytes()
    assert load_private_key(path, b"open sesame") is not None


def test_each_field_is_named_by_one_variable() -> None:
    names = [f"ISSUER_{f.name.upper()}" for f in fields(Settings)]
    assert PASSPHRASE_ENV in names
    assert len(set(names)) == len(names)
