"""Local ``$defs`` references inlined once, with the same verdicts as the published schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import Draft201909Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

from issuer.core.schema import inline_local_refs

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CREDENTIAL_SCHEMA = SCHEMAS / "ob_v3p0_achievementcredential_schema.json"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for key, value in node.items() if key != "$defs" for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def test_a_cycle_keeps_its_reference_and_the_rest_is_inlined() -> None:
    schema = {
        "$defs": {
            "Person": {"type": "object", "properties": {
                "name": {"$ref": "#/$defs/Name"},
                "friend": {"$ref": "#/$defs/Person"}}},
            "Name": {"type": "string", "minLength": 1},
        },
        "$ref": "#/$defs/Person",
    }
    inlined = inline_local_refs(schema)
    assert _refs(inlined) == ["#/$defs/Person"]  # the friend's, inside the inlined Person
    assert inlined["$defs"] == schema["$defs"]
    validator = Draft201909Validator(inlined)
    assert validator.is_valid({"name": "Ada", "friend": {"name": "Bob"}})
    assert not validator.is_valid({"name": ""})
    # The reference left in place still resolves, against the inlined root's $defs.
    assert not validator.is_valid({"name": "Ada", "friend": {"name": "Bob", "friend": {"name": 3}}})


def test_a_schema_whose_definitions_move_the_base_uri_is_left_alone() -> None:
    schema = {"$defs": {"A": {"$id": "https://example.org/a", "type": "string"}},
              "$ref": "#/$defs/A"}
    assert inline_local_refs(schema) is schema


def test_a_ref_inside_data_keywords_is_data() -> None:
    schema = {"$defs": {"A": {"type": "string"}},
              "properties": {"x": {"const": {"$ref": "#/$defs/A"}}}}
    assert inline_local_refs(schema)["properties"]["x"] == {"const": {"$ref": "#/$defs/A"}}


def _complete_credential() -> dict[str, Any]:
    vectors = Path(__file__).resolve().parents[1] / "vectors"
    for path in sorted(vectors.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(document, dict) and "OpenBadgeCredential" in json.dumps(
                document.get("type")) and isinstance(document.get("credentialSubject"), dict):
            return document
    pytest.skip("no OB 3.0 credential among the test vectors")


@pytest.mark.parametrize("change", ["none", "subject-type", "issuer-type", "achievement-name",
                                    "criteria", "drop-issuer"])
def test_the_ob3_schema_gives_the_same_errors_inlined(change: str) -> None:
    schema = json.loads(CREDENTIAL_SCHEMA.read_text(encoding="utf-8"))
    document = _complete_credential()
    subject = document["credentialSubject"]
    if isinstance(document.get("proof"), dict):
        document["proof"] = [document["proof"]]  # the schema's form (OB 3.0 §A.2.1)
    if change == "subject-type":
        subject["type"] = 5
    elif change == "issuer-type":
        document["issuer"] = {"name": "No id"}
    elif change == "achievement-name":
        subject["achievement"]["name"] = ["not", "a", "string"]
    elif change == "criteria":
        subject["achievement"]["criteria"] = "words"
    elif change == "drop-issuer":
        del document["issuer"]
    published = Draft201909Validator(schema)
    # As the registry has it: references left in the inlined form resolve in the published one.
    registry: Registry[Any] = Registry().with_resource(
        schema["$id"], Resource.from_contents(schema, default_specification=DRAFT201909))
    inlined = Draft201909Validator(inline_local_refs(schema), registry=registry)

    def found(validator: Draft201909Validator) -> list[tuple[str, str]]:
        return sorted((json.dumps(list(e.absolute_path)), e.message)
                      for e in validator.iter_errors(document))

    assert found(inlined) == found(published)
    assert (found(published) == []) == (change == "none")
