"""Key proofs of OpenID for Verifiable Credential Issuance 1.0 (Appendix F): a wallet shows
that it holds the key the credential is to be bound to.

* ``jwt`` (Appendix F.1): a compact JWS of ``typ`` ``openid4vci-proof+jwt`` whose key is
  named by ``kid`` (a ``did:key`` or ``did:jwk`` DID URL, or a ``did:web`` one the caller's
  resolver can read) or carried as ``jwk``; ``aud`` is
  the Credential Issuer Identifier, ``iat`` the time it was made, ``nonce`` a ``c_nonce``
  of the issuer. The signature is checked by joserfc.
* ``di_vp`` (Appendix F.2): a Verifiable Presentation with a Data Integrity proof
  (``eddsa-rdfc-2022``) of purpose ``authentication`` whose ``challenge`` is the
  ``c_nonce`` and ``domain`` the Credential Issuer Identifier, by a method of a ``did:key``
  or of a ``did:web`` the caller's resolver can read (:func:`issuer.core.didauth.holder_key`).

Whether the nonce is one the issuer gave and nobody used yet is for the caller to decide:
these functions return it with the DID the credential is to name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSAlgModel, JWSRegistry

from issuer.core.datetimes import parse_datetime
from issuer.core.did_web import DID_WEB_PREFIX
from issuer.core.didauth import holder_key
from issuer.core.dids import DID_KEY_PREFIX, public_key_from_did_key
from issuer.core.errors import InputError, IssuerError
from issuer.core.keys import PublicKey, public_key_from_jwk
from issuer.core.multibase import b64url_decode, b64url_encode
from issuer.core.nodes import types_of
from issuer.core.proofs.data_integrity import SuiteContext, proofs_of, verify_one
from issuer.core.proofs.registry import SIGNING_SUITES
from issuer.core.resolve import Resolver

__all__ = [
    "DI_VP_CRYPTOSUITES",
    "JWT_PROOF_ALGORITHMS",
    "JWT_PROOF_TYPE",
    "KeyProofError",
    "ProvenKey",
    "did_jwk",
    "verify_di_vp_proof",
    "verify_jwt_proof",
]

#: Appendix F.1: the ``typ`` header every JWT key proof carries.
JWT_PROOF_TYPE = "openid4vci-proof+jwt"
#: Signature algorithms accepted in JWT key proofs (``proof_signing_alg_values_supported``).
JWT_PROOF_ALGORITHMS = ("EdDSA", "Ed25519", "ES256")
#: Cryptosuites accepted in ``di_vp`` proofs.
DI_VP_CRYPTOSUITES = ("eddsa-rdfc-2022",)
DID_JWK_PREFIX = "did:jwk:"
#: A proof's ``iat`` may be this far ahead of the issuer's clock (clock skew).
CLOCK_SKEW = timedelta(seconds=60)


class KeyProofError(InputError):
    """A key proof that does not prove possession of a key for this issuer and nonce."""

    code = "invalid_proof"


@dataclass(frozen=True)
class ProvenKey:
    """What a verified key proof establishes."""

    #: The DID the credential is bound to: the ``did:key`` or ``did:jwk`` of the proven key.
    holder: str
    #: The ``c_nonce`` the proof carries (None when it carries none).
    nonce: str | None
    public_key: PublicKey


class _QuietEdDSA(EdDSAAlgorithm):
    """``EdDSA`` without joserfc's deprecation warning: OID4VCI 1.0 and the wallets that
    implement it name Ed25519 signatures ``EdDSA`` (RFC 8037); RFC 9864's ``Ed25519`` is
    accepted as well."""

    security_warning = None


class _ProofRegistry(JWSRegistry):
    algorithms: ClassVar[dict[str, JWSAlgModel]] = {**JWSRegistry.algorithms,
                                                    "EdDSA": _QuietEdDSA()}


def did_jwk(jwk: Mapping[str, Any]) -> str:
    """``did:jwk:`` + base64url of the public JWK's JSON (did:jwk §2.1 Create).

    Only the members RFC 7638 §3.2 names for the key type are kept, in lexicographic
    order, so one key always gives one DID and nothing private is ever written into it.
    """
    key = public_key_from_jwk(jwk)
    public = key.to_jwk()
    members = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"),
               "RSA": ("e", "kty", "n")}[public["kty"]]
    text = json.dumps({m: public[m] for m in members}, separators=(",", ":"))
    return DID_JWK_PREFIX + b64url_encode(text.encode("utf-8"))


def _key_of_did_jwk(value: str) -> tuple[str, PublicKey]:
    did = value.partition("#")[0]
    try:
        jwk = json.loads(b64url_decode(did[len(DID_JWK_PREFIX):]))
    except (IssuerError, ValueError, UnicodeDecodeError):
        raise KeyProofError("the did:jwk in 'kid' cannot be read") from None
    if not isinstance(jwk, dict) or "d" in jwk:
        raise KeyProofError("the did:jwk in 'kid' is not a public JWK")
    return did, _public_key(lambda: public_key_from_jwk(jwk))


def _public_key(make: Any) -> PublicKey:
    try:
        key: PublicKey = make()
    except IssuerError as exc:
        raise KeyProofError(f"the proof's key cannot be used: {exc.message}") from None
    return key


def _key_from_header(header: Mapping[str, Any],
                     resolver: Resolver) -> tuple[str, PublicKey]:
    """Appendix F.1: exactly one of ``kid`` (a DID URL) and ``jwk`` names the key."""
    kid, jwk = header.get("kid"), header.get("jwk")
    if "x5c" in header or "key_attestation" in header or "trust_chain" in header:
        raise KeyProofError("only proofs whose key is given by 'kid' (did:key, did:jwk) or "
                            "'jwk' are accepted")
    if (kid is None) == (jwk is None):
        raise KeyProofError("the proof must name its key by exactly one of 'kid' and 'jwk'")
    if jwk is not None:
        if not isinstance(jwk, Mapping):
            raise KeyProofError("the header 'jwk' must be a JSON object")
        if "d" in jwk:
            raise KeyProofError("the header 'jwk' must not contain a private key")
        key = _public_key(lambda: public_key_from_jwk(jwk))
        return did_jwk(key.to_jwk()), key
    if not isinstance(kid, str) or "#" not in kid:
        raise KeyProofError("'kid' must be a DID URL naming the key (did:key, did:jwk "
                            "or did:web)")
    if kid.startswith(DID_KEY_PREFIX):
        key = _public_key(lambda: public_key_from_did_key(kid))
        return kid.partition("#")[0], key
    if kid.startswith(DID_JWK_PREFIX):
        return _key_of_did_jwk(kid)
    if kid.startswith(DID_WEB_PREFIX):
        did = kid.partition("#")[0]
        return did, holder_key(kid, did, resolver, KeyProofError).public_key
    raise KeyProofError("'kid' must be a did:key, did:jwk or did:web DID URL")


def _joserfc_key(key: PublicKey) -> OKPKey | ECKey:
    jwk = key.to_jwk()
    if jwk.get("kty") == "OKP":
        return OKPKey.import_key(jwk)
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return ECKey.import_key(jwk)
    raise KeyProofError(f"{key.key_type} keys are not accepted in key proofs")


def verify_jwt_proof(token: Any, *, audience: str, now: datetime,
                     max_age: timedelta, resolver: Resolver | None = None) -> ProvenKey:
    """Check a ``jwt`` key proof (OID4VCI 1.0 Appendix F.1, F.4 steps 1–5).

    The header must carry ``typ`` ``openid4vci-proof+jwt`` and an accepted ``alg``; the
    signature must verify under the key the header names (a did:web ``kid`` through
    ``resolver``, listed under ``authentication``); ``aud`` must be ``audience``; ``iat``
    must be within ``max_age`` before ``now`` and not in the future.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise KeyProofError("a jwt proof must be a compact JWS")
    registry = _ProofRegistry(algorithms=JWT_PROOF_ALGORITHMS)
    try:
        # The header names the key, so it is read before the signature can be checked.
        header = dict(jws.extract_compact(token.encode("ascii"), registry=registry).headers())
    except (JoseError, UnicodeEncodeError, ValueError) as exc:
        raise KeyProofError(f"the jwt proof cannot be read: {_why(exc)}") from None
    if header.get("typ") != JWT_PROOF_TYPE:
        raise KeyProofError(f"the proof's 'typ' must be {JWT_PROOF_TYPE}")
    if header.get("alg") not in JWT_PROOF_ALGORITHMS:
        raise KeyProofError("the proof's algorithm ('alg') is not accepted; use one of "
                            + ", ".join(JWT_PROOF_ALGORITHMS))
    holder, key = _key_from_header(header, resolver or Resolver())
    try:
        claims = jwt.decode(token, _joserfc_key(key), algorithms=JWT_PROOF_ALGORITHMS,
                            registry=registry).claims
    except (JoseError, ValueError) as exc:
        raise KeyProofError(f"the proof's signature is not valid: {_why(exc)}") from None
    # Appendix F.1: ``aud`` is a string, the issuer's identifier; a proof for several
    # audiences could be replayed at the others.
    if claims.get("aud") != audience:
        raise KeyProofError(f"the proof's 'aud' must be the credential issuer {audience}")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise KeyProofError("the proof must carry its time of issue ('iat')")
    stamp = now.timestamp()
    if iat > stamp + CLOCK_SKEW.total_seconds():
        raise KeyProofError("the proof's 'iat' is in the future")
    if iat < stamp - max_age.total_seconds():
        raise KeyProofError("the proof is too old ('iat'): make a new one")
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise KeyProofError("the proof's 'nonce' must be a string")
    return ProvenKey(holder=holder, nonce=nonce, public_key=key)


