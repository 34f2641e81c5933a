"""Strict JSON for what others send: a member named twice in one object is refused.

RFC 8259 §4: the names within an object SHOULD be unique, and when they are not, parsers
disagree about which value counts. Python's ``json`` keeps the last one silently; a second
``proof`` or ``issuer`` is then a classic way to show one thing to a person and sign
another. Every JSON document that comes from outside is read through this module.
"""

from __future__ import annotations

import json
from typing import Any

from issuer.core.errors import InputError

__all__ = ["DuplicateMember", "parse_json", "unique_members"]


class DuplicateMember(ValueError):
    """A JSON object names a member twice (a ``ValueError``, as other JSON errors are)."""


def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads` that refuses a repeated member name."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateMember(f"the member {key!r} appears twice")
        result[key] = value
    return result


def parse_json(text: str | bytes) -> Any:
    """The JSON value of ``text``; InputError when it is not JSON, repeats a member name or
    is nested deeper than the parser can follow."""
    try:
        return json.loads(text, object_pairs_hook=unique_members)
    except DuplicateMember as exc:
        raise InputError(f"the JSON is ambiguous: {exc}") from None
    except RecursionError:
        raise InputError("the JSON is nested too deeply") from None
    except ValueError as exc:
        raise InputError(f"not valid JSON: {exc}") from None
