"""Validation against the official OB 3.0 JSON Schemas, offline.

OB-30 §9.1 step 1 (and VCCS-10): a credential whose ``credentialSchema`` names a schema with
type ``1EdTechJsonSchemaValidator2019`` must validate against it. The schemas are bundled
(``schemas/INDEX.json`` maps each published URL to a file) and never fetched: every
``$ref`` resolves inside a local ``referencing.Registry`` that has no retrieval function.

Formats. The schemas declare ``date-time`` (DateTimeZ) and ``date``. jsonschema only checks
a format when an optional package for it is installed (``rfc3339-validator`` for date-time,
``rfc3987`` or ``rfc3986-validator`` for uri); without one the format is silently accepted.
Those packages are not dependencies of this product, so the registry uses its own checker
for ``date-time``, ``date`` and ``uri``: results do not depend on what happens to be
installed. Other formats are not asserted (none is used by the bundled schemas).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError as JsonSchemaDefinitionError
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import Draft201909Validator, validator_for
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT201909

from issuer.core.errors import InputError, SchemaError, SchemaUnavailable
from issuer.core.fast_schema import Check, LazyChecks, compile_check
from issuer.core.nodes import types_of
from issuer.core.vocab import (
    ACHIEVEMENT_CREDENTIAL_SCHEMA,
    ENDORSEMENT_CREDENTIAL_SCHEMA,
    JSON_SCHEMA_VALIDATOR_2019,
    VC_V1,
)

__all__ = [
    "CHECKED_SCHEMA_DIGESTS",
    "COMPACTABLE",
    "DEFAULT_SCHEMA_BY_TYPE",
    "FORMATS",
    "MAX_ERRORS",
    "SchemaRegistry",
    "SchemaSelection",
    "format_checker",
    "is_date",
    "is_date_time",
    "is_uri",
]

#: The schema that applies by credential type when the document names none it can use.
DEFAULT_SCHEMA_BY_TYPE: Mapping[str, str] = {
    "OpenBadgeCredential": ACHIEVEMENT_CREDENTIAL_SCHEMA,
    "AchievementCredential": ACHIEVEMENT_CREDENTIAL_SCHEMA,
    "EndorsementCredential": ENDORSEMENT_CREDENTIAL_SCHEMA,
}

#: Enough to fix a document by; a broken document can produce hundreds of errors.
MAX_ERRORS = 20
_MAX_MESSAGE = 200
# The exception message stays one readable line; the full list is on `.errors`.
_ERRORS_IN_MESSAGE = 3


# --- formats -------------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))$"
)
_HOURS = 24
_MINUTES = 60
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# RFC 3986 §3: scheme ":" hier-part, with only characters a URI may carry.
_URI = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*:"
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$"
)


def is_date_time(instance: object) -> bool:
    """RFC 3339 ``date-time``; the offset is mandatory (OB-30 DateTimeZ)."""
    if not isinstance(instance, str):
        return True  # formats constrain strings only
    m = _DATE_TIME.match(instance)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    # RFC 3339 allows a leap second (:60), which datetime cannot hold.
    second = min(second, 59)
    try:
        datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return False
    if m.group(7):
        return int(m.group(8)) < _HOURS and int(m.group(9)) < _MINUTES
    return True


def is_date(instance: object) -> bool:
    """RFC 3339 ``full-date`` (``YYYY-MM-DD``)."""
    if not isinstance(instance, str):
        return True
    m = _FULL_DATE.match(instance)
    if not m:
        return False
    try:
        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def is_uri(instance: object) -> bool:
    """An absolute URI (RFC 3986 §4.3 shape: scheme, ``:``, legal characters only)."""
    if not isinstance(instance, str):
        return True
    return bool(_URI.match(instance))


#: The formats :func:`format_checker` checks, for the compiled checks.
FORMATS = {"date-time": is_date_time, "date": is_date, "uri": is_uri}


def format_checker() -> FormatChecker:
    """A checker for exactly ``date-time``, ``date`` and ``uri``, with no optional packages."""
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_date_time)
    checker.checks("date")(is_date)
    checker.checks("uri")(is_uri)
    return checker


# --- registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaSelection:
    """Which schemas apply to a document.

    ``known``: URLs to validate against, in order. ``unknown``: ids the document names with
    type ``1EdTechJsonSchemaValidator2019`` that the registry does not hold; the caller
    decides how to report them.
    """

    known: list[str]
    unknown: list[str]


def _path(error: ValidationError) -> str:
    parts: list[str] = []
    for item in error.absolute_path:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_MAX_VALUE = 60
_ENUM_SHOWN = 4


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    """For oneOf/anyOf: the errors of each branch that fits the value's JSON type.

    A branch that wants another JSON type (``issuer`` as a string, when an object was given)
    says nothing useful about the value, so it is left out unless every branch is like that.
    """
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    fitting = [
        errs
        for errs in by_branch.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    return fitting or list(by_branch.values())


def _explain(error: ValidationError) -> list[tuple[str, str]]:
    """Paths and plain-language messages for one error (several when it hides several)."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches = _branches(error)
        if len(branches) == 1:
            # The value is clearly meant as this branch: report everything wrong with it.
            return [found for sub in branches[0] for found in _explain(sub)]
        best = [e for e in (best_match(errs) for errs in branches) if e is not None]
        if best and all(e.validator == "type" and not e.relative_path for e in best):
            wanted = " or ".join(str(e.validator_value) for e in best)
            return [(_path(error), f"must be of type {wanted}, not {_json_type(error.instance)}")]
        parts = [found for e in best for found in _explain(e)[:1]]
        if parts and len({path for path, _ in parts}) == 1:
            return [(parts[0][0], "; or ".join(message for _, message in parts))]
        if parts:
            return parts[:1]
    kind = error.validator
    value = error.instance
    if kind == "type":
        message = f"must be of type {error.validator_value}, not {_json_type(value)}"
    elif kind == "enum":
        allowed = list(error.validator_value)
        shown = ", ".join(_short(v) for v in allowed[:_ENUM_SHOWN])
        if len(allowed) > _ENUM_SHOWN:
            shown += f", … ({len(allowed)} values)"
        message = f"{_short(value)} is not one of the allowed values: {shown}"
    elif kind == "contains":
        wanted = error.validator_value
        if isinstance(wanted, dict) and list(wanted) == ["enum"]:
            message = "must contain " + " or ".join(_short(v) for v in wanted["enum"])
        else:
            message = f"must contain an item matching {_short(wanted)}"
    elif kind == "format":
        message = f"{_short(value)} is not a valid {error.validator_value}"
    elif kind == "pattern":
        message = f"{_short(value)} does not match the pattern {error.validator_value}"
    elif kind == "minItems":
        message = f"must have at least {error.validator_value} item(s)"
    else:
        message = error.message
    return [(_path(error), message)]


