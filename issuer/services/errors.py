"""Errors of the use cases, each stating its HTTP status and its CLI exit code.

They extend the core's tree (:mod:`issuer.core.errors`), whose docstring says what the two
attributes mean. A use case raises the one that says what went wrong; the edges never
decide the status or the exit code themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

from issuer.core.errors import EXIT_INVALID, IssuerError


class NotFound(IssuerError):
    code = "not-found"
    http_status = 404
    exit_code = EXIT_INVALID


class PermissionDenied(IssuerError):
    code = "forbidden"
    http_status = 403
    exit_code = EXIT_INVALID


class Conflict(IssuerError):
    code = "conflict"
    http_status = 409
    exit_code = EXIT_INVALID


class Gone(IssuerError):
    """Something that existed but can no longer be used, such as a link past its date
    (RFC 9110 §15.5.11)."""

    code = "gone"
    http_status = 410
    exit_code = EXIT_INVALID


class TooManyRequests(IssuerError):
    """Asked too often; ``retry_after`` is the seconds to wait (RFC 6585 §4)."""

    code = "too-many-requests"
    http_status = 429
    exit_code = EXIT_INVALID

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Invalid(IssuerError):
    """Input that breaks a rule, with the offending fields named."""

    code = "invalid"
    http_status = 422
    exit_code = EXIT_INVALID

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})
