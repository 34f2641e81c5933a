"""What the two JCS cryptosuites share: the document and the proof options serialized with
the JSON Canonicalization Scheme (RFC 8785), the options carrying the document's contexts.

VC Data Integrity EdDSA Cryptosuites v1.0 §3.4 (eddsa-jcs-2022) and ECDSA Cryptosuites v1.0
§3.4 (ecdsa-jcs-2019) define these two steps alike; they differ in hashing and keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issuer.core.canon.jcs import jcs
from issuer.core.proofs.data_integrity import SuiteContext

__all__ = ["JcsTransformation"]


class JcsTransformation:
    """§3.4.3 Transformation and §3.4.5 Proof Configuration of a JCS cryptosuite."""

    def transformation(
        self, unsecured: Mapping[str, Any], options: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.4.3 Transformation: the JCS serialization of the unsecured document."""
        return jcs(dict(unsecured))

    def proof_configuration(
        self, options: Mapping[str, Any], unsecured: Mapping[str, Any], ctx: SuiteContext
    ) -> bytes:
        """§3.4.5 Proof Configuration: JCS of the proof options with the document's contexts."""
        config = dict(options)
        if "@context" in unsecured:
            config["@context"] = unsecured["@context"]
        return jcs(config)
