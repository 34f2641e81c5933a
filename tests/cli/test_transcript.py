"""``issuer transcript``, as a user runs it: the installed command on a fresh database.

The learner's badges are awarded by the award use case and reach the learner the way staff
awards do (linked by address); the CLR the command prints is then checked with
``issuer verify``, trusting the DID documents the service publishes.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.issuers import did_document, get_issuer
from issuer.services.profiles import link_badges
from issuer.services.transcripts import CSV_COLUMNS
from issuer.storage.learning import AuditEvent, Learner
from issuer.storage.models import Credential, Issuer
from tests.cli_instance import BASE_URL, CliInstance

EMAIL = "ada@example.org"

pytestmark = pytest.mark.db


class Instance(CliInstance):
    def award(self, email: str, credits: float | None = None) -> Credential:
        with self.session() as session:
            issuer = get_issuer(session, "guild")
            row = award(session, self.context(), issuer,
                        get_achievement(session, issuer, "peer-scaffolder"),
                        AwardRequest(recipient=Recipient.parse(email), credits_earned=credits),
                        actor="test")
            session.commit()
            return row

    def did(self, slug: str) -> str:
        with self.session() as session:
            path = self.tmp / f"{slug}.did.json"
            path.write_text(json.dumps(did_document(self.context(), get_issuer(session, slug))),
                            encoding="utf-8")
            return str(path)


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    inst = Instance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


@pytest.fixture()
def badges(instance: Instance) -> list[Credential]:
    """Two badges awarded by staff to the learner's address, linked as the badges page does."""
    with instance.session() as session:
        session.add(Learner(email=EMAIL, display_name="Ada", profile_handle=secrets.token_hex(8),
                            pairwise_secret=secrets.token_hex(32)))
        session.commit()
    rows = [instance.award(EMAIL, credits=2.5), instance.award(EMAIL, credits=1.5)]
    with instance.session() as session:
        learner = session.scalar(select(Learner).where(Learner.email == EMAIL))
        assert link_badges(session, learner) == 2
        session.commit()
    return rows


def test_the_clr_is_printed_and_verifies(instance: Instance, badges: list[Credential]) -> None:
    done = instance.run("transcript", "--learner", EMAIL.upper(), "--format", "clr")
    assert done.returncode == 0, done.stderr
    clr = json.loads(done.stdout)
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert clr["name"] == "CPD transcript of Ada"
    assert "4 in total" in clr["description"]
    enclosed = clr["credentialSubject"]["verifiableCredential"]
    assert sorted(c["id"] for c in enclosed) == sorted(
        f"{BASE_URL}/credentials/{b.id}" for b in badges)

    path = instance.tmp / "clr.json"
    path.write_text(done.stdout, encoding="utf-8")
    checked = instance.run("verify", str(path), "--json", "--trust", instance.did("records"),
                           "--trust", instance.did("guild"))
    report = json.loads(checked.stdout)
    assert checked.returncode == 0, checked.stdout
    assert {c["id"]: c["outcome"] for c in report["checks"]}["credentials"] == "passed"

    with instance.session() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "transcript.issued")).all()
        assert [e.actor.startswith("cli (") for e in events] == [True]


def test_the_csv_is_written_to_a_file(instance: Instance, badges: list[Credential]) -> None:
    out = instance.tmp / "cpd.csv"
    done = instance.run("transcript", "--learner", EMAIL, "--format", "csv", "--out", str(out),
                        "--from", "2000-01-01", "--to", "2999-12-31")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == list(CSV_COLUMNS)
    assert sorted(r[5] for r in rows[1:]) == ["1.5", "2.5"]
    assert sorted(r[11] for r in rows[1:]) == sorted(
        f"{BASE_URL}/credentials/{b.id}" for b in badges)


@pytest.mark.parametrize("args, code, words", [
    (["--learner", "nobody@example.org", "--format", "clr"], 1, "no learner"),
    (["--learner", EMAIL, "--format", "clr", "--from", "2999-01-01"], 1,
     "no badges to put in a transcript"),
    (["--learner", EMAIL, "--format", "csv", "--from", "31/01/2024"], 2,
     "not a date such as 2024-01-31"),
    (["--learner", EMAIL, "--format", "csv", "--to", "2024-02-30"], 2, "not a date"),
    (["--learner", EMAIL, "--format", "csv", "--from", "2024-05-01", "--to", "2024-01-01"], 2,
     "ends before it starts"),
    (["--learner", EMAIL, "--format", "pdf"], 2, "'pdf' is not one of"),
    (["--format", "clr"], 2, "Missing option '--learner'"),
])
def test_refusals_and_exit_codes(instance: Instance, badges: list[Credential], args: list[str],
                                 code: int, words: str) -> None:
    done = instance.run("transcript", *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert words in done.stderr
    assert done.stdout == ""
    with instance.session() as session:
        # A refused transcript leaves nothing behind, not even the records issuer.
        assert session.scalar(select(Issuer).where(Issuer.slug == "records")) is None


def test_nobody_can_take_the_records_name(instance: Instance) -> None:
    done = instance.run("issuers", "create", "--slug", "records", "--name", "Our records")
    assert done.returncode == 1
    assert "reserved" in done.stderr
