"""What every JSON endpoint shares: bearer tokens, request bodies, schema checks, paging.

Errors are raised, never returned, so the app-wide handlers in :mod:`issuer.web.errors`
answer with RFC 9457 problem details and the request's transaction is rolled back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, g, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from issuer.core.bundled import SCHEMAS_DIR
from issuer.core.errors import InputError, SchemaError
from issuer.core.fast_schema import Check, LazyChecks, compile_check
from issuer.core.json_input import unique_members
from issuer.core.schema import FORMATS, format_checker
from issuer.services.tokens import authenticate
from issuer.storage.models import ApiToken, Issuer
from issuer.web.context import db, services

API_SCHEMAS_DIR = SCHEMAS_DIR / "api"
JSON_TYPES = ("application/json", "application/merge-patch+json")
MAX_SCHEMA_ERRORS = 20
_BEARER = re.compile(r"^Bearer[ ]+(\S+)\s*$", re.IGNORECASE)


# --- authentication ------------------------------------------------------------------------


def api_token() -> ApiToken:
    """The live token of ``Authorization: Bearer …`` (RFC 6750 §2.1), or a 401.

    The token's ``last_used_at`` is set in the request's session, so it is stored only when
    the view commits, that is when the request succeeds.
    """
    cached: ApiToken | None = g.get("api_token")
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "")
    if not header:
        abort(401, description="This address needs an API token: send it as "
                               "'Authorization: Bearer <token>'.")
    match = _BEARER.match(header)
    token = authenticate(db(), services(), match.group(1)) if match else None
    if token is None:
        abort(401, description="The API token is unknown, malformed or revoked.")
    g.api_token = token
    return token


def token_issuer() -> Issuer:
    """The one issuer the request's token acts for."""
    return api_token().issuer


def token_actor() -> str:
    token = api_token()
    return f"api-token {token.prefix}… ({token.name})"[:320]


# --- request bodies ------------------------------------------------------------------------


def require_media_type(*allowed: str) -> str:
    """The request's media type, or a 415 naming the ones this address takes."""
    mimetype = request.mimetype
    if mimetype not in allowed:
        shown = mimetype or "none"
        abort(415, description=f"Send the body as {' or '.join(allowed)} (it was {shown}).")
    return mimetype


