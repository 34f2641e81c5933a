"""The contexts and schemas shipped with the product, for callers that pass none.

They live beside the package in ``schemas/`` (pinned copies, see ``schemas/SOURCES.md``);
the location is part of the product, not of a deployment, so the core may know it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from issuer.core.jsonld import ContextLoader

__all__ = ["SCHEMAS_DIR", "bundled_loader"]

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


@lru_cache(maxsize=1)
def bundled_loader() -> ContextLoader:
    return ContextLoader.from_directory(SCHEMAS_DIR / "contexts")
