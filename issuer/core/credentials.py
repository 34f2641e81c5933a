"""Builders for Open Badges 3.0 and CLR 2.0 credentials (unsigned).

Each class is a frozen dataclass named after the class it builds in the OB 3.0 data model
(OB-30 Appendix B.1), with attributes spelled as the JSON properties are, and a ``to_json()``
that returns the JSON object. Inputs are checked when the object is created and refused with
InputError, so a builder that exists always serializes.

Serialization rules applied everywhere:

* OB-30 §A.1: null values and empty arrays MUST be omitted.
* The canonical OB 3.0 JSON Schemas accept only arrays for ``type`` (and ``proof``), although
  §A.2.1 allows single values; so ``type`` is always an array, except on the classes whose
  schema demands a single string (Image, IdentityObject, IdentifierEntry).
* OB-30 §B.1.2: ``@context`` starts with VC v2, then OB 3.0.3; extension contexts follow.
* DateTimeZ (§B.7): UTC, ``YYYY-MM-DDTHH:MM:SSZ``, from timezone-aware datetimes only.

Nothing here invents an id or a timestamp: the same input always gives the same JSON. The one
exception is the salt of :func:`hashed_email` when the caller does not pass one.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.core.datetimes import format_datetime
from issuer.core.errors import InputError
from issuer.core.nodes import types_of
from issuer.core.vocab import (
    ACHIEVEMENT_CREDENTIAL_SCHEMA,
    CLR_CREDENTIAL_SCHEMA,
    CLR_V2,
    CREDENTIAL_REFRESH,
    DATA_INTEGRITY_V2,
    ENDORSEMENT_CREDENTIAL_SCHEMA,
    EXTENSION_TYPES,
    JSON_SCHEMA_VALIDATOR_2019,
    OB_EXTENSIONS,
    OB_V3,
    PROFILE_SCHEMA,
    REVOCATION_LIST,
    VC_V1,
    VC_V2,
)

__all__ = [
    "ACHIEVEMENT_CREDENTIAL_SCHEMA",
    "ACHIEVEMENT_CREDENTIAL_TYPES",
    "ACHIEVEMENT_TYPES",
    "ALIGNMENT_TARGET_TYPES",
    "CLR_CREDENTIAL_SCHEMA",
    "CLR_V2",
    "CREDENTIAL_REFRESH",
    "DATA_INTEGRITY_V2",
    "ENDORSEMENT_CREDENTIAL_SCHEMA",
    "EXTENSION_TYPES",
    "IDENTIFIER_TYPES",
    "JSON_SCHEMA_VALIDATOR_2019",
    "OB_EXTENSIONS",
    "OB_V3",
    "PROFILE_SCHEMA",
    "RESULT_STATUSES",
    "RESULT_TYPES",
    "REVOCATION_LIST",
    "VC_V1",
    "VC_V2",
    "Achievement",
    "AchievementCredential",
    "AchievementSubject",
    "Alignment",
    "Association",
    "ClrCredential",
    "ClrSubject",
    "CredentialSchema",
    "Criteria",
    "EndorsementCredential",
    "EndorsementSubject",
    "Evidence",
    "IdentifierEntry",
    "IdentityObject",
    "Image",
    "Profile",
    "Result",
    "ResultDescription",
    "RubricCriterionLevel",
    "hashed_email",
    "identity_hash",
    "normalize_email",
]

#: OB-30 Appendix B, AchievementType enumeration.
ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment",
        "AssociateDegree", "Award", "Badge", "BachelorDegree", "Certificate",
        "CertificateOfCompletion", "Certification", "CommunityService", "Competency",
        "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork",
        "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
        "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential",
        "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)  # fmt: skip
#: OB-30 Appendix B, ResultType enumeration.
RESULT_TYPES = frozenset(
    {
        "GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore",
        "RawScore", "Result", "RubricCriterion", "RubricCriterionLevel", "RubricScore",
        "ScaledScore", "Status",
    }
)  # fmt: skip
#: OB-30 Appendix B, ResultStatusType enumeration (closed: no ``ext:`` values).
RESULT_STATUSES = frozenset(
    {"Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"}
)
#: OB-30 Appendix B, AlignmentTargetType enumeration.
ALIGNMENT_TARGET_TYPES = frozenset(
    {
        "ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
        "CFRubricCriterionLevel", "CTDL",
    }
)  # fmt: skip
#: OB-30 Appendix B, IdentifierTypeEnum.
IDENTIFIER_TYPES = frozenset(
    {
        "name", "sourcedId", "systemId", "productId", "userName", "accountId", "emailAddress",
        "nationalIdentityNumber", "isbn", "issn", "lisSourcedId", "oneRosterSourcedId",
        "sisSourcedId", "ltiContextId", "ltiDeploymentId", "ltiToolId", "ltiPlatformId",
        "ltiUserId", "identifier",
    }
)  # fmt: skip
#: The credential types an OB 3.0 AchievementCredential may carry (§B.1.2: they are aliases).
ACHIEVEMENT_CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})

# The schemas' extension pattern is unanchored, so it accepts e.g. "Badge ext:x"; the
# anchored form refuses what the enumerations were meant to refuse.
_EXT_VALUE = re.compile(r"^ext:[A-Za-z0-9._-]+$")
# OB-30 §B.7 LanguageCode, as the schemas spell it.
_LANGUAGE = re.compile(r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SHA256_HASH = re.compile(r"^sha256\$[0-9a-fA-F]{64}$")


# --- helpers -------------------------------------------------------------------------------


def _compact(*pairs: tuple[str, Any]) -> dict[str, Any]:
    """A JSON object without None values or empty arrays (OB-30 §A.1)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, list) and not value:
            continue
        out[key] = value
    return out


