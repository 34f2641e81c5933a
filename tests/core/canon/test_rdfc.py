"""RDFC-1.0 against the W3C test suite (tests/vectors/rdf-canon) and the work budget."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from issuer.core.canon.nquads import BlankNode, Quad, parse_nquads
from issuer.core.canon.rdfc import (
    WorkBudget,
    canonical_issued_ids,
    canonicalize_nquads,
    canonicalize_quads,
    canonicalize_with_ids,
)
from issuer.core.errors import InputError, WorkLimitExceeded

SUITE = Path(__file__).resolve().parents[2] / "vectors" / "rdf-canon"
MANIFEST = json.loads((SUITE / "manifest.jsonld").read_text(encoding="utf-8"))
ENTRIES = MANIFEST["entries"]

EVAL = "rdfc:RDFC10EvalTest"
MAP = "rdfc:RDFC10MapTest"
NEGATIVE = "rdfc:RDFC10NegativeEvalTest"

# A hostile input must be refused quickly, not merely eventually. Generous for slow CI.
REFUSAL_SECONDS = 5.0
RDF_FIRST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>"
RDF_REST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
RDF_NIL = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"


def read_text(relative: str) -> str:
    # Bytes, then UTF-8: universal-newline reading would split test060 at U+0085.
    return (SUITE / relative).read_bytes().decode("utf-8")


def hash_algorithm(entry: dict) -> str:
    return entry.get("hashAlgorithm", "SHA256")


def entry_id(entry: dict) -> str:
    return entry["id"].lstrip("#")


def test_manifest_is_complete() -> None:
    """Guards the parametrisation below: every entry is one of the three known types."""
    counts: dict[str, int] = {}
    for entry in ENTRIES:
        counts[entry["type"]] = counts.get(entry["type"], 0) + 1
    assert counts == {EVAL: 64, MAP: 21, NEGATIVE: 1}
    assert {hash_algorithm(entry) for entry in ENTRIES} == {"SHA256", "SHA384"}


@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_w3c_suite(entry: dict) -> None:
    text = read_text(entry["action"])
    algorithm = hash_algorithm(entry)
    if entry["type"] == EVAL:
        expected = (SUITE / entry["result"]).read_bytes()
        actual = canonicalize_nquads(text, hash_algorithm=algorithm)
        assert actual.encode("utf-8") == expected
    elif entry["type"] == MAP:
        expected_map = json.loads(read_text(entry["result"]))
        assert canonical_issued_ids(parse_nquads(text), hash_algorithm=algorithm) == expected_map
    elif entry["type"] == NEGATIVE:
        started = time.monotonic()
        with pytest.raises(WorkLimitExceeded, match="hostile graph"):
            canonicalize_nquads(text, hash_algorithm=algorithm)
        assert time.monotonic() - started < REFUSAL_SECONDS
    else:
        pytest.fail(f"unknown test type {entry['type']}")


def test_map_and_document_agree() -> None:
    """The map and the document come from the same run: relabelling the input with the
    map and sorting its lines gives the canonical document."""
    text = read_text("rdfc10/test020-in.nq")
    document, issued = canonicalize_with_ids(parse_nquads(text))
    relabelled = text
    # Longest labels first so that "e1" does not clobber "e10".
    for original in sorted(issued, key=len, reverse=True):
        relabelled = relabelled.replace(f"_:{original} ", f"_:@{issued[original]} ")
    lines = sorted(line + "\n" for line in relabelled.replace("_:@", "_:").splitlines())
    assert "".join(lines) == document


def relabel_and_shuffle(quads: list[Quad], seed: int) -> list[Quad]:
    rng = random.Random(seed)
    labels = sorted(
        {
            term.id
            for quad in quads
            for term in (quad.subject, quad.object, quad.graph)
            if isinstance(term, BlankNode)
        }
    )
    fresh = [f"n{i}x" for i in range(len(labels))]
    rng.shuffle(fresh)
    mapping = dict(zip(labels, fresh, strict=True))

    def swap(term):
        return BlankNode(mapping[term.id]) if isinstance(term, BlankNode) else term

    out = [Quad(swap(q.subject), q.predicate, swap(q.object), swap(q.graph)) for q in quads]
    rng.shuffle(out)
    return out


ISOMORPHISM_CASES = [
    e for e in ENTRIES if e["type"] == EVAL and e["computationalComplexity"] != "low"
]


@pytest.mark.parametrize("entry", ISOMORPHISM_CASES, ids=entry_id)
def test_canonical_form_ignores_labels_and_order(entry: dict) -> None:
    quads = parse_nquads(read_text(entry["action"]))
    expected = (SUITE / entry["result"]).read_bytes().decode("utf-8")
    for seed in range(3):
        assert canonicalize_quads(relabel_and_shuffle(quads, seed)) == expected


def test_repeated_quads_count_once() -> None:
    quads = parse_nquads(read_text("rdfc10/test003-in.nq"))
    assert canonicalize_quads(quads + quads) == canonicalize_quads(quads)


def test_sha384_changes_the_labelling() -> None:
    text = read_text("rdfc10/test020-in.nq")
    sha256 = canonicalize_nquads(text, hash_algorithm="sha256")
    assert canonicalize_nquads(text, hash_algorithm="SHA-384") != sha256
    assert canonicalize_nquads(text) == sha256


def test_unknown_hash_algorithm_is_refused() -> None:
    with pytest.raises(InputError, match="md5"):
        canonicalize_nquads("_:a <urn:p> <urn:o> .\n", hash_algorithm="md5")


# ---------------------------------------------------------------------------- work budget


def poison() -> str:
    return read_text("rdfc10/test074-in.nq")


def test_time_limit_is_honoured() -> None:
    budget = WorkBudget(max_seconds=0.05, max_steps=10**12, max_calls_per_blank_node=10**12)
    started = time.thread_time()
    with pytest.raises(WorkLimitExceeded, match=r"more than 0\.05 s of CPU time"):
        canonicalize_nquads(poison(), budget=budget)
    # Stops at the first check after the limit; far below what the clique needs.
    assert time.thread_time() - started < 1.0


def test_step_limit_is_honoured() -> None:
    budget = WorkBudget(max_seconds=60, max_steps=25, max_calls_per_blank_node=10**12)
    with pytest.raises(WorkLimitExceeded, match="more than 25 steps"):
        canonicalize_nquads(poison(), budget=budget)


def test_deep_iteration_limit_is_honoured() -> None:
    budget = WorkBudget(max_seconds=60, max_steps=10**12, max_calls_per_blank_node=3)
    with pytest.raises(WorkLimitExceeded, match="more than 3 deep hashing passes"):
        canonicalize_nquads(poison(), budget=budget)


def test_default_budget_lets_the_legitimate_poison_cases_through() -> None:
    """test044-046 are "computable given defined limits"; a tight budget refuses them, the
    default one does not."""
    text = read_text("rdfc10/test044-in.nq")
    expected = read_text("rdfc10/test044-rdfc10.nq")
    assert canonicalize_nquads(text, budget=WorkBudget()) == expected
    with pytest.raises(WorkLimitExceeded):
        canonicalize_nquads(text, budget=WorkBudget(max_steps=100))
    with pytest.raises(WorkLimitExceeded):
        canonicalize_nquads(text, budget=WorkBudget(max_calls_per_blank_node=10))


def test_distinct_blank_nodes_need_no_deep_hashing() -> None:
    """When every first-degree hash is unique no N-degree step runs, so the smallest
    possible budget suffices; look-alike nodes do need it."""
    tiny = WorkBudget(max_steps=1, max_calls_per_blank_node=1)
    text = (
        "<urn:cred> <urn:subject> _:s .\n"
        '_:s <urn:name> "Ada" .\n'
        "_:s <urn:achievement> _:a .\n"
        '_:a <urn:name> "Badge" .\n'
        "<urn:cred> <urn:proof> _:p _:g .\n"
    )
    assert canonicalize_nquads(text, budget=tiny) == canonicalize_nquads(text)
    lookalikes = "<urn:s> <urn:p> _:x .\n<urn:s> <urn:p> _:y .\n"
    with pytest.raises(WorkLimitExceeded):
        canonicalize_nquads(lookalikes, budget=tiny)


@pytest.mark.parametrize(
    "vector",
    ["1edtech-impl-guide-ob30-eddsa-rdfc-2022", "1edtech-impl-guide-clr20-eddsa-rdfc-2022"],
)
def test_published_credentials_are_canonical_without_deep_hashing(vector: str) -> None:
    """The canonical N-Quads of the 1EdTech OB 3.0 / CLR 2.0 signing examples are already
    canonical, and reproducing them needs no N-degree work at all."""
    path = SUITE.parent / vector / "document-canon.txt"
    text = path.read_bytes().decode("utf-8")
    tiny = WorkBudget(max_steps=1, max_calls_per_blank_node=1)
    assert canonicalize_quads(reversed(parse_nquads(text)), budget=tiny) == text


def identical_list(length: int) -> str:
    lines = ["<urn:s> <urn:p> _:l0 ."]
    for i in range(length):
        rest = f"_:l{i + 1}" if i < length - 1 else RDF_NIL
        lines.append(f'_:l{i} {RDF_FIRST} "same" .')
        lines.append(f"_:l{i} {RDF_REST} {rest} .")
    return "\n".join(lines) + "\n"


def test_list_of_identical_values_fits_the_default_budget() -> None:
    quads = parse_nquads(identical_list(60))
    document = canonicalize_quads(quads)
    assert document.count("\n") == 121
    assert canonicalize_quads(relabel_and_shuffle(quads, 7)) == document


def test_very_long_chain_of_lookalikes_is_refused_not_crashed() -> None:
    budget = WorkBudget(max_seconds=60, max_steps=10**12, max_calls_per_blank_node=10**12)
    started = time.monotonic()
    with pytest.raises(WorkLimitExceeded, match="chained"):
        canonicalize_nquads(identical_list(3000), budget=budget)
    assert time.monotonic() - started < REFUSAL_SECONDS


@pytest.mark.parametrize(
    "limits",
    [{"max_seconds": 0}, {"max_steps": 0}, {"max_calls_per_blank_node": 0}],
)
def test_budget_limits_must_be_positive(limits: dict) -> None:
    with pytest.raises(ValueError, match="positive"):
        WorkBudget(**limits)


def test_time_spent_waiting_for_the_cpu_does_not_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is CPU time: a wall clock that jumps a minute between checks (a stalled
    machine) does not stop a run that does little work."""
    clock = iter(range(0, 10**9, 60))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    two = "_:a <http://example.org/p> _:b .\n_:b <http://example.org/p> _:a .\n"
    assert canonicalize_nquads(two, budget=WorkBudget(max_seconds=1.0)) == (
        "_:c14n0 <http://example.org/p> _:c14n1 .\n_:c14n1 <http://example.org/p> _:c14n0 .\n")
