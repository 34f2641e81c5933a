"""Pairwise pseudonymous identifiers for peers who attest but do not want to be named.

A peer's attestation travels inside the learner's credential as an EndorsementCredential, and
that credential is shown to employers and professional bodies. People who vouch for a
colleague often do not want their name, or one identifier that follows them from badge to
badge, published: USERS.md §4 G1 asks that a peer who attests through the organisation be
named pseudonymously, and G2 for "hashed, pairwise mentee identifiers — not emails" (§3.8:
email is a poor identity). So, unless the peer opts in to being named, the endorsement names
them by an identifier that is

- stable for one (peer, learner, issuer): a reviewer or verifier sees that two attestations on
  the same learner's badges from that issuer come from the same person, and a peer who
  attests twice is recognisable as one person;
- unlinkable across pairs: the identifier a peer gets on one learner's badge says nothing about
  the identifier on another learner's badge, or the same learner's badge from another issuer,
  because it is an HMAC keyed with a secret only this service holds (``pairwise_secret``).

It is a UUID URN (RFC 9562), so it is a valid ``id`` for the endorser's profile in OB 3.0
(§B.1.16 Profile ``id``: URI).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from issuer.storage.learning import Learner


def pairwise_uuid(secret: str, learner_handle: str, issuer_did: str) -> uuid.UUID:
    """A version-8 UUID (RFC 9562 §5.8) from HMAC-SHA256(secret, handle | issuer DID)."""
    message = f"{learner_handle}|{issuer_did}".encode()
    digest = bytearray(hmac.new(secret.encode(), message, hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
    digest[8] = (digest[8] & 0x3F) | 0x80  # variant 10: RFC 9562
    return uuid.UUID(bytes=bytes(digest))


def peer_identifier(peer: Learner, learner: Learner, issuer_did: str) -> str:
    """The pseudonymous id of ``peer`` as an attester for ``learner`` at one issuer."""
    return pairwise_uuid(peer.pairwise_secret, learner.profile_handle, issuer_did).urn
