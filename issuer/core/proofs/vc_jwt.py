"""Credentials secured as compact JWS.

Three shapes are met in the wild and each is told apart by its header and payload:

* **OB 3.0 VC-JWT** (OB 3.0 §8.2): header ``typ`` absent or ``JWT``; the payload is the
  credential itself plus the registered claims ``iss``, ``jti``, ``nbf``, ``sub``, ``exp``.
* **VC-JOSE-COSE** (Securing VCs using JOSE and COSE §3.1.1): ``typ`` ``vc+jwt`` (or
  ``vp+jwt`` for a presentation); the payload is the credential; ``vc``/``vp`` claims are
  forbidden.
* **VCDM 1.1 JWT** (VCDM 1.1 §6.3.1): the credential sits in the ``vc`` claim.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.core.errors import InputError, KeyFormatError, SigningError
from issuer.core.keys import PrivateKey, PublicKey
from issuer.core.multibase import b64url_decode, b64url_encode
from issuer.core.proofs.jwt_claims import claim_mismatches, claims_for, time_problems
from issuer.core.vocab import VC_V1

__all__ = [
    "ALGORITHMS",
    "JOSE_PROFILE",
    "MAX_TOKEN_LENGTH",
    "OB_HEADER_PARAMETERS",
    "OB_PROFILE",
    "VCDM11_PROFILE",
    "DecodedJws",
    "claim_problems",
    "credential_of",
    "decode_compact",
    "encode_compact",
    "looks_like_jws",
    "profile_of",
    "sign_ob_vc_jwt",
    "verify_signature",
]

#: RFC 7515 §7.1 compact serialization: three base64url segments (§2: no padding, no
#: whitespace, nothing else).
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

#: Algorithms verified, by key type. ``none`` and HMAC are never accepted: a credential must
#: be verifiable by anyone holding the issuer's public key.
ALGORITHMS: dict[str, frozenset[str]] = {
    "Ed25519": frozenset({"EdDSA", "Ed25519"}),
    "P-256": frozenset({"ES256"}),
    "P-384": frozenset({"ES384"}),
    "P-521": frozenset({"ES512"}),
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
}

#: OB 3.0 §8.2.3: only these header parameters may appear in an OB VC-JWT.
OB_HEADER_PARAMETERS = frozenset({"alg", "kid", "jwk", "typ"})

MAX_TOKEN_LENGTH = 1_000_000

OB_PROFILE = "OB 3.0 VC-JWT"
JOSE_PROFILE = "VC-JOSE-COSE"
VCDM11_PROFILE = "VCDM 1.1 JWT"


@dataclass(frozen=True)
class DecodedJws:
    """A compact JWS split into its parts (RFC 7515 §7.1); nothing is trusted yet."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def looks_like_jws(text: str) -> bool:
    """Whether ``text`` has the shape of a compact JWS (a JSON header, so ``ey`` first)."""
    return bool(_COMPACT.fullmatch(text)) and text.startswith("ey")


def decode_compact(token: str) -> DecodedJws:
    """Split and parse a compact JWS; raise InputError when it is not one.

    Every segment must be canonical base64url (RFC 7515 §2, RFC 4648 §3.5): no padding, no
    whitespace, and the unused low bits of the last character zero. Otherwise one signed
    token would have several spellings that all verify.
    """
    if not isinstance(token, str):
        raise InputError("a JWT must be a string")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InputError("the JWT is too large")
    if not _COMPACT.fullmatch(token):
        raise InputError("not a compact JWS: expected three base64url parts separated by '.'")
    head, body, sig = token.split(".")
    header = _json_part(head, "header")
    payload = _json_part(body, "payload")
    return DecodedJws(
        header=header,
        payload=payload,
        signing_input=f"{head}.{body}".encode("ascii"),
        signature=_segment(sig, "signature"),
    )


def _segment(text: str, name: str) -> bytes:
    try:
        return b64url_decode(text)
    except KeyFormatError:
        raise InputError(f"the JWT {name} is not canonical base64url") from None


def _json_part(segment: str, name: str) -> dict[str, Any]:
    raw = _segment(segment, name)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"the JWT {name} is not JSON") from None
    if not isinstance(value, dict):
        raise InputError(f"the JWT {name} must be a JSON object")
    return value


def profile_of(decoded: DecodedJws) -> str:
    """Which of the three JWT shapes this is (see the module docstring)."""
    typ = decoded.header.get("typ")
    if isinstance(typ, str) and typ.lower().removeprefix("application/") in (
        "vc+jwt",
        "vp+jwt",
        "vc+ld+jwt",
        "vp+ld+jwt",
    ):
        return JOSE_PROFILE
    if "vc" in decoded.payload and "@context" not in decoded.payload:
        return VCDM11_PROFILE
    if typ is None or typ == "JWT":
        return OB_PROFILE
    return JOSE_PROFILE


