"""DID authentication: a presentation that proves its holder controls a DID.

A wallet answers a ``DIDAuthentication`` query (W3C CCG Verifiable Presentation Request
v0.2 §3.2 "DID Authentication") with a Verifiable Presentation that carries no credential,
only a Data Integrity proof (VC Data Integrity 1.0 §2.1) whose

* ``proofPurpose`` is ``authentication`` (Controlled Identifiers §2.3.1);
* ``challenge`` is the one the verifier asked for, so it cannot be replayed (§2.1, §4.4);
* ``domain``, when the proof carries one, is the verifier's origin (§2.1);
* ``verificationMethod`` is a key listed under ``authentication`` in the holder DID's
  document. A ``did:key`` holder's DID *is* the key (did:key §3.1.2 Read); a ``did:web``
  holder's document is read through the ``resolver`` the caller gives (did:web §2.5.2), the
  guarded fetcher when the service is online, and refused when it has no way to fetch.

The suites accepted are those of :mod:`issuer.core.proofs.registry` that a wallet signs
with: ``Ed25519Signature2020`` (the Learner Credential Wallet) and ``eddsa-rdfc-2022``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.core.canon import WorkBudget
from issuer.core.did_web import DID_WEB_PREFIX
from issuer.core.dids import DID_KEY_PREFIX
from issuer.core.errors import InputError, IssuerError
from issuer.core.jsonld import ContextLoader
from issuer.core.nodes import types_of
from issuer.core.proofs.data_integrity import SuiteContext, proofs_of, verify_one
from issuer.core.proofs.registry import suite_for_proof
from issuer.core.resolve import ResolvedKey, Resolver

__all__ = ["DID_AUTH_SUITES", "MAX_HOLDER_DID", "DidAuthError", "DidAuthentication",
           "holder_key", "verify_did_auth"]

#: Suites a holder may prove control of its DID with.
DID_AUTH_SUITES = frozenset({"Ed25519Signature2020", "eddsa-rdfc-2022"})
#: The proof purpose of DID authentication (Controlled Identifiers §2.3.1).
AUTHENTICATION = "authentication"
#: The longest holder DID accepted: a did:key is 56 characters, and the DID a copy is made
#: out to is kept with it.
MAX_HOLDER_DID = 500


class DidAuthError(InputError):
    """A presentation that does not prove control of a DID for this request (422: it was
    read, and refused)."""

    code = "did-auth"
    http_status = 422


@dataclass(frozen=True)
class DidAuthentication:
    """Who proved what: the holder DID and the verification method its proof names."""

    holder: str
    verification_method: str
    suite: str


def verify_did_auth(
    presentation: Any,
    *,
    challenge: str,
    domain: str | None,
    loader: ContextLoader,
    budget: WorkBudget | None = None,
    now: datetime | None = None,
    resolver: Resolver | None = None,
) -> DidAuthentication:
    """The holder of ``presentation`` if its proof authenticates it for ``challenge`` and
    ``domain``; :class:`DidAuthError` saying why not otherwise.

    Every proof of the set must verify (VC Data Integrity §4.5), and all must name the same
    holder. ``resolver`` finds the holder's document; without one, only did:key holders
    can be resolved.
    """
    if not isinstance(presentation, Mapping):
        raise DidAuthError("the presentation must be a JSON object")
    if "VerifiablePresentation" not in types_of(presentation):
        raise DidAuthError("the presentation's type must include VerifiablePresentation")
    try:
        proofs = proofs_of(presentation)
    except InputError as exc:
        raise DidAuthError(exc.message) from None
    if not proofs:
        raise DidAuthError("the presentation carries no proof, so it proves no DID")
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    if holder is not None and not isinstance(holder, str):
        raise DidAuthError("the presentation's holder must be a DID")
    ctx = SuiteContext(loader=loader, budget=budget)
    found: DidAuthentication | None = None
    for proof in proofs:
        result = _verify_proof(presentation, proof, proofs, challenge=challenge,
                               domain=domain, ctx=ctx, now=now,
                               resolver=resolver or Resolver())
        if holder is not None and result.holder != holder:
            raise DidAuthError(f"the proof is by {result.holder}, but the presentation names "
                               f"the holder {holder}")
        if found is not None and found.holder != result.holder:
            raise DidAuthError("the proofs of the presentation are by different DIDs")
        found = found or result
    assert found is not None  # at least one proof was checked
    return found


def _verify_proof(
    presentation: Mapping[str, Any],
    proof: Mapping[str, Any],
    proofs: list[Mapping[str, Any]],
    *,
    challenge: str,
    domain: str | None,
    ctx: SuiteContext,
    now: datetime | None,
    resolver: Resolver,
) -> DidAuthentication:
    suite = suite_for_proof(proof)
    if suite is None or suite.name not in DID_AUTH_SUITES:
        name = proof.get("cryptosuite") or proof.get("type")
        raise DidAuthError(f"the proof type {str(name)[:60]!r} is not accepted; sign with "
                           f"one of {', '.join(sorted(DID_AUTH_SUITES))}")
    if proof.get("proofPurpose") != AUTHENTICATION:
        raise DidAuthError("the proof purpose must be 'authentication'")
    if proof.get("challenge") != challenge:
        raise DidAuthError("the proof does not carry this exchange's challenge")
    proof_domain = proof.get("domain")
    if proof_domain is not None and domain is not None:
        listed = proof_domain if isinstance(proof_domain, list) else [proof_domain]
        if domain not in listed:
            raise DidAuthError("the proof was made for another domain")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise DidAuthError("the proof names no verificationMethod")
    did = method.split("#", 1)[0]
    key = holder_key(method, did, resolver, DidAuthError)
    ok, why = verify_one(presentation, proof, proofs, suite, key.public_key, ctx,
                         expected_purpose=AUTHENTICATION, now=now)
    if not ok:
        raise DidAuthError(f"the presentation's proof does not verify: {why}")
    return DidAuthentication(holder=did, verification_method=method, suite=suite.name)


def holder_key(method: str, did: str, resolver: Resolver,
               error: type[InputError]) -> ResolvedKey:
    """The key ``method`` of the holder ``did`` if its document lists it under
    ``authentication`` (Controlled Identifiers §2.3.1), raising ``error`` saying why not.

    did:key and did:web holders are accepted; a did:web document is read only through the
    resolver's fetch. A key its document marks ``revoked`` no longer authenticates.
    """
    if len(did) > MAX_HOLDER_DID:
        raise error(f"the holder's DID is longer than {MAX_HOLDER_DID} characters")
    if did.startswith(DID_WEB_PREFIX) and resolver.fetch is None:
        raise error(f"the DID document of {did[:200]} cannot be fetched: this service is "
                    "offline; authenticate with a did:key")
    if not did.startswith((DID_KEY_PREFIX, DID_WEB_PREFIX)):
        raise error("only did:key and did:web holders are accepted")
    try:
        key = resolver.assertion_key(method, did, purpose=AUTHENTICATION)
    except IssuerError as exc:
        raise error(f"the holder's key cannot be used: {exc.message}") from None
    if key.revoked is not None:
        raise error(f"the holder's key {method[:200]} is revoked in its DID document")
    return key
