"""What the database keeps of a bearer secret (API token, session id, exchange id, offer
code, OAuth code or token): its SHA-256, so a copy of the database opens nothing."""

from __future__ import annotations

import hashlib

__all__ = ["digest"]


def digest(secret: str) -> str:
    """The stored form of ``secret``: SHA-256 of its UTF-8 bytes, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
