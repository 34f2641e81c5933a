"""What a peer attestation says, in the words of each reader.

A peer attests to one of a fixed set of statements (the achievement's policy chooses which
one peers are offered). The same statement is worded three ways:

* for the issuer's staff choosing the policy (:data:`ATTESTATION_KINDS`);
* for the peer who makes it and the learner who asked, in the first person of the peer
  (:func:`peer_sentence`);
* in the signed EndorsementCredential, about the badge holder (:func:`credential_sentence`).
  That wording is part of issued credentials: changing it changes what new credentials say.
"""

from __future__ import annotations

__all__ = ["ATTESTATION_KINDS", "CREDENTIAL_TAILS", "DEFAULT_KIND", "KINDS", "READER_KINDS",
           "SCAFFOLDING_KINDS", "credential_sentence", "peer_sentence"]

#: What a peer attests to, as the policy page offers it.
ATTESTATION_KINDS = {
    "helped-me-learn": "The learner helped them learn (scaffolding)",
    "genuine-contribution": "The learner's contribution is genuine",
}
KINDS = tuple(ATTESTATION_KINDS)
#: What kind of support an attestation is, for an employer reading the badge.
READER_KINDS = {
    "helped-me-learn": "Helped a peer learn (peer scaffolding)",
    "genuine-contribution": "Confirmed the work is genuine",
}
#: The statements about help given, for which the peer says how they were helped
#: (:mod:`issuer.services.attestation_scaffolding`).
SCAFFOLDING_KINDS = frozenset({"helped-me-learn"})
#: What peers attest to when the achievement's policy does not say.
DEFAULT_KIND = "helped-me-learn"


def peer_sentence(kind: str, learner_name: str, topic: str) -> str:
    """The statement a peer makes, in plain words."""
    if kind == "genuine-contribution":
        return f"{learner_name}’s contribution is genuine"
    return f"{learner_name} helped me learn {topic}"


#: How each statement in the credential ends, after the holder's name (OB 3.0 §B.1.8);
#: None stands for a kind this service no longer offers.
CREDENTIAL_TAILS: dict[str | None, str] = {
    "helped-me-learn": " helped them learn",
    "genuine-contribution": "'s contribution is genuine",
    None: "'s claim is supported",
}


def credential_sentence(kind: str, holder: str) -> str:
    """The statement as the endorsement in the credential words it (OB 3.0 §B.1.8)."""
    return holder + CREDENTIAL_TAILS.get(kind, CREDENTIAL_TAILS[None])
