"""SchemaRegistry: the official OB 3.0 schemas, offline, with plain-language errors."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import Draft201909Validator, validator_for

from issuer.core.credentials import (
    ACHIEVEMENT_CREDENTIAL_SCHEMA,
    ENDORSEMENT_CREDENTIAL_SCHEMA,
    PROFILE_SCHEMA,
)
from issuer.core.errors import InputError, SchemaError, SchemaUnavailable
from issuer.core.schema import (
    CHECKED_SCHEMA_DIGESTS,
    MAX_ERRORS,
    SchemaRegistry,
    SchemaSelection,
    format_checker,
    is_date,
    is_date_time,
    is_uri,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
VECTORS = ROOT / "tests" / "vectors"
SPEC_EXAMPLES = sorted((VECTORS / "1edtech-spec-examples-2024-04").glob("*.di.json"))
CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.from_directory(SCHEMAS)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def complete_example() -> dict[str, Any]:
    return load(VECTORS / "1edtech-spec-examples-2024-04" / "complete-openbadgecredential.di.json")


# --- loading -------------------------------------------------------------------------------


def test_every_indexed_schema_is_loaded(registry: SchemaRegistry) -> None:
    index = load(SCHEMAS / "INDEX.json")
    assert registry.urls == frozenset(index)
    assert ACHIEVEMENT_CREDENTIAL_SCHEMA in registry


def test_schemas_are_found_under_their_own_id_too(registry: SchemaRegistry) -> None:
    # The files' $id differs from the published URL; a $ref by $id must still resolve
    # locally. A wrapper schema that refers to the AchievementCredential schema by $id:
    own_id = load(SCHEMAS / "ob_v3p0_achievementcredential_schema.json")["$id"]
    assert own_id != ACHIEVEMENT_CREDENTIAL_SCHEMA
    wrapper_url = "https://test.example/wrapper.json"
    wrapper = {"$schema": "https://json-schema.org/draft/2019-09/schema", "$ref": own_id}
    schemas = {url: load(SCHEMAS / name) for url, name in load(SCHEMAS / "INDEX.json").items()}
    local = SchemaRegistry({**schemas, wrapper_url: wrapper})
    assert local.validate(complete_example(), wrapper_url) == []
    broken = complete_example()
    del broken["issuer"]
    assert local.validate(broken, wrapper_url) == ["(top level): 'issuer' is a required property"]


def test_unbundled_refs_fail_instead_of_going_to_the_network() -> None:
    url = "https://test.example/remote-ref.json"
    schema = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$ref": "https://elsewhere.example/schema.json",
    }
    local = SchemaRegistry({url: schema})
    with pytest.raises(SchemaUnavailable, match=r"elsewhere\.example.*not bundled"):
        local.validate({}, url)


def test_unknown_schema_url_is_refused(registry: SchemaRegistry) -> None:
    with pytest.raises(SchemaUnavailable, match="no bundled schema"):
        registry.validate({}, CLR_SCHEMA)


def test_missing_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SchemaUnavailable, match="cannot read the schema index"):
        SchemaRegistry.from_directory(tmp_path)


def test_an_invalid_bundled_schema_is_reported() -> None:
    bad = {"$schema": "https://json-schema.org/draft/2019-09/schema", "type": 5}
    with pytest.raises(SchemaUnavailable, match="not a valid JSON Schema"):
        SchemaRegistry({"https://test.example/bad.json": bad})


def test_the_shipped_schemas_are_valid_and_are_the_ones_known_to_be() -> None:
    # The digests let a process skip the meta-schema check at start; they must name exactly
    # what ships, and what ships must pass that check.
    index = json.loads((SCHEMAS / "INDEX.json").read_text(encoding="utf-8"))
    digests = set()
    for name in index.values():
        raw = (SCHEMAS / name).read_bytes()
        digests.add(hashlib.sha256(raw).hexdigest())
        schema = json.loads(raw)
        validator_for(schema, default=Draft201909Validator).check_schema(schema)
    assert digests == CHECKED_SCHEMA_DIGESTS


def test_a_changed_schema_file_is_checked_when_loaded(tmp_path: Path) -> None:
    shutil.copytree(SCHEMAS, tmp_path, dirs_exist_ok=True)
    index = json.loads((SCHEMAS / "INDEX.json").read_text(encoding="utf-8"))
    url, name = next(iter(index.items()))
    schema = load(SCHEMAS / name)
    schema["properties"]["type"] = {"type": 5}  # not a JSON Schema any more
    (tmp_path / name).write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(SchemaUnavailable, match=f"{url} is not a valid JSON Schema"):
        SchemaRegistry.from_directory(tmp_path)


# --- published examples --------------------------------------------------------------------


def test_the_spec_examples_are_present() -> None:
    assert len(SPEC_EXAMPLES) == 7


@pytest.mark.parametrize("path", SPEC_EXAMPLES, ids=lambda p: p.name)
def test_published_examples_pass(path: Path, registry: SchemaRegistry) -> None:
    document = load(path)
    selection = registry.schemas_for(document)
    assert selection.known, "every example names an OB 3.0 schema"
    for url in selection.known:
        assert registry.validate(document, url) == []
        registry.check(document, url)


def test_implementation_guide_vector_fails_only_on_its_single_object_proof(
    registry: SchemaRegistry,
) -> None:
    # Known quirk (REQUIREMENTS §1.2): §A.2.1 allows a single `proof`, the canonical schema
    # does not. The unsigned form of the same credential passes.
    vector = VECTORS / "1edtech-impl-guide-ob30-eddsa-rdfc-2022"
    signed = load(vector / "signed.json")
    assert isinstance(signed["proof"], dict)
    assert registry.validate(signed, ACHIEVEMENT_CREDENTIAL_SCHEMA) == [
        "proof: must be of type array, not object"
    ]
    assert registry.validate(load(vector / "unsigned.json"), ACHIEVEMENT_CREDENTIAL_SCHEMA) == []


def test_clr_vector_embedded_credential_fails_on_string_types(registry: SchemaRegistry) -> None:
    # The CLR 2.0 example writes `type` as single strings, which the canonical OB schema
    # rejects; the errors name each place.
    clr = load(VECTORS / "1edtech-impl-guide-clr20-eddsa-rdfc-2022" / "unsigned.json")
    embedded = clr["credentialSubject"]["verifiableCredential"][0]
    assert registry.validate(embedded, ACHIEVEMENT_CREDENTIAL_SCHEMA) == [
        "credentialSubject.achievement.creator.type: must be of type array, not string",
        "credentialSubject.achievement.type: must be of type array, not string",
        "credentialSubject.type: must be of type array, not string",
        "issuer.type: must be of type array, not string",
    ]


# --- errors --------------------------------------------------------------------------------


def test_missing_criteria_names_the_path(registry: SchemaRegistry) -> None:
    document = complete_example()
    del document["credentialSubject"]["achievement"]["criteria"]
    errors = registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert errors == ["credentialSubject.achievement: 'criteria' is a required property"]
    with pytest.raises(SchemaError) as caught:
        registry.check(document, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert caught.value.errors == errors
    assert "credentialSubject.achievement: 'criteria' is a required property" in str(caught.value)
    assert "ob_v3p0_achievementcredential_schema.json" in caught.value.message


def test_errors_inside_one_of_point_at_the_branch_that_was_meant(
    registry: SchemaRegistry,
) -> None:
    document = complete_example()
    # `issuer` is oneOf [URI string, Profile]; an object is clearly meant as a Profile.
    del document["issuer"]["id"]
    document["issuer"]["endorsement"][0]["credentialSubject"]["type"] = ["Other"]
    document["issuer"]["endorsement"][0]["issuer"] = 5
    errors = registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert errors == [
        'issuer.endorsement[0].credentialSubject.type: must contain "EndorsementSubject"',
        "issuer.endorsement[0].issuer: must be of type string or object, not number",
        "issuer: 'id' is a required property",
    ]


def test_enum_or_extension_errors_are_readable(registry: SchemaRegistry) -> None:
    document = complete_example()
    document["credentialSubject"]["achievement"]["achievementType"] = "Nope"
    document["credentialSubject"]["result"][2]["status"] = "Done"
    document["credentialSubject"]["identifier"][0]["extra"] = 1
    errors = registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert errors == [
        'credentialSubject.achievement.achievementType: "Nope" is not one of the allowed '
        'values: "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", '
        '… (31 values); or "Nope" does not match the pattern (ext:)[a-z|A-Z|0-9|.|-|_]+',
        "credentialSubject.identifier[0]: Additional properties are not allowed "
        "('extra' was unexpected)",
        'credentialSubject.result[2].status: "Done" is not one of the allowed values: '
        '"Completed", "Enrolled", "Failed", "InProgress", … (7 values)',
    ]


def test_credential_type_error(registry: SchemaRegistry) -> None:
    document = complete_example()
    document["type"] = ["VerifiableCredential"]
    assert registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA) == [
        'type: must contain "AchievementCredential" or "OpenBadgeCredential"'
    ]


def test_non_object_document(registry: SchemaRegistry) -> None:
    assert registry.validate([], ACHIEVEMENT_CREDENTIAL_SCHEMA) == [
        "(top level): must be of type object, not array"
    ]


def test_error_list_is_capped(registry: SchemaRegistry) -> None:
    document = complete_example()
    for i in range(MAX_ERRORS + 5):
        document["evidence"].append({"id": f"https://e.example/{i}", "type": "Evidence"})
    errors = registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1] == "… and 5 more error(s)"
    assert all(e.endswith("must be of type array, not string") for e in errors[:-1])


def test_long_values_are_shortened(registry: SchemaRegistry) -> None:
    document = complete_example()
    document["credentialSubject"]["result"][2]["status"] = "x" * 500
    (error,) = registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert len(error) < 250
    assert '"xxxx' in error and "…" in error


# --- formats -------------------------------------------------------------------------------


def test_format_checker_is_explicit() -> None:
    # jsonschema checks date-time only with rfc3339-validator, and uri only with rfc3987 or
    # rfc3986-validator, installed; otherwise it accepts any string. The registry uses its own
    # functions for exactly these formats, whatever is installed.
    checker = format_checker()
    assert set(checker.checkers) == {"date-time", "date", "uri"}
    assert checker.checkers["date-time"][0] is is_date_time
    assert checker.checkers["date"][0] is is_date
    assert checker.checkers["uri"][0] is is_uri


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2010-01-01T00:00:00Z", True),
        ("2010-01-01t00:00:00z", True),
        ("2010-01-01T00:00:00.123456Z", True),
        ("2010-01-01T00:00:00+02:00", True),
        ("2016-12-31T23:59:60Z", True),  # leap second
        ("2010-01-01T00:00:00", False),  # DateTimeZ: the offset is required
        ("2010-01-01", False),
        ("2010-13-01T00:00:00Z", False),
        ("2010-02-30T00:00:00Z", False),
        ("2010-01-01T24:00:00Z", False),
        ("2010-01-01T00:00:00+24:00", False),
        ("2010-01-01 00:00:00Z", False),
        ("20100101T000000Z", False),
    ],
)
def test_date_time_format(value: str, ok: bool) -> None:
    assert is_date_time(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2010-01-01", True), ("2010-02-30", False), ("20100101", False), ("2010-1-1", False)],
)
def test_date_format(value: str, ok: bool) -> None:
    assert is_date(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://example.org/a?b=c#d", True),
        ("urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002", True),
        ("did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi", True),
        ("https://example.org/a%20b", True),
        ("relative/path", False),
        ("https://example.org/a b", False),
        ("https://example.org/%zz", False),
        ("1http://x", False),
    ],
)
def test_uri_format(value: str, ok: bool) -> None:
    assert is_uri(value) is ok


def test_non_strings_are_left_to_the_type_keyword() -> None:
    assert is_date_time(5) and is_date(None) and is_uri(1.5)


def test_date_time_is_checked_in_credentials(registry: SchemaRegistry) -> None:
    document = complete_example()
    document["validFrom"] = "2010-01-01T00:00:00"
    document["credentialSubject"]["activityEndDate"] = "yesterday"
    assert registry.validate(document, ACHIEVEMENT_CREDENTIAL_SCHEMA) == [
        'credentialSubject.activityEndDate: "yesterday" is not a valid date-time',
        'validFrom: "2010-01-01T00:00:00" is not a valid date-time',
    ]


def test_date_is_checked_in_profiles(registry: SchemaRegistry) -> None:
    profile = {"id": "https://p.example", "type": ["Profile"], "dateOfBirth": "1 May 1990"}
    assert registry.validate(profile, PROFILE_SCHEMA) == [
        'dateOfBirth: "1 May 1990" is not a valid date'
    ]


def test_uri_format_is_applied_where_a_schema_declares_it() -> None:
    # The bundled OB schemas declare no `uri` format; a schema that does gets it checked.
    url = "https://test.example/uri.json"
    schema = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "properties": {"id": {"type": "string", "format": "uri"}},
    }
    local = SchemaRegistry({url: schema})
    assert local.validate({"id": "https://ok.example"}, url) == []
    assert local.validate({"id": "not a uri"}, url) == ['id: "not a uri" is not a valid uri']


# --- schema selection ----------------------------------------------------------------------


def test_named_schemas_are_split_into_known_and_unknown(registry: SchemaRegistry) -> None:
    document = load(
        VECTORS / "1edtech-spec-examples-2024-04" / "sample-endorsementcredential.di.json"
    )
    assert registry.schemas_for(document) == SchemaSelection(
        known=[ENDORSEMENT_CREDENTIAL_SCHEMA],
        unknown=["https://state.gov/schema/endorsementcredential.json"],
    )


def test_default_schema_by_type_when_none_is_named(registry: SchemaRegistry) -> None:
    document = complete_example()
    del document["credentialSchema"]
    assert registry.schemas_for(document).known == [ACHIEVEMENT_CREDENTIAL_SCHEMA]
    document["type"] = ["VerifiableCredential", "AchievementCredential"]
    assert registry.schemas_for(document).known == [ACHIEVEMENT_CREDENTIAL_SCHEMA]
    endorsement = {"type": ["VerifiableCredential", "EndorsementCredential"]}
    assert registry.schemas_for(endorsement).known == [ENDORSEMENT_CREDENTIAL_SCHEMA]


def test_default_schema_also_applies_when_only_unknown_schemas_are_named(
    registry: SchemaRegistry,
) -> None:
    document = complete_example()
    document["credentialSchema"] = [
        {"id": "https://private.example/schema.json", "type": "1EdTechJsonSchemaValidator2019"}
    ]
    assert registry.schemas_for(document) == SchemaSelection(
        known=[ACHIEVEMENT_CREDENTIAL_SCHEMA], unknown=["https://private.example/schema.json"]
    )


def test_other_credential_schema_types_are_ignored(registry: SchemaRegistry) -> None:
    document = complete_example()
    document["credentialSchema"] = [
        {"id": "https://private.example/schema.json", "type": "JsonSchema"},
        {"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"},
        {"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"},
    ]
    assert registry.schemas_for(document) == SchemaSelection(
        known=[ACHIEVEMENT_CREDENTIAL_SCHEMA], unknown=[]
    )


def test_single_object_credential_schema_is_read(registry: SchemaRegistry) -> None:
    document = complete_example()
    document["credentialSchema"] = {
        "id": "https://private.example/schema.json",
        "type": "1EdTechJsonSchemaValidator2019",
    }
    assert registry.schemas_for(document).unknown == ["https://private.example/schema.json"]


def test_clr_gets_no_default(registry: SchemaRegistry) -> None:
    clr = load(VECTORS / "1edtech-impl-guide-clr20-eddsa-rdfc-2022" / "unsigned.json")
    assert registry.schemas_for(clr) == SchemaSelection(known=[], unknown=[CLR_SCHEMA])
    del clr["credentialSchema"]
    assert registry.schemas_for(clr) == SchemaSelection(known=[], unknown=[])


def test_vcdm_1_1_credentials_get_no_vcdm_2_schema(registry: SchemaRegistry) -> None:
    legacy = copy.deepcopy(complete_example())
    legacy["@context"][0] = "https://www.w3.org/2018/credentials/v1"
    assert registry.schemas_for(legacy) == SchemaSelection(
        known=[], unknown=[ACHIEVEMENT_CREDENTIAL_SCHEMA]
    )


def test_schemas_for_needs_an_object(registry: SchemaRegistry) -> None:
    with pytest.raises(InputError):
        registry.schemas_for([])  # type: ignore[arg-type]


# --- several credentialStatus entries (VCDM 2.0 §4.10) ----------------------------------------


def _with_status(entries: Any) -> dict[str, Any]:
    doc = complete_example()
    doc.pop("proof", None)
    doc["credentialStatus"] = entries
    return doc


REVOCATION = {
    "id": "https://example.org/issuers/1/status/revocation/1#94567",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "94567",
    "statusListCredential": "https://example.org/issuers/1/status/revocation/1",
}
SUSPENSION = {**REVOCATION, "id": "https://example.org/issuers/1/status/suspension/1#94567",
              "statusPurpose": "suspension",
              "statusListCredential": "https://example.org/issuers/1/status/suspension/1"}


def test_the_official_schema_refuses_a_status_list(registry: SchemaRegistry) -> None:
    assert registry.validate(_with_status(REVOCATION), ACHIEVEMENT_CREDENTIAL_SCHEMA) == []
    errors = registry.validate(_with_status([REVOCATION, SUSPENSION]),
                               ACHIEVEMENT_CREDENTIAL_SCHEMA)
    assert errors == ["credentialStatus: must be of type object, not array"]


def test_the_compacted_check_takes_two_valid_status_entries(registry: SchemaRegistry) -> None:
    doc = _with_status([REVOCATION, SUSPENSION])
    assert registry.validate(doc, ACHIEVEMENT_CREDENTIAL_SCHEMA, compacted=True) == []
    # The caller's document is not changed by the check.
    assert doc["credentialStatus"] == [REVOCATION, SUSPENSION]


@pytest.mark.parametrize("position", [0, 1])
def test_the_compacted_check_names_a_malformed_status_entry(
    registry: SchemaRegistry, position: int
) -> None:
    entries = [dict(REVOCATION), dict(SUSPENSION)]
    del entries[position]["id"]
    entries[position]["type"] = ["BitstringStatusListEntry"]
    errors = registry.validate(_with_status(entries), ACHIEVEMENT_CREDENTIAL_SCHEMA,
                               compacted=True)
    assert sorted(errors) == sorted([
        f"credentialStatus[{position}]: 'id' is a required property",
        f"credentialStatus[{position}].type: must be of type string, not array",
    ])


def test_the_compacted_check_refuses_an_empty_or_non_object_status(
    registry: SchemaRegistry,
) -> None:
    assert registry.validate(_with_status([]), ACHIEVEMENT_CREDENTIAL_SCHEMA,
                             compacted=True) != []
    errors = registry.validate(_with_status([REVOCATION, "revoked"]),
                               ACHIEVEMENT_CREDENTIAL_SCHEMA, compacted=True)
    assert errors == ["credentialStatus[1]: must be of type object, not string"]


def test_endorsements_take_a_status_list_the_same_way(registry: SchemaRegistry) -> None:
    endorsement = load(VECTORS / "1edtech-spec-examples-2024-04"
                       / "sample-endorsementcredential.di.json")
    endorsement.pop("proof", None)
    endorsement["credentialStatus"] = [REVOCATION, SUSPENSION]
    assert registry.validate(endorsement, ENDORSEMENT_CREDENTIAL_SCHEMA, compacted=True) == []
    assert registry.validate(endorsement, ENDORSEMENT_CREDENTIAL_SCHEMA) != []
    endorsement["credentialStatus"] = [REVOCATION, {"type": "BitstringStatusListEntry"}]
    assert registry.validate(endorsement, ENDORSEMENT_CREDENTIAL_SCHEMA, compacted=True) == [
        "credentialStatus[1]: 'id' is a required property"]
