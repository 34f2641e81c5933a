"""A compiled first look at JSON Schema validity, which may only ever say "valid".

``jsonschema`` interprets a schema anew for every document: checking one OB 3.0 credential
against the 1EdTech AchievementCredential schema costs about as much as verifying its
signature. ``fastjsonschema`` turns a schema into Python code once, and that code checks the
same credential some twenty times faster, but it knows JSON Schema drafts 4 to 7 only and
says nothing useful about *why* a document fails. So it is used for one answer: when the
compiled check accepts a document, the document is valid; when it refuses it, the caller
asks ``jsonschema``, which stays the authority for every error and every message.

For that to hold, a schema is compiled only when every keyword it uses means the same in
draft-07 as in the schema's own draft (2019-09 or 2020-12) — :data:`SAME_IN_DRAFT_7` — and
every ``$ref`` points into the schema itself; formats are checked by the caller's own
functions (the ones ``jsonschema`` uses), defaults are never written into the document, and
no reference is ever fetched. Any other schema gets no compiled check (:func:`compile_check`
returns None), and ``jsonschema`` does all the work as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

#: Keywords whose meaning draft-07 shares with drafts 2019-09 and 2020-12 as they are used
#: here (``items`` holding one schema or, with ``additionalItems``, a list: the 2019-09
#: form; 2020-12's ``prefixItems`` is not among them).
SAME_IN_DRAFT_7 = frozenset({
    "$schema", "$id", "$ref", "$defs", "$comment", "title", "description", "examples",
    "default", "type", "enum", "const", "properties", "required", "additionalProperties",
    "patternProperties", "minProperties", "maxProperties", "items", "additionalItems",
    "minItems", "maxItems", "uniqueItems", "contains", "allOf", "anyOf", "oneOf", "not",
    "if", "then", "else", "minLength", "maxLength", "pattern", "format", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
})
#: Keywords whose values are maps of names to subschemas.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
#: Keywords whose values are data, not schemas.
_DATA = ("enum", "const", "examples", "default", "description", "title", "$comment")

Check = Callable[[Any], bool]


def compile_check(schema: Mapping[str, Any],
                  formats: Mapping[str, Callable[[Any], bool]]) -> Check | None:
    """A function that is True only for documents ``schema`` accepts (False: ask
    ``jsonschema``), or None when the schema cannot be compiled faithfully (see the module)."""
    if not _faithful(schema, formats):
        return None
    import fastjsonschema

    # The schema's own $id would make its references look remote; draft-07 is the
    # implementation used, for the keywords that mean the same there.
    local = {key: value for key, value in schema.items() if key not in ("$id", "$schema")}
    local["$schema"] = "http://json-schema.org/draft-07/schema#"
    try:
        validate = fastjsonschema.compile(
            local, handlers=_REFUSE_REMOTE, formats=dict(formats), use_default=False,
            use_formats=True)
    except Exception:  # noqa: BLE001 - any failure to compile only means no first look
        # (fastjsonschema's code generator has failed on valid schemas, e.g. with "if" and
        # detailed_exceptions=False): jsonschema checks those alone, as before.
        return None

    def check(document: Any) -> bool:
        try:
            validate(document)
        except fastjsonschema.JsonSchemaValueException:
            return False
        except Exception:  # noqa: BLE001 - whatever the compiled code could not handle
            return False  # (a document nested too deeply, say): jsonschema decides
        return True

    return check


def _refuse(uri: str) -> Any:
    raise ValueError(f"schemas are never fetched: {uri}")


_REFUSE_REMOTE: Mapping[str, Callable[[str], Any]] = {"http": _refuse, "https": _refuse,
                                                      "file": _refuse, "": _refuse}


def _faithful(schema: Any, formats: Mapping[str, Any]) -> bool:
    """Whether every keyword is one of :data:`SAME_IN_DRAFT_7`, every ``$ref`` local and
    alone, and every format one of ``formats``."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping):
        return False
    if "$ref" in schema and any(key != "$ref" and key not in _DATA for key in schema):
        return False  # draft-07 ignores what stands beside a $ref; 2019-09 applies it
    for key, value in schema.items():
        if key not in SAME_IN_DRAFT_7:
            return False
        if key in _DATA or key in ("$schema", "$id", "required"):
            continue
        if key == "$ref":
            if not isinstance(value, str) or not value.startswith("#"):
                return False
        elif key == "format":
            if value not in formats:
                return False
        elif key in _SCHEMA_MAPS:
            if not isinstance(value, Mapping) or not all(
                    _faithful(sub, formats) for sub in value.values()):
                return False
        elif key in ("items", "additionalItems", "additionalProperties", "contains", "not",
                     "if", "then", "else"):
            subs = value if key == "items" and isinstance(value, list) else [value]
            if not all(_faithful(sub, formats) for sub in subs):
                return False
        elif key in ("allOf", "anyOf", "oneOf"):
            if not isinstance(value, list) or not all(_faithful(s, formats) for s in value):
                return False
    return True


class LazyChecks:
    """Compiled checks by name, each compiled on its :data:`COMPILE_AT`-th use in this
    process: a command that checks one document never pays for compiling (about 0.2 s for
    the OB 3.0 credential schema); a server or a verification of many files pays once."""

    COMPILE_AT = 3

    def __init__(self, compile_one: Callable[[str], Check | None]) -> None:
        self._compile_one = compile_one
        self._uses: dict[str, int] = {}
        self._checks: dict[str, Check | None] = {}
        self._lock = threading.Lock()

    def accepts(self, name: str, document: Any) -> bool:
        """True when the compiled check of ``name`` accepts ``document``; False when it
        refuses it, or there is none (yet)."""
        check = self._checks.get(name)
        if check is None:
            if name in self._checks:
                return False  # this schema cannot be compiled faithfully
            with self._lock:
                uses = self._uses[name] = self._uses.get(name, 0) + 1
                if uses < self.COMPILE_AT or name in self._checks:
                    return False
                check = self._checks[name] = self._compile_one(name)
            if check is None:
                return False
        return check(document)


__all__ = ["SAME_IN_DRAFT_7", "Check", "LazyChecks", "compile_check"]
