"""JSON-LD document → RDFC-1.0 canonical N-Quads, the input of every ``*-rdfc-*`` signature.

VC Data Integrity EdDSA §3.3.3 (Transformation, eddsa-rdfc-2022): the document is turned into
an RDF dataset under its own contexts and canonicalized with RDFC-1.0.

Two paths produce the dataset. The fast path (:mod:`issuer.core.canon.fast_path`) converts documents
that name only bundled contexts directly, reusing processed contexts across calls; whatever it
does not handle goes to the general path (pyld expansion in safe mode, pyld's RDF conversion),
which is the reference for both results and errors. Both end in the same RDFC-1.0
implementation.

This module is the package's public face; other layers import from here only:

* :func:`canonicalize` (and :func:`canonicalize_general`, the reference it must equal);
* RDFC-1.0 on RDF data: :class:`WorkBudget` (and ``DEFAULT_BUDGET``, the one used when none
  is given), :func:`canonicalize_quads`, :func:`canonicalize_nquads`;
* the fast path on its own, for safe mode and benchmarks: :func:`canonicalize_fast`,
  :func:`dataset_entries` and :class:`Unsupported`;
* :class:`CanonicalMemo`, which lets a document signed and verified in one go be
  canonicalized once;

The RFC 8785 JSON canonicalization of ``eddsa-jcs-2022`` is :func:`issuer.core.canon.jcs.jcs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.canon.fast_path import (
    Unsupported,
    canonicalize_fast,
    check_json_depth,
    dataset_entries,
)
from issuer.core.canon.memo import CanonicalMemo
from issuer.core.canon.nquads import quads_from_pyld
from issuer.core.canon.rdfc import (
    DEFAULT_BUDGET,
    WorkBudget,
    canonicalize_nquads,
    canonicalize_quads,
)
from issuer.core.jsonld import ContextLoader, expand_safe, expanded_to_rdf_dataset

__all__ = [
    "DEFAULT_BUDGET",
    "CanonicalMemo",
    "Unsupported",
    "WorkBudget",
    "canonicalize",
    "canonicalize_fast",
    "canonicalize_general",
    "canonicalize_nquads",
    "canonicalize_quads",
    "dataset_entries",
]


def canonicalize(
    document: Mapping[str, Any],
    loader: ContextLoader,
    *,
    budget: WorkBudget | None = None,
) -> str:
    """Return the RDFC-1.0 canonical N-Quads of ``document``.

    Safe mode applies (see :func:`issuer.core.jsonld.expand_safe`): a document with terms no
    context defines is refused rather than canonicalized without them. A document nested
    more than :data:`issuer.core.canon.fast_path.MAX_JSON_DEPTH` levels deep is refused with
    :class:`~issuer.core.errors.InputError`.
    """
    try:
        return canonicalize_fast(document, loader, budget=budget)
    except Unsupported:
        pass
    return canonicalize_general(document, loader, budget=budget)


def canonicalize_general(
    document: Mapping[str, Any],
    loader: ContextLoader,
    *,
    budget: WorkBudget | None = None,
) -> str:
    """The general path alone: safe-mode pyld expansion, pyld's RDF conversion, RDFC-1.0."""
    check_json_depth(document)
    report = expand_safe(document, loader)
    dataset = expanded_to_rdf_dataset(report.expanded, loader)
    return canonicalize_quads(quads_from_pyld(dataset), budget=budget)