def _why(exc: Exception) -> str:
    return str(getattr(exc, "description", None) or exc)[:200] or type(exc).__name__


def verify_di_vp_proof(presentation: Any, *, domain: str, now: datetime,
                       max_age: timedelta, ctx: SuiteContext,
                       resolver: Resolver | None = None) -> ProvenKey:
    """Check a ``di_vp`` key proof (OID4VCI 1.0 Appendix F.2).

    One Data Integrity proof (``eddsa-rdfc-2022``, VC Data Integrity §4.4) of purpose
    ``authentication`` by a method of the presentation's ``holder`` (when it names one), a
    did:key, or a did:web that ``resolver`` can read, with ``domain`` the credential issuer
    and a ``challenge``, returned as the nonce. A ``created`` time older than ``max_age`` is
    refused.
    """
    if not isinstance(presentation, Mapping):
        raise KeyProofError("a di_vp proof must be a JSON object (a presentation)")
    if "VerifiablePresentation" not in types_of(presentation):
        raise KeyProofError("a di_vp proof must be a VerifiablePresentation")
    try:
        proofs = proofs_of(presentation)
    except InputError as exc:
        raise KeyProofError(exc.message) from None
    if len(proofs) != 1:
        raise KeyProofError("the presentation must carry exactly one proof")
    (proof,) = proofs
    suite_name = proof.get("cryptosuite")
    if proof.get("type") != "DataIntegrityProof" or suite_name not in DI_VP_CRYPTOSUITES:
        raise KeyProofError("the presentation's proof must be a DataIntegrityProof of the "
                            "cryptosuite " + " or ".join(DI_VP_CRYPTOSUITES))
    if proof.get("proofPurpose") != "authentication":
        raise KeyProofError("the presentation's proofPurpose must be authentication")
    found = proof.get("domain")
    if not (found == domain or (isinstance(found, list) and domain in found)):
        raise KeyProofError(f"the proof's domain must be the credential issuer {domain}")
    challenge = proof.get("challenge")
    if not isinstance(challenge, str):
        raise KeyProofError("the proof must carry the c_nonce as its challenge")
    _check_created(proof, now, max_age)
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method.startswith((DID_KEY_PREFIX,
                                                             DID_WEB_PREFIX)):
        raise KeyProofError("the proof's verificationMethod must be of a did:key or did:web")
    controller = method.partition("#")[0]
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if holder_id is not None and holder_id != controller:
        raise KeyProofError("the presentation's holder is not the DID of the key that "
                            "signed it")
    resolved = holder_key(method, controller, resolver or Resolver(), KeyProofError)
    verified, why = verify_one(presentation, proof, proofs, SIGNING_SUITES[suite_name],
                               resolved.public_key, ctx, expected_purpose="authentication",
                               now=now)
    if not verified:
        raise KeyProofError(f"the presentation's proof is not valid: {why}")
    return ProvenKey(holder=controller, nonce=challenge, public_key=resolved.public_key)


def _check_created(proof: Mapping[str, Any], now: datetime, max_age: timedelta) -> None:
    created = proof.get("created")
    if created is None:
        return
    try:
        when = parse_datetime(created)
    except InputError as exc:
        raise KeyProofError(f"the proof's created time: {exc.message}") from None
    if when > now + CLOCK_SKEW:
        raise KeyProofError("the proof's created time is in the future")
    if when < now - max_age:
        raise KeyProofError("the proof is too old ('created'): make a new one")
