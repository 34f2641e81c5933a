"""``issuer award-bulk`` as a user runs it: the installed command on a fresh database."""

from __future__ import annotations

import os
import pty
import re
import select as io_select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from issuer.services.bulk import BATCH_SIZE
from issuer.services.verification import verify
from issuer.storage.models import BulkJob, Credential
from tests.cli_instance import BASE_URL, ISSUER_CMD, CliInstance
from tests.services.test_mail import SmtpSink, body_of, free_port

pytestmark = pytest.mark.db


class Instance(CliInstance):
    def run_on_a_terminal(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Like :meth:`run`, with stderr on a pseudo-terminal, as a person at a shell has it:
        the progress bar is drawn only there (to a pipe or a file it writes just its label).
        stdout stays a pipe, so the results can still be read apart from the progress."""
        controller, terminal = pty.openpty()
        with subprocess.Popen([ISSUER_CMD, *args], env={**self.env, "TERM": "xterm"},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=terminal) as process:
            os.close(terminal)
            assert process.stdout is not None
            out = process.stdout.fileno()
            reading = {controller: bytearray(), out: bytearray()}
            done: dict[int, bytes] = {}
            deadline = time.monotonic() + 300
            while reading and time.monotonic() < deadline:
                ready, _, _ = io_select.select(list(reading), [], [], 1.0)
                for fd in ready:
                    try:
                        chunk = os.read(fd, 65536)
                    except OSError:  # EIO: every writer of the terminal has closed it (Linux)
                        chunk = b""
                    if chunk:
                        reading[fd] += chunk
                    else:
                        done[fd] = bytes(reading.pop(fd))
            if reading:
                process.kill()
            assert not reading, "the command did not finish in time"
            returncode = process.wait(timeout=60)
        os.close(controller)
        # The terminal turns every "\n" into "\r\n"; a lone "\r" is the bar redrawing itself.
        return subprocess.CompletedProcess(
            [ISSUER_CMD, *args], returncode, done[out].decode("utf-8"),
            done[controller].decode("utf-8").replace("\r\n", "\n"))

    def csv(self, text: str) -> str:
        path = self.tmp / "people.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def credentials(self) -> list[Credential]:
        with self.session() as session:
            return list(session.scalars(select(Credential)))

    def jobs(self) -> int:
        with self.session() as session:
            return int(session.scalar(select(func.count()).select_from(BulkJob)) or 0)


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    inst = Instance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


BAR = re.compile(r"Issuing  \[([#-]+)\]\s+(\d+)%")


def progress(stderr: str) -> list[int]:
    """The percentages the progress bar showed, in order; checks that each drawing of the
    bar is filled as far as its percentage says."""
    drawn = [(bar, int(percent)) for bar, percent in BAR.findall(stderr)]
    assert drawn, f"no progress bar in {stderr!r}"
    for bar, percent in drawn:
        assert bar.count("#") == len(bar) * percent // 100, (bar, percent)
        assert bar == "#" * bar.count("#") + "-" * bar.count("-"), bar
    return [percent for _, percent in drawn]


MIXED = ("recipient,name,evidence_url\n"
         "ada@example.org,Ada,https://forum.example/t/1\n"
         "anna@example,Anna,\n"
         "did:example:grace,Grace,\n")


def test_an_invalid_file_issues_nothing_without_the_flag(instance: Instance) -> None:
    result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                          "peer-scaffolder", instance.csv(MIXED))
    assert result.returncode == 1
    assert "row 3: 'anna@example' is not an email address or a DID" in result.stderr
    assert "nothing was issued" in result.stderr
    assert result.stdout == ""
    assert instance.credentials() == [] and instance.jobs() == 0


def test_with_the_flag_the_valid_rows_are_issued_and_printed(instance: Instance) -> None:
    result = instance.run_on_a_terminal("award-bulk", "--issuer", "guild", "--achievement",
                                        "peer-scaffolder", "--issue-valid-rows",
                                        instance.csv(MIXED))
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted(r for r, _ in lines) == ["ada@example.org", "did:example:grace"]
    stored = {c.id: c for c in instance.credentials()}
    assert len(stored) == 2
    for _, url in lines:
        assert url.startswith(f"{BASE_URL}/credentials/")
        assert url.rsplit("/", 1)[1] in stored
    assert "row 3" in result.stderr
    # The bar starts empty and is full once both valid rows are issued (the skipped row is
    # not counted in the total).
    assert progress(result.stderr) == [0, 100]
    with instance.session() as session:
        for credential in stored.values():
            assert verify(session, instance.context(), credential.document).valid


def test_a_good_file_is_issued_in_full(instance: Instance) -> None:
    rows = "".join(f"p{i}@example.org,Person {i}\n" for i in range(80))
    result = instance.run_on_a_terminal("award-bulk", "--issuer", "guild", "--achievement",
                                        "peer-scaffolder",
                                        instance.csv("recipient,name\n" + rows))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 80 == len(instance.credentials())
    # Issued in batches of 50: the bar moves to 50 of 80 (62%), then to the end.
    assert BATCH_SIZE == 50
    assert progress(result.stderr) == [0, 62, 100]


@pytest.mark.parametrize("args, code, words", [
    (["--issuer", "nobody", "--achievement", "peer-scaffolder"], 1, "no issuer 'nobody'"),
    (["--issuer", "guild", "--achievement", "nothing"], 1, "no achievement 'nothing'"),
])
def test_unknown_issuer_or_achievement(instance: Instance, args: list[str], code: int,
                                       words: str) -> None:
    result = instance.run("award-bulk", *args, instance.csv("recipient\nada@example.org\n"))
    assert result.returncode == code
    assert words in result.stderr
    assert instance.credentials() == []


def test_an_unreadable_file_is_exit_2(instance: Instance) -> None:
    result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                          "peer-scaffolder", str(instance.tmp / "missing.csv"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_recipients_are_emailed_their_link_unless_told_not_to(instance: Instance) -> None:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        smtp = {"ISSUER_SMTP_HOST": "127.0.0.1", "ISSUER_SMTP_PORT": str(sink.port),
                "ISSUER_MAIL_FROM": "Badges <badges@cli.badges.test>"}
        people = instance.csv("recipient,name\nada@example.org,Ada\ndid:example:grace,Grace\n")
        result = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                              "peer-scaffolder", people, **smtp)
        assert result.returncode == 0, result.stderr
        links = dict(line.split("\t") for line in result.stdout.splitlines())
        (message,) = sink.to("ada@example.org")
        assert links["ada@example.org"] in body_of(message)
        assert "1 recipient(s) were emailed their badge link" in result.stderr
        assert "1 recipient(s) are DIDs and get no email" in result.stderr

        quiet = instance.run("award-bulk", "--issuer", "guild", "--achievement",
                             "peer-scaffolder", "--no-email", people, **smtp)
        assert quiet.returncode == 0, quiet.stderr
        assert "1 recipient(s) were not emailed (--no-email)" in quiet.stderr
        assert len(sink.messages) == 1
    finally:
        controller.stop()

    # With the mail server gone the badges are still issued, and stderr says what to do.
    down = instance.run("award-bulk", "--issuer", "guild", "--achievement", "peer-scaffolder",
                        people, **smtp)
    assert down.returncode == 0, down.stderr
    assert "1 email(s) could not be sent (the badges are issued" in down.stderr
    assert len(instance.credentials()) == 6