def credential_of(decoded: DecodedJws) -> dict[str, Any]:
    """The credential (or presentation) the token carries."""
    if profile_of(decoded) == VCDM11_PROFILE:
        vc = decoded.payload.get("vc") or decoded.payload.get("vp")
        if not isinstance(vc, dict):
            raise InputError("the JWT 'vc' claim must be a JSON object")
        return vc
    return decoded.payload


def verify_signature(decoded: DecodedJws, key: PublicKey) -> tuple[bool, str]:
    """RFC 7515 §5.2 signature check, refusing algorithms that do not fit the key."""
    alg = decoded.header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        return False, "the JWT names no signature algorithm ('alg')"
    allowed = ALGORITHMS.get(key.key_type, frozenset())
    if alg not in allowed:
        return False, f"the algorithm {alg} does not fit the issuer's {key.key_type} key"
    if key.verify(decoded.signature, decoded.signing_input, alg=alg):
        return True, f"the {alg} signature is valid"
    return False, "the JWT signature does not match: it was changed or signed by another key"


def claim_problems(decoded: DecodedJws, now: datetime) -> list[str]:
    """Header and claim rules of the token's profile; an empty list when all hold.

    OB 3.0 §8.2.6.1 (iss, sub, nbf, jti, exp against the credential), VC-JOSE-COSE §3.1.1
    (``typ``, ``cty``, no ``vc``/``vp`` claims) and VCDM 1.1 §6.3.1.
    """
    profile = profile_of(decoded)
    header, payload = decoded.header, decoded.payload
    problems: list[str] = []
    if profile == JOSE_PROFILE:
        typ = str(header.get("typ", "")).lower().removeprefix("application/")
        if typ not in ("vc+jwt", "vp+jwt", "vc+ld+jwt", "vp+ld+jwt"):
            problems.append(f"the media type (typ) {header.get('typ')!r} is not vc+jwt or vp+jwt")
        cty = header.get("cty")
        if cty is not None and str(cty).lower().removeprefix("application/") not in (
            "vc",
            "vp",
            "vc+ld+json",
            "vp+ld+json",
        ):
            problems.append(f"the content type (cty) {cty!r} is not vc or vp")
        for claim in ("vc", "vp"):
            if claim in payload:
                problems.append(f"a VC-JOSE-COSE payload must not carry a {claim!r} claim")
        return problems + time_problems(payload, now)
    credential = credential_of(decoded)
    if profile == OB_PROFILE:
        extra = set(header) - OB_HEADER_PARAMETERS
        if extra:
            problems.append(
                "header parameters not allowed by OB 3.0 §8.2.3: " + ", ".join(sorted(extra))
            )
    problems += claim_mismatches(payload, credential)
    problems += time_problems(payload, now)
    if profile == VCDM11_PROFILE:
        ctx = credential.get("@context")
        first = ctx[0] if isinstance(ctx, list) and ctx else ctx
        if first != VC_V1:
            # OB 3.0 Implementation Guide, VCDM 1.1 verification: the claim and the data
            # model version must agree.
            problems.append("a 'vc' claim must carry a VCDM 1.1 credential")
    return problems


def sign_ob_vc_jwt(
    credential: Mapping[str, Any],
    key: PrivateKey,
    *,
    kid: str | None,
    embed_jwk: bool = False,
) -> str:
    """Issue a credential as an OB 3.0 VC-JWT (OB 3.0 §8.2.4 Create the Proof).

    The payload is the credential plus ``iss``, ``jti``, ``nbf``, ``sub`` and ``exp``. The
    key is named by ``kid`` (a URL that dereferences to it) and, on request, also carried as
    a public ``jwk``.
    """
    if not isinstance(credential, Mapping):
        raise SigningError("only a JSON object can be signed")
    payload: dict[str, Any] = {**credential, **claims_for(credential)}
    header: dict[str, Any] = {"alg": key.jws_alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    if embed_jwk or kid is None:
        header["jwk"] = key.public_key.to_jwk()
    return encode_compact(header, payload, key)


def encode_compact(header: Mapping[str, Any], payload: Mapping[str, Any], key: PrivateKey) -> str:
    head = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    body = b64url_encode(
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    )
    signature = key.sign(f"{head}.{body}".encode("ascii"))
    return f"{head}.{body}.{b64url_encode(signature)}"