def _text(value: object, what: str, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise InputError(f"{what} is required")
        return
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise InputError(f"{what} must not be empty")


def _uri(value: object, what: str, *, required: bool = False) -> None:
    """An absolute URI (a URL, ``urn:``, ``did:`` or ``data:``).

    A relative reference has no meaning in a credential, and JSON-LD expansion would drop it
    from the signed data.
    """
    _text(value, what, required=required)
    if value is None:
        return
    assert isinstance(value, str)
    if not _SCHEME.match(value) or any(c.isspace() for c in value):
        raise InputError(f"{what} must be an absolute URI (e.g. https://…, urn:uuid:…, did:…)")


def _enum_or_ext(value: object, allowed: frozenset[str], what: str) -> None:
    if value is None:
        return
    if isinstance(value, str) and (value in allowed or _EXT_VALUE.match(value)):
        return
    raise InputError(
        f"{what} {value!r} is not allowed: use one of {', '.join(sorted(allowed))}, "
        "or an extension value of the form 'ext:Name'"
    )


def _number(value: object, what: str) -> None:
    if value is None:
        return
    # bool is an int subclass, but True is not a number of credits.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{what} must be a finite number of zero or more")


def _freeze(obj: Any, name: str, item_type: type | tuple[type, ...], what: str) -> None:
    """Store a sequence attribute as a tuple of checked items (the dataclass is frozen)."""
    value = getattr(obj, name)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InputError(f"{what} must be a list")
    items = tuple(value)
    for item in items:
        if not isinstance(item, item_type):
            names = (
                " or ".join(t.__name__ for t in item_type)
                if isinstance(item_type, tuple)
                else item_type.__name__
            )
            raise InputError(f"each entry of {what} must be a {names}")
    object.__setattr__(obj, name, items)


def _freeze_documents(obj: Any, name: str, what: str) -> None:
    """Keep private copies of opaque JSON objects, so later edits by the caller don't leak in."""
    _freeze(obj, name, Mapping, what)
    object.__setattr__(obj, name, tuple(copy.deepcopy(dict(d)) for d in getattr(obj, name)))


def _check_signed(document: Mapping[str, Any], wanted: frozenset[str], what: str) -> None:
    if not set(types_of(document)) & wanted:
        raise InputError(f"{what} must have a type including {' or '.join(sorted(wanted))}")
    if not document.get("proof"):
        raise InputError(f"{what} must be signed (carry a proof) before it is embedded")


def _uses_extension_types(node: Any, top: bool = True) -> bool:
    """True when a ``type`` value in ``node`` needs OB_EXTENSIONS.

    Embedded credentials bring their own ``@context`` and are not looked into.
    """
    if isinstance(node, list):
        return any(_uses_extension_types(item, False) for item in node)
    if not isinstance(node, Mapping):
        return False
    if not top and "@context" in node:
        return False
    if set(types_of(node)) & EXTENSION_TYPES:
        return True
    return any(_uses_extension_types(v, False) for k, v in node.items() if k != "type")


def _contexts(head: Sequence[str], body: Mapping[str, Any]) -> list[str]:
    contexts = list(head)
    if _uses_extension_types(body):
        contexts.append(OB_EXTENSIONS)
    return contexts


# --- identity ------------------------------------------------------------------------------


def identity_hash(identifier: str, salt: str) -> str:
    """IdentityHash (OB-30 §B.7): ``"sha256$" + hex(SHA-256(UTF-8(identifier + salt)))``."""
    digest = hashlib.sha256((identifier + salt).encode("utf-8")).hexdigest()
    return "sha256$" + digest


def normalize_email(email: str) -> str:
    """The form of an e-mail address that is hashed into an IdentityObject.

    A verifier (OB-30 §9.3) hashes the address it already knows and compares the results, so
    any difference in spelling breaks the match. Addresses reach us from forms with stray
    spaces and in mixed case, while the domain part is case-insensitive (RFC 5321 §2.4) and
    mail providers treat the local part case-insensitively in practice; trimmed lower case is
    the form both sides can reproduce. Verifiers must use this same function.
    """
    if not isinstance(email, str):
        raise InputError("an e-mail address must be a string")
    normalized = email.strip().lower()
    local, at, domain = normalized.partition("@")
    if not at or not local or not domain or any(c.isspace() for c in normalized):
        raise InputError(f"{email!r} is not an e-mail address")
    return normalized


@dataclass(frozen=True, kw_only=True)
class IdentityObject:
    """OB-30 §B.1.12 IdentityObject: a recipient identifier, usually hashed."""

    identityHash: str
    identityType: str
    hashed: bool
    salt: str | None = None

    def __post_init__(self) -> None:
        _text(self.identityHash, "IdentityObject.identityHash", required=True)
        _text(self.identityType, "IdentityObject.identityType", required=True)
        _enum_or_ext(self.identityType, IDENTIFIER_TYPES, "IdentityObject.identityType")
        if not isinstance(self.hashed, bool):
            raise InputError("IdentityObject.hashed must be true or false")
        _text(self.salt, "IdentityObject.salt")
        # md5$ is allowed by §B.7 for old data, but nothing new should be issued with it.
        if self.hashed and not _SHA256_HASH.match(self.identityHash):
            raise InputError(
                "a hashed IdentityObject.identityHash must be 'sha256$' followed by 64 hex digits"
            )

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("type", "IdentityObject"),
            ("identityHash", self.identityHash),
            ("identityType", self.identityType),
            ("hashed", self.hashed),
            ("salt", self.salt),
        )


