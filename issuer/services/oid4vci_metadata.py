"""What this service publishes about itself as an OpenID for Verifiable Credential Issuance
1.0 Credential Issuer and its own Authorization Server.

* Credential Issuer Metadata (OID4VCI §12.2), at ``/.well-known/openid-credential-issuer``:
  the endpoints and the credential configurations (Appendix A.1: ``ldp_vc`` and
  ``jwt_vc_json``) with the key proofs each accepts (Appendix F).
* Authorization Server Metadata (RFC 8414 §2, OID4VCI §12.3), at
  ``/.well-known/oauth-authorization-server``: the token endpoint and the
  pre-authorized code grant, anonymous access allowed.

The Credential Issuer Identifier is the service's base URL: one issuer of credentials for
every organisation hosted here; each credential is signed by its own organisation.
"""

from __future__ import annotations

from typing import Any

from issuer.core.credentials import OB_V3, VC_V2
from issuer.core.oid4vci_proofs import DI_VP_CRYPTOSUITES, JWT_PROOF_ALGORITHMS
from issuer.services.context import ServiceContext
from issuer.services.holder_dids import BINDING_METHODS, binding_methods

__all__ = [
    "CONFIGURATIONS",
    "GRANT_TYPE",
    "JWT_VC_JSON",
    "LDP_VC",
    "authorization_server_metadata",
    "credential_issuer",
    "credential_issuer_metadata",
]

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP_VC = "OpenBadgeCredential_ldp_vc"
JWT_VC_JSON = "OpenBadgeCredential_jwt_vc_json"
_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
_JWT_PROOF = {"proof_signing_alg_values_supported": list(JWT_PROOF_ALGORITHMS)}
_BINDING = list(BINDING_METHODS)
_DISPLAY = [{"name": "Open Badge", "locale": "en",
             "description": "An Open Badges 3.0 achievement credential"}]

#: Appendix A.1.2 (``ldp_vc``) and A.1.1 (``jwt_vc_json``), by configuration id.
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    LDP_VC: {
        "format": "ldp_vc",
        "cryptographic_binding_methods_supported": _BINDING,
        "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
        "proof_types_supported": {
            "jwt": _JWT_PROOF,
            "di_vp": {"proof_signing_alg_values_supported": list(DI_VP_CRYPTOSUITES)},
        },
        "credential_definition": {"@context": [VC_V2, OB_V3], "type": _TYPES},
        "credential_metadata": {"display": _DISPLAY},
        # Drafts before 1.0 put display here; wallets built on them still read it.
        "display": _DISPLAY,
    },
    JWT_VC_JSON: {
        "format": "jwt_vc_json",
        "cryptographic_binding_methods_supported": _BINDING,
        "credential_signing_alg_values_supported": ["EdDSA", "ES256"],
        "proof_types_supported": {"jwt": _JWT_PROOF},
        "credential_definition": {"type": _TYPES},
        "credential_metadata": {"display": _DISPLAY},
        "display": _DISPLAY,
    },
}


def credential_issuer(ctx: ServiceContext) -> str:
    """The Credential Issuer Identifier (§12.2.1): the audience of every key proof."""
    return ctx.base


def credential_issuer_metadata(ctx: ServiceContext) -> dict[str, Any]:
    base = credential_issuer(ctx)
    return {
        "credential_issuer": base,
        "credential_endpoint": f"{base}/oid4vci/credential",
        "nonce_endpoint": f"{base}/oid4vci/nonce",
        "display": [{"name": "Open Badges issuer", "locale": "en"}],
        "credential_configurations_supported": {
            name: {**configuration,
                   "cryptographic_binding_methods_supported": binding_methods(ctx)}
            for name, configuration in CONFIGURATIONS.items()},
    }


def authorization_server_metadata(ctx: ServiceContext) -> dict[str, Any]:
    base = credential_issuer(ctx)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oid4vci/token",
        "grant_types_supported": [GRANT_TYPE],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }
