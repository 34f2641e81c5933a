"""``issuer award-bulk`` as a user runs it: the installed command on a fresh SQLite database."""

from __future__ import annotations

import os
import pty
import re
import select as io_select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from issuer.config import Settings
from issuer.services.achievements import create_achievement
from issuer.services.context import ServiceContext
from issuer.services.issuers import get_issuer
from issuer.services.verification import verify
from issuer.storage.db import make_engine, session_factory
from issuer.storage.keystore import KeyStore
from issuer.storage.models import BulkJob, Credential

ISSUER_CMD = str(Path(sys.executable).with_name("issuer"))
BASE_URL = "http://cli.badges.test"

pytestmark = pytest.mark.db


@dataclass
class Instance:
    env: dict[str, str]
    settings: Settings
    tmp: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ISSUER_CMD, *args], env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)

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
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                return list(session.scalars(select(Credential)))
        finally:
            engine.dispose()

    def jobs(self) -> int:
        engine = make_engine(self.settings.database_url)
        try:
            with session_factory(engine)() as session:
                return int(session.scalar(select(func.count()).select_from(BulkJob)) or 0)
        finally:
            engine.dispose()


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    settings = Settings(database_url=fresh_database_url, base_url=BASE_URL,
                        keys_dir=tmp_path / "keys", secret_key="cli-test-secret").validated()
    env = {**os.environ,
           "ISSUER_DATABASE_URL": settings.database_url,
           "ISSUER_KEYS_DIR": str(settings.keys_dir),
           "ISSUER_BASE_URL": BASE_URL,
           "ISSUER_SECRET_KEY": "cli-test-secret",
           "ISSUER_INSTANCE_DIR": str(tmp_path / "instance")}
    env.pop("ISSUER_KEY_PASSPHRASE", None)
    inst = Instance(env=env, settings=settings, tmp=tmp_path)
    assert inst.run("init").returncode == 0
    created = inst.run("issuers", "create", "--slug", "guild", "--name", "The Guild")
    assert created.returncode == 0, created.stderr
    # There is no achievement command; the use case is the same one the web page calls.
    engine = make_engine(settings.database_url)
    ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
    with session_factory(engine)() as session:
        create_achievement(session, ctx, get_issuer(session, "guild"), {
            "name": "Peer Scaffolder", "slug": "peer-scaffolder",
            "description": "Helped peers learn.", "criteria_narrative": "Two attestations."})
        session.commit()
    engine.dispose()
    yield inst


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
    settings = instance.settings
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
    engine = make_engine(settings.database_url)
    ctx = ServiceContext(settings=settings, keystore=KeyStore(settings.keys_dir))
    with session_factory(engine)() as session:
        for credential in stored.values():
            assert verify(session, ctx, credential.document).valid
    engine.dispose()


def test_a_good_file_is_issued_in_full(instance: Instance) -> None:
    rows = "".join(f"p{i}@example.org,Person {i}\n" for i in range(25))
    result = instance.run_on_a_terminal("award-bulk", "--issuer", "guild", "--achievement",
                                        "peer-scaffolder",
                                        instance.csv("recipient,name\n" + rows))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 25 == len(instance.credentials())
    # Issued in batches of 20: the bar moves to 20 of 25 (80%), then to the end.
    assert progress(result.stderr) == [0, 80, 100]


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
