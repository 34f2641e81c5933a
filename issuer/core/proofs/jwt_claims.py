"""How a credential and the registered claims of the JWT that carries it correspond.

OB 3.0 §8.2.4 ("JWT claims"): a VC-JWT payload is the credential itself plus the registered
claims (RFC 7519 §4.1) ``iss`` (the issuer's id), ``jti`` (the credential's id), ``nbf``
(``validFrom``), ``sub`` (the subject's id) and ``exp`` (``validUntil``), dates as NumericDate
(RFC 7519 §2). OB 3.0 §8.2.6 has a verifier check that they agree with the credential, and
VCDM 1.1 §6.3.1 maps the same claims for credentials carried in a ``vc`` claim.

Building the claims, checking them, and taking them off the credential again all happen
here, so the mapping is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from issuer.core.datetimes import parse_datetime
from issuer.core.errors import InputError, SigningError
from issuer.core.nodes import issuer_id

__all__ = [
    "JWT_CLAIMS",
    "claim_mismatches",
    "claims_for",
    "signing_time",
    "time_problems",
    "without_claims",
]

#: Registered claims (RFC 7519 §4.1, and ``cnf`` of RFC 7800) that sit beside the credential
#: in a VC-JWT payload but are not credential properties.
JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf"})


def _numeric_date(value: str | None) -> int | None:
    """An XML Schema date-time as an RFC 7519 §2 NumericDate (whole seconds since 1970)."""
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


def claims_for(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The registered claims of an OB 3.0 VC-JWT for ``credential`` (OB 3.0 §8.2.4).

    ``iss`` is required, so a credential without an issuer is refused (SigningError); the
    other claims are present when the credential has what they map.
    """
    claims: dict[str, Any] = {}
    iss = issuer_id(credential)
    if iss is None:
        raise SigningError("the credential needs an issuer to be issued as a JWT")
    claims["iss"] = iss
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    nbf = _numeric_date(credential.get("validFrom"))
    if nbf is not None:
        claims["nbf"] = nbf
    sub = _subject_id(credential)
    if sub is not None:
        claims["sub"] = sub
    exp = _numeric_date(credential.get("validUntil"))
    if exp is not None:
        claims["exp"] = exp
    return claims


def claim_mismatches(payload: Mapping[str, Any], credential: Mapping[str, Any]) -> list[str]:
    """Where the claims present say something else than the credential (OB 3.0 §8.2.6,
    VCDM 1.1 §6.3.1); an empty list when they agree."""
    problems: list[str] = []
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
    return problems


def time_problems(payload: Mapping[str, Any], now: datetime) -> list[str]:
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


def without_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The credential a VC-JWT payload carries, without the registered claims beside it."""
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


def signing_time(
    payload: Mapping[str, Any], credential: Mapping[str, Any]
) -> tuple[datetime | None, str]:
    """When a JWT says it was signed, and what says so: ``iat``, else ``nbf`` (RFC 7519
    §4.1.6, §4.1.5), else the credential's ``validFrom``. The claims' form is checked by
    :func:`time_problems`; a time that cannot be read is None."""
    for claim in ("iat", "nbf"):
        value = payload.get(claim)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, UTC), f"its '{claim}' claim"
            except (OverflowError, OSError, ValueError):
                return None, f"its '{claim}' claim"
    for name in ("validFrom", "issuanceDate"):
        value = credential.get(name)
        if isinstance(value, str):
            try:
                return parse_datetime(value), f"its {name}"
            except InputError:
                return None, f"its {name}"
    return None, "the JWT"
