"""DID authentication presentations, as a wallet signs them with its own did:key."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core.didauth import DidAuthError, verify_did_auth
from issuer.core.jsonld import ContextLoader
from tests.web.wallet.holder import Holder

CHALLENGE = "c-7Yq2"
DOMAIN = "https://badges.example"
SUITES = ("Ed25519Signature2020", "eddsa-rdfc-2022")


@pytest.mark.parametrize("suite", SUITES)
def test_a_wallets_presentation_names_its_did(loader: ContextLoader, suite: str) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN, suite=suite)
    proven = verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)
    assert proven.holder == holder.did
    assert proven.verification_method == holder.method
    assert proven.suite == suite


def test_a_proof_without_a_domain_is_accepted(loader: ContextLoader) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=None)
    assert verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN,
                           loader=loader).holder == holder.did


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(("change", "why"), [
    ({"challenge": "another"}, "challenge"),
    ({"domain": "https://elsewhere.example"}, "another domain"),
    ({"purpose": "assertionMethod"}, "authentication"),
])
def test_a_presentation_for_another_request_is_refused(
        loader: ContextLoader, suite: str, change: dict[str, str], why: str) -> None:
    holder = Holder.generate()
    arguments = {"challenge": CHALLENGE, "domain": DOMAIN, **change}
    vp = holder.did_auth(suite=suite, **arguments)
    with pytest.raises(DidAuthError, match=why):
        verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


@pytest.mark.parametrize("suite", SUITES)
def test_a_signature_by_another_key_is_refused(loader: ContextLoader, suite: str) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN, suite=suite,
                         signer=Ed25519PrivateKey.generate())
    with pytest.raises(DidAuthError, match="does not verify"):
        verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


def test_a_changed_presentation_is_refused(loader: ContextLoader) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN)
    changed = copy.deepcopy(vp)
    changed["proof"]["created"] = "2026-12-07T00:00:00Z"
    with pytest.raises(DidAuthError, match="does not verify"):
        verify_did_auth(changed, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


def test_a_holder_other_than_the_signer_is_refused(loader: ContextLoader) -> None:
    holder, other = Holder.generate(), Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN, holder=other.did)
    with pytest.raises(DidAuthError, match="names the holder"):
        verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


@pytest.mark.parametrize(("presentation", "why"), [
    ([], "JSON object"),
    ({"type": "VerifiableCredential"}, "VerifiablePresentation"),
    ({"type": "VerifiablePresentation"}, "no proof"),
    ({"type": "VerifiablePresentation", "proof": "x"}, "proof"),
    ({"type": "VerifiablePresentation", "proof": {"type": "RsaSignature2018"}}, "not accepted"),
])
def test_unreadable_presentations_are_refused(loader: ContextLoader, presentation: object,
                                               why: str) -> None:
    with pytest.raises(DidAuthError, match=why):
        verify_did_auth(presentation, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


def test_a_did_web_holder_is_refused_without_a_way_to_fetch(loader: ContextLoader) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN)
    vp["proof"]["verificationMethod"] = "did:web:wallet.example#key-1"
    del vp["holder"]
    with pytest.raises(DidAuthError, match="offline; authenticate with a did:key"):
        verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


def test_only_did_key_and_did_web_holders_are_accepted(loader: ContextLoader) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN)
    vp["proof"]["verificationMethod"] = "did:example:wallet#key-1"
    del vp["holder"]
    with pytest.raises(DidAuthError, match="only did:key and did:web"):
        verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)


def test_a_holder_did_too_long_to_keep_is_refused(loader: ContextLoader) -> None:
    holder = Holder.generate()
    vp = holder.did_auth(challenge=CHALLENGE, domain=DOMAIN)
    vp["proof"]["verificationMethod"] = "did:web:wallet.example:" + "a" * 500 + "#key-1"
    del vp["holder"]
    with pytest.raises(DidAuthError, match="longer than"):
        verify_did_auth(vp, challenge=CHALLENGE, domain=DOMAIN, loader=loader)
