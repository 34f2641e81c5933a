"""One exception tree for the framework-free core.

::

    IssuerError                      anything the core refuses, with a plain-language message
    ├── InputError                   input that cannot be read (not JSON, not a JWT, wrong shape)
    ├── ContextError                 a JSON-LD context URL the bundled loader does not hold
    ├── UndefinedTermError           a property or type no context defines (safe mode)
    ├── CanonicalizationError        RDFC-1.0 could not finish
    │   └── WorkLimitExceeded        the input needed more work than the configured budget
    ├── KeyFormatError               a key, multibase string, JWK or PEM that cannot be used
    ├── ResolutionError              a DID or verification method that cannot be resolved
    ├── SchemaError                  a document that fails a JSON Schema
    ├── SchemaUnavailable            the bundled JSON Schemas cannot be used (a setup problem)
    └── SigningError                 a credential that cannot be signed as asked

Each class states what it means at the edges, so no edge keeps a table of its own:
``http_status`` is the status of the RFC 9457 problem details (or page) the web layer answers
with, ``exit_code`` the ``issuer`` command's exit code (1 invalid or refused, 2 unreadable
input or a setup that cannot be used; 0 is success and never an error). A subclass that means
something else says so again. Messages never contain private key material.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "EXIT_INVALID",
    "EXIT_UNREADABLE",
    "CanonicalizationError",
    "ContextError",
    "InputError",
    "IssuerError",
    "KeyFormatError",
    "ResolutionError",
    "SchemaError",
    "SchemaUnavailable",
    "SigningError",
    "UndefinedTermError",
    "WorkLimitExceeded",
]

#: ``issuer`` exit codes an error can end a command with (the CLI's contract).
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


class IssuerError(Exception):
    """Base of every error the core raises on purpose: a refusal of what was asked."""

    code = "error"
    #: RFC 9110 §15.5.1: the request cannot be processed as sent.
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = EXIT_INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(IssuerError):
    code = "input"
    http_status = 400
    exit_code = EXIT_INVALID


class ContextError(IssuerError):
    """A context the bundled loader does not hold or cannot read.

    A request naming such a context cannot be processed (422); for the command line, whose
    credentials are checked by ``sign`` and ``verify`` themselves, one that reaches the top
    means the bundled contexts cannot be used (exit 2).
    """

    code = "context"
    http_status = 422
    exit_code = EXIT_UNREADABLE


class UndefinedTermError(IssuerError):
    code = "undefined-term"
    http_status = 422
    exit_code = EXIT_INVALID

    def __init__(self, message: str, term: str | None = None) -> None:
        super().__init__(message)
        self.term = term


class CanonicalizationError(IssuerError):
    code = "canonicalization"
    http_status = 400
    exit_code = EXIT_INVALID


class WorkLimitExceeded(CanonicalizationError):
    code = "work-limit"
    http_status = 400
    exit_code = EXIT_INVALID


class KeyFormatError(IssuerError):
    code = "key"
    http_status = 400
    exit_code = EXIT_INVALID


class ResolutionError(IssuerError):
    code = "resolution"
    http_status = 400
    exit_code = EXIT_INVALID


class SchemaError(IssuerError):
    """A document that fails a JSON Schema; ``errors`` lists every problem found."""

    code = "schema"
    #: RFC 9110 §15.5.21: well-formed, but its content breaks the rules.
    http_status = 422
    exit_code = EXIT_INVALID

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class SchemaUnavailable(IssuerError):
    """The bundled JSON Schemas cannot be used: unreadable, not a schema, a ``$ref`` that is
    not bundled, or a URL asked for that the registry does not hold.

    Nothing the client sent is at fault, so the service answers 500 and the command exits 2.
    """

    code = "schema-unavailable"
    http_status = 500
    exit_code = EXIT_UNREADABLE


class SigningError(IssuerError):
    code = "signing"
    http_status = 400
    exit_code = EXIT_INVALID
