"""Any single change to a signed credential — anywhere, proof included — that changes what was
signed is rejected.

An eddsa-rdfc-2022 proof signs the canonical RDF of the credential and of its proof options
(VC DI EdDSA §3.3), not their JSON bytes: an inline context added after the base contexts
(VCDM 2.0 §4.3 allows them) that defines nothing the credential uses leaves every signed
statement as it was, and verifies. Every other change must not.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer import config
from issuer.core.canon import canonicalize
from issuer.core.verify import UNEXPECTED
from tests.core.helpers import signed_badge, verifier

SIGNED, _KEY = signed_badge()
VERIFIER = verifier()
assert VERIFIER.verify(SIGNED).valid
LOADER = config.context_loader()


def signed_statements(document: dict[str, Any]) -> tuple[str, str]:
    """The canonical N-Quads an eddsa-rdfc-2022 proof signs: the credential without its proof,
    and the proof options (without proofValue) read with the credential's contexts."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof = document["proof"]
    proof = proof[0] if isinstance(proof, list) else proof
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    options["@context"] = document["@context"]
    return canonicalize(unsecured, LOADER), canonicalize(options, LOADER)


ORIGINAL_STATEMENTS = signed_statements(SIGNED)

Path = tuple[str | int, ...]


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every place a value sits in ``node`` (object members and array items)."""
    found: list[Path] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.append((*prefix, i))
            found.extend(_paths(value, (*prefix, i)))
    return found


def _containers(node: Any, prefix: Path = ()) -> list[Path]:
    found: list[Path] = [prefix] if isinstance(node, dict | list) else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_containers(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_containers(value, (*prefix, i)))
    return found


PATHS = _paths(SIGNED)
CONTAINERS = _containers(SIGNED)

scalars = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=2),
)


def _get(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _parent(doc: Any, path: Path) -> tuple[Any, str | int]:
    return _get(doc, path[:-1]), path[-1]


@st.composite
def single_changes(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    doc = copy.deepcopy(SIGNED)
    operation = draw(st.sampled_from(["change", "add", "remove"]))
    if operation == "change":
        path = draw(st.sampled_from(PATHS))
        parent, key = _parent(doc, path)
        old = parent[key]
        if isinstance(old, str) and draw(st.booleans()):
            # Small edits to strings are the realistic forgery: one character.
            i = draw(st.integers(min_value=0, max_value=max(len(old) - 1, 0)))
            char = draw(st.characters(codec="utf-8"))
            new: Any = old[:i] + char + old[i + 1 :]
        else:
            new = draw(values)
        if json.dumps(new, sort_keys=True) == json.dumps(old, sort_keys=True):
            new = [old, "x"]
        parent[key] = new
        return f"change {path}", doc
    if operation == "add":
        path = draw(st.sampled_from(CONTAINERS))
        container = _get(doc, path)
        value = draw(values)
        if isinstance(container, dict):
            name = draw(st.text(min_size=1, max_size=10).filter(lambda k, c=container: k not in c))
            container[name] = value
            return f"add {(*path, name)}", doc
        container.insert(draw(st.integers(min_value=0, max_value=len(container))), value)
        return f"insert into {path}", doc
    path = draw(st.sampled_from(PATHS))
    parent, key = _parent(doc, path)
    del parent[key]
    return f"remove {path}", doc


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(single_changes())
def test_every_single_change_is_rejected(change: tuple[str, dict[str, Any]]) -> None:
    description, tampered = change
    report = VERIFIER.verify(tampered)
    if report.valid:
        # Only a change that leaves every signed statement as it was may verify.
        assert signed_statements(tampered) == ORIGINAL_STATEMENTS, description
        return
    # Rejected for a reason the pipeline names, not by its last-resort guard.
    assert all(c.message != UNEXPECTED for c in report.checks), (description, report.checks)
