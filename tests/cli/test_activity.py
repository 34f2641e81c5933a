"""``issuer activity import``: the numbers scripts read from ``--json``, and the exit codes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from issuer.cli import main
from tests.cli_instance import ISSUER_CMD
from tests.core.activity.archives import (
    BILLION_LAUGHS,
    SE_POSTS,
    SITE,
    USER_ARCHIVE_CSV,
    USERS_XML,
    discourse_topic,
    mbox_file,
    outbox_json,
    posts_xml,
    se_api_json,
)

NUMBERS = ("interactions", "answers_to_others", "people_helped", "acknowledged",
           "acknowledging_people", "counted_acknowledgements")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["activity", "import", *args])


def numbers(result: Result) -> dict[str, Any]:
    report = json.loads(result.stdout)
    return {key: report[key] for key in NUMBERS}


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    """A dump's folder as downloaded: Posts.xml with Users.xml beside it."""
    folder = tmp_path / SITE
    folder.mkdir()
    (folder / "Posts.xml").write_bytes(posts_xml(SE_POSTS))
    (folder / "Users.xml").write_bytes(USERS_XML)
    return folder / "Posts.xml"


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_stack_exchange_dump(dump: Path) -> None:
    result = run("--format", "stackexchange", str(dump), "--handle", "10", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert numbers(result) == {
        "interactions": 7, "answers_to_others": 5, "people_helped": 4, "acknowledged": 4,
        "acknowledging_people": 3, "counted_acknowledgements": 1.5}
    assert report["file_sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert report["flags"] == ["reciprocal_pairs", "fresh_accounts_ignored"]
    assert report["errors"] == [] and report["truncated"] is False


def test_without_users_xml_the_fresh_account_counts(dump: Path) -> None:
    (dump.parent / "Users.xml").unlink()
    result = run("--format", "stackexchange", str(dump), "--handle", "10", "--json")
    assert result.exit_code == 0 and numbers(result)["counted_acknowledgements"] == 2.5


def test_stack_exchange_api_json(tmp_path: Path) -> None:
    path = write(tmp_path, "answers.json", se_api_json())
    result = run("--format", "stackexchange", path, "--handle", "10", "--json")
    assert result.exit_code == 0
    assert numbers(result) == {
        "interactions": 2, "answers_to_others": 1, "people_helped": 1, "acknowledged": 1,
        "acknowledging_people": 1, "counted_acknowledgements": 1.0}
    assert json.loads(result.stdout)["errors"] == [
        {"item": 4, "message": "an item without a numeric question_id"}]


def test_a_discourse_topic(tmp_path: Path) -> None:
    path = write(tmp_path, "42.json", discourse_topic())
    result = run("--format", "discourse", path, "--handle", "tom", "--json")
    assert result.exit_code == 0
    assert numbers(result) == {
        "interactions": 2, "answers_to_others": 2, "people_helped": 2, "acknowledged": 1,
        "acknowledging_people": 1, "counted_acknowledgements": 1.0}


def test_a_discourse_user_archive(tmp_path: Path) -> None:
    path = write(tmp_path, "user_archive.csv", USER_ARCHIVE_CSV)
    result = run("--format", "discourse", path, "--handle", "tom", "--json")
    assert result.exit_code == 0
    assert numbers(result) == {
        "interactions": 2, "answers_to_others": 0, "people_helped": 0, "acknowledged": 0,
        "acknowledging_people": 0, "counted_acknowledgements": 0.0}
    assert json.loads(result.stdout)["months_active"] == 2


def test_a_mastodon_outbox_by_any_spelling_of_the_account(tmp_path: Path) -> None:
    path = write(tmp_path, "outbox.json", outbox_json())
    for handle in ("@alice@social.example", "https://social.example/users/alice"):
        result = run("--format", "mastodon", path, "--handle", handle, "--json")
        assert result.exit_code == 0
        assert numbers(result) == {
            "interactions": 4, "answers_to_others": 2, "people_helped": 2, "acknowledged": 0,
            "acknowledging_people": 0, "counted_acknowledgements": 0.0}


def test_an_mbox(tmp_path: Path) -> None:
    path = write(tmp_path, "help.mbox", mbox_file())
    result = run("--format", "mbox", path, "--handle", "Helper@Example.net", "--json")
    assert result.exit_code == 0
    assert numbers(result) == {
        "interactions": 2, "answers_to_others": 2, "people_helped": 2, "acknowledged": 1,
        "acknowledging_people": 1, "counted_acknowledgements": 1.0}


def test_the_summary_in_words(dump: Path) -> None:
    result = run("--format", "stackexchange", str(dump), "--handle", "10")
    assert result.exit_code == 0
    assert "answers to others: 5 (people helped: 4)" in result.stdout
    assert "acknowledgements counted: 1.5" in result.stdout


def test_nothing_by_the_handle_is_refused_with_the_summary_printed(dump: Path) -> None:
    result = run("--format", "stackexchange", str(dump), "--handle", "999", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["interactions"] == 0
    assert "nothing written by 999" in result.stderr


@pytest.mark.parametrize(("fmt", "name", "data"), [
    ("stackexchange", "Posts.xml", BILLION_LAUGHS),
    ("stackexchange", "Posts.xml", b"not xml at all"),
    ("discourse", "topic.json", b"{broken"),
    ("mastodon", "outbox.json", b"[]"),
    ("mbox", "list.mbox", b"Dear diary"),
])
def test_an_unreadable_archive_is_exit_2(tmp_path: Path, fmt: str, name: str,
                                         data: bytes) -> None:
    result = run("--format", fmt, write(tmp_path, name, data), "--handle", "10", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: ")


def test_a_missing_file_and_a_file_over_the_limit_are_exit_2(dump: Path) -> None:
    assert run("--format", "mbox", str(dump.parent / "none.mbox"), "--handle", "x"
               ).exit_code == 2
    result = run("--format", "stackexchange", str(dump), "--handle", "10", "--max-bytes", "100")
    assert result.exit_code == 2 and "larger than 100 bytes" in result.stderr


def test_the_item_limit_is_reported(dump: Path) -> None:
    result = run("--format", "stackexchange", str(dump), "--handle", "10", "--json",
                 "--max-items", "4")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["truncated"] is True and report["interactions"] == 1


def test_the_installed_command_loads_no_web_framework_or_database(dump: Path) -> None:
    code = (
        "import sys\n"
        "from issuer.cli import main\n"
        "try:\n"
        f"    main(['activity', 'import', '--format', 'stackexchange', {str(dump)!r},\n"
        "          '--handle', '10', '--json'])\n"
        "except SystemExit as end:\n"
        "    assert end.code in (0, None), end.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'werkzeug', 'alembic'))\n"
        "print('LOADED', ','.join(bad), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "LOADED \n" in result.stderr
    assert json.loads(result.stdout)["acknowledged"] == 4
    installed = subprocess.run([ISSUER_CMD, "activity", "import", "--format", "stackexchange",
                                str(dump), "--handle", "10", "--json"],
                               capture_output=True, text=True, check=False)
    assert installed.returncode == 0 and json.loads(installed.stdout)["interactions"] == 7
