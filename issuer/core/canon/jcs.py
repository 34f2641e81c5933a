"""JSON Canonicalization Scheme (RFC 8785), the transformation of ``eddsa-jcs-2022``.

Serialisation itself is delegated to the ``rfc8785`` package. What this module adds is the
error contract of the core: every value JCS cannot represent (NaN and infinities, integers
beyond ±(2**53 - 1), non-string keys, lone surrogates, unsupported types, absurd nesting)
becomes an :class:`~issuer.core.errors.InputError` with a plain message.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from issuer.core.errors import InputError

__all__ = ["jcs"]


def jcs(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 serialisation of a JSON value.

    ``value`` is made of ``dict`` (string keys), ``list``/``tuple``, ``str``, ``int``,
    ``float``, ``bool`` and ``None``.
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as error:
        raise InputError(
            f"JSON canonicalization: {error}; JSON numbers are IEEE 754 doubles, so integers "
            "must lie within ±(2**53 - 1) (send larger ones as strings)"
        ) from None
    except rfc8785.FloatDomainError as error:
        raise InputError(
            f"JSON canonicalization: {error}; NaN and infinities are not JSON numbers"
        ) from None
    except rfc8785.CanonicalizationError as error:
        raise InputError(f"JSON canonicalization: {error}") from None
    except UnicodeError:
        # A lone surrogate in an object key fails while keys are sorted by UTF-16 code units.
        raise InputError(
            "JSON canonicalization: a string contains a lone surrogate, which is not a "
            "Unicode character"
        ) from None
    except RecursionError:
        raise InputError("JSON canonicalization: the value is nested too deeply") from None
