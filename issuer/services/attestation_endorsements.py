"""Peer attestations as EndorsementCredentials in the learner's AchievementCredential.

When a claim is approved, each peer attestation that counts becomes an EndorsementCredential
(OB 3.0 §B.1.7) signed by the issuer that reviewed the claim, about the credential being
issued, and embedded in its ``endorsement``:

* ``id``: ``<credential URL>/endorsements/<n>``, numbered from 1 in the order they came;
* ``name``: "Peer attestation";
* ``credentialSubject`` (§B.1.8): the credential's URL, and an ``endorsementComment`` that
  says who attests, to what, and quotes the peer's own words.

A peer is named only if they agreed to it; otherwise a pairwise pseudonymous identifier
stands in (USERS.md §4 G1, G2; :mod:`issuer.services.pseudonyms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from issuer.services.attestation_wording import credential_sentence
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.endorsements import sign_endorsement
from issuer.services.issuers import issuer_did
from issuer.services.pseudonyms import peer_identifier
from issuer.storage.learning import Attestation, Claim

__all__ = ["ENDORSEMENT_NAME", "attestation_comment", "endorsements_of", "peer_label"]

#: The ``name`` every peer attestation's EndorsementCredential carries (OB 3.0 §B.1.7).
ENDORSEMENT_NAME = "Peer attestation"


def peer_label(ctx: ServiceContext, claim: Claim, attestation: Attestation) -> str:
    """The peer as the credential names them: by name only with their consent."""
    peer = attestation.peer
    if attestation.show_name and peer.display_name and peer.display_name.strip():
        return peer.display_name.strip()
    pseudonym = peer_identifier(peer, claim.learner, issuer_did(ctx, claim.issuer))
    return f"A peer (pseudonymous id {pseudonym})"


def attestation_comment(ctx: ServiceContext, claim: Claim, attestation: Attestation) -> str:
    """OB 3.0 §B.1.8 endorsementComment: who attests, to what, in their words."""
    holder = claim.learner.display_name or "the badge holder"
    return (f"{peer_label(ctx, claim, attestation)} attests: "
            f"{credential_sentence(attestation.kind, holder)}. “{attestation.comment.strip()}”")


def endorsements_of(ctx: ServiceContext, claim: Claim, attestations: Sequence[Attestation],
                    credential_id: str, now: datetime) -> list[dict[str, Any]]:
    """The signed EndorsementCredentials of ``attestations``, for the credential that will
    have ``credential_id``; SigningRefused when one cannot be signed (nothing is stored)."""
    subject = credential_url(ctx, credential_id)
    return [
        sign_endorsement(
            ctx, claim.issuer, credential_id=f"{subject}/endorsements/{n}",
            name=ENDORSEMENT_NAME, subject_id=subject,
            comment=attestation_comment(ctx, claim, attestation), now=now)
        for n, attestation in enumerate(attestations, start=1)
    ]
