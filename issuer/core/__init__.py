"""The framework-free core: credentials, canonicalization, keys, proofs and verification.

Nothing here imports Flask or SQLAlchemy, reads environment variables or touches fixed paths;
every resource (contexts, schemas, keys, clock, resolvers) is passed in. See README.md here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.canon import canonicalize as canonicalize_with
from issuer.core.canon.rdfc import WorkBudget, canonicalize_nquads, canonicalize_quads
from issuer.core.errors import (
    CanonicalizationError,
    ContextError,
    InputError,
    IssuerError,
    KeyFormatError,
    ResolutionError,
    SchemaError,
    SigningError,
    UndefinedTermError,
    WorkLimitExceeded,
)
from issuer.core.jsonld import ContextLoader, expand_safe
from issuer.core.keys import PrivateKey, PublicKey
from issuer.core.resolve import ControllerDocument, Resolver
from issuer.core.schema import SchemaRegistry
from issuer.core.verify import Check, Outcome, VerificationReport, Verifier

__all__ = [
    "CanonicalizationError",
    "Check",
    "ContextError",
    "ContextLoader",
    "ControllerDocument",
    "InputError",
    "IssuerError",
    "KeyFormatError",
    "Outcome",
    "PrivateKey",
    "PublicKey",
    "ResolutionError",
    "Resolver",
    "SchemaError",
    "SchemaRegistry",
    "SigningError",
    "UndefinedTermError",
    "VerificationReport",
    "Verifier",
    "WorkBudget",
    "WorkLimitExceeded",
    "canonicalize",
    "canonicalize_nquads",
    "canonicalize_quads",
    "expand_safe",
]


def canonicalize(
    document: Mapping[str, Any],
    loader: ContextLoader | None = None,
    *,
    budget: WorkBudget | None = None,
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, using the bundled contexts.

    ``loader`` defaults to the contexts shipped with the product (``schemas/contexts``).
    """
    if loader is None:
        from issuer.core.bundled import bundled_loader

        loader = bundled_loader()
    return canonicalize_with(document, loader, budget=budget)
