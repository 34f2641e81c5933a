"""OpenID4VCI key proofs (Appendix F): what proves possession of a key, and what does not."""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from issuer import config
from issuer.core.multibase import b64url_encode
from issuer.core.oid4vci_proofs import (
    KeyProofError,
    did_jwk,
    verify_di_vp_proof,
    verify_jwt_proof,
)
from issuer.core.proofs.data_integrity import SuiteContext
from tests.web.oid4vci.wallet import Wallet

AUD = "https://badges.example"
AGE = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


def _claims(**changes: Any) -> dict[str, Any]:
    return {"aud": AUD, "iat": int(time.time()), "nonce": "n-1", **changes}


def _sign(header: dict[str, Any], claims: dict[str, Any], key: Any, alg: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode(header, claims, key, algorithms=[alg])


def _refused(token: Any, match: str) -> None:
    with pytest.raises(KeyProofError, match=match):
        verify_jwt_proof(token, audience=AUD, now=_now(), max_age=AGE)


def test_a_did_key_proof_names_the_did_and_the_nonce() -> None:
    wallet = Wallet(transport=None)  # type: ignore[arg-type]
    token = wallet.jwt_proof(audience=AUD, nonce="n-1")
    proven = verify_jwt_proof(token, audience=AUD, now=_now(), max_age=AGE)
    assert (proven.holder, proven.nonce) == (wallet.did, "n-1")


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_a_jwk_proof_names_the_did_jwk_of_its_public_key(alg: str) -> None:
    key = OKPKey.generate_key("Ed25519")
    public = key.as_dict(private=False)
    token = _sign({"alg": alg, "typ": "openid4vci-proof+jwt", "jwk": public}, _claims(), key,
                  alg)
    proven = verify_jwt_proof(token, audience=AUD, now=_now(), max_age=AGE)
    assert proven.holder == did_jwk(public)
    decoded = json.loads(_b64(proven.holder.removeprefix("did:jwk:")))
    assert decoded == {"crv": "Ed25519", "kty": "OKP", "x": public["x"]}


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_did_jwk_kid_is_accepted() -> None:
    key = ECKey.generate_key("P-256")
    did = did_jwk(key.as_dict(private=False))
    token = _sign({"alg": "ES256", "typ": "openid4vci-proof+jwt", "kid": f"{did}#0"},
                  _claims(), key, "ES256")
    assert verify_jwt_proof(token, audience=AUD, now=_now(), max_age=AGE).holder == did


def test_both_kid_and_jwk_are_refused() -> None:
    wallet = Wallet(transport=None)  # type: ignore[arg-type]
    token = _sign({"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "kid": wallet.kid,
                   "jwk": wallet.ed25519.as_dict(private=False)}, _claims(), wallet.ed25519,
                  "EdDSA")
    _refused(token, "exactly one of 'kid' and 'jwk'")


def test_a_private_jwk_is_refused() -> None:
    key = OKPKey.generate_key("Ed25519")
    token = _sign({"alg": "EdDSA", "typ": "openid4vci-proof+jwt",
                   "jwk": key.as_dict(private=True)}, _claims(), key, "EdDSA")
    _refused(token, "private")


def test_a_kid_that_is_not_a_did_url_is_refused() -> None:
    key = OKPKey.generate_key("Ed25519")
    token = _sign({"alg": "EdDSA", "typ": "openid4vci-proof+jwt",
                   "kid": "https://keys.example/1"}, _claims(), key, "EdDSA")
    _refused(token, "did:key, did:jwk or did:web")


@pytest.mark.parametrize("alg,key", [
    ("HS256", OctKey.generate_key(256)),
    ("RS256", RSAKey.generate_key(2048)),
])
def test_algorithms_outside_the_list_are_refused(alg: str, key: Any) -> None:
    header: dict[str, Any] = {"alg": alg, "typ": "openid4vci-proof+jwt"}
    if alg == "RS256":
        header["jwk"] = key.as_dict(private=False)
    token = _sign(header, _claims(), key, alg)
    _refused(token, "cannot be read|not valid|not accepted")


def test_an_unsigned_proof_is_refused() -> None:
    head = b64url_encode(json.dumps({"alg": "none", "typ": "openid4vci-proof+jwt",
                                     "jwk": OKPKey.generate_key("Ed25519").as_dict(
                                         private=False)}).encode())
    body = b64url_encode(json.dumps(_claims()).encode())
    _refused(f"{head}.{body}.", "cannot be read|not accepted")


@pytest.mark.parametrize("claims,match", [
    (_claims(aud=[AUD, "https://other.example"]), "'aud'"),
    (_claims(aud="https://other.example"), "'aud'"),
    ({"aud": AUD, "nonce": "n"}, "'iat'"),
    (_claims(iat="now"), "'iat'"),
    (_claims(nonce=7), "'nonce'"),
])
def test_claims_are_checked(claims: dict[str, Any], match: str) -> None:
    key = OKPKey.generate_key("Ed25519")
    token = _sign({"alg": "Ed25519", "typ": "openid4vci-proof+jwt",
                   "jwk": key.as_dict(private=False)}, claims, key, "Ed25519")
    _refused(token, match)


@pytest.mark.parametrize("value", [None, 42, "", "a.b", "x" * 10, "a.b.c.d"])
def test_what_is_not_a_compact_jws_is_refused(value: Any) -> None:
    with pytest.raises(KeyProofError):
        verify_jwt_proof(value, audience=AUD, now=_now(), max_age=AGE)


# --- di_vp ---------------------------------------------------------------------------------


def _ctx() -> SuiteContext:
    return SuiteContext(loader=config.context_loader())


def test_a_di_vp_proof_names_the_holder_and_the_challenge() -> None:
    wallet = Wallet(transport=None)  # type: ignore[arg-type]
    vp = wallet.di_vp_proof(domain=AUD, challenge="n-2")
    proven = verify_di_vp_proof(vp, domain=AUD, now=_now(), max_age=AGE, ctx=_ctx())
    assert (proven.holder, proven.nonce) == (wallet.did, "n-2")


def test_a_di_vp_proof_whose_holder_is_another_did_is_refused() -> None:
    wallet = Wallet(transport=None)  # type: ignore[arg-type]
    other = Wallet(transport=None)  # type: ignore[arg-type]
    vp = wallet.di_vp_proof(domain=AUD, challenge="n-2")
    vp["holder"] = other.did
    with pytest.raises(KeyProofError, match="holder"):
        verify_di_vp_proof(vp, domain=AUD, now=_now(), max_age=AGE, ctx=_ctx())


@pytest.mark.parametrize("change,match", [
    ({"proofPurpose": "assertionMethod"}, "authentication"),
    ({"cryptosuite": "eddsa-jcs-2022"}, "cryptosuite"),
    ({"challenge": 5}, "challenge"),
    ({"created": "2020-01-01T00:00:00Z"}, "too old"),
    ({"verificationMethod": "https://keys.example/1"}, "did:key"),
])
def test_di_vp_proof_options_are_checked(change: dict[str, Any], match: str) -> None:
    wallet = Wallet(transport=None)  # type: ignore[arg-type]
    vp = wallet.di_vp_proof(domain=AUD, challenge="n-2")
    vp["proof"].update(change)
    with pytest.raises(KeyProofError, match=match):
        verify_di_vp_proof(vp, domain=AUD, now=_now(), max_age=AGE, ctx=_ctx())


def test_a_di_vp_proof_by_another_key_is_refused() -> None:
    wallet = Wallet(transport=None)  # type: ignore[arg-type]
    vp = wallet.di_vp_proof(domain=AUD, challenge="n-2", signer=Ed25519PrivateKey.generate())
    with pytest.raises(KeyProofError, match="not valid"):
        verify_di_vp_proof(vp, domain=AUD, now=_now(), max_age=AGE, ctx=_ctx())


@pytest.mark.parametrize("value", [None, [], "vp", {"type": "VerifiableCredential"},
                                   {"type": "VerifiablePresentation"}])
def test_what_is_not_a_signed_presentation_is_refused(value: Any) -> None:
    with pytest.raises(KeyProofError):
        verify_di_vp_proof(value, domain=AUD, now=_now(), max_age=AGE, ctx=_ctx())
