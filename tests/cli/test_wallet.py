"""``issuer wallet-links``, as staff run it: a fresh exchange per call, both links printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.services.achievements import get_achievement
from issuer.services.awards import AwardRequest, Recipient, award
from issuer.services.issuers import get_issuer
from issuer.storage.models import Credential
from issuer.storage.wallets import WalletExchange
from tests.cli_instance import BASE_URL, CliInstance
from tests.web.wallet.holder import parse_dcc_link, parse_lcw_link

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

    def exchanges(self) -> list[WalletExchange]:
        with self.session() as session:
            return list(session.scalars(select(WalletExchange).order_by(WalletExchange.id)))


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[Instance]:
    inst = Instance.create(tmp_path, fresh_database_url)
    inst.set_up_guild()
    yield inst
    inst.close()


def test_prints_both_links_of_one_fresh_exchange(instance: Instance) -> None:
    cid = instance.award("ada@example.org").id
    result = instance.run("wallet-links", cid)
    assert result.returncode == 0, result.stderr
    # The Learner Credential Wallet's links come first; other protocols' follow.
    lcw_line, dcc_line = result.stdout.splitlines()[:2]
    lcw, dcc = parse_lcw_link(lcw_line), parse_dcc_link(dcc_line)
    assert lcw.vc_request_url.startswith(f"{BASE_URL}/exchanges/")
    assert dcc == {"credentialRequestOrigin": BASE_URL,
                   "protocols": {"vcapi": lcw.vc_request_url}}
    (row,) = instance.exchanges()
    assert (row.credential_id, row.state, row.challenge) == (cid, "pending", lcw.challenge)
    assert row.started_by is not None and row.started_by.startswith("cli (")
    # The exchange id is not stored, only its hash.
    assert lcw.vc_request_url.rsplit("/", 1)[-1] not in row.exchange_hash

    by_address = instance.run("wallet-links", f"{BASE_URL}/credentials/{cid}")
    assert by_address.returncode == 0, by_address.stderr
    assert by_address.stdout.splitlines()[0] != lcw_line
    assert len(instance.exchanges()) == 2


@pytest.mark.parametrize(("args", "words"), [
    (["00000000-0000-4000-8000-000000000000"], "no credential"),
    (["not-an-id"], "no credential"),
])
def test_unknown_credentials_are_refused(instance: Instance, args: list[str],
                                         words: str) -> None:
    result = instance.run("wallet-links", *args)
    assert result.returncode == 1
    assert words in result.stderr
    assert result.stdout == ""


def test_a_revoked_credential_gets_no_links(instance: Instance) -> None:
    cid = instance.award("ada@example.org").id
    assert instance.run("revoke", cid, "--reason", "in error").returncode == 0
    result = instance.run("wallet-links", cid)
    assert result.returncode == 1
    assert "revoked" in result.stderr
    assert instance.exchanges() == []