def hashed_email(email: str, salt: str | None = None) -> IdentityObject:
    """A hashed ``emailAddress`` IdentityObject (OB-30 §B.1.12, §B.7 IdentityHash).

    Without a salt, a random one is drawn: an unsalted (or guessable) hash of an e-mail
    address can be reversed by hashing candidate addresses.
    """
    normalized = normalize_email(email)
    if salt is None:
        salt = secrets.token_hex(16)
    elif not isinstance(salt, str) or not salt:
        raise InputError("the salt must be a non-empty string")
    return IdentityObject(
        identityHash=identity_hash(normalized, salt),
        identityType="emailAddress",
        hashed=True,
        salt=salt,
    )


@dataclass(frozen=True, kw_only=True)
class IdentifierEntry:
    """OB-30 §B.1.11 IdentifierEntry: another identifier of a Profile or Achievement."""

    identifier: str
    identifierType: str

    def __post_init__(self) -> None:
        _text(self.identifier, "IdentifierEntry.identifier", required=True)
        _text(self.identifierType, "IdentifierEntry.identifierType", required=True)
        _enum_or_ext(self.identifierType, IDENTIFIER_TYPES, "IdentifierEntry.identifierType")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "IdentifierEntry",
            "identifier": self.identifier,
            "identifierType": self.identifierType,
        }


# --- profile, image, criteria, alignment -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Image:
    """OB-30 §B.1.13 Image. The schema wants ``type`` as the string "Image", not an array."""

    id: str
    caption: str | None = None

    def __post_init__(self) -> None:
        _uri(self.id, "Image.id", required=True)
        _text(self.caption, "Image.caption")

    def to_json(self) -> dict[str, Any]:
        return _compact(("id", self.id), ("type", "Image"), ("caption", self.caption))


@dataclass(frozen=True, kw_only=True)
class Profile:
    """OB-30 §B.1.14 Profile: an issuer, creator or other party."""

    id: str
    name: str | None = None
    url: str | None = None
    phone: str | None = None
    description: str | None = None
    email: str | None = None
    image: Image | None = None
    otherIdentifier: Sequence[IdentifierEntry] = ()

    def __post_init__(self) -> None:
        _uri(self.id, "Profile.id", required=True)
        _text(self.name, "Profile.name")
        _uri(self.url, "Profile.url")
        _text(self.phone, "Profile.phone")
        _text(self.description, "Profile.description")
        _text(self.email, "Profile.email")
        if self.image is not None and not isinstance(self.image, Image):
            raise InputError("Profile.image must be an Image")
        _freeze(self, "otherIdentifier", IdentifierEntry, "Profile.otherIdentifier")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["Profile"]),
            ("name", self.name),
            ("url", self.url),
            ("phone", self.phone),
            ("description", self.description),
            ("email", self.email),
            ("image", self.image.to_json() if self.image else None),
            ("otherIdentifier", [e.to_json() for e in self.otherIdentifier]),
        )


@dataclass(frozen=True, kw_only=True)
class Criteria:
    """OB-30 §B.1.6 Criteria: a URL and/or a Markdown narrative of what earns the achievement."""

    id: str | None = None
    narrative: str | None = None

    def __post_init__(self) -> None:
        _uri(self.id, "Criteria.id")
        _text(self.narrative, "Criteria.narrative")
        if self.id is None and not (self.narrative and self.narrative.strip()):
            raise InputError("Criteria needs an id (URL) or a narrative, or both")

    def to_json(self) -> dict[str, Any]:
        return _compact(("id", self.id), ("narrative", self.narrative))