def _messages(error: ValidationError) -> list[str]:
    out = []
    for path, message in _explain(error):
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 1] + "…"
        out.append(f"{path}: {message}")
    return out


#: The OB 3.0 schemas' definition of one ``credentialStatus`` entry.
_STATUS_DEF = "CredentialStatus"
#: A list of entries, each checked as the schema checks one (compiled under this prefix).
_STATUS_CHECK = "credentialStatus-list "
_STATUS_LIST_SCHEMA = {"properties": {"credentialStatus": {
    "type": "array", "items": {"$ref": f"#/$defs/{_STATUS_DEF}"}}}}

#: SHA-256 of the schema files shipped in ``schemas/`` (the 1EdTech OB 3.0 schemas), which
#: the test suite checks against their meta-schema. Checking them again costs every process
#: about 0.15 s at start (the 2019-09 meta-schema's ``$recursiveRef`` is slow to walk); a
#: file with any other content is checked when it is loaded.
CHECKED_SCHEMA_DIGESTS = frozenset({
    "5753fb3ecf7d024ed273dd364bd683f483eb47257e718e6618832cf89eb2083a",
    "4627e1878848d0192c3f9e26f09ef88a96ad48a46f5fca11b80b679ece0de345",
    "9b05049f720b8ad9bd7aed358ca59c643c34bf1cec0b29fd7baa8bf98efed164",
    "37fd69152b5ad8df481fc3c25a8f56f6af9020d873f9937c2b617f5b4b42bf6a",
    "5e0c865c697f6662c29abe9e623981f2d78823d16646c1479c959b3d84aaf569",
})


