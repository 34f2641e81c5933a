"""Progress of ``issuer activity import`` on stderr: shown on a terminal (or when asked),
never mixed into stdout, so ``--json`` stays one JSON object."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import main
from issuer.cli.progress import INTERVAL, Progress
from tests.cli_instance import ISSUER_CMD
from tests.core.activity.archives import SE_POSTS, SITE, USERS_XML, mbox_file, posts_xml


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["activity", "import", *args])


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    folder = tmp_path / SITE
    folder.mkdir()
    (folder / "Posts.xml").write_bytes(posts_xml(SE_POSTS))
    (folder / "Users.xml").write_bytes(USERS_XML)
    return folder / "Posts.xml"


def test_progress_goes_to_stderr_and_json_stays_clean(dump: Path) -> None:
    result = run("--format", "stackexchange", str(dump), "--handle", "10", "--json",
                 "--progress")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["interactions"] == 7
    lines = result.stderr.splitlines()
    assert any(line.startswith("reading Posts.xml: ") and " MB" in line for line in lines)
    assert any(line.startswith("reading Users.xml: ") for line in lines)
    assert lines[-1].startswith("done in ")
    assert lines[-1].endswith(f" s: kept {report['items']} items")


def test_the_plain_report_stays_on_stdout(dump: Path) -> None:
    quiet = run("--format", "stackexchange", str(dump), "--handle", "10", "--no-progress")
    shown = run("--format", "stackexchange", str(dump), "--handle", "10", "--progress")
    assert quiet.exit_code == shown.exit_code == 0
    assert shown.stdout == quiet.stdout
    assert "reading" not in shown.stdout
    assert "reading Posts.xml" in shown.stderr and "reading" not in quiet.stderr


def test_no_progress_when_stderr_is_not_a_terminal(dump: Path) -> None:
    result = run("--format", "stackexchange", str(dump), "--handle", "10", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_mbox_shows_its_size_then_the_items(tmp_path: Path) -> None:
    box = tmp_path / "list.mbox"
    box.write_bytes(mbox_file())
    result = run("--format", "mbox", str(box), "--handle", "helper@example.net", "--json",
                 "--progress")
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("reading list.mbox (") and lines[0].endswith(" MB)")
    assert lines[-1].startswith("done in ") and lines[-1].endswith(" items")


def test_updates_are_spaced_and_rewrite_one_line_on_a_terminal(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [100.0]
    screen = Terminal()
    progress = Progress(enabled=True, stream=screen, clock=lambda: now[0])
    archive = tmp_path / "big.xml"
    archive.write_bytes(b"x" * 2 * 1024 * 1024)
    progress.start(archive)
    progress.update(1024 * 1024)  # too soon after the start: not shown
    now[0] += INTERVAL
    progress.update(2 * 1024 * 1024)
    now[0] += INTERVAL
    progress.update(1024 * 1024)  # back to the start, and half way through again
    now[0] += 1
    progress.finish(12)
    text = screen.getvalue()
    assert "\n" not in text.rstrip("\n") and text.endswith("\n")
    shown = [part.strip() for part in text.split("\r") if part.strip()]
    assert shown == ["reading big.xml: 0.0 of 2.0 MB (0%), 0.0 s",
                     "reading big.xml: 2.0 of 2.0 MB (100%), 0.5 s",
                     "reading big.xml, pass 2: 1.0 of 2.0 MB (50%), 1.0 s",
                     "done in 2.0 s: kept 12 items"]


def test_a_real_terminal_gets_progress_and_stdout_stays_json(dump: Path) -> None:
    """The installed command, its stderr a pseudo-terminal and its stdout a pipe."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [ISSUER_CMD, "activity", "import", "--format", "stackexchange", str(dump),
             "--handle", "10", "--json"],
            stdout=subprocess.PIPE, stderr=terminal, timeout=120, check=False)
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert process.returncode == 0
    assert json.loads(process.stdout)["interactions"] == 7
    assert b"\rreading Posts.xml: " in seen and b"done in " in seen