@dataclass(frozen=True, kw_only=True)
class Alignment:
    """OB-30 §B.1.5 Alignment: a link to a framework item (competency, standard, …)."""

    targetName: str
    targetUrl: str
    targetDescription: str | None = None
    targetFramework: str | None = None
    targetCode: str | None = None
    targetType: str | None = None

    def __post_init__(self) -> None:
        _text(self.targetName, "Alignment.targetName", required=True)
        _uri(self.targetUrl, "Alignment.targetUrl", required=True)
        _text(self.targetDescription, "Alignment.targetDescription")
        _text(self.targetFramework, "Alignment.targetFramework")
        _text(self.targetCode, "Alignment.targetCode")
        _enum_or_ext(self.targetType, ALIGNMENT_TARGET_TYPES, "Alignment.targetType")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("type", ["Alignment"]),
            ("targetName", self.targetName),
            ("targetUrl", self.targetUrl),
            ("targetDescription", self.targetDescription),
            ("targetFramework", self.targetFramework),
            ("targetCode", self.targetCode),
            ("targetType", self.targetType),
        )


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RubricCriterionLevel:
    """OB-30 §B.1.18 RubricCriterionLevel: one level of a rubric criterion."""

    id: str
    name: str
    description: str | None = None
    level: str | None = None
    points: str | None = None
    alignment: Sequence[Alignment] = ()

    def __post_init__(self) -> None:
        _uri(self.id, "RubricCriterionLevel.id", required=True)
        _text(self.name, "RubricCriterionLevel.name", required=True)
        _text(self.description, "RubricCriterionLevel.description")
        _text(self.level, "RubricCriterionLevel.level")
        _text(self.points, "RubricCriterionLevel.points")
        _freeze(self, "alignment", Alignment, "RubricCriterionLevel.alignment")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["RubricCriterionLevel"]),
            ("name", self.name),
            ("description", self.description),
            ("level", self.level),
            ("points", self.points),
            ("alignment", [a.to_json() for a in self.alignment]),
        )


@dataclass(frozen=True, kw_only=True)
class ResultDescription:
    """OB-30 §B.1.17 ResultDescription: a kind of result an achievement can record.

    Values are strings in the data model (``valueMin`` "0", ``valueMax`` "100").
    """

    id: str
    name: str
    resultType: str
    allowedValue: Sequence[str] = ()
    requiredLevel: str | None = None
    requiredValue: str | None = None
    valueMin: str | None = None
    valueMax: str | None = None
    rubricCriterionLevel: Sequence[RubricCriterionLevel] = ()
    alignment: Sequence[Alignment] = ()

    def __post_init__(self) -> None:
        _uri(self.id, "ResultDescription.id", required=True)
        _text(self.name, "ResultDescription.name", required=True)
        _text(self.resultType, "ResultDescription.resultType", required=True)
        _enum_or_ext(self.resultType, RESULT_TYPES, "ResultDescription.resultType")
        _freeze(self, "allowedValue", str, "ResultDescription.allowedValue")
        _uri(self.requiredLevel, "ResultDescription.requiredLevel")
        for name in ("requiredValue", "valueMin", "valueMax"):
            _text(getattr(self, name), f"ResultDescription.{name}")
        _freeze(
            self,
            "rubricCriterionLevel",
            RubricCriterionLevel,
            "ResultDescription.rubricCriterionLevel",
        )
        _freeze(self, "alignment", Alignment, "ResultDescription.alignment")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["ResultDescription"]),
            ("name", self.name),
            ("resultType", self.resultType),
            ("allowedValue", list(self.allowedValue)),
            ("requiredLevel", self.requiredLevel),
            ("requiredValue", self.requiredValue),
            ("valueMin", self.valueMin),
            ("valueMax", self.valueMax),
            ("rubricCriterionLevel", [r.to_json() for r in self.rubricCriterionLevel]),
            ("alignment", [a.to_json() for a in self.alignment]),
        )


@dataclass(frozen=True, kw_only=True)
class Result:
    """OB-30 §B.1.16 Result: what the recipient achieved for one ResultDescription.

    ``resultDescription`` and ``achievedLevel`` are ids of a ResultDescription and a
    RubricCriterionLevel of the achievement.
    """

    resultDescription: str | None = None
    value: str | None = None
    status: str | None = None
    achievedLevel: str | None = None
    alignment: Sequence[Alignment] = ()

    def __post_init__(self) -> None:
        _uri(self.resultDescription, "Result.resultDescription")
        _text(self.value, "Result.value")
        if self.status is not None and self.status not in RESULT_STATUSES:
            raise InputError(
                f"Result.status {self.status!r} is not allowed: use one of "
                + ", ".join(sorted(RESULT_STATUSES))
            )
        _uri(self.achievedLevel, "Result.achievedLevel")
        _freeze(self, "alignment", Alignment, "Result.alignment")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("type", ["Result"]),
            ("resultDescription", self.resultDescription),
            ("value", self.value),
            ("status", self.status),
            ("achievedLevel", self.achievedLevel),
            ("alignment", [a.to_json() for a in self.alignment]),
        )


