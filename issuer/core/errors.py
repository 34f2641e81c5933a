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
    └── SigningError                 a credential that cannot be signed as asked

The web layer turns these into RFC 9457 problem details and the CLI into exit codes.
Messages never contain private key material.
"""

from __future__ import annotations


class IssuerError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(IssuerError):
    code = "input"


class ContextError(IssuerError):
    code = "context"


class UndefinedTermError(IssuerError):
    code = "undefined-term"

    def __init__(self, message: str, term: str | None = None) -> None:
        super().__init__(message)
        self.term = term


class CanonicalizationError(IssuerError):
    code = "canonicalization"


class WorkLimitExceeded(CanonicalizationError):
    code = "work-limit"


class KeyFormatError(IssuerError):
    code = "key"


class ResolutionError(IssuerError):
    code = "resolution"


class SchemaError(IssuerError):
    code = "schema"

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class SigningError(IssuerError):
    code = "signing"
