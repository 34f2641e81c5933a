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

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from issuer.core.errors import InputError, SigningError
from issuer.core.keys import PrivateKey, PublicKey

#: RFC 7515 §3.1 compact serialization: three base64url segments.
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")

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


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InputError("the JWT is not valid base64url") from None


@dataclass(frozen=True)
class DecodedJws:
    """A compact JWS split into its parts (RFC 7515 §7.1); nothing is trusted yet."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def looks_like_jws(text: str) -> bool:
    return bool(_COMPACT.match(text.strip())) and text.strip().startswith("ey")


def decode_compact(token: str) -> DecodedJws:
    """Split and parse a compact JWS; raise InputError when it is not one."""
    if not isinstance(token, str):
        raise InputError("a JWT must be a string")
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        raise InputError("the JWT is too large")
    if not _COMPACT.match(token):
        raise InputError("not a compact JWS: expected three base64url parts separated by '.'")
    head, body, sig = token.split(".")
    header = _json_part(head, "header")
    payload = _json_part(body, "payload")
    return DecodedJws(
        header=header,
        payload=payload,
        signing_input=f"{head}.{body}".encode("ascii"),
        signature=b64url_decode(sig),
    )


def _json_part(segment: str, name: str) -> dict[str, Any]:
    raw = b64url_decode(segment)
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


def _numeric_date(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return subject["id"]
    return None


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer", credential.get("holder"))
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


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
        return problems + _time_problems(payload, now)
    credential = credential_of(decoded)
    if profile == OB_PROFILE:
        extra = set(header) - OB_HEADER_PARAMETERS
        if extra:
            problems.append(
                "header parameters not allowed by OB 3.0 §8.2.3: " + ", ".join(sorted(extra))
            )
    iss = payload.get("iss")
    if iss is not None and iss != issuer_id(credential):
        problems.append("the 'iss' claim is not the credential's issuer")
    sub = payload.get("sub")
    if sub is not None and sub != _subject_id(credential):
        problems.append("the 'sub' claim is not the credential subject's id")
    jti = payload.get("jti")
    if jti is not None and jti != credential.get("id"):
        problems.append("the 'jti' claim is not the credential's id")
    nbf = payload.get("nbf")
    if isinstance(nbf, int | float):
        valid_from = credential.get("validFrom", credential.get("issuanceDate"))
        if valid_from is not None and _numeric_date(valid_from) != int(nbf):
            problems.append("the 'nbf' claim is not the credential's validFrom")
    problems += _time_problems(payload, now)
    if profile == VCDM11_PROFILE:
        ctx = credential.get("@context")
        first = ctx[0] if isinstance(ctx, list) and ctx else ctx
        if first != "https://www.w3.org/2018/credentials/v1":
            # OB 3.0 Implementation Guide, VCDM 1.1 verification: the claim and the data
            # model version must agree.
            problems.append("a 'vc' claim must carry a VCDM 1.1 credential")
    return problems


def _time_problems(payload: Mapping[str, Any], now: datetime) -> list[str]:
    """RFC 7519 §4.1.4 and §4.1.5: ``exp`` and ``nbf`` bound the token's use."""
    problems: list[str] = []
    nbf, exp = payload.get("nbf"), payload.get("exp")
    if nbf is not None:
        if not isinstance(nbf, int | float) or isinstance(nbf, bool):
            problems.append("the 'nbf' claim must be a NumericDate")
        elif nbf > now.timestamp():
            problems.append("the JWT is not valid yet ('nbf' is in the future)")
    if exp is not None:
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            problems.append("the 'exp' claim must be a NumericDate")
        elif exp < now.timestamp():
            problems.append("the JWT has expired ('exp' has passed)")
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
    payload: dict[str, Any] = dict(credential)
    iss = issuer_id(credential)
    if iss is None:
        raise SigningError("the credential needs an issuer to be issued as a JWT")
    payload["iss"] = iss
    if isinstance(credential.get("id"), str):
        payload["jti"] = credential["id"]
    nbf = _numeric_date(credential.get("validFrom"))
    if nbf is not None:
        payload["nbf"] = nbf
    sub = _subject_id(credential)
    if sub is not None:
        payload["sub"] = sub
    exp = _numeric_date(credential.get("validUntil"))
    if exp is not None:
        payload["exp"] = exp
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