def _status_list(document: Any) -> bool:
    """Whether ``document`` carries ``credentialStatus`` as a non-empty list."""
    if not isinstance(document, Mapping):
        return False
    value = document.get("credentialStatus")
    return isinstance(value, list) and bool(value)


#: OB 3.0 §A.2.1: properties that compacted JSON-LD may write as a single value.
COMPACTABLE = frozenset({"type", "proof", "credentialSchema", "termsOfUse"})
_MAX_WRAP_ROUNDS = 32


def _array_wanted(error: ValidationError) -> Iterable[ValidationError]:
    """Errors, here or inside anyOf/oneOf branches, that want an array of a single value."""
    expected = error.validator_value
    if (
        error.validator == "type"
        and (expected == "array" or (isinstance(expected, list) and "array" in expected))
        and not isinstance(error.instance, list)
        and error.absolute_path
        and error.absolute_path[-1] in COMPACTABLE
    ):
        yield error
    for sub in error.context or ():
        yield from _array_wanted(sub)


def _wrap_compacted(
    validator: Validator, document: Any, errors: list[ValidationError]
) -> tuple[Any, list[ValidationError]]:
    """Wrap single values in arrays exactly where the schema asks for one, then re-validate.

    Only places the schema itself rejects are changed, so a ``type`` the schema wants as a
    string (Image, IdentityObject, a proof's type) is left alone.
    """
    view = json.loads(json.dumps(document))
    for _ in range(_MAX_WRAP_ROUNDS):
        paths = {tuple(e.absolute_path) for err in errors for e in _array_wanted(err)}
        changed = False
        for path in paths:
            parent = view
            for step in path[:-1]:
                parent = parent[step]
            if not isinstance(parent[path[-1]], list):
                parent[path[-1]] = [parent[path[-1]]]
                changed = True
        if not changed:
            break
        errors = list(validator.iter_errors(view))
    return view, errors


