"""Answers of /ims/ob/v3p0 checked against the 1EdTech OB 3.0 OpenAPI document
(``schemas/api/ob_v3p0/ob_v3p0_oas.json``, a copy of the published one): the status is one
the operation lists, and the body matches the schema given for that status and media type.

One known difference, the same :meth:`issuer.core.schema.SchemaRegistry.validate` allows in
its ``compacted`` mode: credentials issued here carry two status entries (revocation and
suspension, VCDM 2.0 §4.10) as a ``credentialStatus`` list, where the OB 3.0 schema models
one object. Each entry is then checked against ``CredentialStatus`` on its own, and the
credential as a whole with its first entry in place of the list.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from issuer.core.bundled import SCHEMAS_DIR

OAS_PATH = SCHEMAS_DIR / "api" / "ob_v3p0" / "ob_v3p0_oas.json"
PREFIX = "/ims/ob/v3p0"


@lru_cache(maxsize=1)
def oas() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OAS_PATH.read_text(encoding="utf-8"))
    return document


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    return Registry().with_resource(
        "oas.json", Resource.from_contents(oas(), default_specification=DRAFT202012))


def schema_errors(value: Any, name: str) -> list[str]:
    """Errors of ``value`` against ``#/components/schemas/<name>``."""
    validator = Draft202012Validator({"$ref": f"oas.json#/components/schemas/{name}"},
                                     registry=_registry())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = oas()
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def check(response: TestResponse, method: str, path: str) -> Any:
    """Assert ``response`` is one the OB 3.0 description allows; return its body."""
    operation = oas()["paths"][path][method.lower()]
    status = str(response.status_code)
    if status not in operation["responses"]:
        # "default": any other status, answered with an Imsx_StatusInfo.
        assert response.status_code >= 400, (status, response.get_data(as_text=True))
        status = "default"
    described = _deref(operation["responses"][status])
    content = described.get("content", {})
    media = response.mimetype
    assert media in content, (media, list(content))
    validator = Draft202012Validator(
        {"$ref": "oas.json#" + _pointer(operation, status, media)}, registry=_registry())
    if media == "application/json":
        body = response.get_json()
    else:
        body = response.get_data(as_text=True)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator.iter_errors(_one_status_each(body))]
    assert errors == [], errors[:5]
    for header, spec in described.get("headers", {}).items():
        header_schema = _deref(spec).get("schema", {})
        if header in response.headers and header_schema.get("type") == "integer":
            assert response.headers[header].isdigit(), header
    return body


def _pointer(operation: dict[str, Any], status: str, media: str) -> str:
    for path, item in oas()["paths"].items():
        for method, op in item.items():
            if op is operation:
                escaped = path.replace("~", "~0").replace("/", "~1")
                return f"/paths/{escaped}/{method}/responses/{status}/content/" \
                       f"{media.replace('/', '~1')}/schema"
    raise AssertionError("operation not found")


def _one_status_each(body: Any) -> Any:
    """``body`` with each credential's list of status entries checked and replaced by its
    first entry (see the module's docstring)."""
    if not isinstance(body, dict):
        return body
    credentials = body.get("credential") if "credential" in body else None
    if isinstance(credentials, list):
        return {**body, "credential": [_one_status_each(c) for c in credentials]}
    entries = body.get("credentialStatus")
    if not isinstance(entries, list) or not entries:
        return body
    for entry in entries:
        assert schema_errors(entry, "CredentialStatus") == [], entry
    return {**body, "credentialStatus": entries[0]}
