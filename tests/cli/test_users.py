"""``issuer users set-password``: an operator changes a staff password from the command line.

The command runs as installed, on the database the admin pages of a real app use: a session
made with the old password must be refused once the password has changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from issuer.app import create_app, runtime
from tests.cli_instance import CliInstance
from tests.web.admin.test_pages import sign_in

pytestmark = pytest.mark.db

EMAIL = "staff@guild.test"
OLD = "the first long password"
NEW = "a second long password"


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[CliInstance]:
    made = CliInstance.create(tmp_path, fresh_database_url)
    made.set_up_guild()
    created = made.run("users", "create", "--email", EMAIL, "--issuer", "guild",
                       ISSUER_NEW_PASSWORD=OLD)
    assert created.returncode == 0, created.stderr
    yield made
    made.close()


@pytest.fixture()
def admin_app(instance: CliInstance) -> Iterator[Flask]:
    """The admin pages of the same installation."""
    app = create_app(instance.settings, TESTING=True)
    yield app
    runtime(app).engine.dispose()


def test_a_new_password_ends_the_sessions_made_with_the_old_one(
        instance: CliInstance, admin_app: Flask) -> None:
    laptop = admin_app.test_client()
    assert sign_in(laptop, EMAIL, OLD).status_code == 302
    assert laptop.get("/admin/").status_code == 200
    changed = instance.run("users", "set-password", EMAIL.upper(), ISSUER_NEW_PASSWORD=NEW)
    assert changed.returncode == 0, changed.stderr
    assert EMAIL in changed.stdout
    # The cookie the old password earned signs nobody in any more.
    assert laptop.get("/admin/").status_code == 302
    assert sign_in(admin_app.test_client(), EMAIL, OLD).status_code == 401
    fresh = admin_app.test_client()
    assert sign_in(fresh, EMAIL, NEW).status_code == 302
    assert fresh.get("/admin/").status_code == 200


def test_an_unknown_account_or_a_short_password_is_refused(
        instance: CliInstance, admin_app: Flask) -> None:
    unknown = instance.run("users", "set-password", "nobody@guild.test",
                           ISSUER_NEW_PASSWORD=NEW)
    assert unknown.returncode == 1
    assert "no staff account for nobody@guild.test" in unknown.stderr
    short = instance.run("users", "set-password", EMAIL, ISSUER_NEW_PASSWORD="short")
    assert short.returncode == 1
    assert "at least" in short.stderr and "Traceback" not in short.stderr
    # Neither changed anything: the first password still signs in.
    assert sign_in(admin_app.test_client(), EMAIL, OLD).status_code == 302