# --- achievement and subject ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Achievement:
    """OB-30 §B.1.1 Achievement: what was accomplished (the "badge class")."""

    id: str
    name: str
    description: str
    criteria: Criteria
    image: Image | None = None
    achievementType: str | None = None
    creator: Profile | None = None
    alignment: Sequence[Alignment] = ()
    creditsAvailable: int | float | None = None
    resultDescription: Sequence[ResultDescription] = ()
    tag: Sequence[str] = ()
    humanCode: str | None = None
    fieldOfStudy: str | None = None
    specialization: str | None = None
    version: str | None = None
    inLanguage: str | None = None
    otherIdentifier: Sequence[IdentifierEntry] = ()

    def __post_init__(self) -> None:
        _uri(self.id, "Achievement.id", required=True)
        _text(self.name, "Achievement.name", required=True)
        _text(self.description, "Achievement.description", required=True)
        if not isinstance(self.criteria, Criteria):
            raise InputError("Achievement.criteria must be a Criteria")
        if self.image is not None and not isinstance(self.image, Image):
            raise InputError("Achievement.image must be an Image")
        _enum_or_ext(self.achievementType, ACHIEVEMENT_TYPES, "Achievement.achievementType")
        if self.creator is not None and not isinstance(self.creator, Profile):
            raise InputError("Achievement.creator must be a Profile")
        _freeze(self, "alignment", Alignment, "Achievement.alignment")
        _number(self.creditsAvailable, "Achievement.creditsAvailable")
        _freeze(self, "resultDescription", ResultDescription, "Achievement.resultDescription")
        _freeze(self, "tag", str, "Achievement.tag")
        for name in ("humanCode", "fieldOfStudy", "specialization", "version"):
            _text(getattr(self, name), f"Achievement.{name}")
        if self.inLanguage is not None and not (
            isinstance(self.inLanguage, str) and _LANGUAGE.match(self.inLanguage)
        ):
            raise InputError(
                f"Achievement.inLanguage {self.inLanguage!r} is not a language code "
                "such as 'en' or 'pt-BR'"
            )
        _freeze(self, "otherIdentifier", IdentifierEntry, "Achievement.otherIdentifier")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["Achievement"]),
            ("achievementType", self.achievementType),
            ("name", self.name),
            ("description", self.description),
            ("criteria", self.criteria.to_json()),
            ("image", self.image.to_json() if self.image else None),
            ("creator", self.creator.to_json() if self.creator else None),
            ("alignment", [a.to_json() for a in self.alignment]),
            ("creditsAvailable", self.creditsAvailable),
            ("resultDescription", [r.to_json() for r in self.resultDescription]),
            ("tag", list(self.tag)),
            ("humanCode", self.humanCode),
            ("fieldOfStudy", self.fieldOfStudy),
            ("specialization", self.specialization),
            ("version", self.version),
            ("inLanguage", self.inLanguage),
            ("otherIdentifier", [e.to_json() for e in self.otherIdentifier]),
        )


def _check_recipient(obj: Any, what: str) -> None:
    _uri(obj.id, f"{what}.id")
    _freeze(obj, "identifier", IdentityObject, f"{what}.identifier")
    if obj.id is None and not obj.identifier:
        # OB-30 §9.1 step 1: a verifier rejects a subject with neither.
        raise InputError(
            f"{what} needs an id (a DID or URI of the recipient) or at least one identifier "
            "(IdentityObject)"
        )


