"""``bench floor`` on SQLite: its stripped award is a real award (the service stores what it
answers, byte for byte, and verifies it, status included), and every kind is measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import floor
from bench.in_process import caller, installation
from issuer.app import create_app

pytestmark = pytest.mark.slow


def test_the_stripped_award_is_stored_as_answered_and_verifies(tmp_path: Path) -> None:
    with installation("SQLite", tmp_path, floor.BASE) as (settings, token), \
            floor.environment(settings):
        kinds = floor._kinds(token)
        answer = kinds[floor.STRIPPED]()
        assert isinstance(answer, bytes)
        credential = json.loads(answer)
        proofs = credential["proof"]
        proofs = proofs if isinstance(proofs, list) else [proofs]
        assert "eddsa-rdfc-2022" in {proof["cryptosuite"] for proof in proofs}
        assert {entry["statusPurpose"] for entry in credential["credentialStatus"]} == {
            "revocation", "suspension"}
        call = caller(create_app(), token, floor.BASE)
        credential_id = credential["id"].rsplit("/", 1)[1]
        assert call("GET", f"/api/v1/credentials/{credential_id}", None, 200) == answer
        report = json.loads(call("POST", "/credentials/verify",
                                 b'{"verifiableCredential":' + answer + b"}", 200))
        assert report["verified"] is True


def test_every_kind_is_measured_against_a_signature(tmp_path: Path) -> None:
    with installation("SQLite", tmp_path, floor.BASE) as (settings, token), \
            floor.environment(settings):
        seen = floor.ratios(token, rounds=2, per_round=3, warmup=1)
    assert set(seen) == set(floor.KINDS)
    assert all(len(values) == 2 and all(v > 0 for v in values) for values in seen.values())
