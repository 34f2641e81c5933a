"""``issuer revoke|suspend|reinstate`` and ``issuer verify --status-list``, as a user runs them.

The installed command on a fresh database; the status lists are the ones the service
publishes, written to files as a verifier would keep them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from issuer.core.status_list import Bitstring
from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.issuers import did_document, get_issuer
from issuer.services.status_lists import published_list
from issuer.storage.models import Credential, StatusEvent
from tests.cli_instance import BASE_URL, CliInstance

pytestmark = pytest.mark.db


class Instance(CliInstance):
    def award(self, recipient: str) -> Credential:
        with self.session() as session:
            issuer = get_issuer(session, "guild")
            achievement = get_achievement(session, issuer, "peer-scaffolder")
            row = award(session, self.context(), issuer, achievement,
                        AwardRequest(recipient=Recipient.parse(recipient)), actor="test")
            session.commit()
            return row

    def credential(self, cid: str) -> Credential:
        with self.session() as session:
            row = session.get(Credential, cid)
            assert row is not None
            return row

    def events(self, cid: str) -> list[tuple[str, str | None, str | None]]:
        with self.session() as session:
            return [(e.action, e.reason, e.actor) for e in session.scalars(
                select(StatusEvent).where(StatusEvent.credential_id == cid)
                .order_by(StatusEvent.id))]

    def write(self, name: str, document: Any) -> str:
        path = self.tmp / name
        path.write_text(document if isinstance(document, str) else json.dumps(document),
                        encoding="utf-8")
        return str(path)

    def lists(self) -> list[str]:
        """The published revocation and suspension lists, saved to files."""
        with self.session() as session:
            ctx = self.context()
            paths = [self.write(f"{purpose}.json",
                                published_list(session, ctx, "guild", purpose, 1).text)
                     for purpose in ("revocation", "suspension")]
            session.commit()
        return paths

    def did(self) -> str:
        with self.session() as session:
            return self.write("did.json", did_document(self.context(),
                                                       get_issuer(session, "guild")))


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    inst = Instance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


# --- revoke, suspend, reinstate ------------------------------------------------------------


def test_revoke_is_permanent(instance: Instance) -> None:
    cid = instance.award("ada@example.org").id
    result = instance.run("revoke", cid, "--reason", "Plagiarised evidence")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"revoked: {BASE_URL}/credentials/{cid}")
    assert "reason: Plagiarised evidence" in result.stdout
    row = instance.credential(cid)
    assert (row.status, row.status_reason) == ("revoked", "Plagiarised evidence")
    ((action, reason, actor),) = instance.events(cid)
    assert (action, reason) == ("revoke", "Plagiarised evidence")
    assert actor is not None and actor.startswith("cli (")

    again = instance.run("reinstate", cid, "--reason", "Changed my mind")
    assert again.returncode == 1
    assert "revocation is permanent" in again.stderr
    assert instance.run("suspend", cid, "--reason", "x").returncode == 1
    assert instance.credential(cid).status == "revoked"
    assert len(instance.events(cid)) == 1


def test_suspend_and_reinstate_by_address(instance: Instance) -> None:
    cid = instance.award("ada@example.org").id
    url = f"{BASE_URL}/credentials/{cid}"
    assert instance.run("suspend", url, "--reason", "Under review").returncode == 0
    assert instance.credential(cid).status == "suspended"
    lifted = instance.run("reinstate", url)
    assert lifted.returncode == 0, lifted.stderr
    assert lifted.stdout.startswith("active:")
    assert instance.credential(cid).status == "active"
    assert [(a, r) for a, r, _ in instance.events(cid)] == [
        ("suspend", "Under review"), ("reinstate", None)]
    assert instance.run("reinstate", cid).returncode == 1  # nothing to lift


@pytest.mark.parametrize("args, code, words", [
    (["revoke", "00000000-0000-4000-8000-000000000000", "--reason", "x"], 1,
     "no credential"),
    (["revoke", "not-an-id", "--reason", "x"], 1, "no credential"),
    (["revoke", "{cid}"], 2, "Missing option '--reason'"),
    (["suspend", "{cid}", "--reason", "  "], 1, "give a reason"),
])
def test_refusals(instance: Instance, args: list[str], code: int, words: str) -> None:
    cid = instance.award("ada@example.org").id
    result = instance.run(*[a.format(cid=cid) for a in args])
    assert result.returncode == code
    assert words in result.stderr
    assert instance.credential(cid).status == "active"


# --- verify --status-list ------------------------------------------------------------------


def verify(instance: Instance, credential: str, *extra: str,
           **env: str) -> subprocess.CompletedProcess[str]:
    return instance.run("verify", credential, "--trust", instance.did(), *extra, **env)


def status_line(output: str) -> str:
    return next(line for line in output.splitlines() if "[status]" in line)


def test_verify_with_pinned_status_lists(instance: Instance) -> None:
    row = instance.award("ada@example.org")
    credential = instance.write("badge.json", row.document)
    revocation, suspension = instance.lists()
    pinned = ("--status-list", revocation, "--status-list", suspension)

    good = verify(instance, credential, *pinned)
    assert good.returncode == 0, good.stdout
    assert status_line(good.stdout).startswith("PASS")
    assert "not revoked" in status_line(good.stdout)

    # Away from the service, without the lists, the status is not known, and said so.
    elsewhere = instance.tmp / "elsewhere" / "issuer.db"
    unknown = verify(instance, credential, ISSUER_DATABASE_URL=f"sqlite:///{elsewhere}")
    assert unknown.returncode == 0
    assert not elsewhere.parent.exists()  # verifying creates no database
    line = status_line(unknown.stdout)
    assert line.startswith("WARN") and "could not check" in line
    assert "not revoked" not in unknown.stdout

    assert instance.run("revoke", row.id, "--reason", "Withdrawn").returncode == 0
    stale = verify(instance, credential, *pinned)
    assert stale.returncode == 0  # the copies were taken before the revocation
    revocation, suspension = instance.lists()
    revoked = verify(instance, credential, "--status-list", revocation,
                     "--status-list", suspension)
    assert revoked.returncode == 1, revoked.stdout
    assert status_line(revoked.stdout).startswith("FAIL")
    assert "revoked" in status_line(revoked.stdout)
    assert "INVALID: failed: status" in revoked.stdout


@pytest.mark.slow
def test_verify_where_the_service_runs_reads_its_lists(instance: Instance) -> None:
    """Revoke, then verify: the next check says revoked, with no list copied anywhere."""
    row = instance.award("ada@example.org")
    credential = instance.write("badge.json", row.document)

    def status() -> tuple[int, str]:
        result = verify(instance, credential)
        assert "Traceback" not in result.stderr
        return result.returncode, status_line(result.stdout)

    code, line = status()
    assert code == 0 and line.startswith("PASS") and "not revoked" in line, line
    assert instance.run("suspend", row.id, "--reason", "Under review").returncode == 0
    code, line = status()
    assert code == 1 and line.startswith("FAIL") and "suspended" in line, line
    assert instance.run("reinstate", row.id).returncode == 0
    code, line = status()
    assert code == 0 and line.startswith("PASS"), line
    assert instance.run("revoke", row.id, "--reason", "Withdrawn").returncode == 0
    code, line = status()
    assert code == 1 and line.startswith("FAIL") and "revoked" in line, line

    # Another installation (another address) does not host these lists: not known.
    other = verify(instance, credential, ISSUER_BASE_URL="http://other.badges.test")
    line = status_line(other.stdout)
    assert line.startswith("WARN") and "could not check" in line, line


def test_a_tampered_status_list_is_not_trusted(instance: Instance) -> None:
    row = instance.award("ada@example.org")
    credential = instance.write("badge.json", row.document)
    assert instance.run("revoke", row.id, "--reason", "Withdrawn").returncode == 0
    revocation, suspension = instance.lists()
    document = json.loads(Path(revocation).read_text())
    bits = Bitstring.decode(document["credentialSubject"]["encodedList"])
    index = int(json.loads(row.document)["credentialStatus"][0]["statusListIndex"])
    assert bits.get(index)
    bits.set(index, False)  # someone "un-revokes" their badge in a copy of the list
    document["credentialSubject"]["encodedList"] = bits.encode()
    forged = instance.write("forged.json", document)
    result = verify(instance, credential, "--status-list", forged, "--status-list", suspension)
    line = status_line(result.stdout)
    assert line.startswith("WARN"), line
    assert "could not check" in result.stdout and "signature" in result.stdout
    assert "not revoked" not in result.stdout


@pytest.mark.parametrize("content, words", [
    ("not json", "is not valid JSON"),
    ("[]", "must hold one status list credential"),
    ('{"type": "BitstringStatusListCredential"}', "has no id"),
])
def test_unreadable_status_list_files(instance: Instance, content: str, words: str) -> None:
    row = instance.award("ada@example.org")
    credential = instance.write("badge.json", row.document)
    result = verify(instance, credential, "--status-list", instance.write("bad.json", content))
    assert result.returncode == 2
    assert words in result.stderr