def json_body(schema: str) -> dict[str, Any]:
    """The request's JSON object, checked against ``schemas/api/<schema>.json``.

    415 when it is not sent as JSON, 413 when larger than the configured limit (werkzeug
    raises it while reading), 400 when it is not JSON, 422 when it breaks the schema.
    """
    require_media_type(*JSON_TYPES)
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=unique_members)
    except UnicodeDecodeError:
        raise InputError("The body is not UTF-8 text.") from None
    except ValueError as exc:
        raise InputError(f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError("The body is nested too deeply.") from None
    errors = schema_errors(value, schema)
    if errors:
        raise SchemaError(
            f"The request does not match its schema ({len(errors)} problem"
            f"{'s' if len(errors) != 1 else ''}): {errors[0]}", errors)
    assert isinstance(value, dict)
    return value


@lru_cache(maxsize=1)
def _validators() -> dict[str, Draft202012Validator]:
    """Every request schema in ``schemas/api``, loaded and checked once."""
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(API_SCHEMAS_DIR).glob("*.json")):
        schemas[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    # Schemas refer to each other by file name, as they do beside the OpenAPI description.
    registry: Registry[Any] = Registry().with_resources(
        (f"{name}.json", Resource.from_contents(schema, default_specification=DRAFT202012))
        for name, schema in schemas.items()
    )
    validators = {}
    for name, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        validators[name] = Draft202012Validator(
            {**schema, "$id": f"{name}.json"}, registry=registry,
            format_checker=format_checker(),
        )
    return validators


def _compiled(schema: str) -> Check | None:
    return compile_check(_validators()[schema].schema, FORMATS)


#: Compiled first looks at request bodies (:mod:`issuer.core.fast_schema`): a body they
#: accept is valid; jsonschema explains the others.
_FAST = LazyChecks(_compiled)


def schema_errors(value: Any, schema: str) -> list[str]:
    """Plain ``where: what`` messages; empty when ``value`` is valid."""
    validator = _validators()[schema]
    if _FAST.accepts(schema, value):
        return []
    messages = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        messages.append(f"{_where(error)}: {_what(error)}")
        if len(messages) >= MAX_SCHEMA_ERRORS:
            break
    return messages


def _where(error: ValidationError) -> str:
    path = ""
    for item in error.absolute_path:
        path += f"[{item}]" if isinstance(item, int) else (f".{item}" if path else str(item))
    return path or "(body)"


_JSON_TYPES = {"string": "a string", "object": "an object", "array": "a list",
               "number": "a number", "integer": "a whole number", "boolean": "true or false",
               "null": "null"}
_FORMATS = {"uri": "a URI (an absolute address such as https://… or a DID)",
            "date-time": "a date-time such as 2026-01-01T00:00:00Z",
            "date": "a date such as 2026-01-01"}


def _json_type(value: Any) -> str:
    for name, kind in (("null", type(None)), ("boolean", bool), ("string", str),
                       ("array", list), ("object", dict)):
        if isinstance(value, kind):
            return _JSON_TYPES[name]
    return _JSON_TYPES["number"]


def _what(error: ValidationError) -> str:
    """The message of one error in words a caller can act on, naming the value sent."""
    kind, wanted, value = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        return error.message.replace("Additional properties are not allowed",
                                     "unknown member(s) not allowed")
    if kind == "oneOf" and error.context:
        best = best_match(error.context)
        if best is not None:
            return _what(best)
    if kind == "type":
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        allowed = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        return f"must be {allowed}, not {_json_type(value)}"
    if kind == "format" and wanted in _FORMATS:
        return f"{_shown(value)} is not {_FORMATS[wanted]}"
    if kind == "contains" and isinstance(wanted, dict) and "const" in wanted:
        return f"must include {_shown(wanted['const'])}"
    if kind == "minItems" and wanted == 1:
        return "must not be empty"
    if kind == "maxItems" and isinstance(value, list):
        return f"must hold at most {wanted} items, not {len(value)}"
    if kind == "enum":
        return f"{_shown(value)} is not one of {', '.join(_shown(v) for v in wanted)}"
    if kind == "required":
        return f"{error.message.split(' is a required')[0]} is missing"
    return error.message


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


# --- responses -----------------------------------------------------------------------------


def json_response(body: Any, status: int = 200, *,
                  headers: Mapping[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def raw_json_response(text: str, status: int = 200, *,
                      mimetype: str = "application/json") -> Response:
    """A stored JSON document sent exactly as stored."""
    return Response(text, status=status, mimetype=mimetype)


_SHOWN = 40  # of a refused value, in its message


def query_int(name: str, default: int, *, lowest: int, highest: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        shown = raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…"
        raise InputError(f"'{name}' must be a whole number, not {shown!r}") from None
    if not lowest <= value <= highest:
        raise InputError(f"'{name}' must be between {lowest} and {highest}")
    return value


def query_text(name: str, *, max_length: int) -> str | None:
    """A query parameter's text without surrounding spaces; None when empty."""
    value = (request.args.get(name) or "").strip()
    if len(value) > max_length:
        raise InputError(f"'{name}' must be at most {max_length} characters, not "
                         f"{len(value):,}")
    return value or None


def query_flag(name: str, default: bool = False) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise InputError(f"'{name}' must be true or false, not {raw!r}")


def paging_headers(total: int, limit: int, offset: int) -> dict[str, str]:
    """``X-Total-Count`` and an RFC 8288 ``Link`` header, as OB 3.0 §6.4 describes for
    getCredentials (rels first, last, next and prev)."""
    args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}

    def link(new_offset: int, rel: str) -> str:
        query = urlencode({**args, "limit": limit, "offset": new_offset})
        return f'<{services().base}{request.path}?{query}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit) if total else 0
    links = [link(0, "first"), link(last, "last")]
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    return {"X-Total-Count": str(total), "Link": ", ".join(links)}
