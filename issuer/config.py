"""Settings from ``ISSUER_*`` environment variables, and the core objects built from them.

The core takes every path and resource as an argument; this module is where the defaults are
decided, so the CLI and the web app build the same objects the same way. It is the one place
that reads the environment: everything configurable is a field of :class:`Settings`, read and
checked in :meth:`Settings.from_env` and passed on from there.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from issuer.core.errors import EXIT_UNREADABLE, InputError

if TYPE_CHECKING:
    # Loaded by the functions that build them: ``issuer verify`` and ``issuer sign`` read
    # these settings first, and the JSON-LD processor, JSON Schema and canonicalization take
    # longer to import than a small command takes to run.
    from issuer.core.canon import WorkBudget
    from issuer.core.jsonld import ContextLoader
    from issuer.core.schema import SchemaRegistry

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
#: issuer.core.bundled.SCHEMAS_DIR, named without importing that module, which loads the
#: JSON-LD processor (a test checks that both name the same folder).
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
#: A mail server limits the connections one client may hold; past a few, more gain nothing.
MAX_SMTP_CONNECTIONS = 16
#: A longer chain of proxies than this is a mistake in the setting, not a deployment.
MAX_TRUSTED_PROXIES = 8
#: Where `issuer serve` listens, and so where the service says it is, when neither
#: ``--port`` nor ``ISSUER_BASE_URL`` says otherwise.
LOCAL_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def local_base_url(port: int = DEFAULT_PORT, *, https: bool = False) -> str:
    """The base URL of a service on this machine at ``port``: what credential ids, DIDs and
    links name when ``ISSUER_BASE_URL`` is not set."""
    return f"{'https' if https else 'http'}://{LOCAL_HOST}:{port}"


#: Where the passphrase of encrypted key files comes from (the service and the CLI alike).
PASSPHRASE_ENV = "ISSUER_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret

#: Where issuers' private keys are kept: PEM files in ``ISSUER_KEYS_DIR`` (one machine), or
#: rows of the database sealed with ``ISSUER_KEY_ENCRYPTION_KEY`` (every node shares them).
KEY_STORES = ("files", "database")
#: The key-encryption key is AES-256's: 32 bytes, written in base64url.
KEK_BYTES = 32
KEK_HINT = ("32 random bytes in base64url (43 characters), such as the output of: python -c "
            "'import secrets; print(secrets.token_urlsafe(32))'")

#: The databases this service runs on (SQLite by default, PostgreSQL in production).
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")

#: How staff passwords are hashed: scrypt (RFC 7914) with N=2^15, r=8, p=1, werkzeug's
#: ``scrypt`` default, stored as ``scrypt:32768:8:1$salt$hex``. A stored hash names its own
#: parameters, so changing these affects new passwords only.
PASSWORD_HASHING = "scrypt:32768:8:1"  # noqa: S105 - parameters, not a password
_SCRYPT = re.compile(r"scrypt:([0-9]+):([0-9]+):([0-9]+)")
#: hashlib.scrypt's largest memory limit (a C int).
_SCRYPT_MAX_MEMORY = 2**31 - 1

#: What the commands that need no service read (``sign``, ``verify``, ``keys generate``).
CORE_SETTINGS = ("schemas_dir", "canon_max_seconds", "key_passphrase", "verify_offline",
                 "verify_allow_hosts", "verify_max_bytes", "verify_timeout", "verify_ca_file")

_WHOLE_NUMBERS = ("max_content_length", "max_image_bytes", "smtp_port", "smtp_connections",
                  "verify_max_bytes", "trusted_proxies", "job_lease_seconds",
                  "staff_session_idle_minutes", "staff_session_max_hours",
                  "learner_session_idle_minutes", "learner_session_max_hours",
                  "trace_upload_max_bytes")
_NUMBERS = ("canon_max_seconds", "verify_timeout")
_PATHS = ("keys_dir", "instance_dir", "schemas_dir", "verify_ca_file")
_FLAGS = ("secure_cookies", "smtp_starttls", "smtp_ssl", "verify_offline")
#: Comma-separated lists, kept as tuples of their non-empty items.
_LISTS = ("verify_allow_hosts",)
#: ``host``, ``host:port`` or ``[ipv6]:port`` (the verifier's allowlist).
_HOST_PORT = re.compile(r"(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?", re.IGNORECASE)


class ConfigError(InputError):
    """A setting that cannot be used; the message names the variable.

    The operator's to fix, not the client's: 500 for a request, exit 2 for a command.
    """

    http_status = 500
    exit_code = EXIT_UNREADABLE


def scrypt_parameters(method: str) -> tuple[int, int, int]:
    """N, r and p of a ``scrypt:N:r:p`` method (RFC 7914 §2: N a power of 2 above 1 and
    below 2^(16·r), r and p positive)."""
    match = _SCRYPT.fullmatch(method)
    if match is None:
        raise ConfigError(f"ISSUER_PASSWORD_HASHING must be scrypt:N:r:p (default "
                          f"{PASSWORD_HASHING}), not {method!r}")
    n, r, p = (int(value) for value in match.groups())
    if r < 1 or p < 1 or n < 2 or n & (n - 1) or n.bit_length() > 16 * r:
        raise ConfigError("ISSUER_PASSWORD_HASHING: r and p must be at least 1 and N a power "
                          f"of 2 from 2 to 2^(16·r), not {method!r}")
    # werkzeug lets scrypt have 132·N·r·p bytes; OpenSSL needs 128·r·(N + p + 2).
    allowed = 132 * n * r * p
    if allowed > _SCRYPT_MAX_MEMORY:
        raise ConfigError(f"ISSUER_PASSWORD_HASHING: {method} needs more than 2 GiB")
    if allowed < 128 * r * (n + p + 2):
        raise ConfigError(f"ISSUER_PASSWORD_HASHING: N is too small for r and p in {method}")
    return n, r, p


def _work_budget(seconds: float) -> WorkBudget:
    from issuer.core.canon import WorkBudget

    try:
        return WorkBudget(max_seconds=seconds)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"ISSUER_CANON_MAX_SECONDS must be a positive number: {exc}") from None


@lru_cache(maxsize=4)
def _loader(path: str) -> ContextLoader:
    from issuer.core.jsonld import ContextLoader

    return ContextLoader.from_directory(path)


@lru_cache(maxsize=4)
def _schemas(path: str) -> SchemaRegistry:
    from issuer.core.schema import SchemaRegistry

    return SchemaRegistry.from_directory(path)


def core_settings(settings: Settings | None = None) -> Settings:
    """``settings``, or for a caller with none (``issuer sign``, ``issuer verify``) the
    :data:`CORE_SETTINGS` read from the environment, the rest left at their defaults."""
    return settings if settings is not None else Settings.from_env(only=CORE_SETTINGS)


def context_loader(settings: Settings | None = None) -> ContextLoader:
    """The JSON-LD contexts in ``schemas_dir`` (see :func:`core_settings`)."""
    return _loader(str(core_settings(settings).schemas_dir / "contexts"))


def schema_registry(settings: Settings | None = None) -> SchemaRegistry:
    """The JSON Schemas in ``schemas_dir`` (see :func:`core_settings`)."""
    return _schemas(str(core_settings(settings).schemas_dir))


def work_budget(settings: Settings | None = None) -> WorkBudget:
    """Canonicalization limits, ``canon_max_seconds`` the time (see :func:`core_settings`)."""
    return _work_budget(core_settings(settings).canon_max_seconds)


#: prometheus_client's own variable: the folder where a server's processes pool their metrics.
PROMETHEUS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def pool_process_metrics(folder: str) -> str:
    """Have this process and the ones it starts count metrics together in ``folder``
    (prometheus_client's multiprocess mode, which the library reads from its variable);
    the operator's own choice of folder, if any, wins. Returns the folder used."""
    return os.environ.setdefault(PROMETHEUS_DIR_ENV, folder)


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


def _default_canon_seconds() -> float:
    from issuer.core.canon import DEFAULT_BUDGET

    return DEFAULT_BUDGET.max_seconds


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, validated once at start-up.

    Each field is read from ``ISSUER_`` and its name in capitals (``keys_dir`` from
    ``ISSUER_KEYS_DIR``); nothing else in the package reads the environment.
    """

    #: The default database lives in the instance folder (``ISSUER_INSTANCE_DIR``).
    database_url: str = ""
    #: Default: this machine on the port served (:func:`local_base_url`).
    base_url: str = local_base_url()
    keys_dir: Path = PROJECT_ROOT / "keys"
    instance_dir: Path = INSTANCE_DIR
    secret_key: str = field(default="", repr=False)
    #: Passphrase of encrypted key files (``ISSUER_KEY_PASSPHRASE``).
    key_passphrase: str | None = field(default=None, repr=False)
    #: ``files`` (default) or ``database`` (:data:`KEY_STORES`).
    key_store: str = "files"
    #: Seals the private keys of the database key store (:data:`KEK_HINT`).
    key_encryption_key: str | None = field(default=None, repr=False)
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
    #: The pinned JSON Schemas and JSON-LD contexts (``contexts/``), bundled by default.
    schemas_dir: Path = SCHEMAS_DIR
    #: Wall-clock limit of one canonicalization (:class:`WorkBudget`).
    canon_max_seconds: float = field(default_factory=_default_canon_seconds)
    #: How new staff passwords are hashed (:data:`PASSWORD_HASHING`).
    password_hashing: str = PASSWORD_HASHING
    #: Verify without the network: did:web documents and status lists of other sites are
    #: not fetched, and the report says so (``ISSUER_VERIFY_OFFLINE``).
    verify_offline: bool = False
    #: ``host[:port]`` the verifier may reach although their addresses are loopback or
    #: private, and over http: for tests and private deployments (comma-separated).
    verify_allow_hosts: tuple[str, ...] = ()
    #: Largest document the verifier fetches (bytes, after decompression).
    verify_max_bytes: int = 1_000_000
    #: Longest one fetch may take, redirects included (seconds).
    verify_timeout: float = 5.0
    #: A PEM file of the CAs the verifier trusts for HTTPS instead of the public ones.
    verify_ca_file: Path | None = None
    #: Reverse proxies in front of the service whose ``X-Forwarded-For`` is believed: the
    #: client address (sign-in rate limit) is the one the outermost trusted proxy saw. 0
    #: ignores the header, which any client can send.
    trusted_proxies: int = 0
    #: Where background work is queued: unset, the service runs it itself (development);
    #: ``database``, ``issuer worker`` processes find it in the database;
    #: ``redis://…`` or ``amqp://…``, a Dramatiq broker wakes the workers at once.
    queue_url: str | None = field(default=None, repr=False)
    #: The broker's queue (and Redis key prefix) this site's work goes to.
    queue_name: str = "issuer"
    #: How long a worker holds a job without renewing it before another may take it over.
    job_lease_seconds: int = 60
    #: Bearer token that ``GET /metrics`` asks for; unset, it answers this machine only.
    metrics_token: str | None = field(default=None, repr=False)
    #: A staff session ends after this many minutes unused, and this many hours after sign-in.
    staff_session_idle_minutes: int = 60
    staff_session_max_hours: int = 12
    #: A learner session ends after this many minutes unused, and this many hours after
    #: sign-in (learners sign in by mailed link, so a little longer than staff).
    learner_session_idle_minutes: int = 240
    learner_session_max_hours: int = 24
    #: Largest community archive (forum, list or social export) a learner may upload, bytes.
    trace_upload_max_bytes: int = 20 * 1024 * 1024

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def passphrase(self) -> bytes | None:
        """The key passphrase as the key store takes it; an empty one is none."""
        return self.key_passphrase.encode("utf-8") if self.key_passphrase else None

    @property
    def kek(self) -> bytes | None:
        """The key-encryption key's bytes, None when unset."""
        if not self.key_encryption_key:
            return None
        return decode_kek(self.key_encryption_key, "ISSUER_KEY_ENCRYPTION_KEY")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 only: Collection[str] | None = None, dev_secret: bool = True,
                 port: int | None = None, https: bool = False) -> Settings:
        """The settings in the ``ISSUER_*`` variables (``os.environ`` by default).

        Every value is converted and checked, then the whole is :meth:`validated`: what the
        service and its commands run with. With ``only``, just those fields are read and
        checked, each alone, and every other keeps its default: for the commands that need
        no service (:data:`CORE_SETTINGS`), which must work where none is set up and must not
        be stopped by a setting they do not use. ``dev_secret=False`` is for commands that
        only read: see :meth:`validated`.

        ``port`` and ``https`` say where `issuer serve` listens: without ``ISSUER_BASE_URL``
        the base URL is this machine there (:func:`local_base_url`), so the ids and links
        the service makes name the address it answers on.
        """
        env = os.environ if environ is None else environ
        names = [f.name for f in fields(cls) if only is None or f.name in only]
        values: dict[str, object] = {}
        for name in names:
            raw = env.get(f"ISSUER_{name.upper()}")
            if raw is None or raw == "":
                continue
            values[name] = _converted(name, raw)
        if "base_url" in names and "base_url" not in values and (port is not None or https):
            values["base_url"] = local_base_url(port or DEFAULT_PORT, https=https)
        settings = cls(**values)  # type: ignore[arg-type]
        if only is not None:
            return settings._checked(names)
        return settings.validated(dev_secret=dev_secret)

    def _checked(self, names: Collection[str]) -> Settings:
        """Raise :class:`ConfigError` for a setting of ``names`` that is wrong by itself."""
        if "canon_max_seconds" in names:
            _work_budget(self.canon_max_seconds)
        if "password_hashing" in names:
            scrypt_parameters(self.password_hashing)
        if "verify_max_bytes" in names and self.verify_max_bytes < 1:
            raise ConfigError("ISSUER_VERIFY_MAX_BYTES must be a whole number above 0")
        if "verify_timeout" in names and not 0 < self.verify_timeout <= 600:
            raise ConfigError("ISSUER_VERIFY_TIMEOUT must be a number of seconds above 0 and "
                              "at most 600")
        if "trusted_proxies" in names and not 0 <= self.trusted_proxies <= MAX_TRUSTED_PROXIES:
            raise ConfigError(f"ISSUER_TRUSTED_PROXIES must be a whole number from 0 to "
                              f"{MAX_TRUSTED_PROXIES}, not {self.trusted_proxies}")
        if "queue_url" in names and self.queue_url and not (
                self.queue_url == "database"
                or self.queue_url.split(":", 1)[0] in ("redis", "rediss", "amqp", "amqps")):
            # Only the scheme is shown: the rest may hold a password.
            raise ConfigError("ISSUER_QUEUE_URL must be database, redis://… or amqp://…, not "
                              f"{self.queue_url.split(':', 1)[0]!r}")
        if "queue_name" in names and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}",
                                                      self.queue_name):
            raise ConfigError("ISSUER_QUEUE_NAME must be 1-64 letters, digits, '.', '_' or '-'")
        if "job_lease_seconds" in names and not 5 <= self.job_lease_seconds <= 3600:
            raise ConfigError("ISSUER_JOB_LEASE_SECONDS must be from 5 to 3600")
        if "key_store" in names and self.key_store not in KEY_STORES:
            raise ConfigError(f"ISSUER_KEY_STORE must be {' or '.join(KEY_STORES)}, not "
                              f"{self.key_store!r}")
        if "key_encryption_key" in names:
            if self.key_encryption_key:
                decode_kek(self.key_encryption_key, "ISSUER_KEY_ENCRYPTION_KEY")
            elif "key_store" in names and self.key_store == "database":
                raise ConfigError("ISSUER_KEY_STORE=database needs ISSUER_KEY_ENCRYPTION_KEY: "
                                  + KEK_HINT)
        if "trace_upload_max_bytes" in names and self.trace_upload_max_bytes < 1:
            raise ConfigError("ISSUER_TRACE_UPLOAD_MAX_BYTES must be a whole number above 0")
        for limit in ("staff_session_idle_minutes", "staff_session_max_hours",
                      "learner_session_idle_minutes", "learner_session_max_hours"):
            if limit in names and getattr(self, limit) < 1:
                raise ConfigError(f"ISSUER_{limit.upper()} must be a whole number above 0")
        if "verify_allow_hosts" in names:
            for entry in self.verify_allow_hosts:
                if not _HOST_PORT.fullmatch(entry):
                    raise ConfigError("ISSUER_VERIFY_ALLOW_HOSTS must list host or host:port "
                                      f"entries separated by commas, not {entry!r}")
        return self

    def _database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'issuer.db'}"

    def validated(self, *, dev_secret: bool = True) -> Settings:
        """These settings checked together, with what was left to default filled in.

        Without a secret key a development one is made and kept in the instance folder;
        ``dev_secret=False`` leaves it empty and writes nothing (no sessions can be signed).
        """
        self._checked([f.name for f in fields(self)])
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
        secret = self.secret_key or (_dev_secret_key(self.instance_dir) if dev_secret else "")
        secure = self.secure_cookies or parts.scheme == "https"
        return Settings(**{**{f.name: getattr(self, f.name) for f in fields(self)},
                           "secret_key": secret, "secure_cookies": secure,
                           "database_url": self._database_url()})


