"""Credential builders: schema conformance, JSON-LD safety, serialization rules, vectors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from issuer.core.credentials import (
    ACHIEVEMENT_CREDENTIAL_SCHEMA,
    ACHIEVEMENT_TYPES,
    CLR_CREDENTIAL_SCHEMA,
    CLR_V2,
    ENDORSEMENT_CREDENTIAL_SCHEMA,
    OB_EXTENSIONS,
    OB_V3,
    PROFILE_SCHEMA,
    VC_V2,
    Achievement,
    AchievementCredential,
    AchievementSubject,
    Alignment,
    Association,
    ClrCredential,
    ClrSubject,
    CredentialSchema,
    Criteria,
    EndorsementCredential,
    EndorsementSubject,
    Evidence,
    IdentifierEntry,
    IdentityObject,
    Image,
    Profile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    format_datetime,
    hashed_email,
    identity_hash,
    normalize_email,
)
from issuer.core.errors import InputError
from issuer.core.jsonld import ContextLoader, expand_safe
from issuer.core.schema import SchemaRegistry

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
CLR_VECTOR = VECTORS / "1edtech-impl-guide-clr20-eddsa-rdfc-2022"
OB_VECTOR = VECTORS / "1edtech-impl-guide-ob30-eddsa-rdfc-2022"

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def loader() -> ContextLoader:
    return ContextLoader.from_directory(ROOT / "schemas" / "contexts")


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.from_directory(ROOT / "schemas")


def placeholder_proof() -> dict[str, Any]:
    """A syntactically complete DataIntegrityProof that signs nothing.

    Used only where a builder insists on a *signed* document (embedded endorsements and
    CLR verifiableCredential entries); nothing here verifies it.
    """
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-05-01T12:00:00Z",
        "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + "1" * 86,
    }


# --- example data --------------------------------------------------------------------------


def minimal_issuer() -> Profile:
    return Profile(id="https://issuer.example/issuers/1", name="Example Issuer")


def rich_issuer() -> Profile:
    return Profile(
        id="https://issuer.example/issuers/1",
        name="Example Issuer",
        url="https://issuer.example",
        phone="+1-555-0100",
        description="Recognises learning that happens outside the classroom.",
        email="badges@issuer.example",
        image=Image(id="https://issuer.example/logo.png", caption="Example Issuer logo"),
        otherIdentifier=(IdentifierEntry(identifier="ORG-42", identifierType="sourcedId"),),
    )


def minimal_achievement() -> Achievement:
    return Achievement(
        id="https://issuer.example/achievements/teamwork",
        name="Teamwork",
        description="Collaborates within a group.",
        criteria=Criteria(narrative="Nominated by peers."),
    )


def rich_achievement() -> Achievement:
    alignment = Alignment(
        targetName="Collaboration",
        targetUrl="https://framework.example/items/collab",
        targetDescription="Works with others toward a goal.",
        targetFramework="Example Skills Framework",
        targetCode="COLLAB-1",
        targetType="CFItem",
    )
    return Achievement(
        id="https://issuer.example/achievements/teamwork",
        name="Teamwork",
        description="Collaborates within a group.",
        criteria=Criteria(
            id="https://issuer.example/achievements/teamwork/criteria",
            narrative="# Criteria\nNominated by peers.",
        ),
        image=Image(id="https://issuer.example/achievements/teamwork.png", caption="Badge"),
        achievementType="Competency",
        creator=rich_issuer(),
        alignment=(alignment,),
        creditsAvailable=2.5,
        resultDescription=(
            ResultDescription(
                id="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0001",
                name="Project grade",
                resultType="LetterGrade",
                allowedValue=("D", "C", "B", "A"),
                requiredValue="C",
                valueMin="D",
                valueMax="A",
                alignment=(alignment,),
            ),
            ResultDescription(
                id="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0002",
                name="Rubric",
                resultType="RubricCriterionLevel",
                requiredLevel="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0003",
                rubricCriterionLevel=(
                    RubricCriterionLevel(
                        id="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0003",
                        name="Mastery",
                        description="Consistently leads the group.",
                        level="Mastered",
                        points="4",
                        alignment=(alignment,),
                    ),
                ),
            ),
        ),
        tag=("collaboration", "soft skills"),
        humanCode="TW-1",
        fieldOfStudy="Professional skills",
        specialization="Team leadership",
        version="1.0",
        inLanguage="en-GB",
        otherIdentifier=(IdentifierEntry(identifier="TW-0001", identifierType="identifier"),),
    )


def minimal_credential(**changes: Any) -> AchievementCredential:
    fields: dict[str, Any] = {
        "id": "urn:uuid:2f1a4f1e-7c1d-4f6a-9d0e-000000000001",
        "issuer": minimal_issuer(),
        "validFrom": T0,
        "credentialSubject": AchievementSubject(
            id="did:example:learner", achievement=minimal_achievement()
        ),
    }
    fields.update(changes)
    return AchievementCredential(**fields)


def endorsement(**changes: Any) -> EndorsementCredential:
    fields: dict[str, Any] = {
        "id": "urn:uuid:2f1a4f1e-7c1d-4f6a-9d0e-0000000000e1",
        "issuer": Profile(id="https://endorser.example", name="Endorser"),
        "validFrom": T0,
        "name": "Endorsement of Example Issuer",
        "credentialSubject": EndorsementSubject(id="https://issuer.example/issuers/1"),
    }
    fields.update(changes)
    return EndorsementCredential(**fields)


def rich_endorsement() -> EndorsementCredential:
    return endorsement(
        validUntil=T0 + timedelta(days=365),
        awardedDate=T0,
        description="The endorser vouches for the issuer.",
        credentialSubject=EndorsementSubject(
            id="https://issuer.example/issuers/1",
            endorsementComment="Runs a careful assessment process.",
        ),
        credentialStatus=(
            {"id": "https://endorser.example/revocations", "type": "1EdTechRevocationList"},
        ),
        refreshService={
            "id": "https://endorser.example/refresh/1",
            "type": "1EdTechCredentialRefresh",
        },
        termsOfUse=(
            {
                "id": "https://endorser.example/terms",
                "type": "https://endorser.example/vocab#Terms",
            },
        ),
    )


def signed(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "proof": [placeholder_proof()]}


def rich_credential() -> AchievementCredential:
    return AchievementCredential(
        id="urn:uuid:2f1a4f1e-7c1d-4f6a-9d0e-000000000002",
        type=("VerifiableCredential", "AchievementCredential"),
        issuer=rich_issuer(),
        validFrom=T0,
        validUntil=T0 + timedelta(days=3650),
        awardedDate=T0 - timedelta(days=1),
        name="Teamwork badge for A. Learner",
        description="Awarded for leading the spring project.",
        image=Image(id="https://issuer.example/credentials/2/image.png", caption="Badge"),
        credentialSubject=AchievementSubject(
            id="did:example:learner",
            identifier=(hashed_email("Learner@Example.com", salt="pepper-123"),),
            achievement=rich_achievement(),
            result=(
                Result(
                    resultDescription="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0001",
                    value="A",
                    alignment=(
                        Alignment(targetName="Project", targetUrl="https://framework.example/p"),
                    ),
                ),
                Result(
                    resultDescription="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0002",
                    achievedLevel="urn:uuid:5e1f8a5a-2b8e-4c39-9b43-9a4f8a2a0003",
                    status="Completed",
                ),
            ),
            creditsEarned=2,
            activityStartDate=T0 - timedelta(days=90),
            activityEndDate=T0 - timedelta(days=2),
            narrative="Led a team of five through the spring project.",
        ),
        evidence=(
            Evidence(
                id="https://issuer.example/evidence/1",
                name="Project report",
                description="Final report of the spring project.",
                narrative="The report shows ...",
                genre="Report",
                audience="Assessors",
            ),
        ),
        credentialStatus=(
            {"id": "https://issuer.example/revocations", "type": "1EdTechRevocationList"},
        ),
        endorsement=(signed(rich_endorsement().to_json()),),
        refreshService={
            "id": "https://issuer.example/refresh/2",
            "type": "1EdTechCredentialRefresh",
        },
        termsOfUse=(
            {"id": "https://issuer.example/terms", "type": "https://issuer.example/vocab#Terms"},
        ),
    )


# --- schema and JSON-LD conformance --------------------------------------------------------


def test_achievement_credential_schema_does_not_require_proof(registry: SchemaRegistry) -> None:
    # So unsigned builder output is validated as is, without a placeholder proof.
    schema = json.loads(
        (ROOT / "schemas" / "ob_v3p0_achievementcredential_schema.json").read_text()
    )
    assert "proof" not in schema["required"]
    assert registry.validate(minimal_credential().to_json(), ACHIEVEMENT_CREDENTIAL_SCHEMA) == []


@pytest.mark.parametrize("build", [minimal_credential, rich_credential], ids=["minimal", "rich"])
def test_achievement_credential_passes_schema_and_safe_expansion(
    build: Any, registry: SchemaRegistry, loader: ContextLoader
) -> None:
    doc = build().to_json()
    assert registry.validate(doc, ACHIEVEMENT_CREDENTIAL_SCHEMA) == []
    report = expand_safe(doc, loader)
    assert report.issuer_dependent_terms == ()


@pytest.mark.parametrize("build", [endorsement, rich_endorsement], ids=["minimal", "rich"])
def test_endorsement_credential_passes_schema_and_safe_expansion(
    build: Any, registry: SchemaRegistry, loader: ContextLoader
) -> None:
    doc = build().to_json()
    assert registry.validate(doc, ENDORSEMENT_CREDENTIAL_SCHEMA) == []
    assert expand_safe(doc, loader).issuer_dependent_terms == ()


@pytest.mark.parametrize("build", [minimal_issuer, rich_issuer], ids=["minimal", "rich"])
def test_profile_passes_schema_and_safe_expansion(
    build: Any, registry: SchemaRegistry, loader: ContextLoader
) -> None:
    profile = build().to_json()
    assert registry.validate(profile, PROFILE_SCHEMA) == []
    # A Profile is normally embedded; on its own it needs the credential contexts around it.
    assert expand_safe({"@context": [VC_V2, OB_V3], **profile}, loader).issuer_dependent_terms == ()


def test_rich_credential_keeps_every_field() -> None:
    doc = rich_credential().to_json()
    for key in (
        "id", "type", "name", "description", "image", "issuer", "validFrom", "validUntil",
        "awardedDate", "credentialSubject", "evidence", "endorsement", "credentialSchema",
        "credentialStatus", "refreshService", "termsOfUse",
    ):  # fmt: skip
        assert key in doc, key
    subject = doc["credentialSubject"]
    assert set(subject) == {
        "id", "type", "identifier", "achievement", "result", "creditsEarned",
        "activityStartDate", "activityEndDate", "narrative",
    }  # fmt: skip
    assert set(subject["achievement"]) == {
        "id", "type", "achievementType", "name", "description", "criteria", "image",
        "creator", "alignment", "creditsAvailable", "resultDescription", "tag", "humanCode",
        "fieldOfStudy", "specialization", "version", "inLanguage", "otherIdentifier",
    }  # fmt: skip
    assert doc["type"] == ["VerifiableCredential", "AchievementCredential"]
    # The OB 3.0 schemas take credentialStatus as one object, not an array.
    assert doc["credentialStatus"] == {
        "id": "https://issuer.example/revocations",
        "type": "1EdTechRevocationList",
    }


def test_embedded_endorsement_passes_its_own_schema(registry: SchemaRegistry) -> None:
    embedded = rich_credential().to_json()["endorsement"][0]
    assert registry.validate(embedded, ENDORSEMENT_CREDENTIAL_SCHEMA) == []


# --- serialization rules -------------------------------------------------------------------


def test_context_order_and_extensions_only_when_needed(loader: ContextLoader) -> None:
    # The default credentialSchema type (1EdTechJsonSchemaValidator2019) needs extensions.json.
    assert minimal_credential().to_json()["@context"] == [VC_V2, OB_V3, OB_EXTENSIONS]
    bare = minimal_credential(credentialSchema=()).to_json()
    assert bare["@context"] == [VC_V2, OB_V3]
    assert "credentialSchema" not in bare
    # A status entry of an extension type brings it back.
    with_status = minimal_credential(
        credentialSchema=(),
        credentialStatus=({"id": "https://issuer.example/rl", "type": "1EdTechRevocationList"},),
    ).to_json()
    assert with_status["@context"] == [VC_V2, OB_V3, OB_EXTENSIONS]
    # A VCDM 2.0 status type lives in the VC v2 context: no extensions needed.
    bitstring = minimal_credential(
        credentialSchema=(),
        credentialStatus=(
            {
                "id": "https://issuer.example/status/1#5",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "5",
                "statusListCredential": "https://issuer.example/status/1",
            },
        ),
    ).to_json()
    assert bitstring["@context"] == [VC_V2, OB_V3]
    # Nor does the VCDM 2.0 JsonSchema type.
    vcdm_schema = minimal_credential(
        credentialSchema=(
            CredentialSchema(id="https://issuer.example/schema.json", type="JsonSchema"),
        )
    ).to_json()
    assert vcdm_schema["@context"] == [VC_V2, OB_V3]
    expand_safe(vcdm_schema, loader)


def test_extension_types_inside_embedded_credentials_do_not_count() -> None:
    # The embedded endorsement carries its own @context (with extensions.json).
    doc = minimal_credential(
        credentialSchema=(), endorsement=(signed(rich_endorsement().to_json()),)
    ).to_json()
    assert doc["@context"] == [VC_V2, OB_V3]
    assert doc["endorsement"][0]["@context"] == [VC_V2, OB_V3, OB_EXTENSIONS]


def test_none_values_and_empty_lists_are_omitted() -> None:
    doc = minimal_credential(evidence=[], credentialStatus=[], termsOfUse=[]).to_json()
    assert set(doc) == {
        "@context", "id", "type", "issuer", "validFrom", "credentialSubject", "credentialSchema"
    }  # fmt: skip
    assert doc["issuer"] == {
        "id": "https://issuer.example/issuers/1",
        "type": ["Profile"],
        "name": "Example Issuer",
    }
    assert set(doc["credentialSubject"]) == {"id", "type", "achievement"}
    assert doc["credentialSubject"]["achievement"]["criteria"] == {
        "narrative": "Nominated by peers."
    }

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                assert value is not None and value != []
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(rich_credential().to_json())


def test_type_is_an_array_except_where_the_schema_wants_a_string() -> None:
    strings = {"Image", "IdentityObject", "IdentifierEntry"}
    # Entries whose `type` the schemas define as a single string, and the proofs.
    opaque = {"credentialSchema", "credentialStatus", "refreshService", "termsOfUse", "proof"}

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if "type" in node and key not in opaque:
                t = node["type"]
                if isinstance(t, str):
                    assert t in strings, node
                else:
                    assert isinstance(t, list) and t and t[0] not in strings, node
            for k, value in node.items():
                walk(value, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    doc = rich_credential().to_json()
    walk(doc)
    assert doc["image"]["type"] == "Image"
    assert doc["credentialSubject"]["identifier"][0]["type"] == "IdentityObject"
    assert doc["issuer"]["otherIdentifier"][0]["type"] == "IdentifierEntry"
    assert doc["issuer"]["type"] == ["Profile"]
    assert doc["evidence"][0]["type"] == ["Evidence"]


def test_dates_are_utc_with_z_and_no_microseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2024, 5, 1, 14, 0, 0, 987654, tzinfo=plus_two)
    doc = minimal_credential(validFrom=start, validUntil=start + timedelta(days=1)).to_json()
    assert doc["validFrom"] == "2024-05-01T12:00:00Z"
    assert doc["validUntil"] == "2024-05-02T12:00:00Z"
    assert format_datetime(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"


def test_fixed_input_gives_byte_identical_json() -> None:
    first = json.dumps(rich_credential().to_json())
    second = json.dumps(rich_credential().to_json())
    assert first == second


def test_two_status_entries_are_written_as_a_list_and_one_as_an_object(
    registry: SchemaRegistry,
) -> None:
    revocation = {
        "id": "https://issuer.example/status/revocation/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://issuer.example/status/revocation/1",
    }
    suspension = {
        **revocation,
        "id": "https://issuer.example/status/suspension/1#7",
        "statusPurpose": "suspension",
        "statusListCredential": "https://issuer.example/status/suspension/1",
    }
    both = minimal_credential(credentialStatus=[revocation, suspension]).to_json()
    assert both["credentialStatus"] == [revocation, suspension]
    one = minimal_credential(credentialStatus=[revocation]).to_json()
    assert one["credentialStatus"] == revocation
    # The official schema takes one object only; the verifier's compacted check takes both
    # (VCDM 2.0 §4.10), see SchemaRegistry.validate.
    assert registry.validate(one, ACHIEVEMENT_CREDENTIAL_SCHEMA) == []
    assert registry.validate(both, ACHIEVEMENT_CREDENTIAL_SCHEMA) == [
        "credentialStatus: must be of type object, not array"]
    assert registry.validate(both, ACHIEVEMENT_CREDENTIAL_SCHEMA, compacted=True) == []


def test_to_json_returns_fresh_objects() -> None:
    status = {"id": "https://issuer.example/rl", "type": "1EdTechRevocationList"}
    credential = minimal_credential(credentialStatus=[status])
    status["id"] = "https://changed.example"  # the caller's later edit does not leak in
    doc = credential.to_json()
    doc["credentialStatus"]["id"] = "https://mutated.example"
    assert credential.to_json()["credentialStatus"]["id"] == "https://issuer.example/rl"


def test_builders_are_frozen() -> None:
    credential = minimal_credential(evidence=[Evidence(name="x")])
    with pytest.raises(FrozenInstanceError):
        credential.id = "urn:x:y"  # type: ignore[misc]
    assert isinstance(credential.evidence, tuple)


# --- identity ------------------------------------------------------------------------------

# OB 3.0 §B.7 IdentityHash example, as printed in the bundled schema's description.
SPEC_EXAMPLE_HASH = "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"


def test_identity_hash_matches_the_spec_example() -> None:
    schema_text = (ROOT / "schemas" / "ob_v3p0_achievementcredential_schema.json").read_text()
    example = (
        f"'{SPEC_EXAMPLE_HASH}' represents the result of calculating a SHA-256 hash on the "
        "string 'a@example.comKosher'"
    )
    assert example in schema_text
    assert identity_hash("a@example.com", "Kosher") == SPEC_EXAMPLE_HASH
    identity = hashed_email("a@example.com", salt="Kosher")
    assert identity.to_json() == {
        "type": "IdentityObject",
        "identityHash": SPEC_EXAMPLE_HASH,
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "Kosher",
    }


def test_hashed_email_normalises_case_and_whitespace() -> None:
    assert normalize_email("  A@Example.COM\n") == "a@example.com"
    assert hashed_email(" A@EXAMPLE.com ", salt="Kosher").identityHash == SPEC_EXAMPLE_HASH


def test_hashed_email_draws_a_random_salt_when_none_is_given() -> None:
    first = hashed_email("a@example.com")
    second = hashed_email("a@example.com")
    assert first.salt and second.salt and first.salt != second.salt
    assert len(first.salt) == 32  # secrets.token_hex(16)
    expected = hashlib.sha256(("a@example.com" + first.salt).encode()).hexdigest()
    assert first.identityHash == "sha256$" + expected


@pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "@example.com", "a@", "a b@c.d"])
def test_hashed_email_refuses_non_addresses(email: str) -> None:
    with pytest.raises(InputError, match="not an e-mail address"):
        hashed_email(email, salt="s")


def test_hashed_email_refuses_an_empty_salt() -> None:
    with pytest.raises(InputError, match="salt"):
        hashed_email("a@example.com", salt="")


def test_identity_object_refuses_a_malformed_hash() -> None:
    with pytest.raises(InputError, match="sha256"):
        IdentityObject(identityHash="md5$abc", identityType="emailAddress", hashed=True)
    plain = IdentityObject(identityHash="a@example.com", identityType="emailAddress", hashed=False)
    assert plain.to_json()["hashed"] is False


def test_subject_identified_by_identifier_only(
    registry: SchemaRegistry, loader: ContextLoader
) -> None:
    credential = minimal_credential(
        credentialSubject=AchievementSubject(
            identifier=[hashed_email("conformance@imsglobal.org", salt="s3cret")],
            achievement=minimal_achievement(),
        )
    )
    doc = credential.to_json()
    assert "id" not in doc["credentialSubject"]
    assert registry.validate(doc, ACHIEVEMENT_CREDENTIAL_SCHEMA) == []
    expand_safe(doc, loader)


# --- invalid input -------------------------------------------------------------------------


def test_subject_needs_an_id_or_an_identifier() -> None:
    with pytest.raises(InputError, match=r"needs an id .* or at least one identifier"):
        AchievementSubject(achievement=minimal_achievement())


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InputError, match="validFrom must be timezone-aware"):
        minimal_credential(validFrom=datetime(2024, 5, 1, 12, 0))
    with pytest.raises(InputError, match="must be a datetime"):
        minimal_credential(validFrom="2024-05-01T12:00:00Z")


def test_valid_until_must_be_after_valid_from() -> None:
    with pytest.raises(
        InputError, match=r"validUntil \(2024-04-30T12:00:00Z\) must be after validFrom"
    ):
        minimal_credential(validUntil=T0 - timedelta(days=1))
    with pytest.raises(InputError, match="must be after validFrom"):
        minimal_credential(validUntil=T0)
    # Equal once microseconds are dropped: a verifier would see the same instant twice.
    with pytest.raises(InputError, match="must be after validFrom"):
        minimal_credential(validUntil=T0 + timedelta(microseconds=500))


@pytest.mark.parametrize("value", ["Nope", "badge", "ext:", "ext:has space", "Badge ext:x"])
def test_bad_achievement_type_is_refused(value: str) -> None:
    with pytest.raises(InputError, match=f"achievementType {value!r} is not allowed"):
        replace(minimal_achievement(), achievementType=value)


@pytest.mark.parametrize("value", [*sorted(ACHIEVEMENT_TYPES)[:3], "ext:Apprenticeship-Step_2.0"])
def test_known_and_extension_achievement_types_are_accepted(value: str) -> None:
    assert (
        replace(minimal_achievement(), achievementType=value).to_json()["achievementType"] == value
    )


def test_endorsement_credential_needs_a_name() -> None:
    with pytest.raises(InputError, match=r"EndorsementCredential\.name is required"):
        endorsement(name=None)
    with pytest.raises(InputError, match=r"EndorsementCredential\.name must not be empty"):
        endorsement(name="  ")


def test_other_refusals_name_the_field() -> None:
    cases: list[tuple[Any, str]] = [
        (lambda: Criteria(), "Criteria needs an id"),
        (lambda: Profile(id="issuers/1"), "Profile.id must be an absolute URI"),
        (lambda: minimal_credential(issuer=Profile(id="https://i.example")), "issuer needs a name"),
        (lambda: minimal_credential(type=["VerifiableCredential"]), "AchievementCredential.type"),
        (lambda: replace(minimal_achievement(), creditsAvailable=True), "must be a number"),
        (lambda: replace(minimal_achievement(), creditsAvailable=-1), "zero or more"),
        (lambda: replace(minimal_achievement(), inLanguage="english"), "inLanguage"),
        (lambda: replace(minimal_achievement(), tag="solo"), "Achievement.tag must be a list"),
        (lambda: Result(status="Done"), "Result.status 'Done' is not allowed"),
        (
            lambda: Alignment(targetName="x", targetUrl="https://x.example", targetType="Y"),
            "targetType",
        ),
        (
            lambda: minimal_credential(endorsement=[rich_endorsement().to_json()]),
            "endorsement must be signed",
        ),
        (
            lambda: minimal_credential(
                credentialStatus=[
                    {"id": "https://a.example", "type": "1EdTechRevocationList"},
                    {"type": "1EdTechRevocationList"},
                ]
            ),
            "each AchievementCredential.credentialStatus needs an id and a type",
        ),
        (lambda: minimal_credential(refreshService={"id": "https://r.example"}), "refreshService"),
        (
            lambda: AchievementSubject(
                id="did:example:x",
                achievement=minimal_achievement(),
                activityStartDate=T0,
                activityEndDate=T0 - timedelta(days=1),
            ),
            "activityEndDate .* is before activityStartDate",
        ),
        (
            lambda: ClrSubject(id="did:example:x", verifiableCredential=[]),
            "at least one credential",
        ),
    ]
    for build, message in cases:
        with pytest.raises(InputError, match=message):
            build()


# --- vectors -------------------------------------------------------------------------------


def canonical(document: dict[str, Any], loader: ContextLoader) -> str:
    return jsonld.normalize(
        document, loader.options(algorithm="URDNA2015", format="application/n-quads")
    )


def test_ob30_implementation_guide_vector_is_reproduced(loader: ContextLoader) -> None:
    vector = json.loads((OB_VECTOR / "unsigned.json").read_text())
    built = AchievementCredential(
        id="http://example.com/credentials/3527",
        issuer=Profile(
            id="https://example.edu/issuers/565049",
            url="https://www.imsglobal.org",
            name="Example Corp",
        ),
        validFrom=datetime(2010, 1, 1, tzinfo=UTC),
        name="Teamwork Badge",
        credentialSubject=AchievementSubject(
            id="did:example:ebfeb1f712ebc6f1c276e12ec21",
            achievement=Achievement(
                id="https://example.com/achievements/21st-century-skills/teamwork",
                criteria=Criteria(
                    narrative="Team members are nominated for this badge by their peers and "
                    "recognized upon review by Example Corp management."
                ),
                description="This badge recognizes the development of the capacity to "
                "collaborate within a group environment.",
                name="Teamwork",
            ),
        ),
        # The vector names no credentialSchema, hence no extensions context either.
        credentialSchema=(),
    ).to_json()
    assert built == vector
    assert canonical(built, loader) == (OB_VECTOR / "document-canon.txt").read_text()


def test_clr_credential_matches_the_clr20_vector(loader: ContextLoader) -> None:
    vector = json.loads((CLR_VECTOR / "unsigned.json").read_text())
    embedded_vector = vector["credentialSubject"]["verifiableCredential"][0]

    university = Profile(id="https://example.edu/issuers/565049", name="Example University")
    creator = Profile(id="https://example.edu/issuers/565049")
    image = Image(id="https://example.edu/achievements/sample.png")

    def achievement(uuid: str, n: int) -> Achievement:
        return Achievement(
            id=f"urn:uuid:{uuid}",
            creator=creator,
            name=f"Achievement {n}",
            criteria=Criteria(id=f"https://example.edu/achievements/{uuid}/criteria"),
            description=f"Achievement {n}",
            image=image,
        )

    first = achievement("a7467ef6-56cb-11ec-bf63-0242ac130002", 1)
    second = achievement("dd887f0a-56cb-11ec-bf63-0242ac130002", 2)
    valid_from = datetime(2010, 1, 1, tzinfo=UTC)
    learner = "did:example:ebfeb1f712ebc6f1c276e12ec21"
    degree = AchievementCredential(
        id="urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002",
        type=("VerifiableCredential", "AchievementCredential"),
        issuer=university,
        validFrom=valid_from,
        name="Example University Degree",
        credentialSubject=AchievementSubject(id=learner, achievement=first),
    ).to_json()
    # The signature is the vector's: the builder produces unsigned credentials.
    signed_degree = {**degree, "proof": embedded_vector["proof"]}

    built = ClrCredential(
        id="http://example.edu/credentials/3732",
        issuer=university,
        validFrom=valid_from,
        name="Sample Transcript",
        credentialSubject=ClrSubject(
            id=learner,
            verifiableCredential=[signed_degree],
            achievement=[first, second],
            association=[
                Association(
                    associationType="isParentOf",
                    sourceId=first.id,
                    targetId=second.id,
                )
            ],
        ),
    ).to_json()

    assert built["@context"] == [VC_V2, CLR_V2, OB_V3, OB_EXTENSIONS]
    assert built["credentialSchema"] == [
        {"id": CLR_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}
    ]
    # Structure equality, modulo key order and string-vs-array `type` (see normalise_types).
    assert built == normalise_types(vector)
    # And the same RDF: the canonical N-Quads equal the vector's, byte for byte.
    assert canonical(built, loader) == (CLR_VECTOR / "document-canon.txt").read_text()


def normalise_types(node: Any, key: str = "") -> Any:
    """Single-string ``type`` → one-item array, as the builders write it.

    OB 3.0 §A.2.1 allows either form, and JSON-LD reads them the same way (the canonical
    N-Quads comparison in the test proves it for this document). Left alone: the classes
    whose schema wants a string (Image, IdentityObject, IdentifierEntry) and the opaque
    entries of credentialSchema/credentialStatus/refreshService, whose ``type`` is a string.
    """
    if isinstance(node, list):
        return [normalise_types(item, key) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: normalise_types(v, k) for k, v in node.items()}
    t = out.get("type")
    keep = {"Image", "IdentityObject", "IdentifierEntry"}
    opaque = {"credentialSchema", "credentialStatus", "refreshService", "proof"}
    if isinstance(t, str) and t not in keep and key not in opaque:
        out["type"] = [t]
    return out


def test_clr_subject_needs_signed_achievement_credentials() -> None:
    unsigned = minimal_credential().to_json()
    with pytest.raises(InputError, match="must be signed"):
        ClrSubject(id="did:example:x", verifiableCredential=[unsigned])
    with pytest.raises(InputError, match="OpenBadgeCredential"):
        ClrSubject(id="did:example:x", verifiableCredential=[signed(endorsement().to_json())])


def test_clr_credential_with_identifier_only_expands_safely(loader: ContextLoader) -> None:
    clr = ClrCredential(
        id="urn:uuid:2f1a4f1e-7c1d-4f6a-9d0e-0000000000c1",
        issuer=minimal_issuer(),
        validFrom=T0,
        name="Record",
        description="All badges of one learner.",
        partial=True,
        credentialSubject=ClrSubject(
            identifier=[hashed_email("learner@example.com", salt="abc")],
            verifiableCredential=[signed(minimal_credential().to_json())],
        ),
    ).to_json()
    assert clr["partial"] is True
    assert clr["credentialSubject"]["identifier"][0]["type"] == "IdentityObject"
    assert expand_safe(clr, loader).issuer_dependent_terms == ()
