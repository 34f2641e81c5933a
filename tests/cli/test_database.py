"""A database the command line cannot use ends any command with exit 2 and one line.

Before, commands that had no handler of their own (``tokens create``, ``users create``,
``revoke`` …) printed SQLAlchemy's traceback when the database was not set up or the
server could not be reached.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_instance import CliInstance

COMMANDS = [
    ("tokens", "create", "--issuer", "guild"),
    ("tokens", "revoke", "--issuer", "guild", "obi_abc"),
    ("users", "create", "--email", "staff@guild.test", "--password", "long enough pass"),
    ("revoke", "00000000-0000-0000-0000-000000000000", "--reason", "test"),
    ("keys", "rotate", "--issuer", "guild"),
]


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.db
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_database_that_is_not_set_up(tmp_path: Path, fresh_database_url: str,
                                       args: tuple[str, ...]) -> None:
    bare = CliInstance.create(tmp_path, fresh_database_url)
    result = bare.run(*args)
    assert result.returncode == 2, result.stderr
    line = one_line_error(result.stderr)
    assert line.startswith("Error: the database cannot be used: ") and "issuer init" in line


def test_a_server_that_cannot_be_reached_names_where_but_not_the_password(
        tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    unreachable = CliInstance.create(
        tmp_path, "postgresql+psycopg://issuer:s3cret-Pa55@127.0.0.1:9/badges")
    result = unreachable.run("tokens", "create", "--issuer", "guild")
    assert result.returncode == 2, result.stderr
    line = one_line_error(result.stderr)
    assert "127.0.0.1" in line and "9" in line
    assert "s3cret-Pa55" not in result.stderr + result.stdout


def test_settings_and_folders_that_cannot_be_used(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    sqlite_url = f"sqlite:///{tmp_path / 'issuer.db'}"
    cases = [
        ({"ISSUER_DATABASE_URL": "mysql://issuer:s3cret-Pa55@db.example/badges"},
         ("issuers", "create", "--slug", "guild", "--name", "The Guild"),
         "ISSUER_DATABASE_URL must be an SQLite URL"),
        ({"ISSUER_DATABASE_URL": f"sqlite:///{blocker / 'issuer.db'}"}, ("init",),
         f"cannot use {blocker}"),
        ({"ISSUER_KEYS_DIR": str(blocker / "keys")},
         ("issuers", "create", "--slug", "guild", "--name", "The Guild"),
         f"cannot use {blocker}"),
        ({"ISSUER_CANON_MAX_SECONDS": "soon"}, ("verify", "-"),
         "ISSUER_CANON_MAX_SECONDS must be a positive number"),
        ({"ISSUER_SCHEMAS_DIR": str(tmp_path / "missing")}, ("verify", "-"),
         "cannot read the context index"),
    ]
    for env, args, words in cases:
        instance = CliInstance.create(tmp_path / str(len(env) + len(args)), sqlite_url)
        result = instance.run(*args, **env)
        assert result.returncode == 2, (args, result.stderr)
        line = one_line_error(result.stderr)
        assert words in line, (args, line)
        assert "s3cret-Pa55" not in result.stderr + result.stdout