def decode_kek(text: str, variable: str) -> bytes:
    """The 32 bytes of a base64url key-encryption key (RFC 4648 §5, padding optional); the
    :class:`ConfigError` names ``variable``, never the value."""
    text = text.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEK_BYTES:
        raise ConfigError(f"{variable} must be {KEK_HINT}")
    return raw


def kek_from(variable: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The key-encryption key in the variable an operator named (``issuer keys rewrap
    --from-env VAR``): the previous one, while the setting already holds the new one."""
    value = (os.environ if environ is None else environ).get(variable, "")
    if not value:
        raise ConfigError(f"{variable} is not set: it must hold the previous "
                          "key-encryption key")
    return decode_kek(value, variable)


def _converted(name: str, raw: str) -> object:
    """The value of ``ISSUER_<NAME>`` as the field's type; a :class:`ConfigError` names it."""
    if name in _WHOLE_NUMBERS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"ISSUER_{name.upper()} must be a whole number") from None
    if name in _NUMBERS:
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"ISSUER_{name.upper()} must be a positive number: {exc}") from None
    if name in _PATHS:
        return Path(raw)
    if name in _FLAGS:
        return raw.lower() in ("1", "true", "yes", "on")
    if name in _LISTS:
        return tuple(item.strip().lower() for item in raw.split(",") if item.strip())
    return raw
