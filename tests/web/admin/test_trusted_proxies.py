"""The staff sign-in limit behind a reverse proxy (``ISSUER_TRUSTED_PROXIES``).

Every request then comes from the proxy's address; the client's is the last entry of
``X-Forwarded-For``, appended by the proxy. The header is believed only when the setting
says a proxy is there: without one, any client could write it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from issuer.app import create_app, runtime
from issuer.config import ConfigError, Settings
from issuer.services.sign_in_throttle import PAIR_LIMIT
from issuer.storage.models import StaffSignInFailure
from tests.conftest import PASSWORD, World
from tests.web.admin.test_pages import csrf_token

PROXY = "10.0.0.2"


def served(settings: Settings, proxies: int) -> Flask:
    return create_app(replace(settings, trusted_proxies=proxies).validated(), TESTING=True)


@pytest.fixture()
def behind_one_proxy(app: Flask, settings: Settings) -> Iterator[Flask]:
    """The same database as ``app`` (emptied by it afterwards), with one trusted proxy."""
    proxied = served(settings, 1)
    yield proxied
    runtime(proxied).engine.dispose()


class ThroughProxy:
    """A browser whose requests reach the app through the proxy, which names the client."""

    def __init__(self, app: Flask, forwarded_for: str) -> None:
        self.browser = app.test_client()
        self.environ = {"REMOTE_ADDR": PROXY}
        self.headers = {"X-Forwarded-For": forwarded_for}
        form = self.browser.get("/admin/login", environ_base=self.environ, headers=self.headers)
        self.token = csrf_token(form.get_data(as_text=True))

    def sign_in(self, email: str, password: str) -> TestResponse:
        return self.browser.post("/admin/login", environ_base=self.environ,
                                 headers=self.headers,
                                 data={"email": email, "password": password, "next": "",
                                       "csrf_token": self.token})


def addresses(session: Session) -> set[str]:
    session.expire_all()
    found = set(session.scalars(select(StaffSignInFailure.address)))
    session.rollback()
    return found


def test_with_a_trusted_proxy_the_limit_counts_the_forwarded_client(
        behind_one_proxy: Flask, session: Session, world: World) -> None:
    attacker = ThroughProxy(behind_one_proxy, "203.0.113.50")
    for guess in range(PAIR_LIMIT):
        assert attacker.sign_in(world.staff_email, f"guess {guess}").status_code == 401
    assert attacker.sign_in(world.staff_email, PASSWORD).status_code == 429
    assert addresses(session) == {"203.0.113.50"}
    # A forged first entry does not help: the proxy's own entry, the last, is what counts.
    forger = ThroughProxy(behind_one_proxy, "198.51.100.99, 203.0.113.50")
    assert forger.sign_in(world.staff_email, PASSWORD).status_code == 429
    # The staff member behind the same proxy is not locked out by the attacker.
    own = ThroughProxy(behind_one_proxy, "198.51.100.40")
    assert own.sign_in(world.staff_email, PASSWORD).status_code == 302


def test_without_a_trusted_proxy_the_header_is_ignored(
        app: Flask, session: Session, world: World) -> None:
    assert runtime(app).settings.trusted_proxies == 0
    for guess in range(PAIR_LIMIT):
        # A new forwarded address each time would escape the limit if it were believed.
        client = ThroughProxy(app, f"203.0.113.{60 + guess}")
        assert client.sign_in(world.staff_email, f"guess {guess}").status_code == 401
    assert addresses(session) == {PROXY}
    assert ThroughProxy(app, "198.51.100.41").sign_in(world.staff_email,
                                                       PASSWORD).status_code == 429


def test_the_setting_is_read_and_checked() -> None:
    base = {"ISSUER_SECRET_KEY": "k"}
    assert Settings.from_env(base).trusted_proxies == 0
    assert Settings.from_env({**base, "ISSUER_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for wrong in ("-1", "one", "99"):
        with pytest.raises(ConfigError, match="ISSUER_TRUSTED_PROXIES"):
            Settings.from_env({**base, "ISSUER_TRUSTED_PROXIES": wrong})
