"""The ``issuer`` command ends every error in one line and the exit code the error states.

Every error class of the package (:mod:`tests.error_classes`) is raised from inside a
command run through the ``issuer`` group, as one a command leaves unhandled would be; and a
few real failures are provoked through the installed command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from issuer.cli import main
from issuer.cli.errors import EXIT_UNREADABLE
from issuer.config import SCHEMAS_DIR
from issuer.core.errors import IssuerError
from tests.core.helpers import unsigned_badge
from tests.error_classes import class_id, error_classes, sample

ISSUER = str(Path(sys.executable).with_name("issuer"))


def _group_raising(exc: BaseException) -> click.Group:
    """A group of the ``issuer`` kind whose one command raises ``exc``."""
    group = type(main)(name="issuer")

    @group.command("fail")
    def fail() -> None:
        raise exc

    return group


@pytest.mark.parametrize("cls", error_classes(), ids=class_id)
def test_an_unhandled_error_ends_with_its_own_exit_code(cls: type[IssuerError]) -> None:
    exc = sample(cls)
    result = CliRunner().invoke(_group_raising(exc), ["fail"])
    assert result.exit_code == cls.exit_code
    assert result.stderr == f"Error: {exc.message}\n"
    assert result.stdout == ""


def test_a_file_that_cannot_be_used_is_exit_2() -> None:
    missing = FileNotFoundError(2, "No such file or directory", "/nowhere/key.pem")
    result = CliRunner().invoke(_group_raising(missing), ["fail"])
    assert result.exit_code == EXIT_UNREADABLE
    assert result.stderr == "Error: cannot use /nowhere/key.pem: No such file or directory\n"


def test_anything_else_is_not_swallowed() -> None:
    result = CliRunner().invoke(_group_raising(LookupError("a bug")), ["fail"])
    assert isinstance(result.exception, LookupError)


def _run(*args: str, env: dict[str, str], stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ISSUER, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env}, check=False)


def test_bundled_schemas_that_cannot_be_read_are_exit_2(tmp_path: Path) -> None:
    # The contexts are there; the schemas are not: the setup, not the credential, is wrong.
    shutil.copytree(SCHEMAS_DIR / "contexts", tmp_path / "contexts")
    credential = tmp_path / "badge.json"
    credential.write_text(json.dumps(unsigned_badge("did:example:issuer")), encoding="utf-8")
    result = _run("verify", str(credential), env={"ISSUER_SCHEMAS_DIR": str(tmp_path)})
    assert result.returncode == EXIT_UNREADABLE
    assert result.stderr.startswith("Error: cannot read the schema index")
    assert result.stderr.count("\n") == 1  # one line, no traceback


def test_a_wrong_setting_is_exit_2(tmp_path: Path) -> None:
    result = _run("tokens", "create", "--issuer", "guild",
                  env={"ISSUER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                       "ISSUER_SMTP_PORT": "twenty-five"})
    assert result.returncode == EXIT_UNREADABLE
    assert result.stderr == "Error: ISSUER_SMTP_PORT must be a whole number\n"