@dataclass(frozen=True, kw_only=True)
class AchievementSubject:
    """OB-30 §B.1.3 AchievementSubject: the recipient and what they achieved."""

    achievement: Achievement
    id: str | None = None
    identifier: Sequence[IdentityObject] = ()
    result: Sequence[Result] = ()
    creditsEarned: int | float | None = None
    activityStartDate: datetime | None = None
    activityEndDate: datetime | None = None
    narrative: str | None = None

    def __post_init__(self) -> None:
        _check_recipient(self, "AchievementSubject")
        if not isinstance(self.achievement, Achievement):
            raise InputError("AchievementSubject.achievement must be an Achievement")
        _freeze(self, "result", Result, "AchievementSubject.result")
        _number(self.creditsEarned, "AchievementSubject.creditsEarned")
        start = end = None
        if self.activityStartDate is not None:
            start = format_datetime(self.activityStartDate, "AchievementSubject.activityStartDate")
        if self.activityEndDate is not None:
            end = format_datetime(self.activityEndDate, "AchievementSubject.activityEndDate")
        if start and end and end < start:
            raise InputError(
                f"AchievementSubject.activityEndDate ({end}) is before activityStartDate ({start})"
            )
        _text(self.narrative, "AchievementSubject.narrative")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["AchievementSubject"]),
            ("identifier", [i.to_json() for i in self.identifier]),
            ("achievement", self.achievement.to_json()),
            ("result", [r.to_json() for r in self.result]),
            ("creditsEarned", self.creditsEarned),
            (
                "activityStartDate",
                format_datetime(self.activityStartDate) if self.activityStartDate else None,
            ),
            (
                "activityEndDate",
                format_datetime(self.activityEndDate) if self.activityEndDate else None,
            ),
            ("narrative", self.narrative),
        )


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """OB-30 §B.1.9 Evidence: what the recipient did to earn the achievement.

    OB-IMPL-30 "Evidence documents": the ``id`` should point to something that will not
    change after issue.
    """

    id: str | None = None
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    genre: str | None = None
    audience: str | None = None

    def __post_init__(self) -> None:
        _uri(self.id, "Evidence.id")
        for name in ("name", "description", "narrative", "genre", "audience"):
            _text(getattr(self, name), f"Evidence.{name}")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["Evidence"]),
            ("name", self.name),
            ("description", self.description),
            ("narrative", self.narrative),
            ("genre", self.genre),
            ("audience", self.audience),
        )


# --- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CredentialSchema:
    """OB-30 §B.1.20 CredentialSchema: a JSON Schema the credential claims to conform to."""

    id: str
    type: str = JSON_SCHEMA_VALIDATOR_2019

    def __post_init__(self) -> None:
        _uri(self.id, "CredentialSchema.id", required=True)
        _text(self.type, "CredentialSchema.type", required=True)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type}


def _check_envelope(obj: Any, what: str) -> None:
    """Checks shared by every credential class (OB-30 §B.1.19 VerifiableCredential)."""
    _uri(obj.id, f"{what}.id", required=True)
    if not isinstance(obj.issuer, Profile):
        raise InputError(f"{what}.issuer must be a Profile")
    # OB-CERT-30 Displayer tests show the issuer name; a nameless issuer cannot be displayed.
    if not (obj.issuer.name and obj.issuer.name.strip()):
        raise InputError(f"{what}.issuer needs a name: displayers must show it")
    valid_from = format_datetime(obj.validFrom, f"{what}.validFrom")
    if obj.validUntil is not None:
        valid_until = format_datetime(obj.validUntil, f"{what}.validUntil")
        # Compared as serialized: that is what a verifier will see.
        if valid_until <= valid_from:
            raise InputError(
                f"{what}.validUntil ({valid_until}) must be after validFrom ({valid_from})"
            )
    if obj.awardedDate is not None:
        format_datetime(obj.awardedDate, f"{what}.awardedDate")
    _text(obj.description, f"{what}.description")
    _freeze(obj, "credentialSchema", CredentialSchema, f"{what}.credentialSchema")
    _freeze_documents(obj, "credentialStatus", f"{what}.credentialStatus")
    for status in obj.credentialStatus:
        if not (isinstance(status.get("id"), str) and isinstance(status.get("type"), str)):
            raise InputError(f"each {what}.credentialStatus needs an id and a type")
    if obj.refreshService is not None:
        if not isinstance(obj.refreshService, Mapping) or not (
            isinstance(obj.refreshService.get("id"), str)
            and isinstance(obj.refreshService.get("type"), str)
        ):
            raise InputError(f"{what}.refreshService must be an object with an id and a type")
        object.__setattr__(obj, "refreshService", copy.deepcopy(dict(obj.refreshService)))
    _freeze_documents(obj, "termsOfUse", f"{what}.termsOfUse")
    for terms in obj.termsOfUse:
        if not isinstance(terms.get("type"), str):
            raise InputError(f"each {what}.termsOfUse needs a type")


def _status_value(entries: Sequence[Mapping[str, Any]]) -> Any:
    """One entry as an object (the shape the OB 3.0 schemas take), several as a list.

    VCDM 2.0 §4.10 allows several status entries (e.g. one for revocation and one for
    suspension, VC Bitstring Status List §2.1); the official OB 3.0 JSON Schema models
    ``credentialStatus`` as a single object, so a list passes only the compacted check of
    :meth:`issuer.core.schema.SchemaRegistry.validate`, which verifiers use.
    """
    if not entries:
        return None
    if len(entries) == 1:
        return copy.deepcopy(dict(entries[0]))
    return [copy.deepcopy(dict(entry)) for entry in entries]


def _envelope_tail(obj: Any) -> list[tuple[str, Any]]:
    return [
        ("credentialSchema", [s.to_json() for s in obj.credentialSchema]),
        ("credentialStatus", _status_value(obj.credentialStatus)),
        ("refreshService", copy.deepcopy(obj.refreshService)),
        ("termsOfUse", copy.deepcopy(list(obj.termsOfUse))),
    ]


