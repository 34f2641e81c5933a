"""Reading JSON-LD node objects as plain JSON: their types, and who issued a credential.

A credential arrives as JSON, before (or without) any JSON-LD processing, and much of what
is decided about it reads only a few members. Those readings are made here, once, so that
every layer reads them alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["issuer_id", "types_of"]


def types_of(node: Any) -> list[str]:
    """The string values of a node's ``type``, in order; [] for anything but an object.

    VC Data Model 2.0 §4.5 and JSON-LD 1.1 §3.5: ``type`` holds one value or an array of
    them. Values that are not strings are left out here; the schema check reports them.
    """
    if not isinstance(node, Mapping):
        return []
    value = node.get("type")
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """The id of a credential's ``issuer`` (VC Data Model 2.0 §4.7: a URL, or an object with
    an ``id``), or of a presentation's ``holder`` (§4.13); None when there is none."""
    issuer = credential.get("issuer", credential.get("holder"))
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None
