"""The safe-mode verdict on a document, from the fast RDF path when it takes the document.

Signing and verifying refuse a document with terms no context defines (VC Data Integrity
§2.4, :func:`issuer.core.jsonld.expand_safe`) and report the terms that fall into the VCDM
2.0 issuer-dependent namespace. pyld's expansion gives that verdict in milliseconds; the fast
path (:mod:`issuer.core.canon.fast_path`) gives the same one in a fraction of that:

* it takes a document only when the general path (safe-mode expansion, then RDF) would turn
  it into the same dataset without error, and declines everything else (its module docstring;
  ``tests/core/canon/test_differential.py`` holds it to that on 10,000 generated documents).
  So when it takes a document, safe mode accepts it;
* an issuer-dependent term shows in the expanded document as a key or an ``@type`` (of a node
  or of a value), which in the dataset is a predicate, an ``rdf:type`` object or a literal's
  datatype. The one thing expansion keeps that the dataset does not is a key whose value is
  an empty array, so a document holding one is expanded by pyld.

Whatever the fast path declines is expanded by pyld, which then gives the verdict and the
error, exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.canon import Unsupported, dataset_entries
from issuer.core.errors import IssuerError
from issuer.core.jsonld import ISSUER_DEPENDENT_NS, ContextLoader, expand_safe

__all__ = ["issuer_dependent_terms"]

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_IRI_PREFIX = f"<{ISSUER_DEPENDENT_NS}"


def issuer_dependent_terms(document: Mapping[str, Any],
                           loader: ContextLoader) -> tuple[str, ...]:
    """Raise what :func:`~issuer.core.jsonld.expand_safe` raises on ``document``; otherwise
    return the issuer-dependent terms it reports (each once, in no particular order)."""
    if _has_empty_array(document):
        return expand_safe(document, loader).issuer_dependent_terms
    try:
        statements = dataset_entries(document, loader)
    except (Unsupported, IssuerError):
        statements = None
    if statements is None:
        # Outside the handler: pyld's errors must not carry the fast path's as their context,
        # where expand_safe's search for a product error behind a pyld error would find it.
        return expand_safe(document, loader).issuer_dependent_terms
    found: dict[str, None] = {}
    for statement in statements:
        predicate = statement.predicate
        if predicate.startswith(ISSUER_DEPENDENT_NS):
            found[predicate[len(ISSUER_DEPENDENT_NS):]] = None
        obj = statement.obj
        if predicate == _RDF_TYPE and obj.startswith(_IRI_PREFIX):
            found[obj[len(_IRI_PREFIX):-1]] = None
        elif obj.endswith(">") and obj.startswith('"'):
            # An IRI holds no '"', so the last '"^^<' ends the lexical form.
            datatype = obj.rpartition('"^^<')[2][:-1]
            if datatype.startswith(ISSUER_DEPENDENT_NS):
                found[datatype[len(ISSUER_DEPENDENT_NS):]] = None
    return tuple(found)


def _has_empty_array(document: Any) -> bool:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list):
            if not value:
                return True
            stack.extend(value)
    return False