def _dates(obj: Any) -> list[tuple[str, Any]]:
    return [
        ("validFrom", format_datetime(obj.validFrom)),
        ("validUntil", format_datetime(obj.validUntil) if obj.validUntil else None),
        ("awardedDate", format_datetime(obj.awardedDate) if obj.awardedDate else None),
    ]


@dataclass(frozen=True, kw_only=True)
class AchievementCredential:
    """OB-30 §B.1.2 AchievementCredential (alias OpenBadgeCredential), without a proof.

    ``credentialSchema`` defaults to the official AchievementCredential schema; its type
    ``1EdTechJsonSchemaValidator2019`` is what brings in the extensions context. Pass
    ``credentialSchema=()`` to leave it out. ``credentialStatus`` takes status entries
    (opaque JSON objects with ``id`` and ``type``): one is written as an object, several
    (VCDM 2.0 §4.10, e.g. revocation and suspension) as a list.
    """

    id: str
    issuer: Profile
    validFrom: datetime
    credentialSubject: AchievementSubject
    type: Sequence[str] = ("VerifiableCredential", "OpenBadgeCredential")
    validUntil: datetime | None = None
    awardedDate: datetime | None = None
    name: str | None = None
    description: str | None = None
    image: Image | None = None
    evidence: Sequence[Evidence] = ()
    credentialSchema: Sequence[CredentialSchema] = (
        CredentialSchema(id=ACHIEVEMENT_CREDENTIAL_SCHEMA),
    )
    credentialStatus: Sequence[Mapping[str, Any]] = ()
    endorsement: Sequence[Mapping[str, Any]] = ()
    refreshService: Mapping[str, Any] | None = None
    termsOfUse: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        what = "AchievementCredential"
        _freeze(self, "type", str, f"{what}.type")
        if "VerifiableCredential" not in self.type or not (
            set(self.type) & ACHIEVEMENT_CREDENTIAL_TYPES
        ):
            raise InputError(
                f"{what}.type must include VerifiableCredential and one of "
                "OpenBadgeCredential or AchievementCredential"
            )
        _check_envelope(self, what)
        if not isinstance(self.credentialSubject, AchievementSubject):
            raise InputError(f"{what}.credentialSubject must be an AchievementSubject")
        _text(self.name, f"{what}.name")
        if self.image is not None and not isinstance(self.image, Image):
            raise InputError(f"{what}.image must be an Image")
        _freeze(self, "evidence", Evidence, f"{what}.evidence")
        _freeze_documents(self, "endorsement", f"{what}.endorsement")
        for endorsement in self.endorsement:
            _check_signed(endorsement, frozenset({"EndorsementCredential"}), f"{what}.endorsement")

    def to_json(self) -> dict[str, Any]:
        body = _compact(
            ("id", self.id),
            ("type", list(self.type)),
            ("name", self.name),
            ("description", self.description),
            ("image", self.image.to_json() if self.image else None),
            ("issuer", self.issuer.to_json()),
            *_dates(self),
            ("credentialSubject", self.credentialSubject.to_json()),
            ("evidence", [e.to_json() for e in self.evidence]),
            ("endorsement", copy.deepcopy(list(self.endorsement))),
            *_envelope_tail(self),
        )
        return {"@context": _contexts((VC_V2, OB_V3), body), **body}


@dataclass(frozen=True, kw_only=True)
class EndorsementSubject:
    """OB-30 §B.1.8 EndorsementSubject: the thing endorsed (a profile, achievement, credential)."""

    id: str
    endorsementComment: str | None = None

    def __post_init__(self) -> None:
        _uri(self.id, "EndorsementSubject.id", required=True)
        _text(self.endorsementComment, "EndorsementSubject.endorsementComment")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["EndorsementSubject"]),
            ("endorsementComment", self.endorsementComment),
        )


@dataclass(frozen=True, kw_only=True)
class EndorsementCredential:
    """OB-30 §B.1.7 EndorsementCredential, without a proof. Unlike §B.1.2, ``name`` is required.

    ``credentialSchema`` defaults to the official EndorsementCredential schema.
    """

    id: str
    issuer: Profile
    validFrom: datetime
    name: str
    credentialSubject: EndorsementSubject
    validUntil: datetime | None = None
    awardedDate: datetime | None = None
    description: str | None = None
    credentialSchema: Sequence[CredentialSchema] = (
        CredentialSchema(id=ENDORSEMENT_CREDENTIAL_SCHEMA),
    )
    credentialStatus: Sequence[Mapping[str, Any]] = ()
    refreshService: Mapping[str, Any] | None = None
    termsOfUse: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        what = "EndorsementCredential"
        _text(self.name, f"{what}.name", required=True)
        _check_envelope(self, what)
        if not isinstance(self.credentialSubject, EndorsementSubject):
            raise InputError(f"{what}.credentialSubject must be an EndorsementSubject")

    def to_json(self) -> dict[str, Any]:
        body = _compact(
            ("id", self.id),
            ("type", ["VerifiableCredential", "EndorsementCredential"]),
            ("name", self.name),
            ("description", self.description),
            ("issuer", self.issuer.to_json()),
            *_dates(self),
            ("credentialSubject", self.credentialSubject.to_json()),
            *_envelope_tail(self),
        )
        return {"@context": _contexts((VC_V2, OB_V3), body), **body}


