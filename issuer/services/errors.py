"""Errors of the use cases, each mapped to one HTTP status and one CLI exit code."""

from __future__ import annotations

from collections.abc import Mapping

from issuer.core.errors import IssuerError


class NotFound(IssuerError):
    code = "not-found"


class PermissionDenied(IssuerError):
    code = "forbidden"


class Conflict(IssuerError):
    code = "conflict"


class Invalid(IssuerError):
    """Input that breaks a rule, with the offending fields named."""

    code = "invalid"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})
