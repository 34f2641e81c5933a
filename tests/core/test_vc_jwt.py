"""Compact JWS as OB 3.0 VC-JWTs: one spelling per token, and claims that match the credential."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from issuer.core.errors import InputError, SigningError
from issuer.core.multibase import b64url_decode, b64url_encode
from issuer.core.proofs.jwt_claims import claim_mismatches, claims_for, without_claims
from issuer.core.proofs.vc_jwt import decode_compact, looks_like_jws, sign_ob_vc_jwt
from issuer.core.verify import Outcome
from tests.core.helpers import did_key_issuer, unsigned_badge, verifier

#: RFC 4648 §5, in the order of the values the characters stand for.
BASE64URL_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _flip_unused_bits(segment: str) -> str:
    """The same bytes spelled another way: the last character with an unused low bit set.

    RFC 4648 §3.5: when the byte count is not a multiple of 3, the last character carries
    2 or 4 bits that no byte uses (64 bytes: 86 characters, the last with 4 unused bits),
    and a lenient decoder ignores them.
    """
    unused = {1: 0b1111, 2: 0b11}[len(b64url_decode(segment)) % 3]
    last = BASE64URL_ALPHABET.index(segment[-1])
    assert last & unused == 0, "a canonical encoding leaves the unused bits zero"
    return segment[:-1] + BASE64URL_ALPHABET[last | 0b0001]


@pytest.fixture(params=["Ed25519", "P-256"])
def token(request: pytest.FixtureRequest) -> str:
    key, did, vm = did_key_issuer(request.param)
    return sign_ob_vc_jwt(unsigned_badge(did), key, kid=vm)


def test_the_signed_token_verifies(token: str) -> None:
    assert verifier().verify(token).valid


def test_a_signature_spelled_with_unused_bits_set_is_refused(token: str) -> None:
    head, body, sig = token.split(".")
    other = _flip_unused_bits(sig)
    # Still the same 64 bytes to anyone who ignores the unused bits...
    assert len(b64url_decode(sig)) == 64
    with pytest.raises(InputError, match="signature is not canonical"):
        decode_compact(f"{head}.{body}.{other}")
    # ...and refused by the verifier, not shown as a second valid copy of the credential.
    report = verifier().verify(f"{head}.{body}.{other}")
    assert not report.valid
    assert report.checks[0].id == "parse" and report.checks[0].outcome == Outcome.FAILED


@pytest.mark.parametrize("part", [0, 1])
def test_header_and_payload_must_be_canonical_too(token: str, part: int) -> None:
    parts = token.split(".")
    raw = b64url_decode(parts[part])
    # Pad the JSON with spaces until its encoding ends in a character with unused bits.
    while len(raw) % 3 == 0:
        raw += b" "
    parts[part] = _flip_unused_bits(b64url_encode(raw))
    with pytest.raises(InputError, match="not canonical"):
        decode_compact(".".join(parts))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: t + "\n",
        lambda t: t + " ",
        lambda t: " " + t,
        lambda t: t + "==",
        lambda t: t.replace(".", ". ", 1),
        lambda t: t.replace(".", "=.", 1),
    ],
)
def test_whitespace_and_padding_are_not_part_of_a_compact_jws(
    token: str, spoil: Callable[[str], str]
) -> None:
    spoilt = spoil(token)
    assert not looks_like_jws(spoilt)
    with pytest.raises(InputError):
        decode_compact(spoilt)


def test_pasted_tokens_are_trimmed_by_the_verifier_not_the_decoder(token: str) -> None:
    # Text pasted into a form keeps its line end; reading the input trims it, once.
    assert verifier().verify(token + "\n").valid


# --- the claims (OB 3.0 §8.2.4) -----------------------------------------------------------


def test_claims_map_the_credential() -> None:
    credential = unsigned_badge("did:example:issuer")
    assert claims_for(credential) == {
        "iss": "did:example:issuer",
        "jti": credential["id"],
        "nbf": int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        "sub": "did:example:learner-1",
        "exp": int(datetime(2027, 1, 1, tzinfo=UTC).timestamp()),
    }
    payload = {**credential, **claims_for(credential)}
    assert claim_mismatches(payload, without_claims(payload)) == []
    assert without_claims(payload) == credential


def test_a_credential_without_issuer_is_not_issued_as_a_jwt() -> None:
    credential = unsigned_badge("did:example:issuer")
    del credential["issuer"]
    with pytest.raises(SigningError):
        claims_for(credential)


def test_claims_that_disagree_with_the_credential_are_named() -> None:
    credential = unsigned_badge("did:example:issuer")
    payload = {**credential, **claims_for(credential), "iss": "did:example:someone-else",
               "jti": "urn:uuid:other", "sub": "did:example:other", "nbf": 0}
    assert claim_mismatches(payload, credential) == [
        "the 'iss' claim is not the credential's issuer",
        "the 'sub' claim is not the credential subject's id",
        "the 'jti' claim is not the credential's id",
        "the 'nbf' claim is not the credential's validFrom",
    ]
