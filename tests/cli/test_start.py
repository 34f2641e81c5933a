"""``issuer`` starts without what its command does not use, and lists every command.

Commands are imported on first use (:data:`issuer.cli.COMMANDS`); ``issuer verify`` and
``issuer sign`` must not load the web app, the database layer or the HTTP client to start.
"""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from issuer.cli import COMMANDS, _Commands, load_command, main

HEAVY = ("sqlalchemy", "flask", "httpx")


def loaded_after(statement: str) -> list[str]:
    """Which of :data:`HEAVY` a fresh interpreter has loaded after ``statement``."""
    probe = f"import sys\n{statement}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout.split()


@pytest.mark.parametrize("statement", [
    "import issuer.cli",
    "import issuer.cli.credentials",
    "from issuer.cli import load_command; load_command('verify'); load_command('sign')",
])
def test_starting_sign_and_verify_loads_no_web_database_or_http_client(statement: str) -> None:
    assert loaded_after(statement) == []


def test_the_probe_can_see_a_heavy_import() -> None:
    assert loaded_after("import issuer.storage.db") == ["sqlalchemy"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_short_help_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert COMMANDS[name].short_help == command.get_short_help_str(limit=10**6)


def test_help_lists_every_command_as_if_each_were_loaded() -> None:
    lazy = CliRunner().invoke(main, ["--help"], prog_name="issuer")
    eager = click.Group(name="issuer", help=main.help,
                        params=main.params,
                        commands={name: load_command(name) for name in COMMANDS})
    assert lazy.exit_code == 0
    assert lazy.output == CliRunner().invoke(eager, ["--help"], prog_name="issuer").output
    assert isinstance(main, _Commands)


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output