# --- CLR 2.0 -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Association:
    """CLR 2.0 Association: a relation between two achievements of a ClrSubject.

    ``sourceId`` and ``targetId`` are achievement ids; ``associationType`` is from the CLR
    2.0 AssociationType enumeration (e.g. ``isParentOf``), not checked here.
    """

    associationType: str
    sourceId: str
    targetId: str

    def __post_init__(self) -> None:
        _text(self.associationType, "Association.associationType", required=True)
        _uri(self.sourceId, "Association.sourceId", required=True)
        _uri(self.targetId, "Association.targetId", required=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": ["Association"],
            "associationType": self.associationType,
            "sourceId": self.sourceId,
            "targetId": self.targetId,
        }


@dataclass(frozen=True, kw_only=True)
class ClrSubject:
    """CLR 2.0 ClrSubject: the learner and the signed AchievementCredentials of the record.

    ``verifiableCredential`` holds the AchievementCredentials as signed JSON objects;
    ``achievement`` and ``association`` describe how the achievements relate.
    """

    verifiableCredential: Sequence[Mapping[str, Any]]
    id: str | None = None
    identifier: Sequence[IdentityObject] = ()
    achievement: Sequence[Achievement] = ()
    association: Sequence[Association] = ()

    def __post_init__(self) -> None:
        _check_recipient(self, "ClrSubject")
        _freeze_documents(self, "verifiableCredential", "ClrSubject.verifiableCredential")
        if not self.verifiableCredential:
            raise InputError("ClrSubject.verifiableCredential needs at least one credential")
        for credential in self.verifiableCredential:
            _check_signed(
                credential, ACHIEVEMENT_CREDENTIAL_TYPES, "ClrSubject.verifiableCredential"
            )
        _freeze(self, "achievement", Achievement, "ClrSubject.achievement")
        _freeze(self, "association", Association, "ClrSubject.association")

    def to_json(self) -> dict[str, Any]:
        return _compact(
            ("id", self.id),
            ("type", ["ClrSubject"]),
            ("identifier", [i.to_json() for i in self.identifier]),
            ("verifiableCredential", copy.deepcopy(list(self.verifiableCredential))),
            ("achievement", [a.to_json() for a in self.achievement]),
            ("association", [a.to_json() for a in self.association]),
        )


@dataclass(frozen=True, kw_only=True)
class ClrCredential:
    """CLR 2.0 ClrCredential: a signed bundle of AchievementCredentials for one learner.

    ``@context`` is VC v2, CLR 2.0.1, OB 3.0.3 (CLR reuses the OB classes), plus the
    extensions context when a 1EdTech extension type is used, as in the CLR 2.0
    Implementation Guide example. ``credentialSchema`` defaults to the CLR schema, which
    is not bundled with this product.
    """

    id: str
    issuer: Profile
    validFrom: datetime
    name: str
    credentialSubject: ClrSubject
    validUntil: datetime | None = None
    awardedDate: datetime | None = None
    description: str | None = None
    image: Image | None = None
    partial: bool | None = None
    credentialSchema: Sequence[CredentialSchema] = (CredentialSchema(id=CLR_CREDENTIAL_SCHEMA),)
    credentialStatus: Sequence[Mapping[str, Any]] = ()
    refreshService: Mapping[str, Any] | None = None
    termsOfUse: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        what = "ClrCredential"
        _text(self.name, f"{what}.name", required=True)
        _check_envelope(self, what)
        if not isinstance(self.credentialSubject, ClrSubject):
            raise InputError(f"{what}.credentialSubject must be a ClrSubject")
        if self.image is not None and not isinstance(self.image, Image):
            raise InputError(f"{what}.image must be an Image")
        if self.partial is not None and not isinstance(self.partial, bool):
            raise InputError(f"{what}.partial must be true or false")

    def to_json(self) -> dict[str, Any]:
        body = _compact(
            ("id", self.id),
            ("type", ["VerifiableCredential", "ClrCredential"]),
            ("name", self.name),
            ("description", self.description),
            ("image", self.image.to_json() if self.image else None),
            ("partial", self.partial),
            ("issuer", self.issuer.to_json()),
            *_dates(self),
            ("credentialSubject", self.credentialSubject.to_json()),
            *_envelope_tail(self),
        )
        return {"@context": _contexts((VC_V2, CLR_V2, OB_V3), body), **body}
