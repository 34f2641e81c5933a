"""RDF Dataset Canonicalization, RDFC-1.0 (W3C Recommendation, https://www.w3.org/TR/rdf-canon/).

Every ``*-rdfc-*`` signature hashes the output of :func:`canonicalize_quads`, so this module
follows the Recommendation step by step; each function names the section it implements.

Work is bounded. Hash N-Degree Quads (§4.8) explores permutations of blank nodes that look
alike, which a hostile dataset can make astronomically many (see the Recommendation's
security consideration "Dataset Poisoning"). A :class:`WorkBudget` caps the wall time, the
total units of work and the number of times any one blank node is hashed at N degrees;
running past any cap raises :class:`~issuer.core.errors.WorkLimitExceeded` instead of tying
up a worker.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from issuer.core.canon.nquads import BlankNode, Quad, parse_nquads, serialize_term
from issuer.core.errors import InputError, WorkLimitExceeded

__all__ = [
    "DEFAULT_BUDGET",
    "HASH_ALGORITHMS",
    "Statement",
    "WorkBudget",
    "canonical_issued_ids",
    "canonicalize_nquads",
    "canonicalize_quads",
    "canonicalize_statements",
    "canonicalize_with_ids",
]

HASH_ALGORITHMS: dict[str, Callable[..., Any]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}


@dataclass(frozen=True, slots=True)
class WorkBudget:
    """How much work one canonicalization may do before it is stopped.

    ``max_seconds``
        CPU time of the canonicalizing thread for the whole run (``time.thread_time``),
        checked between units of work: the work an input causes, not the time a busy
        machine keeps the thread waiting, so a valid credential is not cut short because
        other processes held the CPUs for a second.
    ``max_steps``
        Units of work in the N-degree phase: each call of Hash N-Degree Quads and each
        permutation it examines counts one. A credential whose blank nodes all differ needs
        none. The W3C suite's hardest legitimate inputs ("poison – evil", 12 look-alike
        blank nodes) need 3,348; a JSON-LD list of 100 identical values about 29,000. The
        10-node clique of the suite's negative test is still unfinished after 14 million.
    ``max_calls_per_blank_node``
        How often Hash N-Degree Quads may run for any one blank node: the "deep iterations"
        limit the Recommendation's security considerations suggest. The poison cases need
        43 and a list of *n* identical values about *n*; the clique passes 200 after about
        34,000 steps, which is where the default budget stops it (in a few hundredths of a
        second).
    """

    max_seconds: float = 1.0
    max_steps: int = 100_000
    max_calls_per_blank_node: int = 200

    def __post_init__(self) -> None:
        if self.max_seconds <= 0 or self.max_steps < 1 or self.max_calls_per_blank_node < 1:
            raise ValueError("every WorkBudget limit must be positive")


DEFAULT_BUDGET = WorkBudget()

# Hash N-Degree Quads recurses once per look-alike blank node along a path. Stopping well
# short of Python's recursion limit (1000 frames, shared with the caller's stack) turns a
# very long chain of look-alikes into a clear refusal rather than a RecursionError.
_MAX_DEPTH = 400


class Statement:
    """One quad as the algorithm reads it: the non-blank terms serialised once (which keeps
    first-degree hashing and the final output to string joins) and the blank nodes by label.

    ``subject`` and ``obj`` are serialised terms, or ``""`` for a blank node, whose label is
    then ``subject_bnode`` / ``object_bnode``. ``predicate`` is the IRI itself, as Hash Related
    Blank Node (§4.7) uses it, and ``predicate_text`` its serialised form ``<iri>``. ``graph``
    is the serialised graph name, ``""`` for the default graph or a blank node
    (``graph_bnode``).

    A plain class rather than a frozen dataclass: the fast JSON-LD path builds one per
    statement of every document, and a frozen dataclass costs several times as much to make.
    """

    __slots__ = (
        "graph",
        "graph_bnode",
        "obj",
        "object_bnode",
        "predicate",
        "predicate_text",
        "subject",
        "subject_bnode",
    )

    def __init__(
        self,
        subject: str,
        subject_bnode: str | None,
        predicate: str,
        predicate_text: str,
        obj: str,
        object_bnode: str | None,
        graph: str,
        graph_bnode: str | None,
    ) -> None:
        self.subject = subject
        self.subject_bnode = subject_bnode
        self.predicate = predicate
        self.predicate_text = predicate_text
        self.obj = obj
        self.object_bnode = object_bnode
        self.graph = graph
        self.graph_bnode = graph_bnode

    def line(self, label: Callable[[str], str]) -> str:
        """The canonical N-Quads line with each blank node written as ``_:`` + label(id)."""
        s = self.subject if self.subject_bnode is None else "_:" + label(self.subject_bnode)
        o = self.obj if self.object_bnode is None else "_:" + label(self.object_bnode)
        if self.graph_bnode is not None:
            return f"{s} {self.predicate_text} {o} _:{label(self.graph_bnode)} .\n"
        if self.graph:
            return f"{s} {self.predicate_text} {o} {self.graph} .\n"
        return f"{s} {self.predicate_text} {o} .\n"


def _statement(quad: Quad) -> Statement:
    s, o, g = quad.subject, quad.object, quad.graph
    s_bnode = s.id if isinstance(s, BlankNode) else None
    o_bnode = o.id if isinstance(o, BlankNode) else None
    g_bnode = g.id if isinstance(g, BlankNode) else None
    return Statement(
        "" if s_bnode is not None else serialize_term(s),
        s_bnode,
        quad.predicate.value,
        serialize_term(quad.predicate),
        "" if o_bnode is not None else serialize_term(o),
        o_bnode,
        "" if g is None or g_bnode is not None else serialize_term(g),
        g_bnode,
    )


def _statements(quads: Iterable[Quad]) -> Iterator[Statement]:
    # A dataset is a set: repeated quads would otherwise be hashed and written twice.
    for quad in dict.fromkeys(quads):
        yield _statement(quad)


def _distinct_permutations(items: list[str]) -> Iterator[list[str]]:
    """Every distinct ordering of ``items``, in lexicographic order.

    A related blank node can appear in the list more than once (one entry per mention), and
    repeated orderings yield the same path, so only distinct ones are generated.
    """
    current = sorted(items)
    n = len(current)
    while True:
        yield list(current)
        i = n - 2
        while i >= 0 and current[i] >= current[i + 1]:
            i -= 1
        if i < 0:
            return
        j = n - 1
        while current[j] <= current[i]:
            j -= 1
        current[i], current[j] = current[j], current[i]
        current[i + 1 :] = reversed(current[i + 1 :])


class _Canonicalizer:
    """The canonicalization state of §4.2 plus the bookkeeping for the work budget."""

    def __init__(
        self, statements: Iterable[Statement], budget: WorkBudget, hash_algorithm: str
    ) -> None:
        try:
            self._new_hash = HASH_ALGORITHMS[hash_algorithm.lower().replace("-", "")]
        except KeyError:
            raise InputError(
                f"unknown RDFC-1.0 hash algorithm {hash_algorithm!r}; "
                f"use one of {', '.join(HASH_ALGORITHMS)}"
            ) from None
        self.budget = budget
        self.deadline = time.thread_time() + budget.max_seconds
        self.steps = 0
        self.calls: dict[str, int] = {}
        # Read after the clock starts, so turning quads into statements counts against it.
        self.entries = list(statements)
        self.blank_node_to_quads: dict[str, list[Statement]] = {}
        self.first_degree: dict[str, str] = {}
        self.canonical: dict[str, str] = {}
        self._related_cache: dict[str, str] = {}

    # ------------------------------------------------------------------ budget

    def _check_time(self) -> None:
        if time.thread_time() > self.deadline:
            raise WorkLimitExceeded(
                "canonicalization stopped: it used more than "
                f"{self.budget.max_seconds:g} s of CPU time; the data may be a hostile graph"
            )

    def _step(self) -> None:
        self.steps += 1
        if self.steps > self.budget.max_steps:
            raise WorkLimitExceeded(
                "canonicalization stopped: the data needs more than "
                f"{self.budget.max_steps} steps; it may be a hostile graph"
            )
        self._check_time()

    # ------------------------------------------------------------------ hashing

    def _hash(self, data: str) -> str:
        return self._new_hash(data.encode("utf-8")).hexdigest()

    def hash_first_degree_quads(self, reference: str) -> str:
        """§4.6 Hash First Degree Quads: hash the mention set of ``reference`` with itself
        written ``_:a`` and every other blank node ``_:z``."""

        def label(identifier: str) -> str:
            return "a" if identifier == reference else "z"

        nquads = sorted(entry.line(label) for entry in self.blank_node_to_quads[reference])
        return self._hash("".join(nquads))

    def hash_related_blank_node(
        self, related: str, entry: Statement, issuer: dict[str, str], position: str
    ) -> str:
        """§4.7 Hash Related Blank Node."""
        identifier = self.canonical.get(related) or issuer.get(related)
        # Steps 3-4: issued identifiers go in with "_:", first-degree hashes without.
        tail = "_:" + identifier if identifier is not None else self.first_degree[related]
        data = position + tail if position == "g" else f"{position}<{entry.predicate}>{tail}"
        # The same (position, predicate, identifier) recurs across permutations and calls.
        cached = self._related_cache.get(data)
        if cached is None:
            cached = self._related_cache[data] = self._hash(data)
        return cached

    def hash_n_degree_quads(
        self, identifier: str, issuer: dict[str, str], depth: int = 0
    ) -> tuple[str, dict[str, str]]:
        """§4.8 Hash N-Degree Quads.

        ``issuer`` is an issued-identifiers map (prefix ``b``); it is never modified, and the
        returned map is a new one whenever something was issued. Counts against the budget.
        """
        if depth >= _MAX_DEPTH:
            raise WorkLimitExceeded(
                "canonicalization stopped: look-alike blank nodes are chained more than "
                f"{_MAX_DEPTH} deep; the data may be a hostile graph"
            )
        calls = self.calls.get(identifier, 0) + 1
        if calls > self.budget.max_calls_per_blank_node:
            raise WorkLimitExceeded(
                "canonicalization stopped: one blank node needed more than "
                f"{self.budget.max_calls_per_blank_node} deep hashing passes; "
                "the data may be a hostile graph"
            )
        self.calls[identifier] = calls
        self._step()

        # Steps 1-3: group related blank nodes by how they relate to ``identifier``.
        related_by_hash: dict[str, list[str]] = {}
        for entry in self.blank_node_to_quads[identifier]:
            for position, related in (
                ("s", entry.subject_bnode),
                ("o", entry.object_bnode),
                ("g", entry.graph_bnode),
            ):
                if related is not None and related != identifier:
                    related_hash = self.hash_related_blank_node(related, entry, issuer, position)
                    related_by_hash.setdefault(related_hash, []).append(related)

        # Steps 4-5.
        data_to_hash = self._new_hash()
        canonical = self.canonical
        for related_hash in sorted(related_by_hash):
            data_to_hash.update(related_hash.encode("ascii"))
            chosen_path = ""
            chosen_issuer: dict[str, str] | None = None
            for permutation in _distinct_permutations(related_by_hash[related_hash]):
                self._step()
                issuer_copy = dict(issuer)
                path = ""
                recursion_list: list[str] = []
                pruned = False
                for related in permutation:
                    issued = canonical.get(related)
                    if issued is None:
                        issued = issuer_copy.get(related)
                        if issued is None:
                            recursion_list.append(related)
                            issued = issuer_copy[related] = f"b{len(issuer_copy)}"
                    path += "_:" + issued
                    # Step 5.4.4.3: this ordering can no longer beat the chosen path.
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        pruned = True
                        break
                if pruned:
                    continue
                for related in recursion_list:
                    result_hash, result_issuer = self.hash_n_degree_quads(
                        related, issuer_copy, depth + 1
                    )
                    path += f"_:{issuer_copy[related]}<{result_hash}>"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        pruned = True
                        break
                if pruned:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data_to_hash.update(chosen_path.encode("ascii"))
            assert chosen_issuer is not None  # the first permutation is never pruned
            issuer = chosen_issuer

        # Step 6.
        return data_to_hash.hexdigest(), issuer

    # ------------------------------------------------------------------ main algorithm

    def _issue_canonical(self, identifier: str) -> None:
        """§4.5 Issue Identifier, with the canonical issuer (prefix ``c14n``)."""
        if identifier not in self.canonical:
            self.canonical[identifier] = f"c14n{len(self.canonical)}"

    def run(self) -> dict[str, str]:
        """§4.4.3 Canonicalization Algorithm, steps 2-5. Returns the canonical issuer's
        issued identifiers map (input label → canonical label), in issue order."""
        # Step 2: the mention set of every blank node, each quad once per blank node.
        blank_node_to_quads = self.blank_node_to_quads
        for entry in self.entries:
            for identifier in (entry.subject_bnode, entry.object_bnode, entry.graph_bnode):
                if identifier is None:
                    continue
                mentions = blank_node_to_quads.setdefault(identifier, [])
                if not mentions or mentions[-1] is not entry:
                    mentions.append(entry)

        # Step 3: first-degree hashes, kept for Hash Related Blank Node.
        hash_to_blank_nodes: dict[str, list[str]] = {}
        for count, identifier in enumerate(blank_node_to_quads, start=1):
            first_degree = self.hash_first_degree_quads(identifier)
            self.first_degree[identifier] = first_degree
            hash_to_blank_nodes.setdefault(first_degree, []).append(identifier)
            if count % 1024 == 0:
                self._check_time()
        self._check_time()

        # Step 4: blank nodes with a unique first-degree hash are labelled in hash order.
        # When every hash is unique (most credentials) this is the whole job.
        shared: list[list[str]] = []
        for first_degree in sorted(hash_to_blank_nodes):
            identifiers = hash_to_blank_nodes[first_degree]
            if len(identifiers) == 1:
                self._issue_canonical(identifiers[0])
            else:
                shared.append(identifiers)

        # Step 5: look-alike blank nodes are told apart by their N-degree hashes.
        for identifiers in shared:
            hash_path_list: list[tuple[str, dict[str, str]]] = []
            for identifier in identifiers:
                if identifier in self.canonical:
                    continue
                temporary_issuer = {identifier: "b0"}
                hash_path_list.append(self.hash_n_degree_quads(identifier, temporary_issuer))
            # Stable sort: equal hashes keep list order, as the Recommendation's order allows.
            for _, result_issuer in sorted(hash_path_list, key=lambda result: result[0]):
                for existing in result_issuer:
                    self._issue_canonical(existing)
        return self.canonical

    def serialize(self) -> str:
        """§4.4.3 step 7 / §5: canonical N-Quads, lines in code point order."""
        label = self.canonical.__getitem__
        return "".join(sorted(entry.line(label) for entry in self.entries))


def _run(
    statements: Iterable[Statement], budget: WorkBudget | None, hash_algorithm: str
) -> _Canonicalizer:
    canonicalizer = _Canonicalizer(
        statements, DEFAULT_BUDGET if budget is None else budget, hash_algorithm
    )
    try:
        canonicalizer.run()
    except RecursionError:
        # Only reachable when the caller's own stack is already deep; same refusal as
        # _MAX_DEPTH.
        raise WorkLimitExceeded(
            "canonicalization stopped: look-alike blank nodes are chained too deep; "
            "the data may be a hostile graph"
        ) from None
    return canonicalizer


def canonicalize_with_ids(
    quads: Iterable[Quad],
    *,
    budget: WorkBudget | None = None,
    hash_algorithm: str = "sha256",
) -> tuple[str, dict[str, str]]:
    """RDFC-1.0: the canonical N-Quads document and the issued identifiers map
    (input blank-node label → canonical label, both without ``_:``)."""
    canonicalizer = _run(_statements(quads), budget, hash_algorithm)
    return canonicalizer.serialize(), dict(canonicalizer.canonical)


def canonicalize_quads(
    quads: Iterable[Quad],
    *,
    budget: WorkBudget | None = None,
    hash_algorithm: str = "sha256",
) -> str:
    """RDFC-1.0 canonical N-Quads of a dataset (repeated quads count once).

    Raises :class:`~issuer.core.errors.WorkLimitExceeded` when ``budget`` (default
    :class:`WorkBudget()`) runs out.
    """
    return canonicalize_with_ids(quads, budget=budget, hash_algorithm=hash_algorithm)[0]


def canonicalize_statements(
    statements: Iterable[Statement],
    *,
    budget: WorkBudget | None = None,
    hash_algorithm: str = "sha256",
) -> str:
    """RDFC-1.0 canonical N-Quads of a dataset given as prepared statements, each once.

    For producers that build :class:`Statement` rows directly (the fast JSON-LD path) rather
    than :class:`~issuer.core.canon.nquads.Quad` objects; unlike :func:`canonicalize_quads`
    it does not drop repeats. Same budget and errors as :func:`canonicalize_quads`.
    """
    return _run(statements, budget, hash_algorithm).serialize()


def canonical_issued_ids(
    quads: Iterable[Quad],
    *,
    budget: WorkBudget | None = None,
    hash_algorithm: str = "sha256",
) -> dict[str, str]:
    """The canonical issuer's issued identifiers map: input blank-node label → ``c14nN``."""
    return dict(_run(_statements(quads), budget, hash_algorithm).canonical)


def canonicalize_nquads(
    text: str,
    *,
    budget: WorkBudget | None = None,
    hash_algorithm: str = "sha256",
) -> str:
    """Parse an N-Quads document and return its RDFC-1.0 canonical form."""
    return canonicalize_quads(parse_nquads(text), budget=budget, hash_algorithm=hash_algorithm)
