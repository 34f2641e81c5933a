"""``issuer verify`` where the service runs: its own badges verify with no ``--trust``.

The installed command, with the service's settings (ISSUER_DATABASE_URL, ISSUER_BASE_URL),
on the badge as a learner downloads it: JSON, and baked into a PNG and an SVG.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.issuers import get_issuer
from issuer.storage.models import Credential
from tests.cli_instance import CliInstance

pytestmark = pytest.mark.db


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[CliInstance]:
    inst = CliInstance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


def awarded(instance: CliInstance) -> Credential:
    with instance.session() as session:
        issuer = get_issuer(session, "guild")
        row = award(session, instance.context(), issuer,
                    get_achievement(session, issuer, "peer-scaffolder"),
                    AwardRequest(recipient=Recipient.parse("ada@example.org")), actor="test")
        session.commit()
        return row


def test_this_services_badge_verifies_with_no_trust_in_every_download(
        instance: CliInstance) -> None:
    row = awarded(instance)
    badge = instance.tmp / "badge.json"
    badge.write_text(row.document, encoding="utf-8")
    files = [badge]
    for fmt in ("png", "svg"):
        out = instance.tmp / f"badge.{fmt}"
        baked = instance.run("bake", row.id, "--format", fmt, "--out", str(out))
        assert baked.returncode == 0, baked.stderr
        files.append(out)
    for path in files:
        result = instance.run("verify", str(path))
        assert result.returncode == 0, (path, result.stdout, result.stderr)
        assert "VALID" in result.stdout and "INVALID" not in result.stdout
        assert "PASS  Signature [proof]" in result.stdout
        assert "not revoked" in result.stdout  # its list is read from the database

    # Revoked: the next verification says so, still without any --trust.
    assert instance.run("revoke", row.id, "--reason", "Withdrawn").returncode == 0
    revoked = instance.run("verify", str(files[1]))
    assert revoked.returncode == 1 and "INVALID: failed: status" in revoked.stdout


def test_away_from_the_service_the_same_badge_needs_its_issuer(
        instance: CliInstance) -> None:
    row = awarded(instance)
    badge = instance.tmp / "badge.json"
    badge.write_text(row.document, encoding="utf-8")
    elsewhere = instance.tmp / "elsewhere" / "issuer.db"
    # Offline, so that the made-up host of the test is not looked up.
    result = instance.run("verify", str(badge), "--offline",
                          ISSUER_DATABASE_URL=f"sqlite:///{elsewhere}")
    assert result.returncode == 1
    assert "FAIL  Signature [proof]" in result.stdout
    assert "cannot be fetched offline" in result.stdout
    assert not elsewhere.parent.exists()
