"""The URLs and type names the specs fix for the documents the core builds and checks:
base and extension contexts, the OB 3.0 and CLR 2.0 JSON Schemas, and the 1EdTech extension
types.

They live apart from the builders of :mod:`issuer.core.credentials` (which exports them too)
so that verifying, which needs the names but not the builders, does not load the builders.
"""

from __future__ import annotations

__all__ = [
    "ACHIEVEMENT_CREDENTIAL_SCHEMA",
    "CLR_CREDENTIAL_SCHEMA",
    "CLR_V2",
    "CREDENTIAL_REFRESH",
    "DATA_INTEGRITY_V2",
    "ENDORSEMENT_CREDENTIAL_SCHEMA",
    "EXTENSION_TYPES",
    "JSON_SCHEMA_VALIDATOR_2019",
    "OB_EXTENSIONS",
    "OB_V3",
    "PROFILE_SCHEMA",
    "REVOCATION_LIST",
    "VC_V1",
    "VC_V2",
]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
#: The VC Data Model 1.1 base context, which credentials issued before VC 2.0 name first.
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR_V2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
#: Not needed for ``DataIntegrityProof`` with VC v2 (its context defines the proof terms);
#: kept for documents that must name it explicitly.
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

_OB_SCHEMA_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
ACHIEVEMENT_CREDENTIAL_SCHEMA = _OB_SCHEMA_BASE + "ob_v3p0_achievementcredential_schema.json"
ENDORSEMENT_CREDENTIAL_SCHEMA = _OB_SCHEMA_BASE + "ob_v3p0_endorsementcredential_schema.json"
PROFILE_SCHEMA = _OB_SCHEMA_BASE + "ob_v3p0_profile_schema.json"
CLR_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)

#: OB-30 §B.1.20: the data model and every example use the 1EdTech name (the schema's own
#: description says "JsonSchemaValidator2019"), which only extensions.json defines.
JSON_SCHEMA_VALIDATOR_2019 = "1EdTechJsonSchemaValidator2019"
REVOCATION_LIST = "1EdTechRevocationList"
CREDENTIAL_REFRESH = "1EdTechCredentialRefresh"
#: Types defined only by OB_EXTENSIONS: using any of them makes that context necessary.
EXTENSION_TYPES = frozenset({JSON_SCHEMA_VALIDATOR_2019, REVOCATION_LIST, CREDENTIAL_REFRESH})
