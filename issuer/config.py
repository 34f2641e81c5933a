"""Settings from ``ISSUER_*`` environment variables, and the core objects built from them.

The core takes every path and resource as an argument; this module is where the defaults are
decided, so the CLI and the web app build the same objects the same way.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from issuer.core.bundled import SCHEMAS_DIR
from issuer.core.canon.rdfc import WorkBudget
from issuer.core.errors import InputError
from issuer.core.jsonld import ContextLoader
from issuer.core.schema import SchemaRegistry

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
#: A mail server limits the connections one client may hold; past a few, more gain nothing.
MAX_SMTP_CONNECTIONS = 16


#: Where the passphrase of encrypted key files comes from (the service and the CLI alike).
PASSPHRASE_ENV = "ISSUER_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret

#: The databases this service runs on (SQLite by default, PostgreSQL in production).
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


class ConfigError(InputError):
    """A setting that cannot be used; the message names the variable."""


def schemas_dir() -> Path:
    """The folder of pinned JSON Schemas and contexts (``ISSUER_SCHEMAS_DIR`` overrides)."""
    return Path(os.environ.get("ISSUER_SCHEMAS_DIR", SCHEMAS_DIR))


@lru_cache(maxsize=4)
def _loader(path: str) -> ContextLoader:
    return ContextLoader.from_directory(path)


@lru_cache(maxsize=4)
def _schemas(path: str) -> SchemaRegistry:
    return SchemaRegistry.from_directory(path)


def context_loader() -> ContextLoader:
    return _loader(str(schemas_dir() / "contexts"))


def schema_registry() -> SchemaRegistry:
    return _schemas(str(schemas_dir()))


def work_budget() -> WorkBudget:
    """Canonicalization limits; ``ISSUER_CANON_MAX_SECONDS`` tunes the time limit."""
    seconds = os.environ.get("ISSUER_CANON_MAX_SECONDS")
    if seconds is None:
        return WorkBudget()
    try:
        return WorkBudget(max_seconds=float(seconds))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"ISSUER_CANON_MAX_SECONDS must be a positive number: {exc}") from None


def _dev_secret_key(instance: Path) -> str:
    """A per-installation secret for development, kept so sessions survive restarts."""
    path = instance / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, validated once at start-up."""

    #: The default database lives in the instance folder (``ISSUER_INSTANCE_DIR``).
    database_url: str = ""
    base_url: str = "http://127.0.0.1:5000"
    keys_dir: Path = PROJECT_ROOT / "keys"
    instance_dir: Path = INSTANCE_DIR
    secret_key: str = field(default="", repr=False)
    max_content_length: int = 2 * 1024 * 1024
    max_image_bytes: int = 512 * 1024
    secure_cookies: bool = False
    #: Outgoing mail. Without ``smtp_host`` mail stays in the outbox (``/dev/outbox``).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    #: Upgrade a plain connection with STARTTLS (submission port 587).
    smtp_starttls: bool = False
    #: TLS from the first byte (port 465); excludes ``smtp_starttls``.
    smtp_ssl: bool = False
    #: Connections a bulk award sends its mail over at once.
    smtp_connections: int = 4
    mail_from: str = "badges@localhost"

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        names = {f.name for f in fields(cls)}
        for name in names:
            raw = env.get(f"ISSUER_{name.upper()}")
            if raw is None or raw == "":
                continue
            values[name] = raw
        try:
            for name in ("max_content_length", "max_image_bytes", "smtp_port",
                         "smtp_connections"):
                if name in values:
                    values[name] = int(str(values[name]))
        except ValueError:
            raise ConfigError(f"ISSUER_{name.upper()} must be a whole number") from None
        for name in ("keys_dir", "instance_dir"):
            if name in values:
                values[name] = Path(str(values[name]))
        for name in ("secure_cookies", "smtp_starttls", "smtp_ssl"):
            if name in values:
                values[name] = str(values[name]).lower() in ("1", "true", "yes", "on")
        settings = cls(**values)  # type: ignore[arg-type]
        return settings.validated()

    def _database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'issuer.db'}"

    def validated(self) -> Settings:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"ISSUER_BASE_URL must be an http(s) URL such as https://badges.example.org, "
                f"not {self.base_url!r}"
            )
        if parts.query or parts.fragment:
            raise ConfigError("ISSUER_BASE_URL must not have a query or fragment")
        if self.smtp_ssl and self.smtp_starttls:
            raise ConfigError("Set ISSUER_SMTP_SSL or ISSUER_SMTP_STARTTLS, not both: SSL "
                              "starts encrypted (port 465), STARTTLS upgrades (port 587)")
        if (self.smtp_user is None) != (self.smtp_password is None):
            raise ConfigError("ISSUER_SMTP_USER and ISSUER_SMTP_PASSWORD go together")
        if not 1 <= self.smtp_connections <= MAX_SMTP_CONNECTIONS:
            raise ConfigError(f"ISSUER_SMTP_CONNECTIONS must be from 1 to "
                              f"{MAX_SMTP_CONNECTIONS}, not {self.smtp_connections}")
        scheme = self._database_url().split(":", 1)[0].lower()
        if scheme not in DATABASE_SCHEMES:
            # Only the scheme is shown: the rest of the URL may hold a password.
            raise ConfigError(
                "ISSUER_DATABASE_URL must be an SQLite URL (sqlite:///path/to/issuer.db) or a "
                f"PostgreSQL one (postgresql+psycopg://user@host/database), not {scheme!r}")
        secret = self.secret_key or _dev_secret_key(self.instance_dir)
        secure = self.secure_cookies or parts.scheme == "https"
        return Settings(**{**{f.name: getattr(self, f.name) for f in fields(self)},
                           "secret_key": secret, "secure_cookies": secure,
                           "database_url": self._database_url()})
