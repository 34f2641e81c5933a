"""The compiled first look at JSON Schema validity: it may only ever say "valid"."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import Draft201909Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

from issuer.core.fast_schema import LazyChecks, compile_check
from issuer.core.schema import FORMATS, SchemaRegistry, format_checker

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
CREDENTIAL_URL = ("https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
                  "ob_v3p0_achievementcredential_schema.json")


@pytest.mark.parametrize("schema", [
    {"type": "object", "unevaluatedProperties": False},  # not a draft-07 keyword
    {"prefixItems": [{"type": "string"}]},  # 2020-12 only
    {"$ref": "#/$defs/a", "required": ["x"], "$defs": {"a": {"type": "object"}}},  # beside $ref
    {"properties": {"a": {"$ref": "https://example.org/schema.json"}}},  # would be fetched
    {"properties": {"a": {"type": "string", "format": "email"}}},  # a format we do not check
    {"dependentRequired": {"a": ["b"]}},
], ids=["unevaluated", "prefixItems", "ref-siblings", "remote-ref", "format", "dependent"])
def test_a_schema_that_draft_7_would_read_otherwise_gets_no_compiled_check(
        schema: dict[str, Any]) -> None:
    assert compile_check(schema, FORMATS) is None


def test_the_check_uses_the_given_formats_and_writes_no_defaults() -> None:
    check = compile_check({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object", "required": ["at"],
        "properties": {"at": {"type": "string", "format": "date-time"},
                       "n": {"type": "integer", "default": 3}},
    }, FORMATS)
    assert check is not None
    document = {"at": "2026-12-06T10:00:00Z"}
    assert check(document) and document == {"at": "2026-12-06T10:00:00Z"}
    assert not check({"at": "2026-12-06T10:00:00"})  # no offset: refused, as jsonschema does
    assert not check({"at": "2026-02-30T10:00:00Z"})
    assert not check({})


def _credential() -> dict[str, Any]:
    for path in sorted((ROOT / "tests" / "vectors").rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(document, dict) and "OpenBadgeCredential" in json.dumps(
                document.get("type")) and isinstance(document.get("credentialSubject"), dict):
            if isinstance(document.get("proof"), dict):
                document["proof"] = [document["proof"]]
            return document
    pytest.skip("no OB 3.0 credential among the test vectors")


_ODD_VALUES: list[Any] = [None, 0, 1.5, True, "", "x", "2026-13-01", "not a uri", [], {},
                          ["a"], {"id": "urn:x"}, "2026-12-06T10:00:00Z"]


def _mutations(document: Any, rng: random.Random, count: int) -> list[Any]:
    """Copies of ``document`` with one value replaced, or one member dropped, at random."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(document, ())
    out = []
    for _ in range(count):
        path = rng.choice(paths[1:])
        changed = copy.deepcopy(document)
        parent = changed
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(_ODD_VALUES)
        out.append(changed)
    return out


def test_what_the_compiled_ob3_check_accepts_jsonschema_accepts_too() -> None:
    schema = json.loads((SCHEMAS / "ob_v3p0_achievementcredential_schema.json")
                        .read_text(encoding="utf-8"))
    check = compile_check(schema, FORMATS)
    assert check is not None
    registry: Registry[Any] = Registry().with_resource(
        schema["$id"], Resource.from_contents(schema, default_specification=DRAFT201909))
    reference = Draft201909Validator(schema, registry=registry, format_checker=format_checker())
    document = _credential()
    assert check(document) and reference.is_valid(document)
    accepted = refused = 0
    for changed in _mutations(document, random.Random(19), 600):
        if check(changed):
            accepted += 1
            assert reference.is_valid(changed), json.dumps(changed)[:400]
        else:
            refused += 1
            # A refusal only sends the document on to jsonschema; most are real errors.
    assert accepted > 20 and refused > 100


def test_the_compiled_api_checks_accept_only_what_jsonschema_accepts() -> None:
    rng = random.Random(6)
    body = {"achievement": "mentor", "recipient": {"email": "ada@example.org", "name": "Ada"},
            "evidence": [{"url": "https://example.org/thread/1", "name": "Thread"}],
            "validUntil": "2030-01-01", "notify": False}
    schema = json.loads((SCHEMAS / "api" / "award.json").read_text(encoding="utf-8"))
    check = compile_check(schema, FORMATS)
    assert check is not None
    reference = Draft202012Validator(schema, format_checker=format_checker())
    assert reference.is_valid(body) and check(body)
    for changed in _mutations(body, rng, 400):
        if check(changed):
            assert reference.is_valid(changed), changed


def test_a_registry_compiles_a_schema_on_its_third_use_with_the_same_verdicts() -> None:
    registry = SchemaRegistry.from_directory(SCHEMAS)
    document = _credential()
    broken = {**document, "issuer": {"name": "no id"}}
    first = [registry.validate(broken, CREDENTIAL_URL) for _ in range(LazyChecks.COMPILE_AT)]
    assert registry._fast._checks.get(CREDENTIAL_URL) is not None  # compiled by now
    assert registry.validate(broken, CREDENTIAL_URL) == first[0] != []
    assert registry.validate(document, CREDENTIAL_URL) == []
    status = [{"id": f"https://example.org/status/1#{n}", "type": "BitstringStatusListEntry",
               "statusPurpose": p, "statusListIndex": str(n),
               "statusListCredential": "https://example.org/status/1"}
              for n, p in ((7, "revocation"), (7, "suspension"))]
    listed = {**document, "credentialStatus": status}
    assert registry.validate(listed, CREDENTIAL_URL, compacted=True) == []
    assert registry.validate(listed, CREDENTIAL_URL) != []  # the strict check refuses a list
    wrong = {**document, "credentialStatus": [status[0], {"type": 5}]}
    errors = registry.validate(wrong, CREDENTIAL_URL, compacted=True)
    assert any(e.startswith("credentialStatus[1]") for e in errors)


def test_a_schema_used_once_or_twice_is_not_compiled() -> None:
    compiled: list[str] = []

    def compile_one(name: str) -> Any:
        compiled.append(name)
        return lambda document: True

    checks = LazyChecks(compile_one)
    assert not checks.accepts("a", {}) and not checks.accepts("a", {})
    assert compiled == []
    assert checks.accepts("a", {}) and checks.accepts("a", {})
    assert compiled == ["a"]


@pytest.mark.parametrize("name", ["award", "vc-issue", "vc-verify-credential", "status-change",
                                  "achievement-create"])
def test_the_busiest_request_schemas_are_compiled(name: str) -> None:
    schema = json.loads((SCHEMAS / "api" / f"{name}.json").read_text(encoding="utf-8"))
    assert compile_check(schema, FORMATS) is not None


def test_a_document_the_compiled_code_cannot_walk_is_left_to_jsonschema() -> None:
    check = compile_check({"type": "array", "items": {"$ref": "#"}}, FORMATS)
    assert check is not None
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert check([[[]]]) and not check(deep)  # too deep for the compiled code: not "valid"