class SchemaRegistry:
    """The bundled JSON Schemas, by published URL, with local ``$ref`` resolution."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]], *,
                 checked: Iterable[str] = ()) -> None:
        """``schemas`` maps each published URL to its schema (draft 2019-09 unless stated).

        Each schema is checked against its meta-schema, except those whose URL is in
        ``checked``: already known to be valid (see :data:`CHECKED_SCHEMA_DIGESTS`).
        """
        known_valid = frozenset(checked)
        self._schemas: dict[str, Mapping[str, Any]] = dict(schemas)
        resources: list[tuple[str, Resource[Any]]] = []
        for url, schema in self._schemas.items():
            resource = Resource.from_contents(schema, default_specification=DRAFT201909)
            # The files' $id (".../ob_v3p0_achievementcredential-jsonschema1.json") differs
            # from the URL credentials name, so both must find the same resource.
            resources.append((url, resource))
            own_id = schema.get("$id")
            if isinstance(own_id, str) and own_id != url:
                resources.append((own_id, resource))
        # No `retrieve` function: an unknown $ref fails instead of going to the network.
        self._registry: Registry[Any] = Registry().with_resources(resources)
        self._format_checker = format_checker()
        self._validators: dict[str, Validator] = {}
        self._status_validators: dict[str, Validator] = {}
        self._fast = LazyChecks(self._compile)
        for url, schema in self._schemas.items():
            cls = validator_for(schema, default=Draft201909Validator)
            if url not in known_valid:
                try:
                    cls.check_schema(schema)
                except JsonSchemaDefinitionError as exc:
                    raise SchemaUnavailable(
                        f"the bundled schema {url} is not a valid JSON Schema") from exc
            self._validators[url] = cls(
                schema, registry=self._registry, format_checker=self._format_checker
            )
            defs = schema.get("$defs")
            if isinstance(defs, Mapping) and _STATUS_DEF in defs:
                # Each entry of a credentialStatus list, checked as the schema checks one.
                self._status_validators[url] = cls(
                    {"properties": {"credentialStatus": {
                        "type": "array", "items": {"$ref": f"{url}#/$defs/{_STATUS_DEF}"}}}},
                    registry=self._registry, format_checker=self._format_checker,
                )

    @classmethod
    def from_directory(cls, directory: str | Path) -> SchemaRegistry:
        """Load every schema listed in ``directory/INDEX.json`` (URL → file name)."""
        root = Path(directory)
        index_path = root / "INDEX.json"
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SchemaUnavailable(f"cannot read the schema index {index_path}: {exc}") from exc
        if not isinstance(index, dict):
            raise SchemaUnavailable(f"the schema index {index_path} must map URLs to file names")
        schemas: dict[str, Mapping[str, Any]] = {}
        checked: list[str] = []
        for url, name in index.items():
            path = root / name
            try:
                raw = path.read_bytes()
                schema = json.loads(raw.decode("utf-8"))
            except (OSError, ValueError) as exc:
                raise SchemaUnavailable(f"cannot read the bundled schema {path}: {exc}") from exc
            if not isinstance(schema, dict):
                raise SchemaUnavailable(f"the bundled schema {path} is not a JSON object")
            schemas[url] = schema
            if hashlib.sha256(raw).hexdigest() in CHECKED_SCHEMA_DIGESTS:
                checked.append(url)
        return cls(schemas, checked=checked)

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._schemas)

    @property
    def format_checker(self) -> FormatChecker:
        return self._format_checker

    def __contains__(self, url: object) -> bool:
        return url in self._schemas

    def validate(self, document: Any, schema_url: str, *, compacted: bool = False) -> list[str]:
        """Plain-language errors (``path: message``), at most MAX_ERRORS plus a count line.

        An empty list means the document is valid. Raises SchemaUnavailable for a URL the
        registry does not hold. With ``compacted``, single values are accepted where OB 3.0
        §A.2.1 allows compacted JSON-LD to drop the array (``type``, ``proof``,
        ``credentialSchema``, ``termsOfUse``) though the canonical schema wants one.

        Also with ``compacted``, and only there: a ``credentialStatus`` *list* is accepted.
        VCDM 2.0 §4.10 allows several status entries (VC Bitstring Status List §2.1 uses
        one for revocation and one for suspension), while the OB 3.0 JSON Schemas model
        ``credentialStatus`` as one ``CredentialStatus`` object. This is a deliberate
        deviation from the official schema: the document is validated with the list's
        first entry in its place, and every entry is validated against the schema's
        ``$defs/CredentialStatus`` (errors name it, e.g. ``credentialStatus[1].id``). The
        strict check (``compacted=False``) still refuses a list, as the schema does.
        """
        try:
            validator = self._validators[schema_url]
        except KeyError:
            raise SchemaUnavailable(
                f"no bundled schema for {schema_url!r}: schemas are never fetched"
            ) from None
        if self._fast_accepts(document, schema_url, compacted):
            return []
        status_errors: list[ValidationError] = []
        status_validator = self._status_validators.get(schema_url)
        try:
            if compacted and status_validator is not None and _status_list(document):
                entries = document["credentialStatus"]
                status_errors = list(status_validator.iter_errors(
                    {"credentialStatus": entries}))
                document = {**document, "credentialStatus": entries[0]}
            errors = list(validator.iter_errors(document))
            if compacted and errors:
                document, errors = _wrap_compacted(validator, document, errors)
            if status_errors:
                # The entries were checked one by one; the first one's errors, found again
                # in its stand-in place, would only repeat them.
                errors = [e for e in errors
                          if list(e.absolute_path)[:1] != ["credentialStatus"]]
                errors += status_errors
        except Unresolvable as exc:
            raise SchemaUnavailable(
                f"the schema {schema_url} refers to {exc.ref!r}, which is not bundled"
            ) from None
        messages = sorted({m for e in errors for m in _messages(e)})
        if len(messages) > MAX_ERRORS:
            extra = len(messages) - MAX_ERRORS
            messages = [*messages[:MAX_ERRORS], f"… and {extra} more error(s)"]
        return messages

    def _fast_accepts(self, document: Any, schema_url: str, compacted: bool) -> bool:
        """Whether the compiled checks (:mod:`issuer.core.fast_schema`) accept ``document``
        as :meth:`validate` would; False sends it to ``jsonschema``."""
        if compacted and schema_url in self._status_validators and _status_list(document):
            entries = document["credentialStatus"]
            return (self._fast.accepts(schema_url, {**document, "credentialStatus": entries[0]})
                    and self._fast.accepts(_STATUS_CHECK + schema_url,
                                           {"credentialStatus": entries}))
        return self._fast.accepts(schema_url, document)

    def _compile(self, name: str) -> Check | None:
        if name.startswith(_STATUS_CHECK):
            schema = self._schemas[name[len(_STATUS_CHECK):]]
            return compile_check({"$defs": schema["$defs"], **_STATUS_LIST_SCHEMA}, FORMATS)
        return compile_check(self._schemas[name], FORMATS)

    def check(self, document: Any, schema_url: str) -> None:
        """Raise SchemaError, carrying the error list, unless the document is valid."""
        errors = self.validate(document, schema_url)
        if errors:
            name = schema_url.rsplit("/", 1)[-1]
            shown = "; ".join(errors[:_ERRORS_IN_MESSAGE])
            more = " …" if len(errors) > _ERRORS_IN_MESSAGE else ""
            raise SchemaError(f"the document does not conform to {name}: {shown}{more}", errors)

    def schemas_for(self, document: Mapping[str, Any]) -> SchemaSelection:
        """The schemas that apply to ``document`` (OB-30 §9.1 step 1).

        Each ``credentialSchema`` entry of type ``1EdTechJsonSchemaValidator2019`` is known
        or unknown. When none of them is known, the default for the credential's type is
        added (OpenBadgeCredential/AchievementCredential, EndorsementCredential), so a
        credential that names only a private schema is still checked against OB 3.0.
        ClrCredential has no bundled schema and gets no default.

        VCDM 1.1 credentials get no default, and schemas they name are reported unknown:
        the bundled files are the VCDM 2.0 versions of those URLs and would reject them.
        """
        if not isinstance(document, Mapping):
            raise InputError("a credential must be a JSON object")
        known: list[str] = []
        unknown: list[str] = []
        contexts = document.get("@context")
        first_context = contexts[0] if isinstance(contexts, list) and contexts else contexts
        # The bundled schemas describe the VCDM 2.0 shape (validFrom, not issuanceDate),
        # although VCDM 1.1 credentials name the same URLs.
        legacy = first_context == VC_V1
        for entry in _entries(document.get("credentialSchema")):
            if JSON_SCHEMA_VALIDATOR_2019 not in types_of(entry):
                continue
            url = entry.get("id")
            if not isinstance(url, str):
                continue
            target = known if (url in self._schemas and not legacy) else unknown
            if url not in target:
                target.append(url)
        if not known and not legacy:
            for credential_type in types_of(document):
                default = DEFAULT_SCHEMA_BY_TYPE.get(credential_type)
                if default and default in self._schemas and default not in known:
                    known.append(default)
        return SchemaSelection(known=known, unknown=unknown)


def _entries(value: Any) -> Iterable[Mapping[str, Any]]:
    # OB-30 §A.2.1 lets compacted documents carry a single object instead of an array.
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []
