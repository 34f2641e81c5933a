"""Peer attestations as EndorsementCredentials in the learner's AchievementCredential.

When a claim is approved, each peer attestation that counts becomes an EndorsementCredential
(OB 3.0 §B.1.7) signed by the issuer that reviewed the claim, about the credential being
issued, and embedded in its ``endorsement``:

* ``id``: ``<credential URL>/endorsements/<n>``, numbered from 1 in the order they came;
* ``name``: "Peer attestation";
* ``credentialSubject`` (§B.1.8): the credential's URL, an ``endorsementComment`` that says
  who attests, to what, how they were helped (in plain words) and quotes the peer's own
  words, and an ``alignment`` (§B.1.5; a term of the OB 3.0 context) to each item of the
  published scaffolding framework the peer affirmed
  (:mod:`issuer.services.attestation_scaffolding`). The JSON Schema of EndorsementSubject
  admits further properties, and the term is defined, so the signed JSON-LD loses nothing.

A peer is named only if they agreed to it; otherwise a pairwise pseudonymous identifier
stands in (USERS.md §4 G1, G2; :mod:`issuer.services.pseudonyms`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.core.credentials import EndorsementCredential, EndorsementSubject
from issuer.core.errors import InputError
from issuer.services.attestation_scaffolding import CHARACTERISTICS, alignments, answers_of
from issuer.services.attestation_wording import CREDENTIAL_TAILS, credential_sentence
from issuer.services.awards import credential_url
from issuer.services.context import ServiceContext
from issuer.services.issuers import issuer_did, profile
from issuer.services.pseudonyms import peer_identifier
from issuer.services.signing import SigningRefused, sign_as
from issuer.storage.learning import Attestation, Claim

__all__ = ["ENDORSEMENT_NAME", "CommentParts", "attestation_comment", "endorsements_of",
           "peer_label", "read_comment"]

#: The ``name`` every peer attestation's EndorsementCredential carries (OB 3.0 §B.1.7).
ENDORSEMENT_NAME = "Peer attestation"


def peer_label(ctx: ServiceContext, claim: Claim, attestation: Attestation) -> str:
    """The peer as the credential names them: by name only with their consent."""
    peer = attestation.peer
    if attestation.show_name and peer.display_name and peer.display_name.strip():
        return peer.display_name.strip()
    pseudonym = peer_identifier(peer, claim.learner, issuer_did(ctx, claim.issuer))
    return f"{PSEUDONYMOUS_PREFIX}{pseudonym})"


PSEUDONYMOUS_PREFIX = "A peer (pseudonymous id "


def attestation_comment(ctx: ServiceContext, claim: Claim, attestation: Attestation) -> str:
    """OB 3.0 §B.1.8 endorsementComment: who attests, to what, how, in their words."""
    holder = claim.learner.display_name or "the badge holder"
    how = answers_of(attestation).summary()
    return (f"{peer_label(ctx, claim, attestation)} attests: "
            f"{credential_sentence(attestation.kind, holder)}{f': {how}' if how else ''}. "
            f"“{attestation.comment.strip()}”")


def _signed(ctx: ServiceContext, claim: Claim, attestation: Attestation, *, credential_id: str,
            subject_id: str, now: datetime) -> dict[str, Any]:
    """One attestation as an EndorsementCredential (§B.1.7) signed eddsa-rdfc-2022 (§8.3)."""
    try:
        document = EndorsementCredential(
            id=credential_id, issuer=profile(ctx, claim.issuer), validFrom=now,
            name=ENDORSEMENT_NAME,
            credentialSubject=EndorsementSubject(
                id=subject_id, endorsementComment=attestation_comment(ctx, claim, attestation)),
        ).to_json()
    except InputError as exc:
        raise SigningRefused("endorsement", exc) from None
    aligned = alignments(ctx, answers_of(attestation).affirmed)
    if aligned:
        document["credentialSubject"]["alignment"] = [a.to_json() for a in aligned]
    return sign_as(ctx, claim.issuer, document, now, what="endorsement").document


def endorsements_of(ctx: ServiceContext, claim: Claim, attestations: Sequence[Attestation],
                    credential_id: str, now: datetime) -> list[dict[str, Any]]:
    """The signed EndorsementCredentials of ``attestations``, for the credential that will
    have ``credential_id``; SigningRefused when one cannot be signed (nothing is stored)."""
    subject = credential_url(ctx, credential_id)
    return [
        _signed(ctx, claim, attestation, credential_id=f"{subject}/endorsements/{n}",
                subject_id=subject, now=now)
        for n, attestation in enumerate(attestations, start=1)
    ]


@dataclass(frozen=True)
class CommentParts:
    """An endorsementComment written by :func:`attestation_comment`, taken apart again."""

    #: The peer's name, or None when a pseudonym stands in for it.
    peer_name: str | None
    #: The pairwise pseudonymous identifier of a peer who chose not to be named.
    pseudonym: str | None
    #: What the peer attests to (a key of ``ATTESTATION_KINDS``), None if not one of them.
    kind: str | None
    #: The peer's own words.
    words: str
    #: The later work the peer links to as done unaided (transfer), if any.
    transfer_url: str | None = None


_COMMENT = re.compile(
    r"^(?P<peer>.+?) attests: .*?(?P<tail>"
    + "|".join(re.escape(tail) for tail in CREDENTIAL_TAILS.values())
    + r")(?::(?P<how>[^“]*?))?\. “(?P<words>.*)”$", re.DOTALL)
_LATER_WORK = re.compile(
    re.escape(CHARACTERISTICS[-1].reader) + r" \(later work: (?P<url>\S+)\)")


def read_comment(comment: str) -> CommentParts | None:
    """The parts of a comment this service wrote (§B.1.8 endorsementComment), or None.

    The comment is the signed record, read back for people; a comment written otherwise
    (another issuer, an older wording) is None and is shown whole.
    """
    match = _COMMENT.match(comment.strip())
    if match is None:
        return None
    kinds = {tail: kind for kind, tail in CREDENTIAL_TAILS.items()}
    peer = match.group("peer")
    pseudonym = None
    if peer.startswith(PSEUDONYMOUS_PREFIX) and peer.endswith(")"):
        pseudonym = peer[len(PSEUDONYMOUS_PREFIX):-1]
    later = _LATER_WORK.search(match.group("how") or "")
    return CommentParts(peer_name=None if pseudonym else peer, pseudonym=pseudonym,
                        kind=kinds.get(match.group("tail")), words=match.group("words"),
                        transfer_url=later.group("url") if later else None)
