"""schemas/openapi.yaml: a well-formed OpenAPI 3.1 description that matches the app.

Every machine route is described with its methods, every described path exists, every
reference resolves, and real responses validate against the schemas the description gives.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from issuer.core.bundled import SCHEMAS_DIR
from tests.web.conftest import World

SPEC_PATH = SCHEMAS_DIR / "openapi.yaml"
API_DIR = SCHEMAS_DIR / "api"
MACHINE_PREFIXES = ("/api/", "/credentials/issue", "/credentials/verify", "/presentations/")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
HTTP_STATUS = re.compile(r"^([1-5][0-9][0-9]|[1-5]XX|default)$")

#: The shape OpenAPI 3.1 §4.8 requires of the parts this description uses.
STRUCTURE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.\d+$"},
        "info": {"type": "object", "required": ["title", "version"],
                 "properties": {"title": {"type": "string"}, "version": {"type": "string"},
                                "license": {"type": "object", "required": ["name"]}}},
        "servers": {"type": "array", "items": {"type": "object", "required": ["url"]}},
        "security": {"$ref": "#/$defs/security"},
        "tags": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "paths": {"type": "object", "propertyNames": {"pattern": "^/"},
                  "additionalProperties": {"$ref": "#/$defs/pathItem"}},
        "components": {"type": "object", "properties": {
            "schemas": {"type": "object"},
            "responses": {"type": "object", "additionalProperties": {"$ref": "#/$defs/response"}},
            "parameters": {"type": "object",
                           "additionalProperties": {"$ref": "#/$defs/parameter"}},
            "securitySchemes": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["type"],
                "properties": {"type": {"enum": ["apiKey", "http", "mutualTLS", "oauth2",
                                                 "openIdConnect"]}}}},
        }},
    },
    "additionalProperties": False,
    "$defs": {
        "security": {"type": "array", "items": {
            "type": "object", "additionalProperties": {"type": "array"}}},
        "ref": {"type": "object", "required": ["$ref"]},
        "parameter": {"oneOf": [
            {"$ref": "#/$defs/ref"},
            {"type": "object", "required": ["name", "in"],
             "properties": {"in": {"enum": ["query", "header", "path", "cookie"]},
                            "schema": {"type": "object"}},
             "if": {"properties": {"in": {"const": "path"}}},
             "then": {"required": ["required"], "properties": {"required": {"const": True}}}},
        ]},
        "mediaTypes": {"type": "object",
                       "propertyNames": {"pattern": r"^[a-z]+/[a-z0-9.+-]+$"},
                       "additionalProperties": {"type": "object", "required": ["schema"]}},
        "response": {"oneOf": [
            {"$ref": "#/$defs/ref"},
            {"type": "object", "required": ["description"],
             "properties": {"content": {"$ref": "#/$defs/mediaTypes"},
                            "headers": {"type": "object"}}},
        ]},
        "operation": {
            "type": "object", "required": ["responses", "operationId", "summary"],
            "properties": {
                "operationId": {"type": "string"},
                "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
                "requestBody": {"type": "object", "required": ["content"],
                                "properties": {"content": {"$ref": "#/$defs/mediaTypes"}}},
                "responses": {"type": "object", "minProperties": 1,
                              "propertyNames": {"pattern": HTTP_STATUS.pattern},
                              "additionalProperties": {"$ref": "#/$defs/response"}},
                "security": {"$ref": "#/$defs/security"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
        "pathItem": {
            "type": "object",
            "properties": {
                "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
                **{m: {"$ref": "#/$defs/operation"} for m in METHODS},
            },
            "additionalProperties": False,
        },
    },
}


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def registry() -> Registry[Any]:
    """The description and the request schemas, addressed as they refer to each other."""
    resources = [("openapi.yaml", Resource.from_contents(
        spec(), default_specification=DRAFT202012))]
    for path in API_DIR.glob("*.json"):
        resources.append((f"api/{path.name}", Resource.from_contents(
            json.loads(path.read_text(encoding="utf-8")),
            default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"openapi.yaml#{pointer}"}, registry=registry())


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec()["paths"].items()
            for method, op in item.items() if method in METHODS]


def deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec()
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


# --- the description itself ----------------------------------------------------------------


def test_the_description_has_the_openapi_31_structure() -> None:
    Draft202012Validator.check_schema(STRUCTURE)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft202012Validator(STRUCTURE).iter_errors(spec())]
    assert errors == []


def test_every_schema_is_a_valid_json_schema_2020_12() -> None:
    for schema in spec()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for path in API_DIR.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path
        Draft202012Validator.check_schema(schema)


def _refs(node: Any, base: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append((base, node["$ref"]))
        for value in node.values():
            found += _refs(value, base)
    elif isinstance(node, list):
        for value in node:
            found += _refs(value, base)
    return found


def test_every_reference_resolves() -> None:
    refs = _refs(spec(), "openapi.yaml")
    for path in API_DIR.glob("*.json"):
        refs += _refs(json.loads(path.read_text(encoding="utf-8")), f"api/{path.name}")
    assert len(refs) > 50
    for base, ref in refs:
        resolver = registry().resolver(base_uri=base)
        resolver.lookup(ref)  # raises if the file or the JSON pointer is missing
        if not ref.startswith("#") and base == "openapi.yaml":
            assert (SPEC_PATH.parent / ref.split("#", 1)[0]).is_file(), ref


def test_operation_ids_are_unique_and_path_parameters_declared() -> None:
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))
    for path, item in spec()["paths"].items():
        declared = {deref(p)["name"] for p in item.get("parameters", [])
                    if deref(p)["in"] == "path"}
        for method, op in item.items():
            if method not in METHODS:
                continue
            names = declared | {deref(p)["name"] for p in op.get("parameters", [])
                                if deref(p)["in"] == "path"}
            assert names == set(re.findall(r"{([^}]+)}", path)), (path, method)


def test_errors_are_documented_as_problem_details() -> None:
    security = spec()["security"]
    assert security == [{"bearerAuth": []}]
    assert spec()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method, op in operations():
        responses = op["responses"]
        secured = op.get("security", security) != []
        if secured:
            assert "401" in responses, (path, method)
        if "requestBody" in op:
            for status in ("413", "415", "422"):
                assert status in responses, (path, method, status)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = deref(response).get("content", {})
                assert "application/problem+json" in content, (path, method, status)
        public = path.startswith(("/issuers/", "/credentials/{")) or path.endswith("/verify")
        assert secured != public, (path, method)


# --- the description and the app -----------------------------------------------------------


def _routes(app: Flask) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        routes.setdefault(flask_to_openapi(rule.rule), set()).update(methods)
    return routes


def test_every_machine_route_is_described_with_its_methods(app: Flask) -> None:
    described = {path: {m for m in item if m in METHODS}
                 for path, item in spec()["paths"].items()}
    machine = {path: methods for path, methods in _routes(app).items()
               if path.startswith(MACHINE_PREFIXES)}
    assert machine, "no machine routes found"
    for path, methods in machine.items():
        assert path in described, f"{path} is not in schemas/openapi.yaml"
        assert methods == described[path], path


def test_every_described_path_and_method_has_a_route(app: Flask) -> None:
    routes = _routes(app)
    for path, method, _ in operations():
        assert path in routes, f"{path} has no route"
        assert method in routes[path], f"{method.upper()} {path} has no route"


# --- real responses match the described schemas --------------------------------------------


def _check(instance: Any, pointer: str) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator(pointer).iter_errors(instance)]
    assert errors == [], (pointer, instance)


def _response_schema(path: str, method: str, status: str, media: str) -> str:
    return (f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/"
            f"{status}/content/{media.replace('/', '~1')}/schema")


def test_responses_match_their_schemas(client: FlaskClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.token}"}
    issuer = client.get("/api/v1/issuer", headers=headers)
    _check(issuer.get_json(), _response_schema("/api/v1/issuer", "get", "200",
                                               "application/json"))
    created = client.post("/api/v1/achievements", headers=headers, json={
        "name": "Host", "description": "Hosted a session.", "criteria": {"narrative": "x"}})
    _check(created.get_json(), "/components/schemas/Achievement")
    awarded = client.post("/api/v1/awards", headers=headers, json={
        "achievement": "host", "recipient": {"email": "a@example.org", "name": "A"},
        "validUntil": "2099-01-01T00:00:00Z"})
    assert awarded.status_code == 201
    _check(awarded.get_json(), "/components/schemas/AwardResult")
    listed = client.get("/api/v1/credentials", headers=headers)
    _check(listed.get_json(), "/components/schemas/CredentialList")
    vc = awarded.get_json()["credential"]
    verified = client.post("/credentials/verify", json={"verifiableCredential": vc})
    _check(verified.get_json(), "/components/schemas/VerificationResult")
    problem = client.post("/api/v1/awards", headers=headers, json={"achievement": 1})
    assert problem.status_code == 422
    _check(problem.get_json(), "/components/schemas/Problem")
    bulk = client.post("/api/v1/bulk?achievement=host", headers=headers,
                       data=b"recipient\nb@example.org\nnot-an-address\n",
                       content_type="text/csv")
    _check(bulk.get_json(), "/components/schemas/Problem")
    started = client.post("/api/v1/bulk?achievement=host&issue_valid_rows=true",
                          headers=headers, data=b"recipient\nb@example.org\nbad\n",
                          content_type="text/csv")
    assert started.status_code == 202
    _check(started.get_json(), "/components/schemas/BulkJobAccepted")
    import time

    deadline = time.monotonic() + 60
    while True:
        status = client.get(started.headers["Location"], headers=headers).get_json()
        if status["job"]["status"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    _check(status, "/components/schemas/BulkJobStatus")


@pytest.mark.parametrize("name, body", [
    ("award", {"achievement": "x", "recipient": {"email": "a@example.org"}}),
    ("vc-issue", {"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"],
                                 "type": ["VerifiableCredential"],
                                 "credentialSubject": {"id": "did:example:1"}}}),
    ("vc-verify-credential", {"verifiableCredential": "eyJhbGciOiJFZERTQSJ9.e30.c2ln"}),
    ("vc-verify-presentation", {"verifiablePresentation": {}, "options": {"challenge": "c"}}),
    ("achievement-update", {"criteria": {"id": "https://example.org/c"}}),
])
def test_documented_request_examples_are_valid(name: str, body: Any) -> None:
    schema = Path(API_DIR / f"{name}.json")
    assert schema.is_file()
    errors = list(Draft202012Validator({"$ref": f"api/{name}.json"}, registry=registry())
                  .iter_errors(body))
    assert errors == []
