"""Who ends a transaction: the edges, each in one place; never the services or the core.

A web request commits in ``issuer.web.context`` (its unit of work), a background job in
``issuer.jobs.transaction``, a command in one place of ``issuer.cli``. Services flush, and
undo part of their work with a SAVEPOINT (``session.begin_nested()``), never with a
rollback of their caller's transaction.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "issuer"


def calls(layer: str, method: str) -> list[str]:
    """``file:line`` of every ``<anything>.<method>(…)`` call under ``issuer/<layer>``."""
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == method):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def files(places: list[str]) -> set[str]:
    return {place.partition(":")[0] for place in places}


def test_the_walk_finds_calls() -> None:
    # The test must be able to fail: the web layer does commit, somewhere.
    assert calls("web", "commit")


@pytest.mark.parametrize(("layer", "home"), [
    ("web", "issuer/web/context.py"),
    ("jobs", "issuer/jobs/transaction.py"),
])
def test_an_edge_commits_in_one_place(layer: str, home: str) -> None:
    commits = calls(layer, "commit")
    assert len(commits) == 1 and files(commits) == {home}, commits
    assert files(calls(layer, "rollback")) <= {home}, calls(layer, "rollback")


def test_the_cli_commits_in_one_place() -> None:
    commits = calls("cli", "commit")
    assert len(commits) == 1, commits


@pytest.mark.parametrize("layer", ["services", "core"])
def test_services_and_the_core_never_commit(layer: str) -> None:
    assert calls(layer, "commit") == []


def test_services_never_roll_back_their_callers_work() -> None:
    assert calls("services", "rollback") == []
