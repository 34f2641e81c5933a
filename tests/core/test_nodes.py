"""Reading a node's types and a credential's issuer from its JSON."""

from __future__ import annotations

from typing import Any

import pytest

from issuer.core.nodes import issuer_id, types_of


@pytest.mark.parametrize(
    ("node", "types"),
    [
        ({"type": "VerifiableCredential"}, ["VerifiableCredential"]),
        ({"type": ["VerifiableCredential", 7, None, "OpenBadgeCredential"]},
         ["VerifiableCredential", "OpenBadgeCredential"]),
        ({"type": {"not": "a type"}}, []),
        ({}, []),
        ("not a node", []),
        (None, []),
    ],
)
def test_types_of(node: Any, types: list[str]) -> None:
    assert types_of(node) == types


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"issuer": "did:example:a"}, "did:example:a"),
        ({"issuer": {"id": "did:example:a", "name": "A"}}, "did:example:a"),
        ({"holder": "did:example:h"}, "did:example:h"),
        ({"issuer": {"name": "no id"}}, None),
        ({"issuer": 3}, None),
        ({}, None),
    ],
)
def test_issuer_id(document: dict[str, Any], expected: str | None) -> None:
    assert issuer_id(document) == expected
