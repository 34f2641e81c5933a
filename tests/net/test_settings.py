"""The verifier's network settings: read in issuer.config, checked, and turned into one
shared fetcher (or none, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from issuer.config import CORE_SETTINGS, ConfigError, Settings
from issuer.net.fetcher import fetcher_for


def test_the_settings_are_read_from_the_environment() -> None:
    env = {"ISSUER_VERIFY_OFFLINE": "yes",
           "ISSUER_VERIFY_ALLOW_HOSTS": " Localhost:8443, intranet.example ,[::1]:9000,",
           "ISSUER_VERIFY_MAX_BYTES": "2048", "ISSUER_VERIFY_TIMEOUT": "1.5",
           "ISSUER_VERIFY_CA_FILE": "/etc/ssl/private-ca.pem"}
    for only in (None, CORE_SETTINGS):
        settings = Settings.from_env(env, only=only, dev_secret=False)
        assert settings.verify_offline is True
        assert settings.verify_allow_hosts == ("localhost:8443", "intranet.example",
                                               "[::1]:9000")
        assert (settings.verify_max_bytes, settings.verify_timeout) == (2048, 1.5)
        assert settings.verify_ca_file == Path("/etc/ssl/private-ca.pem")
    defaults = Settings()
    assert (defaults.verify_offline, defaults.verify_allow_hosts) == (False, ())
    assert (defaults.verify_max_bytes, defaults.verify_timeout) == (1_000_000, 5.0)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("ISSUER_VERIFY_MAX_BYTES", "0", "ISSUER_VERIFY_MAX_BYTES"),
    ("ISSUER_VERIFY_MAX_BYTES", "lots", "ISSUER_VERIFY_MAX_BYTES"),
    ("ISSUER_VERIFY_TIMEOUT", "-1", "ISSUER_VERIFY_TIMEOUT"),
    ("ISSUER_VERIFY_TIMEOUT", "nan", "ISSUER_VERIFY_TIMEOUT"),
    ("ISSUER_VERIFY_ALLOW_HOSTS", "https://intranet.example/", "ISSUER_VERIFY_ALLOW_HOSTS"),
    ("ISSUER_VERIFY_ALLOW_HOSTS", "a.example,b example", "ISSUER_VERIFY_ALLOW_HOSTS"),
])
def test_unusable_settings_are_refused_by_name(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Settings.from_env({name: value}, only=CORE_SETTINGS)


def test_one_fetcher_per_settings_and_none_offline() -> None:
    settings = Settings(verify_allow_hosts=("intranet.example",), verify_timeout=2.0)
    fetcher = fetcher_for(settings)
    assert fetcher is not None and fetcher is fetcher_for(settings)
    assert fetcher.limits.timeout == 2.0 and fetcher.allow.allows("intranet.example", 443)
    assert fetcher_for(Settings(verify_offline=True)) is None
