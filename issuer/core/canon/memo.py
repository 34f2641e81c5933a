"""Canonical forms already computed, for signing a document and verifying it in one go.

Issuing through the VC API signs a credential and then verifies it, as a verifier would,
before storing it (:mod:`issuer.services.vc_issue`). The proof's check canonicalizes the two
documents that signing has just canonicalized, the credential without its proof and the
proof's configuration, and RDFC-1.0 is a function of its input: a second run can only give
the first one's N-Quads again. A memo handed to both keeps them, by the document's exact
JSON text, so the check still does what only it can (resolve the verification method, hash,
verify the signature against that key) without canonicalizing twice.

A memo lives as long as the one piece of work it is made for and holds a few entries; it is
never shared between requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CanonicalMemo"]

#: Entries one memo keeps: a signed credential needs two (document and proof configuration).
MAX_ENTRIES = 8


class CanonicalMemo:
    """N-Quads by the JSON text of the document they were computed from."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._forms: dict[str, str] = {}
        self._max = max_entries
        self.hits = 0

    def canonical(self, document: Mapping[str, Any], compute: Callable[[], str]) -> str:
        """The N-Quads of ``document``: kept ones if the same JSON was canonicalized through
        this memo before, else ``compute()``'s, then kept."""
        try:
            # The text is the key: equal text, equal JSON data, equal N-Quads. What cannot be
            # written as JSON is computed every time.
            key = json.dumps(document, ensure_ascii=False, separators=(",", ":"),
                             allow_nan=False)
        except (TypeError, ValueError):
            return compute()
        found = self._forms.get(key)
        if found is not None:
            self.hits += 1
            return found
        found = compute()
        if len(self._forms) < self._max:
            self._forms[key] = found
        return found
