"""``issuer policies set-measures`` and ``show-measures``, run as installed on a real
database: the thresholds the approval of a claim then enforces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.storage.measure_policies import MeasurePolicy
from tests.cli_instance import CliInstance

pytestmark = pytest.mark.db


@pytest.fixture()
def instance(tmp_path: Path, fresh_database_url: str) -> Iterator[CliInstance]:
    made = CliInstance.create(tmp_path, fresh_database_url)
    made.set_up_guild()
    yield made
    made.close()


def test_set_and_show_the_thresholds(instance: CliInstance) -> None:
    done = instance.run("policies", "set-measures", "guild/peer-scaffolder",
                        "--min-people", "5", "--min-communities", "2")
    assert done.returncode == 0, done.stderr
    assert "min-people: 5" in done.stdout and "min-communities: 2" in done.stdout
    with instance.session() as session:
        row = session.scalars(select(MeasurePolicy)).one()
        assert (row.min_people, row.min_communities, row.min_rate) == (5, 2, 0)
        assert row.updated_by is not None and row.updated_by.startswith("cli (")
    shown = instance.run("policies", "show-measures", "peer-scaffolder", "--issuer", "guild",
                         "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "achievement": "peer-scaffolder", "min_people": 5, "min_acknowledgements": 0.0,
        "min_rate": 0, "min_transfer": 0, "min_threads": 0, "min_communities": 2,
        "min_months": 0}


def test_refusals_exit_1_with_a_message(instance: CliInstance) -> None:
    unknown = instance.run("policies", "set-measures", "guild/no-such-badge",
                           "--min-people", "5")
    assert unknown.returncode == 1 and unknown.stderr.strip()
    out_of_range = instance.run("policies", "set-measures", "guild/peer-scaffolder",
                                "--min-rate", "150")
    assert out_of_range.returncode == 1 and "from 0 to 100" in out_of_range.stderr
    bare = instance.run("policies", "set-measures", "peer-scaffolder", "--min-people", "1")
    assert bare.returncode == 1 and "ISSUER/ACHIEVEMENT" in bare.stderr
